"""Documents from WARC / WARC.gz files (warcio): ``response`` records, HTML to main text, and
``conversion`` records (Common Crawl's WET files: text already extracted), read as they are.

A path may be a URL (``http(s)://``, ``s3://``): the file is streamed with retries
(crossling.sources.remote); if it stops answering for good, what was not read is one REJECTS row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from crossling.documents import Document, Reason, Reject, Stage, make_id
from crossling.sources.extract import (
    DecodeError,
    charset_from_content_type,
    charset_from_meta,
    decode_bytes,
    extract_main_text,
    looks_binary,
)
from crossling.sources.files import display_name
from crossling.sources.remote import RemoteConfig, RemoteReadError, is_url, open_input, redact_url

_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


def _fetched_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def read_warc(
    path: str, *, max_doc_bytes: int, fs=None, remote: RemoteConfig | None = None
) -> Iterator[Document | Reject]:
    """Yield one Document (or Reject) per ``response`` or ``conversion`` record of a WARC file.

    A record that cannot be parsed (corrupt gzip member, broken headers) becomes one
    ``read_error`` Reject naming its offset, and reading goes on at the next record boundary (the
    next gzip member of a .warc.gz, the next ``WARC/1.`` line of a plain WARC), so one bad record
    does not cost the rest of the file.
    """
    url = is_url(path)
    name = display_name(urlsplit(path).path if url else path)
    source = f"warc:{name}"
    shown = redact_url(path)
    state: dict = {"n": 0, "good": 0}
    try:
        stream = fs.open(path, "rb") if fs is not None else open_input(path, remote)
    except (RemoteReadError, FileNotFoundError) as e:
        yield _unreadable(source, name, 0, f"{shown}: cannot open: {e}")
        return
    with stream:
        try:
            yield from _read_stream(stream, path, shown, name, source, max_doc_bytes, state)
        except RemoteReadError as e:
            at = state["good"]
            yield _unreadable(
                source,
                name,
                at,
                f"{shown}: stopped answering after the record at byte {at} (records from "
                f"there on not read): {e}",
            )


def _unreadable(source: str, name: str, at: int, detail: str) -> Reject:
    return Reject(
        id=make_id(source, f"{name}@{at}:unreachable"),
        source=source,
        stage=str(Stage.READ),
        reason=str(Reason.READ_ERROR),
        detail=detail[:1000],
    )


def _read_stream(stream, path, shown, name, source, max_doc_bytes, state):
    """Records of an open stream, resynchronizing after a broken record."""
    gz = stream.read(2) == b"\x1f\x8b"
    start = 0
    while start is not None:
        stream.seek(start)
        last = yield from _read_segment(stream, start, path, source, max_doc_bytes, state)
        if last is None:
            return  # the segment ended cleanly
        last_good, error = last
        # The broken record starts where the last good one ended: the first boundary after
        # the last good record's start (or the segment's start if nothing in it was good).
        broken = start if last_good is None else _next_boundary(stream, last_good + 1, gz)
        broken = start if broken is None else broken
        resume = _next_boundary(stream, broken + 1, gz)
        where = f"bytes {broken}-{resume}" if resume is not None else f"from byte {broken} on"
        detail = f"{shown}: unreadable WARC record ({where}; reading goes on after it): {error}"
        yield Reject(
            id=make_id(source, f"{name}@{broken}:broken"),
            source=source,
            stage=str(Stage.READ),
            reason=str(Reason.READ_ERROR),
            detail=detail[:1000],
        )
        start = resume


def _read_segment(stream, start: int, path: str, source: str, max_doc_bytes: int, state: dict):
    """Read records from ``start``. Returns None at a clean end, else (start offset of the last
    good record or None, error) when a record cannot be read."""
    from warcio.archiveiterator import ArchiveIterator

    name = display_name(urlsplit(path).path if is_url(path) else path)
    # WET files hold text the crawler extracted; their gzip members carry a CRC that catches
    # corruption, and a cut member fails to decompress: the block digests (two base32 SHA-1s
    # per record, ~15% of reading) add nothing there.
    wet = name.lower().endswith((".wet", ".wet.gz"))
    it = ArchiveIterator(stream, arc2warc=True, check_digests=not wet)
    last_good = None
    while True:
        try:
            record = next(it)
        except StopIteration:
            return None
        except RemoteReadError:
            raise  # the file stopped answering: not a broken record
        except Exception as e:  # warcio raises several types for broken input
            return last_good, f"{type(e).__name__}: {e}"
        if record.rec_type == "warcinfo":
            state["crawl"] = _is_crossling_crawl(record)
        if record.rec_type not in ("response", "conversion"):
            last_good = start + it.get_record_offset()
            state["good"] = last_good
            continue
        state["n"] += 1
        url = record.rec_headers.get_header("WARC-Target-URI")
        if state.get("crawl") and url:
            source = f"crawl:{_netloc(url)}"  # crossling's own crawls: DOCS source per host
        rec_id = record.rec_headers.get_header("WARC-Record-ID") or f"{name}#{state['n']}"
        doc_id = make_id(source, rec_id)  # WARC-Record-ID: unique, stable (a URL may repeat)
        fetched = _fetched_at(record.rec_headers.get_header("WARC-Date"))
        convert = _conversion_to_doc if record.rec_type == "conversion" else _response_to_doc
        try:
            out = convert(record, doc_id, source, url, fetched, max_doc_bytes)
            # Only valid once the record has been read (asking earlier consumes its body).
            last_good = start + it.get_record_offset()
            state["good"] = last_good
        except RemoteReadError:
            raise
        except Exception as e:  # a body that cannot be read: this record is the broken one
            return last_good, f"{type(e).__name__}: {e}"
        yield out


def _is_crossling_crawl(record) -> bool:
    """A warcinfo record written by crossling's crawler (``software: crossling-crawl/...``)."""
    try:
        fields = record.content_stream().read(1 << 16).decode("utf-8", "replace")
    except Exception:
        return False
    return any(
        line.lower().startswith("software:") and "crossling-crawl/" in line
        for line in fields.splitlines()
    )


def _netloc(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc.lower() or "-"


def _next_boundary(stream, pos: int, gz: bool, chunk: int = 1 << 20) -> int | None:
    """Offset of the first record boundary at or after ``pos`` (None: none left)."""
    marker = b"\x1f\x8b\x08" if gz else b"\nWARC/1."
    stream.seek(pos)
    carry = b""
    base = pos
    while block := stream.read(chunk):
        data = carry + block
        i = data.find(marker)
        if i >= 0:
            return base - len(carry) + i + (0 if gz else 1)
        carry = data[-(len(marker) - 1) :]
        base += len(block)
    return None


def _conversion_to_doc(record, doc_id, source, url, fetched, max_doc_bytes) -> Document | Reject:
    """A WET ``conversion`` record: the page's text as the crawler extracted it (UTF-8)."""

    def reject(stage: Stage, reason: Reason, detail: str, prefix: str | None = None) -> Reject:
        return Reject(
            id=doc_id,
            source=source,
            url=url,
            stage=str(stage),
            reason=str(reason),
            detail=detail,
            text_prefix=prefix,
        )

    body = record.content_stream().read(max_doc_bytes + 1)
    if len(body) > max_doc_bytes:
        return reject(Stage.READ, Reason.TOO_LONG, f"text larger than {max_doc_bytes} bytes")
    declared = int(record.rec_headers.get_header("Content-Length") or -1)
    if record.digest_checker.passed is False or 0 <= len(body) < declared <= max_doc_bytes:
        problems = "; ".join(record.digest_checker.problems) or "block shorter than recorded"
        return reject(
            Stage.READ,
            Reason.READ_ERROR,
            f"{source}: truncated or corrupt record ({problems}); {len(body)} bytes read",
        )
    if looks_binary(body):
        return reject(Stage.READ, Reason.BINARY, "NUL bytes in a conversion record")
    try:
        text, _charset = decode_bytes(body, "utf-8")
    except DecodeError as e:
        return reject(Stage.EXTRACT, Reason.DECODE_ERROR, str(e))
    if not text.strip():
        return reject(Stage.EXTRACT, Reason.EXTRACT_EMPTY, "empty conversion record")
    doc = Document(id=doc_id, text=text, source=source, url=url, fetched_at=fetched)
    langs = record.rec_headers.get_header("WARC-Identified-Content-Language")
    if langs:
        doc.meta["cc_langs"] = langs  # Common Crawl's own guess (ISO 639-3, comma-separated)
    return doc


def _response_to_doc(record, doc_id, source, url, fetched, max_doc_bytes) -> Document | Reject:
    def reject(stage: Stage, reason: Reason, detail: str, prefix: str | None = None) -> Reject:
        return Reject(
            id=doc_id,
            source=source,
            url=url,
            stage=str(stage),
            reason=str(reason),
            detail=detail,
            text_prefix=prefix,
        )

    status = record.http_headers.get_statuscode() if record.http_headers else None
    if status and not status.startswith("2"):
        return reject(Stage.READ, Reason.HTTP_ERROR, f"HTTP {status}")
    content_type = (
        record.http_headers.get_header("Content-Type") if record.http_headers else None
    ) or ""
    mime = content_type.split(";")[0].strip().lower()
    body = record.content_stream().read(max_doc_bytes + 1)
    if len(body) > max_doc_bytes:
        return reject(Stage.READ, Reason.TOO_LONG, f"body larger than {max_doc_bytes} bytes")
    if record.rec_headers.get_header("WARC-Payload-Digest") and not record.digest_checker.passed:
        problems = "; ".join(record.digest_checker.problems) or "payload shorter than recorded"
        return reject(
            Stage.READ,
            Reason.READ_ERROR,
            f"{source}: truncated or corrupt record ({problems}); {len(body)} bytes read",
        )
    if mime and mime not in _TEXT_TYPES:
        return reject(Stage.READ, Reason.NOT_HTML, f"content type {mime!r}")
    if looks_binary(body):
        return reject(Stage.READ, Reason.BINARY, f"NUL bytes in body (content type {mime!r})")
    declared = charset_from_content_type(content_type) or charset_from_meta(body)
    try:
        html, _charset = decode_bytes(body, declared)
    except DecodeError as e:
        return reject(Stage.EXTRACT, Reason.DECODE_ERROR, str(e))
    if mime == "text/plain":
        text = html
    else:
        text = extract_main_text(html, url)
    if not text.strip():
        return reject(
            Stage.EXTRACT, Reason.EXTRACT_EMPTY, "no main text found in HTML", prefix=html[:500]
        )
    return Document(id=doc_id, text=text, source=source, url=url, fetched_at=fetched)
