"""Exact deduplication by ``content_hash``, within a run and against every earlier version.

The index of a corpus keeps, for each published version, the content hashes and ids of its DOCS
rows (``<root>/corpora/<name>/dedup-index/exact/<version>.parquet``). A new run drops a document
whose hash is already in the index (the REJECTS row names the kept copy in ``duplicate_of``) or
that an earlier document of the same run has. "Earlier" in a run is the partition order, then the
row order, so the result does not depend on which worker finished first.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from crossling.shards import write_shard
from crossling.storage import DataRoot

INDEX_SCHEMA = pa.schema([("content_hash", pa.string()), ("id", pa.string())])


def _index_dir(root: DataRoot, name: str) -> str:
    return posixpath.join(root.dedup_index_dir(name), "exact")


class ExactDeduplicator:
    """Keeps the first copy of every content hash; remembers earlier versions' hashes."""

    def __init__(self, seen: dict[str, str] | None = None):
        self._first: dict[str, str] = dict(seen or {})  # content_hash -> id of the kept copy
        self._prior = len(self._first)
        self.cluster_size: dict[str, int] = {}  # kept id -> copies it stands for (this run)

    @classmethod
    def from_index(cls, root: DataRoot, name: str, exclude: Iterable[str] = ()) -> ExactDeduplicator:
        """Load the hashes of every published version of a corpus (but ``exclude``)."""
        seen: dict[str, str] = {}
        excluded = set(exclude)
        published = set(root.versions(name))
        d = _index_dir(root, name)
        if root.fs.exists(d):
            for path in sorted(root.fs.ls(d, detail=False)):
                version = posixpath.basename(path).removesuffix(".parquet")
                if version in excluded or version not in published:
                    continue  # an unpublished (crashed) run's index does not count
                with root.fs.open(path, "rb") as f:
                    t = pq.read_table(f, columns=["content_hash", "id"])
                for h, i in zip(t["content_hash"].to_pylist(), t["id"].to_pylist(), strict=True):
                    seen.setdefault(h, i)
        return cls(seen)

    @property
    def n_prior(self) -> int:
        return self._prior

    def check(self, doc_id: str, content_hash: str) -> str | None:
        """None if this is the first copy (it is kept), else the id of the kept copy."""
        first = self._first.get(content_hash)
        if first is None:
            self._first[content_hash] = doc_id
            self.cluster_size[doc_id] = 1
            return None
        if first in self.cluster_size:
            self.cluster_size[first] += 1
        return first


def write_index(root: DataRoot, name: str, version: str, hashes: list[str], ids: list[str]) -> str:
    """Record the hashes of a version's DOCS rows (before its manifest is written)."""
    path = posixpath.join(_index_dir(root, name), f"{version}.parquet")
    table = pa.table({"content_hash": hashes, "id": ids}, schema=INDEX_SCHEMA)
    write_shard(root.fs, path, table)
    return path
