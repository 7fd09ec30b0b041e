"""WARC/1.1 files of a crawl (warcio): request + response records, gzip, rotated by size.

A crawl writes two series under ``<root>/crawls/<name>/warc/``:

- ``<run>-pages-<NNNNN>.warc.gz``: the 2xx responses whose bodies were accepted (a content type
  of the allow-list, within the byte cap). Each becomes exactly one DOCS or REJECTS row when the
  corpus flow reads the file.
- ``<run>-other-<NNNNN>.warc.gz``: every other exchange (robots.txt, sitemaps, redirects, error
  statuses, ``revisit`` records for 304 Not Modified). The crawl's REJECTS file accounts for them.

Bodies are stored as they came over the wire (``Content-Encoding`` kept, chunking removed), so any
crawl can be processed again later. A file is written as ``.warc.gz.open`` and renamed when
closed; after a crash, :func:`recover` cuts an ``.open`` file at its last complete record and
returns the records it holds, so the crawl can account for them.
"""

from __future__ import annotations

import glob
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crossling import __version__

SOFTWARE = f"crossling-crawl/{__version__}"
OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
PAGES, OTHER = "pages", "other"


@dataclass(slots=True)
class Exchange:
    """One HTTP exchange to archive."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes  # as received (still content-encoded)
    ip: str | None = None
    date: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(slots=True)
class Archived:
    """Where a response record landed."""

    path: str  # the final file name (without .open)
    offset: int
    record_id: str


@dataclass(slots=True)
class Recovered:
    """A response (or revisit) record found in a file left open by a crash."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # content-decoded payload
    archived: Archived
    kind: str


def _warc_date(d: datetime) -> str:
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WarcSeries:
    """Rotating ``<run>-<kind>-<NNNNN>.warc.gz`` files; one open file at a time."""

    def __init__(
        self, directory: str, run: str, kind: str, *, max_bytes: int, info: dict[str, str]
    ) -> None:
        self.directory, self.run, self.kind = directory, run, kind
        self.max_bytes = max_bytes
        self.info = info
        self._fh: io.BufferedWriter | None = None
        self._writer: WARCWriter | None = None
        self._path = ""
        os.makedirs(directory, exist_ok=True)

    def _next_path(self) -> str:
        pattern = os.path.join(self.directory, f"{self.run}-{self.kind}-*{WARC_SUFFIX}*")
        n = len(glob.glob(pattern))
        return os.path.join(self.directory, f"{self.run}-{self.kind}-{n:05d}{WARC_SUFFIX}")

    def _open(self) -> WARCWriter:
        if self._writer is not None and self._fh is not None:
            if self._fh.tell() < self.max_bytes:
                return self._writer
            self.close()
        self._path = self._next_path()
        self._fh = open(self._path + OPEN_SUFFIX, "wb")  # noqa: SIM115 - closed in close()
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        info = self._writer.create_warcinfo_record(os.path.basename(self._path), self.info)
        self._writer.write_record(info)
        return self._writer

    def write(self, ex: Exchange, *, revisit_of: dict[str, str] | None = None) -> Archived:
        """Archive the response (or a 304 as a ``revisit``) and its request; flushed to the OS."""
        w = self._open()
        assert self._fh is not None
        date = _warc_date(ex.date)
        path_q = ex.url.split("/", 3)[3] if ex.url.count("/") >= 3 else ""
        req_http = StatusAndHeaders(
            f"{ex.method} /{path_q} HTTP/1.1", ex.request_headers, is_http_request=True
        )
        headers = [(k, v) for k, v in ex.response_headers if k.lower() != "transfer-encoding"]
        resp_http = StatusAndHeaders(f"{ex.status} {ex.reason}".strip(), headers, "HTTP/1.1")
        warc_headers = {"WARC-Date": date}
        if ex.ip:
            warc_headers["WARC-IP-Address"] = ex.ip
        if revisit_of is not None:
            resp = w.create_warc_record(
                ex.url, "revisit", http_headers=resp_http, warc_headers_dict=warc_headers
            )
            resp.rec_headers.add_header(
                "WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
            )
            resp.rec_headers.add_header("WARC-Refers-To-Target-URI", ex.url)
            if revisit_of.get("date"):
                resp.rec_headers.add_header("WARC-Refers-To-Date", revisit_of["date"])
        else:
            resp = w.create_warc_record(
                ex.url,
                "response",
                payload=io.BytesIO(ex.body),
                length=len(ex.body),
                http_headers=resp_http,
                warc_headers_dict=warc_headers,
            )
        req = w.create_warc_record(
            ex.url, "request", http_headers=req_http, warc_headers_dict={"WARC-Date": date}
        )
        offset = self._fh.tell()
        w.write_request_response_pair(req, resp)  # response first; each record flushed
        return Archived(self._path, offset, resp.rec_headers.get_header("WARC-Record-ID"))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            os.replace(self._path + OPEN_SUFFIX, self._path)
        self._fh, self._writer = None, None


def warcinfo(name: str, run: str, user_agent: str, robots: bool) -> dict[str, str]:
    """The warcinfo fields of a crawl's files (``software`` marks them as crossling's)."""
    return {
        "software": SOFTWARE,
        "format": "WARC File Format 1.1",
        "conformsTo": "http://iipc.github.io/warc-specifications/specifications/warc-format/"
        "warc-1.1/",
        "isPartOf": f"{name}/{run}",
        "robots": "obey" if robots else "ignore",
        "http-header-user-agent": user_agent,
    }


def recover(directory: str, run: str) -> Iterator[Recovered]:
    """Close the files a killed crawl left open: cut each at its last complete record, rename it,
    and yield the response/revisit records it holds (to account for requests already answered)."""
    from warcio.archiveiterator import ArchiveIterator

    for open_path in sorted(glob.glob(os.path.join(directory, f"{run}-*{OPEN_SUFFIX}"))):
        final = open_path[: -len(OPEN_SUFFIX)]
        kind = PAGES if f"-{PAGES}-" in os.path.basename(final) else OTHER
        found: list[Recovered] = []
        good_end = 0
        with open(open_path, "rb") as fh:
            it = ArchiveIterator(fh, check_digests=False)
            try:
                for record in it:
                    offset = it.get_record_offset()
                    if record.rec_type in ("response", "revisit") and record.http_headers:
                        body = record.content_stream().read()
                        found.append(
                            Recovered(
                                url=record.rec_headers.get_header("WARC-Target-URI"),
                                status=int(record.http_headers.get_statuscode() or 0),
                                headers=list(record.http_headers.headers),
                                body=body,
                                archived=Archived(
                                    final, offset, record.rec_headers.get_header("WARC-Record-ID")
                                ),
                                kind=kind,
                            )
                        )
                    else:
                        record.content_stream().read()
                    good_end = offset + it.get_record_length()
            except Exception:  # the record being written when the crawl was killed
                pass
        with open(open_path, "r+b") as fh:
            fh.truncate(good_end)
        os.replace(open_path, final)
        yield from found
