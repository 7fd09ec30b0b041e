"""Inputs as URLs: ``http(s)://`` and ``s3://`` (any fsspec URL) read in place, with retries.

A remote file is streamed through fsspec (ranged reads of ``block_bytes``; never a full local
copy) by a :class:`RetryingReader`: a read that fails with a transient error (HTTP 408/425/429/
5xx, S3 ``SlowDown`` and friends, a connection reset, a truncated response, a timeout) closes the
connection, waits (exponential backoff with jitter, or the server's ``Retry-After``) and reopens
the file *at the byte it had reached*, so a retry never reads a record twice. When the retries
run out the reader raises :class:`RemoteReadError`; the readers turn that into one REJECTS row for
the part of the file that could not be read, and the run goes on.

Common Crawl path lists (``warc.paths.gz``, ``wet.paths.gz``, ...) name one file per line,
relative to a base URL (``https://data.commoncrawl.org/`` or ``s3://commoncrawl/``); each named
file becomes one partition.

Credentials are never read here: s3fs/botocore find them where they always look (environment,
``~/.aws/credentials`` and ``~/.aws/config``, instance roles), and URLs are shown with
:func:`redact_url` (no user info, no signed query strings) in every message and row.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import fsspec
from pydantic import BaseModel, Field

log = logging.getLogger("crossling.remote")

PATH_LIST_SUFFIXES = (".paths", ".paths.gz")
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
# Error codes and phrases of object stores that mean "try again" (S3, GCS, Azure, MinIO).
_RETRY_WORDS = (
    "SlowDown",
    "Throttl",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Reduce your request rate",
    "503",
    "500",
)
_SECRET_PARAMS = ("signature", "credential", "security-token", "token", "key", "sig", "secret")


class RemoteConfig(BaseModel):
    """Reading inputs given as URLs: retries, timeouts, and Common Crawl path lists."""

    retries: int = Field(
        8, ge=0, le=100, description="Attempts after the first for each read that fails."
    )
    backoff_s: float = Field(
        0.5, ge=0.0, description="First wait before a retry; doubles each time (with jitter)."
    )
    max_backoff_s: float = Field(
        30.0, ge=0.0, description="Longest wait between two attempts (also caps Retry-After)."
    )
    timeout_s: float = Field(
        60.0, gt=0.0, description="Connect and read timeout of one request (seconds)."
    )
    block_bytes: int = Field(
        8 << 20, ge=1 << 16, description="Bytes per ranged read (larger: fewer requests)."
    )
    paths_base: str | None = Field(
        None,
        description="Base URL of the files a path list (warc.paths.gz, wet.paths.gz) names, "
        "e.g. https://data.commoncrawl.org/ or s3://commoncrawl/. Default: the scheme and host "
        "(or bucket) of a remote path list; required for a local one.",
    )
    paths_limit: int | None = Field(
        None, ge=1, description="Read only the first this many files of each path list."
    )


class RemoteReadError(OSError):
    """A remote input could not be read, after the retries."""


def is_url(path: str) -> bool:
    """True for a URL fsspec reads remotely (``http(s)://``, ``s3://``, ...), not ``file://``."""
    scheme = urlsplit(path).scheme if "://" in path else ""
    return bool(scheme) and scheme not in ("file", "local")


def is_path_list(path: str) -> bool:
    """A Common Crawl style path list (``*.paths`` or ``*.paths.gz``)."""
    return urlsplit(path).path.lower().endswith(PATH_LIST_SUFFIXES)


def redact_url(url: str) -> str:
    """``url`` without user info or secret-looking query parameters (signed URLs): safe to log."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [
        (k, "REDACTED" if any(s in k.lower() for s in _SECRET_PARAMS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))


def url_fs(url: str, cfg: RemoteConfig | None = None) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem for ``url`` with this config's timeouts, and the path in it."""
    cfg = cfg or RemoteConfig()
    scheme = urlsplit(url).scheme.lower()
    kw: dict[str, Any] = {}
    if scheme in ("http", "https"):
        import aiohttp

        kw["client_kwargs"] = {
            "timeout": aiohttp.ClientTimeout(
                total=None, sock_connect=cfg.timeout_s, sock_read=cfg.timeout_s
            )
        }
    elif scheme in ("s3", "s3a"):
        kw["config_kwargs"] = {"connect_timeout": cfg.timeout_s, "read_timeout": cfg.timeout_s}
    return fsspec.core.url_to_fs(url, **kw)


def retryable(exc: BaseException) -> bool:
    """Whether an error (or one it was raised from) is transient: worth another attempt."""
    import asyncio

    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        status = getattr(e, "status", None)
        if isinstance(status, int):
            return status in _RETRY_STATUS
        if isinstance(e, PermissionError):
            return False
        if isinstance(e, TimeoutError | asyncio.TimeoutError | ConnectionError | EOFError):
            return True
        name = type(e).__name__
        if name in (
            "ClientPayloadError",
            "ServerDisconnectedError",
            "ClientConnectionError",
            "ClientConnectorError",
            "ClientOSError",
            "ServerTimeoutError",
            "FSTimeoutError",
            "ContentLengthError",
            "TransferEncodingError",
            "IncompleteRead",
            "ReadTimeoutError",
            "ConnectTimeoutError",
            "EndpointConnectionError",
        ):
            return True
        if any(w in str(e) for w in _RETRY_WORDS) and not isinstance(e, FileNotFoundError):
            return True
        e = e.__cause__ or e.__context__
    return False


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (``Retry-After``: seconds or an HTTP date), if any."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        headers = getattr(e, "headers", None)
        value = headers.get("Retry-After") if headers else None
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                try:
                    return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
                except (TypeError, ValueError):
                    return None
        e = e.__cause__ or e.__context__
    return None


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[:300]


class Retrier:
    """Waits between attempts: exponential backoff with jitter, or the server's Retry-After."""

    def __init__(self, cfg: RemoteConfig, what: str):
        self.cfg, self.what, self.attempt, self.total = cfg, what, 0, 0

    def failed(self, exc: BaseException) -> None:
        """Record a failure; sleep before the next attempt, or raise RemoteReadError."""
        if not retryable(exc) or self.attempt >= self.cfg.retries:
            tries = f"after {self.attempt + 1} attempts" if retryable(exc) else "not retryable"
            raise RemoteReadError(f"{self.what}: {_describe(exc)} ({tries})") from exc
        asked = retry_after(exc)
        wait = self.cfg.backoff_s * (2**self.attempt) * (0.5 + random.random() / 2)
        if asked is not None:
            wait = max(wait, asked)
        wait = min(wait, self.cfg.max_backoff_s)
        self.attempt += 1
        self.total += 1
        log.warning(
            "%s: %s; retry %d of %d in %.2fs",
            self.what,
            _describe(exc),
            self.attempt,
            self.cfg.retries,
            wait,
        )
        time.sleep(wait)

    def succeeded(self) -> None:
        self.attempt = 0


def call(fn, cfg: RemoteConfig, what: str):
    """``fn()`` with retries on transient errors."""
    r = Retrier(cfg, what)
    while True:
        try:
            return fn()
        except Exception as e:
            r.failed(e)


class RetryingReader(io.RawIOBase):
    """A seekable, read-only stream of a remote file that survives transient failures.

    Each failed read reopens the file at the current offset (a ranged request), after a wait;
    bytes already returned are never returned again.
    """

    def __init__(self, url: str, cfg: RemoteConfig | None = None):
        super().__init__()
        self.url, self.cfg = url, cfg or RemoteConfig()
        self.fs, self.path = url_fs(url, self.cfg)
        self.pos = 0
        self._f = None
        self._size: int | None = None
        self._http = urlsplit(url).scheme.lower() in ("http", "https")  # reopen without a HEAD
        self.retrier = Retrier(self.cfg, redact_url(url))
        self._open()

    @property
    def retries(self) -> int:
        """How many retries reading this file took so far."""
        return self.retrier.total

    def _open(self) -> None:
        while True:
            try:
                kw = {"size": self._size} if self._size is not None and self._http else {}
                # No cache below: the buffered reader above asks for block_bytes at a time,
                # one ranged request each.
                f = self.fs.open(
                    self.path, "rb", block_size=self.cfg.block_bytes, cache_type="none", **kw
                )
                if self.pos:
                    try:
                        f.seek(self.pos)
                    except (ValueError, OSError):  # a stream without ranges: skip forward
                        left = self.pos
                        while left > 0:
                            chunk = f.read(min(left, 1 << 20))
                            if not chunk:
                                break
                            left -= len(chunk)
                self._f = f
                self._size = getattr(f, "size", None)
                return
            except Exception as e:
                self._drop()
                self.retrier.failed(e)

    def _drop(self) -> None:
        f, self._f = self._f, None
        if f is not None:
            try:
                f.close()
            except Exception:  # a broken connection may fail to close: it is dropped anyway
                pass

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self.pos + offset
        else:
            if self._size is None:
                self._size = call(lambda: self.fs.size(self.path), self.cfg, redact_url(self.url))
            pos = self._size + offset
        pos = max(0, pos)
        if pos != self.pos:
            self.pos = pos
            if self._f is not None:
                try:
                    self._f.seek(pos)
                except Exception:  # reopened at the new offset by the next read
                    self._drop()
        return self.pos

    def readinto(self, b) -> int:
        n = len(b)
        if n == 0:
            return 0
        while True:
            try:
                if self._f is None:
                    self._open()
                data = self._f.read(n)
                self.retrier.succeeded()
                break
            except RemoteReadError:
                raise
            except Exception as e:
                self._drop()
                self.retrier.failed(e)
        k = len(data)
        b[:k] = data
        self.pos += k
        return k

    def close(self) -> None:
        self._drop()
        super().close()


def open_input(path: str, cfg: RemoteConfig | None = None) -> io.IOBase:
    """A binary stream of a local path or a URL (URLs: a :class:`RetryingReader` buffered by
    ``block_bytes``: one ranged request per block)."""
    if not is_url(path):
        if path.startswith("file://"):
            path = path[len("file://") :]
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    cfg = cfg or RemoteConfig()
    return io.BufferedReader(RetryingReader(path, cfg), buffer_size=cfg.block_bytes)


def fingerprint(url: str, cfg: RemoteConfig | None = None) -> list[Any]:
    """``[url, size, etag or modification time]`` of a remote file: its identity for resume."""
    cfg = cfg or RemoteConfig()
    fs, p = url_fs(url, cfg)
    try:
        info = call(lambda: fs.info(p), cfg, redact_url(url))
    except (RemoteReadError, FileNotFoundError):
        return [url, -1, ""]  # unreadable now: the reader turns it into a REJECTS row
    tag = info.get("ETag") or info.get("etag") or info.get("LastModified") or info.get("mtime")
    return [url, int(info.get("size") or -1), str(tag or "")]


def default_base(list_url: str) -> str | None:
    """Where a remote path list's entries live: its scheme and host (HTTP) or bucket (S3)."""
    if not is_url(list_url):
        return None
    parts = urlsplit(list_url)
    return f"{parts.scheme}://{parts.netloc}/"


def read_path_list(list_path: str, cfg: RemoteConfig | None = None) -> tuple[list[str], str | None]:
    """The URLs a path list names (``base`` + each line) and an error message, if any."""
    cfg = cfg or RemoteConfig()
    base = cfg.paths_base or default_base(list_path)
    shown = redact_url(list_path)
    if not base:
        return [], f"{shown}: a local path list needs a base URL (paths_base / --paths-base)"
    try:
        with open_input(list_path, cfg) as raw:
            data = raw.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (RemoteReadError, OSError, EOFError, UnicodeDecodeError) as e:
        return [], f"{shown}: cannot read the path list: {_describe(e)}"
    urls = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        urls.append(line if "://" in line else base.rstrip("/") + "/" + line.lstrip("/"))
        if cfg.paths_limit and len(urls) >= cfg.paths_limit:
            break
    if not urls:
        return [], f"{shown}: the path list names no files"
    return urls, None


def expand_remote(src: str, cfg: RemoteConfig | None = None) -> list[str]:
    """The files a remote source names: itself, or (object stores) the files under a prefix or
    matching a glob. Raises FileNotFoundError when it names nothing."""
    cfg = cfg or RemoteConfig()
    fs, p = url_fs(src, cfg)
    scheme = urlsplit(src).scheme
    shown = redact_url(src)
    if scheme in ("http", "https"):
        return [src]  # HTTP has no listing: a URL is one file
    if any(c in p for c in "*?["):
        found = call(lambda: fs.glob(p), cfg, shown)
        files = [f for f in found if call(lambda f=f: fs.isfile(f), cfg, shown)]
    elif call(lambda: fs.isdir(p), cfg, shown):
        files = call(lambda: fs.find(p), cfg, shown)
    elif call(lambda: fs.exists(p), cfg, shown):
        files = [p]
    else:
        files = []
    files = [f for f in sorted(files) if not os.path.basename(f).startswith(".")]
    if not files:
        raise FileNotFoundError(f"{shown}: no such file or prefix")
    return [fs.unstrip_protocol(f) for f in files]
