"""The MinHash band index of published versions: near-dedup against everything published before.

Each published version leaves one file, ``<root>/corpora/<name>/dedup-index/minhash/<version>.parquet``,
with the band keys and signatures of the documents it kept (the band file columns: ``id``, ``row``,
``b000``..., ``signature``; the settings in its Parquet metadata). A new run lists these files
(:func:`load_indexes`) before its own band files (:func:`crossling.dedup.minhash.plan_reduce`), so
it hashes only its own documents, removes those that duplicate an earlier version's, and never
removes an earlier version's documents (they come first in the global order, so they are always the
representatives, and pairs of two earlier documents are never formed).

Band keys are stored for the bands x rows of the run that wrote the file; a later run with other
bands or rows recomputes its keys from the stored signatures. Other shingle or signature settings
make the signatures incomparable: :func:`crossling.dedup.minhash.plan_reduce` then raises
:class:`~crossling.dedup.minhash.IncompatibleSignatures` naming the file and the settings.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossling.dedup.minhash import NearDedupConfig, band_table, signatures
from crossling.shards import ShardWriter
from crossling.storage import DataRoot


def index_dir(root: DataRoot, name: str) -> str:
    return posixpath.join(root.dedup_index_dir(name), "minhash")


def index_path(root: DataRoot, name: str, version: str) -> str:
    return posixpath.join(index_dir(root, name), f"{version}.parquet")


def load_indexes(root: DataRoot, name: str, exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(version, path)`` of the band index of every published version, oldest first.

    An index whose version has no manifest (a run that crashed before publishing) is left out, as
    are the versions in ``exclude`` (e.g. the one being built).
    """
    d = index_dir(root, name)
    if not root.fs.exists(d):
        return []
    published = set(root.versions(name))
    excluded = set(exclude)
    out = []
    for path in sorted(root.fs.ls(d, detail=False)):
        base = posixpath.basename(path)
        if not base.endswith(".parquet") or base.startswith("."):
            continue
        version = base.removesuffix(".parquet")
        if version in published and version not in excluded:
            out.append((version, path))
    return out


def write_index(
    root: DataRoot,
    name: str,
    version: str,
    band_files: Sequence[str],
    decisions: pa.Table,
    also_dropped: Iterable[str] = (),
) -> dict[str, int]:
    """Write a version's band index: the rows of its band files that the version keeps.

    Call it before the version's manifest (like the exact index), with the same band files (in
    partition order) and decisions the reduce used.

    Args:
        root: the data root.
        name: corpus name.
        version: the version being published.
        band_files: this run's band files; the i-th is partition i.
        decisions: the reduce's decisions (rows with a ``duplicate_of`` are left out).
        also_dropped: ids dropped by later stages (they must not stand for the version).

    Returns:
        ``{"docs": rows written, "dropped": rows left out}``.
    """
    fs = root.fs
    extra = pa.array(sorted(set(also_dropped)), pa.string())
    dropped_rows: dict[int, np.ndarray] = {}
    if decisions.num_rows:
        d = decisions.filter(decisions.column("duplicate_of").is_valid())
        parts = d.column("partition").to_numpy()
        rows = d.column("row").to_numpy()
        for p in np.unique(parts):
            dropped_rows[int(p)] = np.sort(rows[parts == p])
    writer: ShardWriter | None = None
    written = left_out = 0
    try:
        for i, path in enumerate(band_files):
            with fs.open(path, "rb") as f:
                table = pq.read_table(f)
            if writer is None:
                writer = ShardWriter(fs, index_path(root, name, version), table.schema)
            keep = np.ones(table.num_rows, dtype=bool)
            if i in dropped_rows:
                keep &= ~np.isin(table.column("row").to_numpy(), dropped_rows[i])
            if len(extra):
                keep &= ~pc.is_in(table.column("id"), value_set=extra).to_numpy(
                    zero_copy_only=False
                )
            left_out += int((~keep).sum())
            kept = table.filter(pa.array(keep))
            written += kept.num_rows
            writer.write(kept)
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return {"docs": written, "dropped": left_out}


def build_index(
    root: DataRoot,
    name: str,
    version: str,
    batches: Iterable[tuple[Sequence[str], Sequence[str]]],
    config: NearDedupConfig,
) -> dict[str, int]:
    """Hash a version published before near-dedup existed and write its band index.

    Args:
        root: the data root.
        name: corpus name.
        version: the published version.
        batches: ``(ids, texts)`` of its documents (e.g. read with the corpus reader).
        config: the settings later runs will use.
    """
    writer: ShardWriter | None = None
    n = 0
    try:
        for ids, texts in batches:
            sigs = signatures(texts, config)
            t = band_table(ids, sigs, config, rows=np.arange(n, n + len(ids)))
            n += len(ids)
            if writer is None:
                writer = ShardWriter(root.fs, index_path(root, name, version), t.schema)
            writer.write(t)
        if writer is None:  # no documents: an empty index still says "hashed"
            empty = band_table([], np.zeros((0, config.num_perm), np.uint32), config)
            writer = ShardWriter(root.fs, index_path(root, name, version), empty.schema)
            writer.write(empty)
        rows, _, _ = writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return {"docs": rows}
