"""The data-root layout, atomic writes and manifests.

A data root is a local directory or any fsspec URL::

    <root>/corpora/<name>/<version>/docs/lang=<code>/part-00000.parquet
                                   /pairs/part-00000.parquet
                                   /rejects/part-00000.parquet
                                   /manifest.json        written last; its existence = complete
    <root>/corpora/<name>/dedup-index/
    <root>/tokenizers/<name>/<version>/
    <root>/models/<name>/<version>/checkpoint-<step>/
    <root>/eval/<model>/<version>/<step>/results.json

Every file is written under a temporary name and renamed into place on a filesystem (local
disk, NFS). An object store (S3 and S3-compatible stores, GCS, Azure) has no atomic rename, and
does not need one: an object becomes visible under its name only when its upload completes (one
PUT, or the completion of a multipart upload), whole or not at all. There each file is written
under its final name and an upload that fails is abandoned (a multipart upload aborted), never
completed; the manifest, written last, is the single commit point, and readers list versions by
their manifest and read only the files it names (a folder without a manifest is ignored, and a
rerun resumes or rewrites it). Directory listings are not cached for object stores (another
process, a Dask worker, may have just written the object looked for).

Credentials are never part of a data root's URL or of anything written under it: s3fs/botocore
read them from the environment (``AWS_ACCESS_KEY_ID``...), ``~/.aws/credentials`` and
``~/.aws/config`` (profiles, ``AWS_PROFILE``), or an instance role; the endpoint of an
S3-compatible store comes from ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

MANIFEST = "manifest.json"
# Object stores: objects appear whole when their upload completes, and nothing renames.
_OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"}
# Listings cached by one process go stale when another writes (tags, markers, Dask workers).
for _proto in ("s3", "gcs", "abfs"):
    fsspec.config.conf.setdefault(_proto, {}).setdefault("use_listings_cache", False)


def writes_in_place(fs: fsspec.AbstractFileSystem) -> bool:
    """True for an object store: files are written under their final name (see the module doc)."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    return any(p in _OBJECT_STORES for p in protocols)


def abandon(f: Any) -> None:
    """Give up a file being written to an object store: its upload is never completed."""
    raw = f if hasattr(f, "discard") else getattr(f, "buffer", None)
    if raw is not None and hasattr(raw, "discard"):
        with contextlib.suppress(Exception):
            raw.discard()
        raw.closed = True  # closing no longer uploads anything
    with contextlib.suppress(Exception):
        f.close()


_VERSION_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


def config_hash(obj: Any) -> str:
    """Short stable hash of a JSON-able object (a resolved config plus the input list)."""
    blob = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:8]


def new_version(cfg_hash: str, now: datetime | None = None) -> str:
    """A sortable UTC timestamp plus the short hash of the resolved config."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{cfg_hash}"


def is_version(name: str) -> bool:
    return bool(_VERSION_RE.match(name))


@dataclass(frozen=True)
class DataRoot:
    """A data root (a local path or an fsspec URL) and the layout under it."""

    url: str

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        fs, _ = fsspec.core.url_to_fs(self.url)
        return fs

    @property
    def path(self) -> str:
        _, path = fsspec.core.url_to_fs(self.url)
        return path

    def join(self, *parts: str) -> str:
        return posixpath.join(self.path, *parts)

    def uri(self, path: str) -> str:
        """A path under this root as a URI a person or another tool can open."""
        if isinstance(self.fs, LocalFileSystem):
            return "file://" + os.path.abspath(path)
        return self.fs.unstrip_protocol(path)

    # --- corpora ---------------------------------------------------------------------------------

    def corpus_dir(self, name: str) -> str:
        return self.join("corpora", name)

    def version_dir(self, name: str, version: str) -> str:
        return self.join("corpora", name, version)

    def dedup_index_dir(self, name: str) -> str:
        return self.join("corpora", name, "dedup-index")

    def versions(self, name: str, *, complete: bool = True) -> list[str]:
        """Versions of a corpus, oldest first; only those with a manifest unless ``complete=False``."""
        base = self.corpus_dir(name)
        if not self.fs.exists(base):
            return []
        out = []
        for entry in self.fs.ls(base, detail=False):
            v = posixpath.basename(entry.rstrip("/"))
            if not is_version(v):
                continue
            if complete and not self.fs.exists(posixpath.join(entry, MANIFEST)):
                continue
            out.append(v)
        return sorted(out)

    def latest_version(self, name: str) -> str | None:
        versions = self.versions(name)
        return versions[-1] if versions else None

    def read_manifest(self, name: str, version: str) -> dict[str, Any]:
        path = posixpath.join(self.version_dir(name, version), MANIFEST)
        with self.fs.open(path, "r", encoding="utf-8") as f:
            return json.load(f)

    def corpora(self) -> list[str]:
        base = self.join("corpora")
        if not self.fs.exists(base):
            return []
        return sorted(posixpath.basename(p.rstrip("/")) for p in self.fs.ls(base, detail=False))

    # --- models, tokenizers, eval ------------------------------------------------------------

    def tokenizer_dir(self, name: str, version: str) -> str:
        return self.join("tokenizers", name, version)

    def model_dir(self, name: str, version: str) -> str:
        return self.join("models", name, version)

    def eval_dir(self, model: str, version: str, step: int | str) -> str:
        return self.join("eval", model, version, str(step))


# --- atomic writes -----------------------------------------------------------------------------


def _tmp_name(path: str) -> str:
    d, b = posixpath.split(path)
    return posixpath.join(d, f".{b}.tmp-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_open(
    fs: fsspec.AbstractFileSystem, path: str, mode: str = "wb", **kw: Any
) -> Iterator[IO]:
    """Open ``path`` for writing under a temporary name; rename into place on success only.

    On an object store the file is written under its final name and its upload completed on
    success only (the object is visible whole or not at all).
    """
    if writes_in_place(fs):
        f = fs.open(path, mode, **kw)
        try:
            yield f
        except BaseException:
            abandon(f)
            raise
        f.close()
        return
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    tmp = _tmp_name(path)
    try:
        with fs.open(tmp, mode, **kw) as f:
            yield f
        if isinstance(fs, LocalFileSystem):
            os.replace(tmp, path)  # atomic on POSIX, overwrites
        else:
            fs.mv(tmp, path)
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm(tmp)
        raise


def write_json(fs: fsspec.AbstractFileSystem, path: str, obj: Any) -> None:
    with atomic_open(fs, path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def read_json(fs: fsspec.AbstractFileSystem, path: str) -> Any:
    if writes_in_place(fs):  # one GET (an open is a HEAD and a GET)
        return json.loads(fs.cat_file(path))
    with fs.open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def file_sha256(fs: fsspec.AbstractFileSystem, path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with fs.open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def clean_tmp(fs: fsspec.AbstractFileSystem, root: str) -> int:
    """Remove leftovers of interrupted atomic writes (``.name.tmp-xxxx``) under ``root``."""
    if writes_in_place(fs):  # nothing is ever written under a temporary name there
        return 0
    if not fs.exists(root):
        return 0
    n = 0
    for path in fs.find(root):
        if ".tmp-" in posixpath.basename(path):
            fs.rm(path)
            n += 1
    return n


COMMIT_MARKERS = ("metadata.json", MANIFEST, "done.json", "results.json")


def upload_tree(local_dir: str, url: str, markers: tuple[str, ...] = COMMIT_MARKERS) -> int:
    """Copy a local folder (a training run, a tokenizer) to ``url`` on any filesystem, the files
    that mark a folder complete (``metadata.json``, ``manifest.json``...) last and deepest first,
    so that a reader never finds a marker before the files it vouches for. Dot-files and
    dot-folders (unfinished writes) are left out. Returns the number of files copied."""
    fs, base = fsspec.core.url_to_fs(url)
    files = []
    for d, dirs, names in os.walk(local_dir):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        rel = os.path.relpath(d, local_dir)
        files += [os.path.normpath(os.path.join(rel, n)) for n in sorted(names) if n[0] != "."]
    files.sort(key=lambda p: (os.path.basename(p) in markers, -p.count(os.sep), p))
    for rel in files:
        target = posixpath.join(base, *rel.split(os.sep))
        with open(os.path.join(local_dir, rel), "rb") as src, atomic_open(fs, target) as f:
            while block := src.read(8 << 20):
                f.write(block)
    return len(files)
