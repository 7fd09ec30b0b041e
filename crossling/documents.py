"""The record types of crossling: Document, the DOCS / PAIRS / REJECTS Arrow schemas, reject reasons.

Every stage adds fields to a :class:`Document`; nothing keeps side dictionaries keyed by id. Anything
that does not become a DOCS row becomes a REJECTS row with a reason from :class:`Reason`, so that
``inputs == DOCS rows + REJECTS rows`` holds per source (the conservation check of the manifest).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

import pyarrow as pa
import xxhash


class Reason(StrEnum):
    """Why a record did not become a DOCS row. Values are stable: they are written to REJECTS."""

    DECODE_ERROR = "decode_error"  # bytes that are not text in any charset we could detect
    READ_ERROR = "read_error"  # the input (or a record of it) could not be parsed at all
    BINARY = "binary"  # the payload looks like binary data (NUL bytes, non-text content type)
    HTTP_ERROR = "http_error"  # a WARC/crawl response with a non-2xx status
    ROBOTS = "robots"  # disallowed by robots.txt (crawler)
    NOT_HTML = "not_html"  # a WARC response whose content type we do not extract text from
    EXTRACT_EMPTY = "extract_empty"  # HTML from which no main text could be extracted
    TOO_LONG = "too_long"  # a single record larger than the configured maximum
    EMPTY = "empty"  # no text left after normalization
    TOO_SHORT = "too_short"  # fewer characters / words than the minimum for its script
    REPETITION = "repetition"  # too many duplicate lines / paragraphs / top n-grams
    SYMBOL_RATIO = "symbol_ratio"  # too many symbols (#, ..., bullets) per word
    ALPHA_RATIO = "alpha_ratio"  # too few words / characters that contain letters
    BAD_LINES = "bad_lines"  # too many lines that look like boilerplate (C4-style)
    MOJIBAKE = "mojibake"  # text that was decoded with the wrong charset upstream
    LANG_SCORE_LOW = "lang_score_low"  # fastText's best score below the threshold
    LANG_NOT_WANTED = "lang_not_wanted"  # a language outside the requested set
    EXACT_DUPLICATE = (
        "exact_duplicate"  # same content_hash as an earlier document (this or a past version)
    )
    NEAR_DUPLICATE = "near_duplicate"  # MinHash near-duplicate of an earlier document
    LANG_MISMATCH = "lang_mismatch"  # a side of a parallel pair is not in its declared language
    URL_BLOCKED = "url_blocked"  # from a blocked domain or URL (config `urls`)
    BAD_WORDS = "bad_words"  # too many words of the language's bad-word list (blocklists)
    QUALITY_SCORE_LOW = "quality_score_low"  # the quality classifier's score below threshold
    INVALID_FIELD = "invalid_field"  # a record field of the wrong type or value (e.g. a language)
    # Crawl stage (crossling/sources/crawl.py): a discovered URL that did not give a page.
    TIMEOUT = "timeout"  # connect/read/total timeout, after the retries
    CONNECT_ERROR = "connect_error"  # DNS failure, connection refused or reset, after the retries
    REDIRECT = "redirect"  # a 3xx response; its target is a URL (and a row) of its own
    REDIRECT_LOOP = "redirect_loop"  # redirects back to a URL of its own redirect chain
    REDIRECT_LIMIT = "redirect_limit"  # more redirects in a row than the configured limit
    TOO_LARGE = "too_large"  # body (or its decompressed form) over the byte cap
    NOT_TEXT = "not_text"  # a content type outside the allow-list
    BLOCKED_ADDRESS = "blocked_address"  # resolves to a private/loopback/... address not allowed
    OUT_OF_SCOPE = "out_of_scope"  # host or prefix outside the crawl's scope
    UNSUPPORTED_SCHEME = "unsupported_scheme"  # not http or https (file:, ftp:, mailto:, ...)
    BAD_URL = "bad_url"  # a link that is not a usable URL
    TOO_DEEP = "too_deep"  # more links away from a seed than the maximum depth
    NOT_MODIFIED = "not_modified"  # 304 to a conditional request: unchanged since the last crawl
    DEFERRED = "deferred"  # left in the frontier when a cap stopped the crawl; the next crawl
    INTERRUPTED = "interrupted"  # in flight when the crawl was killed; never requested twice
    SITEMAP = "sitemap"  # a sitemap: its URLs joined the frontier
    # Alignment of translated pages (crossling/sources/align.py).
    ALIGN_SCORE_LOW = "align_score_low"  # a sentence pair whose length-based score is too low
    ALIGN_UNMATCHED = "align_unmatched"  # a sentence with no counterpart in the translation


class Stage(StrEnum):
    """The step a REJECTS row came from."""

    READ = "read"
    EXTRACT = "extract"
    NORMALIZE = "normalize"
    LANGID = "langid"
    QUALITY = "quality"
    DEDUP = "dedup"
    SPLIT = "split"
    PAIRS = "pairs"
    CRAWL = "crawl"  # the crawler (fetch, robots, scope, safety)
    ALIGN = "align"  # sentence alignment of pages that are translations of each other


# --- Arrow schemas -------------------------------------------------------------------------------

DOCS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),  # xxh3-128 hex of source + record key
        pa.field("text", pa.string(), nullable=False),  # normalized UTF-8 (NFC, folded whitespace)
        pa.field("lang", pa.string(), nullable=False),  # ISO 639-1 where one exists, else 639-3
        pa.field("script", pa.string(), nullable=False),  # ISO 15924: Latn, Cyrl, Hans, Jpan, ...
        pa.field("lang_score", pa.float32(), nullable=False),  # fastText probability of `lang`
        pa.field("url", pa.string()),
        pa.field(
            "source", pa.string(), nullable=False
        ),  # crawl:host, warc:name, file:name, hf:name
        pa.field("fetched_at", pa.timestamp("us", tz="UTC")),
        pa.field("content_hash", pa.string(), nullable=False),  # xxh3-128 hex of `text`
        pa.field("n_chars", pa.int32(), nullable=False),
        pa.field("dup_cluster_size", pa.int32(), nullable=False),  # docs this one stands for (>=1)
        pa.field("split", pa.string(), nullable=False),  # train | heldout, from `id`
        # Line-mode LID only (null in document mode): the second language and its character share.
        pa.field("lang_mixed", pa.bool_()),
        pa.field("lang2", pa.string()),
        pa.field("lang2_share", pa.float32()),
    ]
)

PAIRS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("src_lang", pa.string(), nullable=False),
        pa.field("tgt_lang", pa.string(), nullable=False),
        pa.field("src_text", pa.string(), nullable=False),
        pa.field("tgt_text", pa.string(), nullable=False),
        pa.field("origin_id", pa.string()),  # DOCS id of the real side
        pa.field(
            "source", pa.string()
        ),  # where the pair came from: file:name, crawl:host, bt:model
        pa.field("synthetic", pa.bool_(), nullable=False),
        pa.field(
            "method", pa.string(), nullable=False
        ),  # parallel | bt-beam | bt-sample | bt-tagged
        pa.field("model", pa.string()),  # translation model id + hash (synthetic rows)
        pa.field("score", pa.float32()),  # filter score
        pa.field("split", pa.string(), nullable=False),
    ]
)

REJECTS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("duplicate_of", pa.string()),
        pa.field("text_prefix", pa.string()),  # first 500 characters (of the raw text when any)
        pa.field("lang", pa.string()),  # when known at the time of the drop
    ]
)

TEXT_PREFIX_CHARS = 500


# --- ids and hashes ------------------------------------------------------------------------------


def make_id(source: str, key: str) -> str:
    """Stable document id: xxh3-128 hex of ``source`` and the record key (URL, or file + offset)."""
    return xxhash.xxh3_128_hexdigest(f"{source}\x1f{key}".encode("utf-8", "surrogatepass"))


def content_hash(text: str) -> str:
    """Exact-duplicate key of a normalized text."""
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8", "surrogatepass"))


def split_of(doc_id: str, heldout_fraction: float) -> str:
    """Deterministic split from the id: the same document is always on the same side."""
    digest = hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    bucket = int(digest, 16) % 1_000_000
    return "heldout" if bucket < heldout_fraction * 1_000_000 else "train"


# --- the one record type ---------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Document:
    """One document flowing through the steps. Stages fill the fields they own."""

    id: str
    text: str
    source: str
    url: str | None = None
    fetched_at: datetime | None = None
    lang: str | None = None  # ISO 639-1 where one exists, else 639-3
    script: str | None = None  # ISO 15924
    lang_score: float = 0.0
    lang_mixed: bool | None = None
    lang2: str | None = None
    lang2_share: float | None = None
    content_hash: str | None = None
    dup_cluster_size: int = 1
    split: str | None = None
    # Measurements of the steps, written as typed columns of the tagged work files (the steps
    # declare them); read back by the decide pass. Never written to DOCS.
    signals: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Hints from the input (such as a declared language); not stored.
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "lang": self.lang or "und",
            "script": self.script or "Zyyy",
            "lang_score": float(self.lang_score),
            "url": self.url,
            "source": self.source,
            "fetched_at": self.fetched_at,
            "content_hash": self.content_hash or content_hash(self.text),
            "n_chars": len(self.text),
            "dup_cluster_size": self.dup_cluster_size,
            "split": self.split or "train",
            "lang_mixed": self.lang_mixed,
            "lang2": self.lang2,
            "lang2_share": self.lang2_share,
        }


@dataclasses.dataclass(slots=True)
class Reject:
    """A record that did not become a DOCS row, and why."""

    id: str
    source: str
    stage: str
    reason: str
    detail: str = ""
    url: str | None = None
    duplicate_of: str | None = None
    text_prefix: str | None = None
    lang: str | None = None

    @classmethod
    def of(
        cls, doc: Document, stage: Stage | str, reason: Reason | str, detail: str = "", **kw: Any
    ) -> Reject:
        return cls(
            id=doc.id,
            source=doc.source,
            url=doc.url,
            stage=str(stage),
            reason=str(reason),
            detail=detail,
            text_prefix=doc.text[:TEXT_PREFIX_CHARS] if doc.text else None,
            lang=doc.lang,
            **kw,
        )

    def to_row(self) -> dict[str, Any]:
        row = dataclasses.asdict(self)
        for k in ("detail", "text_prefix", "url", "lang", "source", "id"):
            if isinstance(row[k], str):  # lone surrogates from JSON cannot be stored as UTF-8
                row[k] = row[k].encode("utf-8", "replace").decode("utf-8")
        return row
