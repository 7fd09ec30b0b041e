"""Documents from WARC / WARC.gz files (warcio): response records, HTML to main text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

from crossling.documents import Document, Reason, Reject, Stage, make_id
from crossling.sources.extract import (
    DecodeError,
    charset_from_content_type,
    charset_from_meta,
    decode_bytes,
    extract_main_text,
    looks_binary,
)

_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


def _fetched_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def read_warc(path: str, *, max_doc_bytes: int, fs=None) -> Iterator[Document | Reject]:
    """Yield one Document (or Reject) per ``response`` record of a WARC file.

    A record that cannot be parsed (truncated gzip, broken headers) ends the file with one
    ``read_error`` Reject naming the offset; everything read before it is kept.
    """
    from warcio.archiveiterator import ArchiveIterator

    name = os.path.basename(path)
    source = f"warc:{name}"
    opener = fs.open if fs is not None else open
    n = 0
    offset = 0
    with opener(path, "rb") as stream:
        it = ArchiveIterator(stream, arc2warc=True, check_digests=True)
        while True:
            try:
                record = next(it)
            except StopIteration:
                return
            except Exception as e:  # warcio raises several types for broken input
                key = f"{name}@{offset}:broken"
                yield Reject(
                    id=make_id(source, key),
                    source=source,
                    stage=str(Stage.READ),
                    reason=str(Reason.READ_ERROR),
                    detail=f"{path}: unreadable WARC data after {n} response records "
                    f"(offset {offset}): {type(e).__name__}: {e}"[:1000],
                )
                return
            if record.rec_type != "response":
                continue
            n += 1
            url = record.rec_headers.get_header("WARC-Target-URI")
            rec_id = record.rec_headers.get_header("WARC-Record-ID") or f"{name}#{n}"
            key = rec_id  # WARC-Record-ID: unique and stable (a URL may be fetched twice)
            doc_id = make_id(source, key)
            fetched = _fetched_at(record.rec_headers.get_header("WARC-Date"))
            try:
                yield _response_to_doc(record, doc_id, source, url, fetched, max_doc_bytes)
                # Only valid once the record has been read (asking earlier consumes its body).
                offset = it.get_record_offset()
            except Exception as e:  # a record whose body cannot be read (truncated mid-record)
                yield Reject(
                    id=doc_id,
                    source=source,
                    url=url,
                    stage=str(Stage.READ),
                    reason=str(Reason.READ_ERROR),
                    detail=f"{path}: record at offset {offset}: {type(e).__name__}: {e}"[:1000],
                )
                return


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
