"""One door to corpus versions: :class:`CorpusVersion` opens, verifies and reads one; :class:`VersionWriter` is
the only code that writes one.

A version folder (docs/CONTRACTS.md)::

    <root>/corpora/<name>/<version>/docs/<lang>/<split>-<NNNNN>.parquet       DOCS_SCHEMA
                                   /pairs/<src>-<tgt>/<split>-<NNNNN>.parquet   PAIRS_SCHEMA
                                   /rejects/part-<NNNNN>.parquet                REJECTS_SCHEMA
                                   /README.md        dataset card: configs per language, splits
                                   /manifest.json    written last; its existence = complete

Files are split by language (or direction) and by split in their *paths*, and every column,
``lang`` and ``split`` included, is also *in* the files. The folders are deliberately not hive
``key=value`` folders: a hive key that is also a column breaks ``pandas.read_parquet`` and
``pyarrow.parquet.read_table`` ("Unable to merge"), and Hugging Face ``datasets`` ignores hive keys,
so only plain folders give every tool (pandas, pyarrow, DuckDB, polars, ``datasets``) the same
``lang`` column. NNNNN is the input partition that produced the rows.

Reading goes through the manifest: only listed files are read (a listed file is complete, since
the manifest is written last), so a half-written folder is never visible.
"""

from __future__ import annotations

import functools
import posixpath
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from crossling import __version__
from crossling.documents import DOCS_SCHEMA, PAIRS_SCHEMA, REJECTS_SCHEMA
from crossling.shards import ROW_GROUP_BYTES, ROW_GROUP_ROWS, ShardWriter
from crossling.storage import MANIFEST, DataRoot, atomic_open, file_sha256, write_json

DOCS, PAIRS, REJECTS = "docs", "pairs", "rejects"
TRAIN, HELDOUT = "train", "heldout"
SPLITS = (TRAIN, HELDOUT)
CARD = "README.md"
STATS = "stats"  # <version>/stats/: per-language signal distributions and outcomes (Parquet)
SCHEMAS = {DOCS: DOCS_SCHEMA, PAIRS: PAIRS_SCHEMA, REJECTS: REJECTS_SCHEMA}


class CorpusNotFound(ValueError):
    """The corpus or version named by the user does not exist (or is not complete)."""


class CorpusCorrupt(ValueError):
    """A version's files do not match its manifest (missing, truncated or changed files)."""


@dataclass(frozen=True)
class ShardFile:
    """One Parquet file of a version, as its manifest lists it."""

    path: str  # relative to the version folder
    kind: str  # docs | pairs | rejects
    rows: int
    bytes: int
    sha256: str
    lang: str | None = None  # docs: ISO 639-1 where one exists, else 639-3
    split: str | None = None  # train | heldout; None: rejects, or a file of both (older layout)
    direction: str | None = None  # pairs: "<src_lang>-<tgt_lang>"; None in the older layout

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ShardFile:
        return cls(
            path=d["path"],
            kind=d["kind"],
            rows=int(d["rows"]),
            bytes=int(d["bytes"]),
            sha256=d["sha256"],
            lang=d.get("lang"),
            split=d.get("split"),
            direction=d.get("direction"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CorpusVersion:
    """A complete corpus version, opened through its manifest.

    Example::

        v = CorpusVersion.open("./data", "demo")            # latest
        for batch in v.docs(split="heldout", langs=["de"], columns=["id", "text"]):
            ...
    """

    def __init__(self, root: DataRoot, name: str, version: str, manifest: dict[str, Any]):
        self.root, self.name, self.version, self.manifest = root, name, version, manifest
        self._files = [ShardFile.from_dict(f) for f in manifest.get("files", [])]

    # --- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, root: str | DataRoot, name: str, version: str | None = "latest") -> CorpusVersion:
        """Open ``name`` at ``version`` (``latest`` or None: the newest complete version).

        Raises:
            CorpusNotFound: with a one-line message naming what is missing.
        """
        data = root if isinstance(root, DataRoot) else DataRoot(root)
        versions = data.versions(name)
        if not versions:
            raise CorpusNotFound(f"no complete version of corpus {name!r} under {data.url}")
        if version in ("latest", "", None):
            version = versions[-1]
        elif version not in versions:
            raise CorpusNotFound(
                f"corpus {name!r} has no complete version {version!r} under {data.url} "
                f"(versions: {', '.join(versions[-5:])})"
            )
        return cls(data, name, version, data.read_manifest(name, version))

    @property
    def path(self) -> str:
        """The version folder, as a path of the root's filesystem."""
        return self.root.version_dir(self.name, self.version)

    @property
    def uri(self) -> str:
        return self.root.uri(self.path)

    def abspath(self, f: ShardFile | str) -> str:
        return posixpath.join(self.path, f.path if isinstance(f, ShardFile) else f)

    @functools.cached_property
    def manifest_sha256(self) -> str:
        """sha256 of the manifest file's bytes: what lineage records."""
        return file_sha256(self.root.fs, posixpath.join(self.path, MANIFEST))

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest.get("counts") or {}

    @property
    def parent_version(self) -> str | None:
        return self.manifest.get("parent")

    def parent(self) -> CorpusVersion | None:
        p = self.parent_version
        return CorpusVersion.open(self.root, self.name, p) if p else None

    def chain(self) -> list[CorpusVersion]:
        """This version and its ancestors, newest first: the corpus as it stands at this version.

        Versions are incremental (each holds what is new since its parent), so reading the chain
        reads the whole corpus once. A version built again from the same inputs (new thresholds)
        replaces its sibling: of the versions with the same ``inputs_key`` only the newest in the
        chain is read.
        """
        out: list[CorpusVersion] = []
        seen_inputs: set[str] = set()
        seen_versions: set[str] = set()
        v: CorpusVersion | None = self
        while v is not None and v.version not in seen_versions:
            seen_versions.add(v.version)
            key = v.manifest.get("inputs_key")
            if key is None or key not in seen_inputs:
                out.append(v)
                if key is not None:
                    seen_inputs.add(key)
            v = v.parent()
        return out

    def lineage(self) -> dict[str, Any]:
        """What checkpoints record about the data they saw (docs/CONTRACTS.md)."""
        return {
            "root": self.root.url,
            "name": self.name,
            "version": self.version,
            "manifest_sha256": self.manifest_sha256,
        }

    # --- what is there ---------------------------------------------------------------------------

    def files(
        self,
        kind: str | None = None,
        *,
        split: str | None = None,
        langs: Iterable[str] | None = None,
        directions: Iterable[str] | None = None,
    ) -> list[ShardFile]:
        """Listed files of one kind; ``split`` keeps files of that split (and mixed older ones)."""
        langs = set(langs) if langs is not None else None
        directions = set(directions) if directions is not None else None
        out = []
        for f in self._files:
            if kind is not None and f.kind != kind:
                continue
            if split is not None and f.split not in (split, None):
                continue
            if langs is not None and f.kind == DOCS and f.lang not in langs:
                continue
            if directions is not None and f.direction is not None and f.direction not in directions:
                continue
            out.append(f)
        return out

    def languages(self) -> list[str]:
        """Languages of the DOCS rows (both splits)."""
        return sorted({f.lang for f in self.files(DOCS) if f.lang})

    def directions(self) -> list[str]:
        """``src-tgt`` directions of the PAIRS rows, from the manifest counts."""
        return sorted((self.counts.get("pairs_by_direction") or {}).keys())

    # --- reading ---------------------------------------------------------------------------------

    def batches(
        self,
        kind: str,
        *,
        split: str | None = None,
        langs: Iterable[str] | None = None,
        directions: Iterable[str] | None = None,
        columns: list[str] | None = None,
        batch_size: int = 4096,
    ) -> Iterator[pa.RecordBatch]:
        """Stream rows of one kind as Arrow record batches, in manifest order (deterministic).

        Rows are filtered by their own ``split`` / ``lang`` / ``src_lang``-``tgt_lang`` columns
        too, so files of the older mixed layout read the same. Columns a file lacks (written by an
        older version of crossling) come back as nulls.
        """
        langs = list(langs) if langs is not None else None
        directions = list(directions) if directions is not None else None
        for f in self.files(kind, split=split, langs=langs, directions=directions):
            yield from self.file_batches(
                f,
                split=split,
                langs=langs,
                directions=directions,
                columns=columns,
                batch_size=batch_size,
            )

    def file_batches(
        self,
        f: ShardFile,
        *,
        split: str | None = None,
        langs: Iterable[str] | None = None,
        directions: Iterable[str] | None = None,
        columns: list[str] | None = None,
        batch_size: int = 4096,
    ) -> Iterator[pa.RecordBatch]:
        """The rows of one listed file, filtered and conformed as in :meth:`batches` (readers
        that keep a position per file, such as training's resumable streams, read this way)."""
        kind = f.kind
        schema = SCHEMAS[kind]
        want = list(columns) if columns is not None else schema.names
        langs = list(langs) if langs is not None else None
        directions = list(directions) if directions is not None else None
        with self.root.fs.open(self.abspath(f), "rb") as fh:
            pf = pq.ParquetFile(fh)
            have = set(pf.schema_arrow.names)
            need = [c for c in want if c in have]
            row_filter = []
            if split is not None and f.split is None and "split" in have:
                row_filter.append(("split", split))
            if kind == PAIRS and directions is not None and f.direction is None:
                row_filter.append(("direction", directions))
            if kind == DOCS and langs is not None and f.lang is None:
                row_filter.append(("lang", langs))
            extra = [c for name, _ in row_filter for c in _FILTER_COLUMNS[name]]
            read = list(dict.fromkeys(need + extra))
            for b in pf.iter_batches(batch_size=batch_size, columns=read):
                b = _apply_filters(b, row_filter)
                if not b.num_rows:
                    continue
                yield _conform(b, want, schema)

    def docs(self, **kw: Any) -> Iterator[pa.RecordBatch]:
        """DOCS rows: ``split=``, ``langs=``, ``columns=``, ``batch_size=`` as in :meth:`batches`."""
        return self.batches(DOCS, **kw)

    def pairs(self, **kw: Any) -> Iterator[pa.RecordBatch]:
        """PAIRS rows: ``split=``, ``directions=``, ``columns=``, ``batch_size=``."""
        return self.batches(PAIRS, **kw)

    def rejects(self, **kw: Any) -> Iterator[pa.RecordBatch]:
        """REJECTS rows: ``columns=``, ``batch_size=``."""
        return self.batches(REJECTS, **kw)

    def table(self, kind: str, **kw: Any) -> pa.Table:
        """All selected rows of one kind as one table (for small versions and tests)."""
        columns = kw.get("columns")
        schema = SCHEMAS[kind]
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns])
        return pa.Table.from_batches(list(self.batches(kind, **kw)), schema=schema)

    # --- verifying -------------------------------------------------------------------------------

    def verify(self, *, checksums: bool = False) -> list[str]:
        """Problems found: files missing or of another size (and, with ``checksums``, sha256)."""
        problems = []
        fs = self.root.fs
        for f in self._files:
            path = self.abspath(f)
            if not fs.exists(path):
                problems.append(f"{f.path}: listed in the manifest but missing")
                continue
            size = fs.size(path)
            if size != f.bytes:
                problems.append(f"{f.path}: {size} bytes, the manifest says {f.bytes}")
            elif checksums and file_sha256(fs, path) != f.sha256:
                problems.append(f"{f.path}: sha256 differs from the manifest")
        return problems

    def check(self, *, checksums: bool = False) -> CorpusVersion:
        """:meth:`verify`, raising :class:`CorpusCorrupt` on any problem; returns self."""
        problems = self.verify(checksums=checksums)
        if problems:
            raise CorpusCorrupt(
                f"corpus {self.name}@{self.version}: {len(problems)} problems: "
                + "; ".join(problems[:5])
            )
        return self

    def __repr__(self) -> str:
        return f"CorpusVersion({self.root.url!r}, {self.name!r}, {self.version!r})"


_FILTER_COLUMNS = {"split": ["split"], "lang": ["lang"], "direction": ["src_lang", "tgt_lang"]}


def _apply_filters(b: pa.RecordBatch, row_filter: list[tuple[str, Any]]) -> pa.RecordBatch:
    for col, value in row_filter:
        if col == "direction":
            d = pc.binary_join_element_wise(b.column("src_lang"), b.column("tgt_lang"), "-")
            mask = pc.is_in(d, pa.array(value, pa.string()))
        elif isinstance(value, list):
            mask = pc.is_in(b.column(col), pa.array(value, pa.string()))
        else:
            mask = pc.equal(b.column(col), value)
        b = b.filter(mask)
    return b


def _conform(b: pa.RecordBatch, want: list[str], schema: pa.Schema) -> pa.RecordBatch:
    arrays = []
    for c in want:
        if c in b.schema.names:
            arrays.append(b.column(c))
        else:
            arrays.append(pa.nulls(b.num_rows, schema.field(c).type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([schema.field(c) for c in want]))


def open_version(root: str | DataRoot, name: str, version: str | None = "latest") -> CorpusVersion:
    """Shorthand for :meth:`CorpusVersion.open`."""
    return CorpusVersion.open(root, name, version)


# --- writing ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a writer counted while writing (mergeable): the manifest's counts, without re-reading."""

    by_lang: dict[str, dict[str, float]] = field(default_factory=dict)
    by_reason: Counter = field(default_factory=Counter)
    outputs_by_source: Counter = field(default_factory=Counter)
    pairs_by_direction: Counter = field(default_factory=Counter)
    pairs_by_method: Counter = field(default_factory=Counter)
    docs: int = 0
    pairs: int = 0
    rejects: int = 0

    def add_docs(self, b: pa.RecordBatch | pa.Table) -> None:
        self.docs += b.num_rows
        self.outputs_by_source.update(_value_counts(b.column("source")))
        t = pa.table(
            {
                "lang": b.column("lang"),
                "n_chars": b.column("n_chars"),
                "lang_score": b.column("lang_score"),
                "heldout": pc.cast(pc.equal(b.column("split"), HELDOUT), pa.int64()),
            }
        )
        agg = t.group_by("lang").aggregate(
            [("n_chars", "sum"), ("lang_score", "sum"), ("heldout", "sum"), ("lang", "count")]
        )
        for row in agg.to_pylist():
            d = self.by_lang.setdefault(
                row["lang"], {"docs": 0, "chars": 0, "train": 0, "heldout": 0, "score_sum": 0.0}
            )
            n, held = row["lang_count"], row["heldout_sum"]
            d["docs"] += n
            d["chars"] += row["n_chars_sum"]
            d["heldout"] += held
            d["train"] += n - held
            d["score_sum"] += row["lang_score_sum"]

    def add_pairs(self, b: pa.RecordBatch | pa.Table) -> None:
        self.pairs += b.num_rows
        self.outputs_by_source.update(_value_counts(b.column("source")))
        d = pc.binary_join_element_wise(b.column("src_lang"), b.column("tgt_lang"), "-")
        self.pairs_by_direction.update(_value_counts(d))
        self.pairs_by_method.update(_value_counts(b.column("method")))

    def add_rejects(self, b: pa.RecordBatch | pa.Table) -> None:
        self.rejects += b.num_rows
        self.outputs_by_source.update(_value_counts(b.column("source")))
        key = pc.binary_join_element_wise(b.column("stage"), b.column("reason"), "/")
        self.by_reason.update(_value_counts(key))

    def merge(self, other: Tally) -> None:
        for lang, d in other.by_lang.items():
            mine = self.by_lang.setdefault(lang, dict.fromkeys(d, 0))
            for k, v in d.items():
                mine[k] = mine.get(k, 0) + v
        self.by_reason.update(other.by_reason)
        self.outputs_by_source.update(other.outputs_by_source)
        self.pairs_by_direction.update(other.pairs_by_direction)
        self.pairs_by_method.update(other.pairs_by_method)
        self.docs += other.docs
        self.pairs += other.pairs
        self.rejects += other.rejects

    def to_dict(self) -> dict[str, Any]:
        return {
            "by_lang": self.by_lang,
            "by_reason": dict(self.by_reason),
            "outputs_by_source": dict(self.outputs_by_source),
            "pairs_by_direction": dict(self.pairs_by_direction),
            "pairs_by_method": dict(self.pairs_by_method),
            "docs": self.docs,
            "pairs": self.pairs,
            "rejects": self.rejects,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tally:
        return cls(
            by_lang={k: dict(v) for k, v in d["by_lang"].items()},
            by_reason=Counter(d["by_reason"]),
            outputs_by_source=Counter(d["outputs_by_source"]),
            pairs_by_direction=Counter(d["pairs_by_direction"]),
            pairs_by_method=Counter(d.get("pairs_by_method") or {}),
            docs=d["docs"],
            pairs=d["pairs"],
            rejects=d["rejects"],
        )


def _value_counts(arr: pa.Array | pa.ChunkedArray) -> dict[str, int]:
    return {
        r["values"]: r["counts"]
        for r in pc.value_counts(arr).to_pylist()
        if r["values"] is not None
    }


class PartWriter:
    """Writes one partition's rows into the version: DOCS by (lang, split), PAIRS by (direction,
    split), REJECTS in one file. Files of different keys are written in parallel threads (pyarrow
    encodes without the GIL); each key keeps its rows in order."""

    def __init__(
        self,
        writer: VersionWriter,
        index: int,
        max_threads: int = 2,
        buffer_bytes: int = 48 << 20,
    ):
        self.writer, self.index = writer, index
        self.buffer_bytes = buffer_bytes
        self._threads = max_threads
        self._buffered: dict[tuple, tuple[int, int]] = {}  # rows and bytes not yet in a group
        self._inflight: deque = deque()
        self.tally = Tally()
        self._shards: dict[tuple[str, str | None, str | None], ShardWriter] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_threads)
        self._queues: dict[tuple, Any] = {}  # key -> last future (rows of a key stay in order)
        self._closed = False

    def _rel(self, kind: str, group: str | None, split: str | None) -> str:
        if kind == REJECTS:
            return f"rejects/part-{self.index:05d}.parquet"
        return f"{kind}/{group}/{split}-{self.index:05d}.parquet"

    def _submit(self, key: tuple[str, str | None, str | None], data: pa.RecordBatch) -> None:
        w = self._shards.get(key)
        if w is None:
            w = ShardWriter(
                self.writer.fs, posixpath.join(self.writer.path, self._rel(*key)), SCHEMAS[key[0]]
            )
            self._shards[key] = w
        self._chain(key, functools.partial(w.write, data))
        # Memory stays bounded: each file gathers rows into full row groups, but a partition with
        # many languages would hold one almost-full group per file. Past the budget the file
        # holding the most is flushed (a smaller row group), and the reader waits for the
        # writer threads when they fall behind.
        rows, nbytes = self._buffered.get(key, (0, 0))
        rows, nbytes = rows + data.num_rows, nbytes + data.nbytes
        if rows >= ROW_GROUP_ROWS or nbytes >= ROW_GROUP_BYTES:
            rows = nbytes = 0  # the file flushes a full group by itself
        self._buffered[key] = (rows, nbytes)
        if sum(b for _, b in self._buffered.values()) > self.buffer_bytes:
            big = max(self._buffered, key=lambda k: self._buffered[k][1])
            self._chain(big, self._shards[big].flush)
            self._buffered[big] = (0, 0)
        while len(self._inflight) > 2 * self._threads:
            self._inflight.popleft().result()

    def _chain(self, key: tuple, job: Any) -> None:
        """Run ``job`` in the pool after the previous job of the same file (rows stay in order)."""
        prev = self._queues.get(key)

        def run(prev=prev) -> None:
            if prev is not None:
                prev.result()
            job()

        fut = self._pool.submit(run)
        self._queues[key] = fut
        self._inflight.append(fut)

    def _grouped(self, kind: str, b: pa.RecordBatch, group_col: pa.Array) -> None:
        key = pc.binary_join_element_wise(group_col, b.column("split"), "\x1f")
        for k in pc.unique(key).to_pylist():
            group, split = k.split("\x1f")
            self._submit((kind, group, split), b.filter(pc.equal(key, k)))

    def docs(self, b: pa.RecordBatch | pa.Table) -> None:
        """Kept documents (DOCS_SCHEMA, in schema order)."""
        for batch in _as_batches(b, DOCS_SCHEMA):
            self.tally.add_docs(batch)
            self._grouped(DOCS, batch, batch.column("lang"))

    def pairs(self, b: pa.RecordBatch | pa.Table) -> None:
        """Kept parallel pairs (PAIRS_SCHEMA)."""
        for batch in _as_batches(b, PAIRS_SCHEMA):
            self.tally.add_pairs(batch)
            d = pc.binary_join_element_wise(batch.column("src_lang"), batch.column("tgt_lang"), "-")
            self._grouped(PAIRS, batch, d)

    def rejects(self, b: pa.RecordBatch | pa.Table) -> None:
        """Rows that did not make it, with their stage and reason (REJECTS_SCHEMA)."""
        for batch in _as_batches(b, REJECTS_SCHEMA):
            self.tally.add_rejects(batch)
            self._submit((REJECTS, None, None), batch)

    def close(self) -> dict[str, Any]:
        """Finish every file; returns ``{"files": [...], "tally": {...}}`` (JSON-able)."""
        if self._closed:
            raise RuntimeError("PartWriter closed twice")
        self._closed = True
        try:
            for fut in list(self._queues.values()):
                fut.result()
            closes = {k: self._pool.submit(w.close) for k, w in self._shards.items()}
            files = []
            for key, fut in sorted(closes.items(), key=lambda kv: self._rel(*kv[0])):
                rows, nbytes, sha = fut.result()
                kind, group, split = key
                files.append(
                    ShardFile(
                        path=self._rel(*key),
                        kind=kind,
                        rows=rows,
                        bytes=nbytes,
                        sha256=sha,
                        lang=group if kind == DOCS else None,
                        split=split,
                        direction=group if kind == PAIRS else None,
                    ).to_dict()
                )
        except BaseException:
            for w in self._shards.values():
                w.abort()
            raise
        finally:
            self._pool.shutdown()
        return {"files": files, "tally": self.tally.to_dict()}

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None or self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True)
        for w in self._shards.values():
            w.abort()


def _as_batches(b: pa.RecordBatch | pa.Table, schema: pa.Schema) -> list[pa.RecordBatch]:
    if not b.num_rows:
        return []
    if b.schema != schema:
        b = (
            b.select(schema.names).cast(schema)
            if isinstance(b, pa.Table)
            else _cast_batch(b, schema)
        )
    return b.to_batches() if isinstance(b, pa.Table) else [b]


def _cast_batch(b: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return (
        pa.Table.from_batches([b])
        .select(schema.names)
        .cast(schema)
        .combine_chunks()
        .to_batches()[0]
    )


class VersionWriter:
    """The one writer of corpus versions. Picklable (root, name, version): partitions are written
    by :meth:`part` in any process, in any order and again after a crash (each part's files
    replace the last attempt's); :meth:`commit` then writes the dataset card and the manifest,
    last. Nothing is visible to readers before the manifest exists."""

    def __init__(self, root: str, name: str, version: str):
        self.root, self.name, self.version = root, name, version

    @property
    def data(self) -> DataRoot:
        return DataRoot(self.root)

    @property
    def fs(self):
        return self.data.fs

    @property
    def path(self) -> str:
        return self.data.version_dir(self.name, self.version)

    def part(self, index: int) -> PartWriter:
        """A writer for partition ``index``: call its ``docs``/``pairs``/``rejects``, then ``close``."""
        return PartWriter(self, index)

    def remove_part(self, index: int) -> None:
        """Delete what an earlier attempt wrote for partition ``index`` (before writing it again)."""
        self.remove_parts([index])

    def remove_parts(self, indices: list[int]) -> None:
        """Delete the files earlier attempts wrote under any of these part indices."""
        suffixes = tuple(f"-{i:05d}.parquet" for i in indices)
        for p in self._shard_files():
            if posixpath.basename(p).endswith(suffixes):
                self.fs.rm(p)

    def _shard_files(self) -> list[str]:
        out: list[str] = []
        for sub in (DOCS, PAIRS, REJECTS):
            base = posixpath.join(self.path, sub)
            if self.fs.exists(base):
                out.extend(p for p in self.fs.find(base) if p.endswith(".parquet"))
        return out

    def write_stats(self, name: str, table: pa.Table) -> dict[str, Any]:
        """Write a statistics table of the version, ``stats/<name>.parquet`` (before
        :meth:`commit`, which lists it in the manifest's ``stats_files``). Returns its entry."""
        from crossling.shards import write_shard

        rel = f"{STATS}/{name}.parquet"
        rows, nbytes, sha = write_shard(self.fs, posixpath.join(self.path, rel), table)
        return {"path": rel, "kind": STATS, "rows": rows, "bytes": nbytes, "sha256": sha}

    def commit(
        self,
        parts: list[dict[str, Any]],
        *,
        parent: str | None,
        config: dict[str, Any],
        inputs: list[str],
        inputs_by_source: dict[str, int],
        inputs_key: str | None = None,
        extra: dict[str, Any] | None = None,
        stats_files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Write README.md and manifest.json (last) from the parts' file lists and tallies.

        Args:
            parts: what each :meth:`PartWriter.close` returned.
            parent: the version this one follows (its documents were deduplicated against it).
            config: the resolved config (as JSON).
            inputs: input URIs.
            inputs_by_source: records read per source; the conservation check compares them with
                the rows written per source.
            inputs_key: hash of the inputs alone: versions built again from the same inputs share
                it (see :meth:`CorpusVersion.chain`).
            extra: more manifest keys (stages' statistics, errors, timings).
            stats_files: what :meth:`write_stats` returned, listed as ``stats_files``.
        """
        tally = Tally()
        files: list[dict[str, Any]] = []
        for p in parts:
            tally.merge(Tally.from_dict(p["tally"]))
            files.extend(p["files"])
        files.sort(key=lambda f: f["path"])
        # Files no part reported (an attempt that wrote under another grouping of the
        # partitions) would be read by anything that globs the folder: they go.
        listed = {f["path"] for f in files}
        for p in self._shard_files():
            if posixpath.relpath(p, self.path) not in listed:
                self.fs.rm(p)
        by_lang = {}
        for lang, d in sorted(tally.by_lang.items()):
            d = dict(d)
            score = d.pop("score_sum")
            by_lang[lang] = {
                **{k: int(v) for k, v in d.items()},
                "mean_lang_score": round(score / max(1, d["docs"]), 4),
            }
        by_source = {
            s: {
                "inputs": int(inputs_by_source.get(s, 0)),
                "outputs": int(tally.outputs_by_source[s]),
            }
            for s in sorted(set(inputs_by_source) | set(tally.outputs_by_source))
        }
        n_inputs = sum(inputs_by_source.values())
        balanced = n_inputs == tally.docs + tally.pairs + tally.rejects and all(
            v["inputs"] == v["outputs"] for v in by_source.values()
        )
        manifest = {
            "name": self.name,
            "version": self.version,
            "parent": parent,
            "inputs_key": inputs_key,
            "created_at": datetime.now(UTC).isoformat(),
            "code_version": __version__,
            "config": config,
            "inputs": inputs,
            "layout": 2,
            "files": files,
            "stats_files": sorted(stats_files or [], key=lambda f: f["path"]),
            "counts": {
                "docs": tally.docs,
                "pairs": tally.pairs,
                "rejects": tally.rejects,
                "by_lang": by_lang,
                "by_reason": dict(sorted(tally.by_reason.items())),
                "pairs_by_direction": dict(sorted(tally.pairs_by_direction.items())),
                "pairs_by_method": dict(sorted(tally.pairs_by_method.items())),
            },
            "conservation": {
                "inputs": n_inputs,
                "docs": tally.docs,
                "pairs": tally.pairs,
                "rejects": tally.rejects,
                "balanced": balanced,
                "by_source": by_source,
            },
            **(extra or {}),
        }
        with atomic_open(self.fs, posixpath.join(self.path, CARD), "w", encoding="utf-8") as f:
            f.write(dataset_card(manifest))
        write_json(self.fs, posixpath.join(self.path, MANIFEST), manifest)  # last: complete
        return manifest


# --- the dataset card --------------------------------------------------------------------------


def dataset_card(manifest: dict[str, Any]) -> str:
    """README.md of a version folder: a Hugging Face dataset card whose YAML lists one config per
    language (splits ``train`` and ``heldout``), ``all``, one per pair direction and ``rejects``,
    so ``datasets.load_dataset(<version folder>, "de")`` works as it would from the Hub."""
    files = [ShardFile.from_dict(f) for f in manifest.get("files", [])]

    def data_files(selected: list[ShardFile], folder: str) -> list[dict[str, Any]]:
        # Globs, not file lists: the card stays short for versions of thousands of files.
        splits = {f.split or TRAIN for f in selected}
        return [{"split": s, "path": f"{folder}/{s}-*.parquet"} for s in SPLITS if s in splits]

    docs = [f for f in files if f.kind == DOCS]
    pairs = [f for f in files if f.kind == PAIRS]
    rejects = [f for f in files if f.kind == REJECTS]
    configs: list[dict[str, Any]] = []
    if docs:
        configs.append(
            {"config_name": "all", "default": True, "data_files": data_files(docs, "docs/*")}
        )
        for lang in sorted({f.lang for f in docs if f.lang}):
            selected = [f for f in docs if f.lang == lang]
            configs.append(
                {"config_name": lang, "data_files": data_files(selected, f"docs/{lang}")}
            )
    for d in sorted({f.direction for f in pairs if f.direction}):
        configs.append(
            {
                "config_name": f"pairs-{d}",
                "data_files": data_files([f for f in pairs if f.direction == d], f"pairs/{d}"),
            }
        )
    if rejects:
        configs.append(
            {
                "config_name": "rejects",
                "data_files": [{"split": "rejects", "path": "rejects/*.parquet"}],
            }
        )
    counts = manifest.get("counts") or {}
    langs = sorted(counts.get("by_lang") or {})
    header = {"configs": configs, "language": langs or None, "pretty_name": manifest["name"]}
    header = {k: v for k, v in header.items() if v}
    lines = [
        "---",
        yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        f"# {manifest['name']} {manifest['version']}",
        "",
        "A corpus version built by crossling: DOCS (documents by language), PAIRS (parallel "
        "pairs by direction) and REJECTS (every input that did not make it, with its reason).",
        "",
        f"- parent version: {manifest.get('parent') or 'none'}",
        f"- documents: {counts.get('docs', 0)}, pairs: {counts.get('pairs', 0)}, "
        f"rejects: {counts.get('rejects', 0)}",
        "",
        "| config | split | rows |",
        "|---|---|---|",
    ]
    for lang, d in sorted((counts.get("by_lang") or {}).items()):
        lines.append(f"| {lang} | train | {d.get('train', 0)} |")
        lines.append(f"| {lang} | heldout | {d.get('heldout', 0)} |")
    for d, n in sorted((counts.get("pairs_by_direction") or {}).items()):
        lines.append(f"| pairs-{d} | train + heldout | {n} |")
    lines += [
        "",
        'Load it with `datasets.load_dataset("<this folder>", "<config>")`, '
        '`pandas.read_parquet("<this folder>/docs")`, DuckDB '
        "`read_parquet('<this folder>/docs/*/*.parquet')` or polars. `manifest.json` lists every "
        "file with rows, bytes and sha256.",
        "",
    ]
    return "\n".join(lines)
