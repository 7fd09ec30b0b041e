"""Line and paragraph dedup (cc_net style): boilerplate seen across the corpus is cut out.

Menus, cookie banners, footers and navigation repeat on thousands of pages. A line (or a
paragraph: lines up to a blank line) found in more than ``min_count`` documents of the corpus is
removed from every document; a document left with nothing becomes a REJECTS row
(:data:`ONLY_DUPLICATE_LINES`). A global stage in three parts:

- **map** (per partition): :func:`count_table`: each normalized unit's 64-bit hash and the number
  of documents of the partition that contain it, sorted by hash (:func:`write_counts`).
- **reduce**: :func:`frequent_hashes` sums the counts of all partitions for one range of hashes
  (``hash_shards`` independent tasks) and keeps the hashes above ``min_count``;
  :func:`write_frequent` / :func:`read_frequent` store the result.
- **filter** (per partition): :func:`strip_units` removes those units and counts what it removed,
  per reason (:data:`LINE_DUPLICATE`, :data:`PARAGRAPH_DUPLICATE`).

A unit is compared after normalization (lowercase, digits as 0, punctuation and repeated spaces
out), so "Copyright 2023 Example Inc." and "copyright 2024 example inc" are the same line. Units
that normalize to nothing (blank lines, rules of dashes) are never counted or removed. A unit
repeated inside one document counts once: repetition inside a document is the quality filter's
business, not this one's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from pydantic import BaseModel, ConfigDict, Field

LINE_DUPLICATE = "duplicate_line"  # a line removed (counted per line)
PARAGRAPH_DUPLICATE = "duplicate_paragraph"  # a paragraph removed (counted per paragraph)
ONLY_DUPLICATE_LINES = "only_duplicate_lines"  # REJECTS reason: nothing left after removal

COUNTS_SCHEMA = pa.schema([("hash", pa.uint64()), ("docs", pa.uint32())])
FREQUENT_SCHEMA = pa.schema([("hash", pa.uint64()), ("docs", pa.uint64())])


class LineDedupConfig(BaseModel):
    """Removal of lines or paragraphs repeated across many documents (``dedup.lines``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Run line/paragraph dedup at all.")
    unit: Literal["line", "paragraph"] = Field(
        "line",
        description="'line': each line; 'paragraph': lines up to a blank line, as one unit "
        "(keeps short lines that only repeat inside a longer repeated block).",
    )
    min_count: int = Field(
        10,
        ge=1,
        description="A unit found in more than this many documents is removed from all of "
        "them. cc_net removes every repeat; 10-100 keeps common short phrases at corpus scale.",
    )
    hash_shards: int = Field(
        16,
        ge=1,
        le=4096,
        description="The reduce runs as this many independent tasks over ranges of hashes "
        "(memory per task: 12 bytes per distinct unit of its range, over all partitions).",
    )

    @property
    def reason(self) -> str:
        return LINE_DUPLICATE if self.unit == "line" else PARAGRAPH_DUPLICATE


_PUNCT = re.compile(r"[^\w\s]+")
_DIGIT = re.compile(r"\d")
_BLANK = re.compile(r"\n[ \t\r\f\v]*\n")


def split_units(text: str, unit: str) -> list[str]:
    """A text cut into lines, or into paragraphs (separated by blank lines), separators kept out."""
    if unit == "line":
        return text.split("\n")
    return _BLANK.split(text)


def _joiner(unit: str) -> str:
    return "\n" if unit == "line" else "\n\n"


def normalize_unit(unit: str) -> str:
    """The form units are compared in: lowercase, digits as 0, no punctuation, single spaces."""
    s = _PUNCT.sub(" ", _DIGIT.sub("0", unit.lower()))
    return " ".join(s.split())


def unit_hash(norm: str) -> int:
    return xxhash.xxh3_64_intdigest(norm.encode("utf-8", "surrogatepass"))


def unit_hashes(text: str, unit: str) -> np.ndarray:
    """One hash per unit of ``text`` (0 for units that normalize to nothing)."""
    out = []
    for u in split_units(text, unit):
        norm = normalize_unit(u)
        out.append(unit_hash(norm) if norm else 0)
    return np.array(out, dtype=np.uint64)


# --- map ------------------------------------------------------------------------------------------


def count_table(texts: Sequence[str], config: LineDedupConfig) -> pa.Table:
    """Per distinct unit hash: in how many of ``texts`` it occurs (sorted by hash)."""
    per_doc = []
    for t in texts:
        if isinstance(t, str) and t:
            h = np.unique(unit_hashes(t, config.unit))
            per_doc.append(h[h != 0])
    allh = np.concatenate(per_doc) if per_doc else np.zeros(0, dtype=np.uint64)
    hashes, docs = np.unique(allh, return_counts=True)
    return pa.table(
        {"hash": pa.array(hashes, pa.uint64()), "docs": pa.array(docs.astype(np.uint32))},
        schema=COUNTS_SCHEMA,
    )


def write_counts(table: pa.Table, path: str, fs: fsspec.AbstractFileSystem | None = None) -> str:
    """Write a partition's counts (sorted by hash, small row groups so that a reduce task reads
    only the row groups of its hash range)."""
    from crossling.storage import atomic_open

    fs = _fs(fs)
    with atomic_open(fs, path, "wb") as f:
        pq.write_table(table, f, row_group_size=65536, compression="zstd")
    return path


# --- reduce ---------------------------------------------------------------------------------------


def shard_range(shard: int, shards: int) -> tuple[int, int]:
    """The hash range ``[lo, hi)`` of one reduce task (``hi`` may be 2**64)."""
    step = (1 << 64) // shards
    lo = shard * step
    hi = (1 << 64) if shard == shards - 1 else (shard + 1) * step
    return lo, hi


def frequent_hashes(
    count_files: Sequence[str],
    config: LineDedupConfig,
    shard: int = 0,
    shards: int = 1,
    fs: fsspec.AbstractFileSystem | None = None,
) -> pa.Table:
    """Units of one hash range found in more than ``min_count`` documents over all partitions.

    Returns:
        A table ``hash``, ``docs`` (sorted by hash) of the units to remove.
    """
    fs = _fs(fs)
    lo, hi = shard_range(shard, shards)
    hashes, counts = [], []
    for path in count_files:
        with fs.open(path, "rb") as f:
            pf = pq.ParquetFile(f)
            for rg in range(pf.num_row_groups):
                stats = pf.metadata.row_group(rg).column(0).statistics
                if stats is not None and stats.has_min_max and (stats.max < lo or stats.min >= hi):
                    continue
                t = pf.read_row_group(rg)
                h = t.column("hash").to_numpy()
                sel = (h >= np.uint64(lo)) & ((h < np.uint64(hi)) if hi < (1 << 64) else True)
                hashes.append(h[sel])
                counts.append(t.column("docs").to_numpy()[sel].astype(np.uint64))
    if not hashes:
        return FREQUENT_SCHEMA.empty_table()
    h = np.concatenate(hashes)
    c = np.concatenate(counts)
    uniq, inv = np.unique(h, return_inverse=True)
    total = np.bincount(inv, weights=c).astype(np.uint64)
    keep = total > config.min_count
    return pa.table(
        {"hash": pa.array(uniq[keep], pa.uint64()), "docs": pa.array(total[keep], pa.uint64())},
        schema=FREQUENT_SCHEMA,
    )


def write_frequent(
    tables: Sequence[pa.Table], path: str, fs: fsspec.AbstractFileSystem | None = None
) -> int:
    """Write the reduce result (the shards' tables, in shard order); returns the unit count."""
    from crossling.shards import write_shard

    table = pa.concat_tables(tables) if tables else FREQUENT_SCHEMA.empty_table()
    write_shard(_fs(fs), path, table, FREQUENT_SCHEMA)
    return table.num_rows


def read_frequent(path: str, fs: fsspec.AbstractFileSystem | None = None) -> np.ndarray:
    """The sorted hashes of units to remove."""
    with _fs(fs).open(path, "rb") as f:
        h = pq.read_table(f, columns=["hash"]).column(0).to_numpy()
    return np.sort(h)


# --- filter ---------------------------------------------------------------------------------------


def strip_units(
    texts: Sequence[str], frequent: np.ndarray, config: LineDedupConfig
) -> tuple[list[str], np.ndarray, Counter[str]]:
    """Remove the frequent units from each text.

    Returns:
        ``(texts, removed, counts)``: the new texts (unchanged when nothing was removed), the
        number of units removed from each, and counts per reason (``duplicate_line`` or
        ``duplicate_paragraph``: units removed; ``only_duplicate_lines``: texts left empty).
    """
    out: list[str] = []
    removed = np.zeros(len(texts), dtype=np.int32)
    counts: Counter[str] = Counter()
    join = _joiner(config.unit)
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t or not len(frequent):
            out.append(t)
            continue
        units = split_units(t, config.unit)
        h = unit_hashes(t, config.unit)
        pos = np.searchsorted(frequent, h)
        hit = (h != 0) & (pos < len(frequent))
        hit[hit] = frequent[pos[hit]] == h[hit]
        n = int(hit.sum())
        if not n:
            out.append(t)
            continue
        removed[i] = n
        counts[config.reason] += n
        kept = join.join(u for u, drop in zip(units, hit, strict=True) if not drop).strip()
        if not normalize_unit(kept):
            counts[ONLY_DUPLICATE_LINES] += 1
            kept = ""
        out.append(kept)
    return out, removed, counts


def _fs(fs: fsspec.AbstractFileSystem | None) -> fsspec.AbstractFileSystem:
    if fs is None:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()
    return fs
