"""A published corpus version, opened for training: its files, sizes and lineage.

Only what the manifest lists is read (the manifest is written last, so a listed file is complete),
and only rows with ``split == "train"`` are ever handed to training. The set of rows training
*could* read is written once per run (``write_train_ids``) for the evaluation's contamination guard.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossling.documents import content_hash
from crossling.storage import MANIFEST, DataRoot, atomic_open, file_sha256

TRAIN = "train"


class CorpusNotFound(ValueError):
    """The corpus or version named by the user does not exist (or is not complete)."""


@dataclass(frozen=True)
class CorpusFile:
    """One Parquet shard of a corpus version."""

    path: str  # path on the root's filesystem
    kind: str  # docs | pairs
    lang: str | None  # DOCS language (ISO 639-1, else 639-3); None for pairs
    rows: int  # all rows, both splits


@dataclass
class TrainCorpus:
    """A complete corpus version under a data root."""

    root: DataRoot
    name: str
    version: str
    manifest: dict[str, Any]
    manifest_sha256: str
    files: list[CorpusFile] = field(default_factory=list)
    _pair_counts: dict[tuple[str, bool], int] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, root: str, name: str, version: str = "latest") -> TrainCorpus:
        """Open ``name`` at ``version`` (``latest`` = newest complete version).

        Raises:
            CorpusNotFound: with a one-line message naming what is missing.
        """
        data = DataRoot(root)
        versions = data.versions(name)
        if not versions:
            raise CorpusNotFound(f"no complete version of corpus {name!r} under {root}")
        if version in ("latest", "", None):
            version = versions[-1]
        elif version not in versions:
            raise CorpusNotFound(
                f"corpus {name!r} has no complete version {version!r} under {root} "
                f"(latest: {versions[-1]})"
            )
        manifest = data.read_manifest(name, version)
        base = data.version_dir(name, version)
        files = [
            CorpusFile(posixpath.join(base, f["path"]), f["kind"], f.get("lang"), int(f["rows"]))
            for f in manifest.get("files", [])
            if f["kind"] in ("docs", "pairs")
        ]
        sha = file_sha256(data.fs, posixpath.join(base, MANIFEST))
        if manifest.get("derived"):
            files, manifest = _with_ancestors(data, name, version, manifest)
        return cls(data, name, version, manifest, sha, files)

    # --- what is there -------------------------------------------------------------------------

    def docs_files(self, lang: str | None = None) -> list[CorpusFile]:
        return [f for f in self.files if f.kind == "docs" and (lang is None or f.lang == lang)]

    def pairs_files(self) -> list[CorpusFile]:
        return [f for f in self.files if f.kind == "pairs"]

    def docs_sizes(self) -> dict[str, float]:
        """Training size per DOCS language, in characters of train rows (estimated).

        The manifest counts characters over both splits and rows per split; the train share of
        the characters is taken proportional to rows. Languages without train rows are left out.
        """
        by_lang = (self.manifest.get("counts") or {}).get("by_lang") or {}
        sizes: dict[str, float] = {}
        for lang in sorted({f.lang for f in self.docs_files() if f.lang}):
            c = by_lang.get(lang) or {}
            docs, train, chars = c.get("docs"), c.get("train"), c.get("chars")
            if docs and train is not None and chars is not None:
                size = chars * train / docs
            else:  # an older manifest without per-split counts: rows of the files
                size = float(sum(f.rows for f in self.docs_files(lang)))
            if size > 0:
                sizes[lang] = float(size)
        return sizes

    def pair_directions(self) -> dict[str, int]:
        """Train rows per ``src-tgt`` direction of the PAIRS, real and synthetic together."""
        out: dict[str, int] = {}
        for (d, _), n in self.pair_counts().items():
            out[d] = out.get(d, 0) + n
        return out

    def pair_counts(self) -> dict[tuple[str, bool], int]:
        """Train rows of the PAIRS per (``src-tgt`` direction, synthetic), read from the shards."""
        if self._pair_counts is not None:
            return self._pair_counts
        counts: dict[tuple[str, bool], int] = {}
        for f in self.pairs_files():
            for b in iter_train_batches(self.root, [f.path], ["src_lang", "tgt_lang", "synthetic"]):
                for s, t, syn in zip(
                    *(b.column(c).to_pylist() for c in ("src_lang", "tgt_lang", "synthetic")),
                    strict=True,
                ):
                    key = (f"{s}-{t}", bool(syn))
                    counts[key] = counts.get(key, 0) + 1
        self._pair_counts = dict(sorted(counts.items()))
        return self._pair_counts

    def pair_languages(self) -> set[str]:
        """Languages that occur on either side of the PAIRS (read from the shards)."""
        langs: set[str] = set()
        for f in self.pairs_files():
            for batch in iter_train_batches(self.root, [f.path], ["src_lang", "tgt_lang"]):
                langs.update(pc.unique(batch.column("src_lang")).to_pylist())
                langs.update(pc.unique(batch.column("tgt_lang")).to_pylist())
        return langs

    def languages(self) -> list[str]:
        """Every language training can see: DOCS languages with train rows and PAIRS languages."""
        return sorted(set(self.docs_sizes()) | self.pair_languages())

    def tokenizer_source(self) -> TrainCorpus:
        """The version whose tokenizer this one uses: itself, or for a derived version (back-
        translation) the nearest ancestor that is not derived, when that covers every language.

        Synthetic text does not reshape the vocabulary, and models of a source version and of
        versions derived from it share token ids (so one can continue from the other).
        """
        v: TrainCorpus = self
        while v.manifest.get("derived"):
            parent = (v.manifest.get("derived") or {}).get("from") or v.manifest.get("parent")
            if not parent:
                break
            v = TrainCorpus.open(self.root.url, self.name, parent)
        if v is not self and not set(self.languages()) <= set(v.languages()):
            return self
        return v

    def lineage(self) -> dict[str, Any]:
        """The ``corpus`` block of checkpoint metadata (docs/CONTRACTS.md)."""
        return {
            "root": self.root.url,
            "name": self.name,
            "version": self.version,
            "manifest_sha256": self.manifest_sha256,
        }

    # --- the contamination guard's input --------------------------------------------------------

    def write_train_ids(
        self, path: str, *, docs_langs: Iterable[str] | None = None, pairs: bool = True
    ) -> int:
        """Write a Parquet of ``id``, ``content_hash``, ``kind`` of every row training could read.

        PAIRS rows appear twice, once per side (``pairs-src`` / ``pairs-tgt``), because the
        evaluation matches held-out texts of either side. Returns the number of rows written.
        """
        langs = set(docs_langs) if docs_langs is not None else None
        schema = pa.schema(
            [("id", pa.string()), ("content_hash", pa.string()), ("kind", pa.string())]
        )
        n = 0
        out_fs, path = fsspec.core.url_to_fs(path)  # the out root, not necessarily the corpus's
        with atomic_open(out_fs, path, "wb") as f:
            writer = pq.ParquetWriter(f, schema, compression="zstd")
            for cf in self.docs_files():
                if langs is not None and cf.lang not in langs:
                    continue
                for b in iter_train_batches(self.root, [cf.path], ["id", "content_hash"]):
                    kind = pa.array(["docs"] * b.num_rows, pa.string())
                    writer.write_table(
                        pa.table([b.column("id"), b.column("content_hash"), kind], schema=schema)
                    )
                    n += b.num_rows
            if pairs:
                for cf in self.pairs_files():
                    for b in iter_train_batches(
                        self.root, [cf.path], ["id", "src_text", "tgt_text"]
                    ):
                        ids = b.column("id").to_pylist()
                        hashes = [content_hash(t) for t in b.column("src_text").to_pylist()]
                        hashes += [content_hash(t) for t in b.column("tgt_text").to_pylist()]
                        kinds = ["pairs-src"] * len(ids) + ["pairs-tgt"] * len(ids)
                        writer.write_table(pa.table([ids + ids, hashes, kinds], schema=schema))
                        n += 2 * len(ids)
            writer.close()
        return n


def _with_ancestors(
    data: DataRoot, name: str, version: str, manifest: dict[str, Any]
) -> tuple[list[CorpusFile], dict[str, Any]]:
    """Files and merged DOCS counts of a derived version read with its ancestors.

    A derived version (back-translation: ``manifest["derived"]``) only adds rows to its parent,
    so training on it means training on the chain (crossling.corpus.CorpusVersion.chain): real
    and synthetic pairs together, and the parent's documents.
    """
    from crossling.corpus import CorpusVersion

    chain = CorpusVersion.open(data, name, version).chain()
    files = [
        CorpusFile(v.abspath(f), f.kind, f.lang, f.rows)
        for v in chain
        for f in v.files()
        if f.kind in ("docs", "pairs")
    ]
    by_lang: dict[str, dict[str, float]] = {}
    for v in chain:
        for lang, c in (v.counts.get("by_lang") or {}).items():
            mine = by_lang.setdefault(lang, {})
            for k in ("docs", "chars", "train", "heldout"):
                mine[k] = mine.get(k, 0) + (c.get(k) or 0)
    counts = {**(manifest.get("counts") or {}), "by_lang": by_lang}
    return files, {**manifest, "counts": counts, "chain": [v.version for v in chain]}


def iter_train_batches(
    root: DataRoot, paths: list[str], columns: list[str], batch_size: int = 4096
) -> Iterator[pa.RecordBatch]:
    """Stream the ``split == "train"`` rows of some shards, only ``columns`` (plus nothing else)."""
    read_cols = list(dict.fromkeys([*columns, "split"]))
    for path in paths:
        with root.fs.open(path, "rb") as f:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=batch_size, columns=read_cols):
                kept = batch.filter(pc.equal(batch.column("split"), TRAIN))
                if kept.num_rows:
                    yield kept.select(columns)


def temperature_probs(sizes: dict[str, float], alpha: float) -> dict[str, float]:
    """Exponentiated sampling (XLM-R): p_i ∝ (n_i / N) ** alpha; alpha < 1 upsamples small ones."""
    total = sum(sizes.values())
    if total <= 0:
        return {}
    weights = {k: (v / total) ** alpha for k, v in sizes.items() if v > 0}
    z = sum(weights.values())
    return {k: w / z for k, w in sorted(weights.items())}
