"""The MinHash band index of published versions: near-dedup against everything published before.

Each published version leaves a folder of band files with the rows of the documents it kept
(columns of the band files: ``id``, ``row``, ``weight``, ``b000``..., ``signature``; settings in
the Parquet metadata), one file per partition, like the exact index::

    <root>/corpora/<name>/dedup-index/minhash/<version>/docs-<NNNNN>.parquet

A new run lists these files (:func:`load_indexes`) before its own band files
(:func:`crossling.dedup.minhash.plan_reduce`), so it hashes only its own documents, removes
those that duplicate an earlier version's, and never removes an earlier version's documents (they
come first in the global order, so they are always the representatives, and pairs of two earlier
documents are never formed).

Band keys are stored for the bands x rows of the run that wrote the file; a later run with other
bands or rows recomputes its keys from the stored signatures. Other shingle or signature settings
(another ``shingles`` kind or n, ``num_perm``, ``seed``, or an index written by an older shingle
definition: ``shingling`` ``minhash_v1`` before ``minhash_v2``) make the signatures incomparable:
:func:`crossling.dedup.minhash.plan_reduce` then raises
:class:`~crossling.dedup.minhash.IncompatibleSignatures` naming the file and the settings, and the
corpus run first rebuilds such a version's index from its published documents
(:func:`rebuild_stale`), so old and new signatures are never mixed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossling.dedup.minhash import NearDedupConfig, band_table, read_minhash_meta, signatures
from crossling.shards import ShardWriter, write_shard
from crossling.storage import DataRoot


def index_dir(root: DataRoot, name: str) -> str:
    return posixpath.join(root.dedup_index_dir(name), "minhash")


def index_part_path(root: DataRoot, name: str, version: str, part: int) -> str:
    return posixpath.join(index_dir(root, name), version, f"docs-{part:05d}.parquet")


def load_indexes(
    root: DataRoot,
    name: str,
    versions: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """``(version, path)`` of every band index file of earlier versions, oldest first.

    Args:
        root: the data root.
        name: corpus name.
        versions: the versions to deduplicate against (e.g. a stage context's
            ``prior_versions``); default: every published version (those with a manifest), so
            that a run that crashed before publishing does not count.
        exclude: versions left out (e.g. the one being built).
    """
    base = index_dir(root, name)
    if not root.fs.exists(base):
        return []
    wanted = list(versions) if versions is not None else root.versions(name)
    excluded = set(exclude)
    out = []
    for version in sorted(v for v in wanted if v not in excluded):
        folder = posixpath.join(base, version)
        if not root.fs.isdir(folder):
            continue
        files = [
            p
            for p in root.fs.ls(folder, detail=False)
            if p.endswith(".parquet") and not posixpath.basename(p).startswith(".")
        ]
        out.extend((version, p) for p in sorted(files))
    return out


def write_index_part(
    root: DataRoot,
    name: str,
    version: str,
    part: int,
    band_file: str,
    kept_ids: pa.Array | pa.ChunkedArray | Sequence[str] | None = None,
    dropped_rows: np.ndarray | None = None,
) -> int:
    """Write one partition's index file: the rows of its band file the version keeps.

    Call it before the version's manifest, for every partition (an empty partition writes an
    empty file, which still records the settings).

    Args:
        root: the data root.
        name: corpus name.
        version: the version being published.
        part: the partition index.
        band_file: the partition's band file (the map output).
        kept_ids: the ids the version publishes from this partition (rows of the band file with
            another id are left out); None keeps every row but ``dropped_rows``.
        dropped_rows: ``row`` values to leave out (near-duplicates the reduce dropped).

    Returns:
        The number of rows written.
    """
    fs = root.fs
    with fs.open(band_file, "rb") as f:
        table = pq.read_table(f)
    keep = np.ones(table.num_rows, dtype=bool)
    if dropped_rows is not None and len(dropped_rows):
        keep &= ~np.isin(table.column("row").to_numpy(), np.asarray(dropped_rows))
    if kept_ids is not None:
        ids = kept_ids if not isinstance(kept_ids, Sequence) else pa.array(kept_ids, pa.string())
        keep &= pc.is_in(table.column("id"), value_set=pa.array(ids).cast(pa.string())).to_numpy(
            zero_copy_only=False
        )
    kept = table.filter(pa.array(keep))
    write_shard(fs, index_part_path(root, name, version, part), kept, table.schema)
    return kept.num_rows


def write_index(
    root: DataRoot,
    name: str,
    version: str,
    band_files: Sequence[str],
    decisions: pa.Table,
) -> dict[str, int]:
    """A whole version's index from its band files (partition order) and the reduce's decisions.

    Returns:
        ``{"docs": rows written, "dropped": rows left out}``.
    """
    dropped: dict[int, np.ndarray] = {}
    if decisions.num_rows:
        d = decisions.filter(decisions.column("duplicate_of").is_valid())
        parts = d.column("partition").to_numpy()
        rows = d.column("row").to_numpy()
        dropped = {int(p): rows[parts == p] for p in np.unique(parts)}
    written = total = 0
    for i, path in enumerate(band_files):
        with root.fs.open(path, "rb") as f:
            total += pq.ParquetFile(f).metadata.num_rows
        written += write_index_part(root, name, version, i, path, dropped_rows=dropped.get(i))
    return {"docs": written, "dropped": total - written}


def build_index(
    root: DataRoot,
    name: str,
    version: str,
    batches: Iterable[tuple[Sequence[str], Sequence[str]]],
    config: NearDedupConfig,
    path: str | None = None,
) -> dict[str, int]:
    """Hash a version published before near-dedup existed and write its band index.

    Args:
        root: the data root.
        name: corpus name.
        version: the published version.
        batches: ``(ids, texts)`` of its documents (e.g. from :class:`crossling.corpus.CorpusVersion`).
        config: the settings later runs will use.
        path: the file to write (default: the version's partition 0).
    """
    path = path or index_part_path(root, name, version, 0)
    writer: ShardWriter | None = None
    n = 0
    try:
        for ids, texts in batches:
            t = band_table(ids, signatures(texts, config), config, rows=np.arange(n, n + len(ids)))
            n += len(ids)
            if writer is None:
                writer = ShardWriter(root.fs, path, t.schema)
            writer.write(t)
        if writer is None:  # no documents: an empty file still records the settings
            empty = band_table([], np.zeros((0, config.num_perm), np.uint32), config)
            writer = ShardWriter(root.fs, path, empty.schema)
        rows, _, _ = writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return {"docs": rows}


def stale_files(
    root: DataRoot, name: str, config: NearDedupConfig, versions: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Version -> its index files whose signatures ``config``'s cannot be compared with (another
    shingle definition, kind, n, ``num_perm`` or seed; other bands x rows are fine)."""
    want = config.fingerprint()
    out: dict[str, list[str]] = {}
    for version, path in load_indexes(root, name, versions):
        meta = read_minhash_meta(path, root.fs)
        if any(meta.get(k) != v for k, v in want.items()):
            out.setdefault(version, []).append(path)
    return out


def rebuild_stale(
    root: DataRoot, name: str, config: NearDedupConfig, versions: Iterable[str] | None = None
) -> dict[str, int]:
    """Rebuild the index of every version made with incomparable settings (:func:`stale_files`)
    from its published documents, so that a run never mixes old and new signatures.

    The new file is written before the stale ones are removed: a crash in between leaves both,
    and the next run (whose :func:`crossling.dedup.minhash.plan_reduce` refuses the stale ones
    by name) rebuilds again.

    Returns:
        Version -> documents re-indexed (empty when every index is current).
    """
    from crossling.corpus import CorpusVersion  # here: the corpus module needs the dedup ones

    done: dict[str, int] = {}
    for version, stale in sorted(stale_files(root, name, config, versions).items()):
        cv = CorpusVersion.open(root, name, version)
        batches = (
            (b.column("id").to_pylist(), b.column("text").to_pylist())
            for b in cv.docs(columns=["id", "text"])
        )
        fresh = posixpath.join(
            index_dir(root, name), version, f"docs-{config.fingerprint()['shingling']}.parquet"
        )
        done[version] = build_index(root, name, version, batches, config, path=fresh)["docs"]
        for p in stale:
            if p != fresh:
                root.fs.rm(p)
    return done
