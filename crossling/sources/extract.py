"""Bytes to text: charset detection and HTML main-text extraction (trafilatura)."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
# Browsers treat these labels as their supersets (WHATWG Encoding Standard).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
    "tis-620": "cp874",
}


class DecodeError(ValueError):
    """The bytes are not text in any charset we could find or detect."""


def _normalize_charset(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return _normalize_charset(m.group(1)) if m else None


def charset_from_meta(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:4096])
    return _normalize_charset(m.group(1).decode("ascii", "ignore")) if m else None


def looks_binary(data: bytes) -> bool:
    """NUL bytes in the first 8 KB mean binary data (text encodings we accept have none)."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM is text
        return False
    return b"\x00" in head


def decode_bytes(
    data: bytes, declared: str | None = None, *, max_bad: float = 0.01
) -> tuple[str, str]:
    """Decode ``data``: BOM, then the declared charset, then UTF-8, then a detector.

    Returns ``(text, charset)``. A few invalid bytes (at most ``max_bad`` of the text) are replaced
    rather than losing the document; more than that raises :class:`DecodeError`.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), "utf-16"
    candidates = [c for c in (_normalize_charset(declared), "utf-8") if c]
    for cs in dict.fromkeys(candidates):
        try:
            return data.decode(cs), cs
        except (UnicodeDecodeError, LookupError):
            continue
    from charset_normalizer import from_bytes  # imported lazily: only needed for odd inputs

    best = from_bytes(data[:65536]).best()
    if best is not None and best.encoding:
        cs = _normalize_charset(best.encoding) or best.encoding
        text = data.decode(cs, "replace")
        if text.count("\ufffd") <= max(1, max_bad * len(text)):
            return text, cs
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    if bad <= max_bad * len(text):
        return text, "utf-8"
    raise DecodeError(
        f"{bad} of {len(text)} characters are not valid UTF-8 and no charset detector matched"
    )


def extract_main_text(html: str, url: str | None = None) -> str:
    """Main text of an HTML page (boilerplate removed) with trafilatura; '' when none is found."""
    import trafilatura

    text = trafilatura.extract(
        html,
        url=url,
        include_comments=False,
        include_tables=True,
        favor_recall=True,
        deduplicate=False,
    )
    if not text:
        # Very short pages defeat trafilatura's heuristics; its baseline keeps <p>/<article> text.
        _, text, _ = trafilatura.baseline(html)
    return text or ""
