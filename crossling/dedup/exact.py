"""Exact deduplication by ``content_hash``: vectorized first-copy decisions, and the index of
published versions.

The index of a corpus keeps, for each published version, the content hashes and ids of its DOCS
and PAIRS rows::

    <root>/corpora/<name>/dedup-index/exact/<version>/part-<NNNNN>.parquet   (content_hash, id)

(older versions wrote one ``<version>.parquet`` file; both are read). A new run drops a row whose
hash is in the index of an earlier version (``duplicate_of`` names the published copy) or that an
earlier row of the same run has. "Earlier" in a run is partition order, then row order, so the
result does not depend on which worker finished first.

Hashes are xxh3-128 hex strings; they are compared as 16-byte numpy values (``S16``): sorting and
searching ten million of them takes seconds and 16 bytes each.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crossling.shards import write_shard
from crossling.storage import DataRoot

INDEX_SCHEMA = pa.schema([("content_hash", pa.string()), ("id", pa.string())])


def index_dir(root: DataRoot, name: str) -> str:
    return posixpath.join(root.dedup_index_dir(name), "exact")


def hash_keys(hashes: pa.Array | pa.ChunkedArray | list[str]) -> np.ndarray:
    """Hex hashes to 16-byte keys (``S16``). Non-hex values (foreign ids) are hashed first."""
    values = hashes.to_pylist() if not isinstance(hashes, list) else hashes
    if not values:
        return np.empty(0, dtype="S16")
    try:
        return np.frombuffer(bytes.fromhex("".join(values)), dtype="S16").copy()
    except ValueError:
        import xxhash

        out = []
        for v in values:
            try:
                b = bytes.fromhex(v)
            except ValueError:
                b = b""
            out.append(b if len(b) == 16 else xxhash.xxh3_128_digest(v.encode()))
        return np.array(out, dtype="S16")


@dataclass
class PriorIndex:
    """Sorted hashes of published versions and the id of the published copy of each."""

    keys: np.ndarray  # S16, sorted, unique
    ids: pa.Array  # aligned with keys

    @classmethod
    def empty(cls) -> PriorIndex:
        return cls(np.empty(0, dtype="S16"), pa.array([], pa.string()))

    @classmethod
    def load(cls, root: DataRoot, name: str, versions: Iterable[str]) -> PriorIndex:
        """The index entries of ``versions`` (the first version holding a hash wins)."""
        tables = []
        fs, base = root.fs, index_dir(root, name)
        for v in versions:
            folder, single = posixpath.join(base, v), posixpath.join(base, f"{v}.parquet")
            paths = sorted(fs.find(folder)) if fs.exists(folder) else []
            if not paths and fs.exists(single):
                paths = [single]
            for p in paths:
                if p.endswith(".parquet") and ".tmp-" not in p:
                    with fs.open(p, "rb") as f:
                        tables.append(pq.read_table(f, columns=["content_hash", "id"]))
        if not tables:
            return cls.empty()
        t = pa.concat_tables(tables)
        keys = hash_keys(t.column("content_hash"))
        uniq, first = np.unique(keys, return_index=True)  # stable: the oldest version's copy
        return cls(uniq, t.column("id").combine_chunks().take(pa.array(first)))

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Position in the index of each key, or -1."""
        if not len(self.keys) or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.searchsorted(self.keys, keys)
        pos = np.minimum(pos, len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1)


@dataclass
class ExactDecisions:
    """For rows in run order: ``dup_of`` (-1 kept; else the row kept in their place, or
    ``-2 - k`` for the k-th prior index entry) and the new cluster size of kept rows."""

    dup_of: np.ndarray  # int64
    cluster_size: np.ndarray  # int64, meaningful for kept rows


def decide(keys: np.ndarray, sizes: np.ndarray, prior: PriorIndex) -> ExactDecisions:
    """Keep the first row of each hash unless a published version has it.

    Args:
        keys: S16 hashes in run order.
        sizes: the current ``dup_cluster_size`` of each row (copies it already stands for).
        prior: the published versions' index.
    """
    n = len(keys)
    dup_of = np.full(n, -1, dtype=np.int64)
    cluster = sizes.astype(np.int64).copy()
    if n == 0:
        return ExactDecisions(dup_of, cluster)
    in_prior = prior.lookup(keys)
    old = in_prior >= 0
    dup_of[old] = -2 - in_prior[old]
    new = np.flatnonzero(~old)
    if len(new):
        _, first, inverse = np.unique(keys[new], return_index=True, return_inverse=True)
        keeper = new[first[inverse]]
        is_copy = keeper != new
        dup_of[new[is_copy]] = keeper[is_copy]
        totals = np.bincount(inverse, weights=sizes[new], minlength=len(first))
        cluster[new[first]] = totals.astype(np.int64)
    return ExactDecisions(dup_of, cluster)


def write_index_part(
    root: DataRoot, name: str, version: str, label: str, part: int, kept: pa.Table
) -> None:
    """The (content_hash, id) rows a version publishes from one partition (``label``: docs or
    pairs)."""
    path = posixpath.join(index_dir(root, name), version, f"{label}-{part:05d}.parquet")
    t = pa.table({"content_hash": kept.column("content_hash"), "id": kept.column("id")})
    write_shard(root.fs, path, t.cast(INDEX_SCHEMA), INDEX_SCHEMA)
