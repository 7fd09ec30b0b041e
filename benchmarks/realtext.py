"""Real text installed on this machine, by language, for the quality benchmarks (not demo data):

- manual pages (``/usr/share/man``: English and ~30 translations), roff stripped as in
  benchmarks/pipeline.py;
- message catalogs (``/usr/share/locale/<ll>/LC_MESSAGES/*.mo``): the translated strings of each
  program, one document per catalog chunk (what human translators wrote);
- for Thai, which has no manual pages here, also the TIS-620 web pages of chardet's test set.
"""

from __future__ import annotations

import glob
import gzip
import os
import re
import struct

from pipeline import roff_to_text  # benchmarks/pipeline.py (scripts run from benchmarks/)

MAN = "/usr/share/man"
LOCALE = "/usr/share/locale"
_MAN_LANG = {"zh_CN": "zh", "zh_TW": "zh", "pt_BR": "pt"}


def man_documents(langs: set[str] | None = None, per_lang: int = 60) -> list[tuple[str, str]]:
    """(language, text) of installed manual pages, at most ``per_lang`` per language."""
    out: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    paths = sorted(glob.glob(os.path.join(MAN, "*", "*", "*.gz")))
    paths += sorted(glob.glob(os.path.join(MAN, "man*", "*.gz")))
    for path in paths:
        top = os.path.relpath(path, MAN).split(os.sep)[0]
        lang = "en" if top.startswith("man") else _MAN_LANG.get(top, top)
        if (langs and lang not in langs) or seen.get(lang, 0) >= per_lang:
            continue
        try:
            with gzip.open(path, "rb") as f:
                text = roff_to_text(f.read().decode("utf-8", "replace"))
        except (OSError, EOFError):
            continue
        text = "\n".join(ln.strip() for ln in text.splitlines() if ln.strip())
        if len(text) >= 300:
            out.append((lang, text))
            seen[lang] = seen.get(lang, 0) + 1
    return out


def _mo_strings(path: str) -> list[str]:
    """The translated strings of a GNU .mo catalog (its header entry skipped)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0x950412DE else ">"
    _, n, _, trans_off = struct.unpack(endian + "4I", data[4:20])
    out = []
    for i in range(n):
        length, off = struct.unpack(endian + "2I", data[trans_off + 8 * i : trans_off + 8 * i + 8])
        s = data[off : off + length].decode("utf-8", "replace")
        if s and not s.startswith("Project-Id-Version"):
            out.extend(p for p in s.split("\x00") if p.strip())
    return out


def catalog_documents(locale: str, lang: str, per_doc: int = 40, limit: int = 80):
    """(language, text) documents of ``per_doc`` translated messages from a locale's catalogs."""
    out: list[tuple[str, str]] = []
    for path in sorted(glob.glob(os.path.join(LOCALE, locale, "LC_MESSAGES", "*.mo"))):
        msgs = [re.sub(r"%\w|_", "", m).strip() for m in _mo_strings(path)]
        msgs = [m for m in msgs if len(m) > 3]
        for k in range(0, len(msgs) - per_doc + 1, per_doc):
            out.append((lang, "\n".join(msgs[k : k + per_doc])))
            if len(out) >= limit:
                return out
    return out


def thai_pages() -> list[tuple[str, str]]:
    """chardet's TIS-620 test pages (real Thai web pages), tags stripped."""
    out = []
    pattern = "/usr/lib/google-cloud-sdk/platform/gsutil/third_party/chardet/tests/TIS-620/*"
    for path in sorted(glob.glob(pattern)):
        with open(path, "rb") as f:
            html = f.read().decode("tis-620", "replace")
        text = re.sub(r"<[^>]+>|&\w+;", " ", html)
        text = "\n".join(re.sub(r"\s+", " ", ln).strip() for ln in text.splitlines())
        text = "\n".join(ln for ln in text.splitlines() if ln)
        if len(text) > 300:
            out.append(("th", text))
    return out
