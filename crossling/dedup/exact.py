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

from crossling.shards import ShardWriter
from crossling.storage import DataRoot

INDEX_SCHEMA = pa.schema([("content_hash", pa.string()), ("id", pa.string())])


def _index_dir(root: DataRoot, name: str) -> str:
    return posixpath.join(root.dedup_index_dir(name), "exact")


class ExactDeduplicator:
    """Keeps the first copy of every content hash; remembers earlier versions' hashes.

    Hashes and ids (hex strings) are held as 16-byte ``bytes``: about a third of the memory of the
    strings, which matters at millions of documents.
    """

    def __init__(self, seen: dict[bytes, bytes] | None = None):
        self._first: dict[bytes, bytes] = dict(seen or {})  # content hash -> id of the kept copy
        self._prior = len(self._first)
        self._extra: dict[bytes, int] = {}  # kept id -> copies dropped in this run (only if any)

    @staticmethod
    def _key(hex_str: str) -> bytes:
        try:
            return bytes.fromhex(hex_str)
        except ValueError:  # not hex (ids from elsewhere): keep the text itself
            return hex_str.encode()

    @staticmethod
    def _text(key: bytes) -> str:
        return key.hex() if len(key) == 16 else key.decode()

    @classmethod
    def from_index(
        cls, root: DataRoot, name: str, exclude: Iterable[str] = ()
    ) -> ExactDeduplicator:
        """Load the hashes of every published version of a corpus (but ``exclude``)."""
        seen: dict[bytes, bytes] = {}
        excluded = set(exclude)
        published = set(root.versions(name))
        d = _index_dir(root, name)
        if root.fs.exists(d):
            for path in sorted(root.fs.ls(d, detail=False)):
                version = posixpath.basename(path).removesuffix(".parquet")
                if version in excluded or version not in published:
                    continue  # an unpublished (crashed) run's index does not count
                with root.fs.open(path, "rb") as f:
                    for b in pq.ParquetFile(f).iter_batches(columns=["content_hash", "id"]):
                        for h, i in zip(
                            b.column(0).to_pylist(), b.column(1).to_pylist(), strict=True
                        ):
                            seen.setdefault(cls._key(h), cls._key(i))
        return cls(seen)

    @property
    def n_prior(self) -> int:
        return self._prior

    def check(self, doc_id: str, content_hash: str) -> str | None:
        """None if this is the first copy (it is kept), else the id of the kept copy."""
        h = self._key(content_hash)
        first = self._first.get(h)
        if first is None:
            self._first[h] = self._key(doc_id)
            return None
        self._extra[first] = self._extra.get(first, 0) + 1
        return self._text(first)

    def cluster_size(self, doc_id: str) -> int:
        """How many copies (itself included) a kept document stands for in this run."""
        return 1 + self._extra.get(self._key(doc_id), 0)


class IndexWriter:
    """Streams a version's (content_hash, id) rows to the dedup index, before its manifest."""

    def __init__(self, root: DataRoot, name: str, version: str):
        path = posixpath.join(_index_dir(root, name), f"{version}.parquet")
        self._writer = ShardWriter(root.fs, path, INDEX_SCHEMA)

    def add(self, hashes: pa.Array, ids: pa.Array) -> None:
        self._writer.write(pa.table({"content_hash": hashes, "id": ids}, schema=INDEX_SCHEMA))

    def close(self) -> None:
        self._writer.close()
