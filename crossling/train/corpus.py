"""What a training run reads: the train split of one or more corpus versions, through
:class:`crossling.corpus.CorpusVersion` (the only reader of version folders).

Versions are incremental (each holds what is new since its parent), so "the corpus as it stands"
at a version is that version and its ancestors (:meth:`CorpusVersion.chain`). A run reads the
chain, minus the versions a checkpoint it continues from has already seen (``exclude``).

Only files the manifests list are read, and only rows with ``split == "train"`` are ever handed to
training. PAIRS rows whose ``method`` is in ``skip_methods`` are never read either: by default the
teacher's translations of a distillation version (method ``distilled``, crossling.compress), which
enter the chain of every later corpus version; only a student trained on them asks for them
(``TrainConfig.include_distilled``). The rows training *could* read are written once per run (:meth:`write_train_ids`) for
the evaluation's contamination guard and for ``crossling trace``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossling.corpus import DOCS, PAIRS, TRAIN, CorpusNotFound, CorpusVersion, ShardFile
from crossling.documents import PAIRS_SCHEMA, content_hash
from crossling.storage import DataRoot, atomic_open

__all__ = [
    "TRAIN",
    "CorpusNotFound",
    "Shard",
    "TrainCorpus",
    "SKIPPED_METHODS",
    "TRAIN_IDS_SCHEMA",
    "read_shard",
    "read_train_ids",
    "temperature_probs",
]

# The Parquet of ids training could read (docs/CONTRACTS.md, "Checkpoints"): one row per DOCS row,
# two per PAIRS row (one per side, so a held-out text of either side is matched by content hash).
TRAIN_IDS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("content_hash", pa.string()),
        ("kind", pa.string()),  # docs | pairs-src | pairs-tgt | labeled
        ("version", pa.string()),  # the corpus version the row was read from (null: labeled)
    ]
)


# PAIRS.method values training skips unless asked (TrainConfig.include_distilled): a teacher's
# own translations (sequence-level distillation, crossling.compress) are targets for a student,
# not data for the teacher's model or its later retrainings.
SKIPPED_METHODS: frozenset[str] = frozenset({"distilled"})


@dataclass(frozen=True)
class Shard:
    """One Parquet file of a version, as its manifest lists it, with the version that holds it,
    and the PAIRS methods whose rows are not read from it."""

    version: CorpusVersion
    file: ShardFile
    skip_methods: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        """``<version>/<path in the version>``: stable, for logs and data positions."""
        return f"{self.version.version}/{self.file.path}"


def read_shard(
    shard: Shard,
    columns: list[str],
    *,
    split: str | None = TRAIN,
    extra: Iterable[str] = (),
    batch_size: int = 1024,
) -> Iterator[pa.RecordBatch]:
    """Record batches of one listed file (:meth:`CorpusVersion.file_batches`): ``columns`` (plus
    ``extra``) of the rows of ``split``, in the kind's schema types (a column the file lacks, from
    an older crossling, comes back as nulls). The batches of a file are always the same, so a
    stream resumes by skipping whole batches."""
    want = list(dict.fromkeys([*columns, *extra]))
    if shard.file.kind != PAIRS or not shard.skip_methods:
        return shard.version.file_batches(
            shard.file, split=split, columns=want, batch_size=batch_size
        )
    batches = shard.version.file_batches(
        shard.file,
        split=split,
        columns=list(dict.fromkeys([*want, "method"])),
        batch_size=batch_size,
    )
    return (b.select(want) for b in _skip_methods(batches, shard.skip_methods))


def _skip_methods(
    batches: Iterable[pa.RecordBatch], methods: frozenset[str]
) -> Iterator[pa.RecordBatch]:
    """The batches without the rows whose ``method`` is in ``methods`` (null: kept). Batches
    stay one per file batch (maybe empty), so stream positions in whole batches still hold."""
    skip = pa.array(sorted(methods), pa.string())
    for b in batches:
        if methods and "method" in b.schema.names:
            b = b.filter(pc.invert(pc.fill_null(pc.is_in(b.column("method"), skip), False)))
        yield b


def temperature_probs(sizes: dict[str, float], alpha: float) -> dict[str, float]:
    """Exponentiated sampling (XLM-R): p_i ∝ (n_i / N) ** alpha; alpha < 1 upsamples small ones."""
    total = sum(sizes.values())
    if total <= 0:
        return {}
    weights = {k: (v / total) ** alpha for k, v in sizes.items() if v > 0}
    z = sum(weights.values())
    return {k: w / z for k, w in sorted(weights.items())}


class TrainCorpus:
    """The train split of a corpus at a version: that version and its ancestors, oldest first.

    Example::

        corpus = TrainCorpus.open("./data", "demo")            # latest, the whole chain
        for batch in corpus.docs(langs=["de"], columns=["text"]):
            ...
    """

    def __init__(
        self,
        head: CorpusVersion,
        versions: list[CorpusVersion],
        *,
        skip_methods: Iterable[str] = SKIPPED_METHODS,
    ) -> None:
        if not versions:
            raise ValueError(f"corpus {head.name}@{head.version}: no versions to read")
        self.head = head
        self.versions = versions  # oldest first; the head is the last one unless excluded
        self.skip_methods = frozenset(skip_methods)  # PAIRS methods whose rows are not read

    @classmethod
    def open(
        cls,
        root: str | DataRoot,
        name: str,
        version: str | None = "latest",
        *,
        exclude: Iterable[str] = (),
        skip_methods: Iterable[str] = SKIPPED_METHODS,
    ) -> TrainCorpus:
        """Open ``name`` at ``version`` (``latest``: the newest complete one) with its chain.

        Args:
            exclude: versions not to read (those a checkpoint being continued has seen).
            skip_methods: PAIRS ``method`` values whose rows are not read (default
                :data:`SKIPPED_METHODS`, distilled pairs; empty: every row).

        Raises:
            CorpusNotFound: the corpus or version does not exist (one line naming it).
            ValueError: every version of the chain is excluded: nothing new to train on.
        """
        head = CorpusVersion.open(root, name, version)
        skip = set(exclude)
        versions = [v for v in reversed(head.chain()) if v.version not in skip]
        if not versions:
            raise ValueError(
                f"corpus {name}@{head.version}: every version of its chain was already seen "
                f"({', '.join(sorted(skip))}); nothing new to train on"
            )
        return cls(head, versions, skip_methods=skip_methods)

    # --- identity ----------------------------------------------------------------------------------

    @property
    def root(self) -> DataRoot:
        return self.head.root

    @property
    def name(self) -> str:
        return self.head.name

    @property
    def version(self) -> str:
        return self.head.version

    @property
    def manifest_sha256(self) -> str:
        return self.head.manifest_sha256

    def tokenizer_source(self) -> TrainCorpus:
        """The corpus whose tokenizer this one uses: itself, or for a derived head version (back-
        translation: ``manifest["derived"]``) the nearest ancestor that is not derived, when that
        covers every language (read as it stands there, its whole chain).

        Synthetic text does not reshape the vocabulary, and models of a source version and of
        versions derived from it share token ids (so one can continue from the other).
        """
        v = self.head
        while v.manifest.get("derived"):
            source = (v.manifest.get("derived") or {}).get("from") or v.parent_version
            if not source:
                break
            v = CorpusVersion.open(self.root, self.name, source)
        if v is self.head:
            return self
        other = TrainCorpus(v, list(reversed(v.chain())), skip_methods=self.skip_methods)
        if not set(self.languages()) <= set(other.languages()):
            return self
        return other

    def lineage(self) -> dict[str, Any]:
        """The ``corpus`` block of checkpoint metadata: the head version (docs/CONTRACTS.md)."""
        return self.head.lineage()

    def versions_lineage(self) -> list[dict[str, Any]]:
        """``{name, version, manifest_sha256}`` of every version read, oldest first."""
        return [
            {"name": v.name, "version": v.version, "manifest_sha256": v.manifest_sha256}
            for v in self.versions
        ]

    # --- what is there -----------------------------------------------------------------------------

    def docs_shards(self, lang: str | None = None) -> list[Shard]:
        """Files holding train DOCS rows (of one language), in version then manifest order."""
        langs = [lang] if lang is not None else None
        return [Shard(v, f) for v in self.versions for f in v.files(DOCS, split=TRAIN, langs=langs)]

    def pairs_shards(self, directions: Iterable[str] | None = None) -> list[Shard]:
        """Files holding train PAIRS rows (of some ``src-tgt`` directions)."""
        return [
            Shard(v, f, self.skip_methods)
            for v in self.versions
            for f in v.files(PAIRS, split=TRAIN, directions=directions)
        ]

    def docs_sizes(self) -> dict[str, float]:
        """Training size per DOCS language, in characters of train rows (estimated), all versions.

        Manifests count characters over both splits and rows per split; the train share of the
        characters is taken proportional to rows. Languages without train rows are left out.
        """
        sizes: dict[str, float] = {}
        for v in self.versions:
            by_lang = v.counts.get("by_lang") or {}
            for lang in v.languages():
                c = by_lang.get(lang) or {}
                docs, train, chars = c.get("docs"), c.get("train"), c.get("chars")
                if docs and train is not None and chars is not None:
                    size = chars * train / docs
                else:  # an older manifest without per-split counts: rows of the files
                    size = float(sum(f.rows for f in v.files(DOCS, split=TRAIN, langs=[lang])))
                if size > 0:
                    sizes[lang] = sizes.get(lang, 0.0) + float(size)
        return dict(sorted(sizes.items()))

    @functools.cached_property
    def _pair_counts(self) -> dict[tuple[str, bool], int]:
        counts: dict[tuple[str, bool], int] = {}
        for b in self.pairs(columns=["src_lang", "tgt_lang", "synthetic"]):
            keys = pc.binary_join_element_wise(b.column("src_lang"), b.column("tgt_lang"), "-")
            synthetic = pc.fill_null(b.column("synthetic"), False)
            for d, syn in zip(keys.to_pylist(), synthetic.to_pylist(), strict=True):
                counts[(d, bool(syn))] = counts.get((d, bool(syn)), 0) + 1
        return dict(sorted(counts.items()))

    def pair_counts(self) -> dict[tuple[str, bool], int]:
        """Train rows of the PAIRS per (``src-tgt`` direction, synthetic), read from the shards."""
        return self._pair_counts

    def pair_directions(self) -> dict[str, int]:
        """Train rows per ``src-tgt`` direction of the PAIRS, real and synthetic together."""
        out: dict[str, int] = {}
        for (d, _), n in self.pair_counts().items():
            out[d] = out.get(d, 0) + n
        return out

    def pair_languages(self) -> set[str]:
        """Languages on either side of the train PAIRS."""
        return {x for d in self.pair_directions() for x in d.split("-", 1)}

    def languages(self) -> list[str]:
        """Every language training can see: DOCS languages with train rows and PAIRS languages."""
        return sorted(set(self.docs_sizes()) | self.pair_languages())

    # --- reading -----------------------------------------------------------------------------------

    def docs(
        self,
        *,
        langs: Iterable[str] | None = None,
        columns: list[str] | None = None,
        batch_size: int = 4096,
    ) -> Iterator[pa.RecordBatch]:
        """Train DOCS rows of every version read, oldest version first."""
        langs = list(langs) if langs is not None else None
        for v in self.versions:
            yield from v.docs(split=TRAIN, langs=langs, columns=columns, batch_size=batch_size)

    def pairs(
        self,
        *,
        directions: Iterable[str] | None = None,
        columns: list[str] | None = None,
        batch_size: int = 4096,
    ) -> Iterator[pa.RecordBatch]:
        """Train PAIRS rows of every version read, oldest version first (not those of the
        methods in ``skip_methods``)."""
        directions = list(directions) if directions is not None else None
        for v in self.versions:
            yield from self._pairs_of(v, directions, columns, batch_size)

    def _pairs_of(
        self,
        v: CorpusVersion,
        directions: list[str] | None,
        columns: list[str] | None,
        batch_size: int = 4096,
    ) -> Iterator[pa.RecordBatch]:
        if not self.skip_methods:
            yield from v.pairs(
                split=TRAIN, directions=directions, columns=columns, batch_size=batch_size
            )
            return
        want = columns if columns is not None else PAIRS_SCHEMA.names
        read = list(dict.fromkeys([*want, "method"]))
        batches = v.pairs(split=TRAIN, directions=directions, columns=read, batch_size=batch_size)
        for b in _skip_methods(batches, self.skip_methods):
            if b.num_rows:
                yield b.select(want)

    # --- the contamination guard's input -------------------------------------------------------------

    def write_train_ids(
        self,
        path: str,
        *,
        docs_langs: Iterable[str] | None = None,
        pairs: bool = True,
        inherited: str | None = None,
    ) -> int:
        """Write a Parquet (:data:`TRAIN_IDS_SCHEMA`) of every row training could read.

        Args:
            path: where (a path or URL; the out root, not necessarily the corpus's).
            docs_langs: DOCS languages read (None: all; empty: none).
            pairs: whether PAIRS rows are read.
            inherited: the train ids file of a checkpoint this run continues from: its rows are
                copied first, since the weights have seen them too.

        Returns:
            The number of rows written.
        """
        langs = list(docs_langs) if docs_langs is not None else None
        n = 0
        out_fs, out_path = fsspec.core.url_to_fs(path)
        with atomic_open(out_fs, out_path, "wb") as f:
            writer = pq.ParquetWriter(f, TRAIN_IDS_SCHEMA, compression="zstd")
            for table in read_train_ids(inherited) if inherited else ():
                writer.write_table(table)
                n += table.num_rows
            for v in self.versions:
                if langs is None or langs:
                    for b in v.docs(split=TRAIN, langs=langs, columns=["id", "content_hash"]):
                        rows = b.num_rows
                        writer.write_table(
                            pa.table(
                                [
                                    b.column("id"),
                                    b.column("content_hash"),
                                    pa.array(["docs"] * rows, pa.string()),
                                    pa.array([v.version] * rows, pa.string()),
                                ],
                                schema=TRAIN_IDS_SCHEMA,
                            )
                        )
                        n += rows
                if pairs:
                    for b in self._pairs_of(v, None, ["id", "src_text", "tgt_text"]):
                        ids = b.column("id").to_pylist()
                        hashes = [content_hash(t) for t in b.column("src_text").to_pylist()]
                        hashes += [content_hash(t) for t in b.column("tgt_text").to_pylist()]
                        kinds = ["pairs-src"] * len(ids) + ["pairs-tgt"] * len(ids)
                        writer.write_table(
                            pa.table(
                                [ids + ids, hashes, kinds, [v.version] * (2 * len(ids))],
                                schema=TRAIN_IDS_SCHEMA,
                            )
                        )
                        n += 2 * len(ids)
            writer.close()
        return n

    def __repr__(self) -> str:
        names = ", ".join(v.version for v in self.versions)
        return f"TrainCorpus({self.root.url!r}, {self.name!r}, [{names}])"


def read_train_ids(path: str) -> Iterator[pa.Table]:
    """The rows of a train ids file in :data:`TRAIN_IDS_SCHEMA` (older files lack ``version``)."""
    fs, p = fsspec.core.url_to_fs(path)
    with fs.open(p, "rb") as f:
        pf = pq.ParquetFile(f)
        have = set(pf.schema_arrow.names)
        for b in pf.iter_batches():
            cols = [
                b.column(c) if c in have else pa.nulls(b.num_rows, TRAIN_IDS_SCHEMA.field(c).type)
                for c in TRAIN_IDS_SCHEMA.names
            ]
            yield pa.table(cols, schema=TRAIN_IDS_SCHEMA)
