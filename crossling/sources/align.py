"""Sentence pairs from pages that name each other as translations (hreflang), Gale-Church style.

Pages A and B are a translation pair when A's ``<link rel="alternate" hreflang>`` names B and B's
names A. Both main texts are extracted (trafilatura, as the corpus reader does), cut into
sentences, and aligned by length with dynamic programming over 1-1, 1-0, 0-1, 2-1, 1-2 and 2-2
beads (Gale & Church 1993: the length of a translation is proportional to the length of its source,
with normally distributed differences). The expected length ratio is estimated per page pair, so
pairs across scripts (en-zh) work too. Each bead gets a score, the probability of its length
difference under that model (1.0 for a perfect match); beads with both sides at or above
``min_score`` become pairs, the others REJECTS rows (``align_score_low``, ``align_unmatched``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from crossling.documents import TEXT_PREFIX_CHARS, Reason, Stage, content_hash, make_id

# Gale & Church (1993), Table 5: bead priors (1-0 and 0-1 share 0.0099; 2-1 and 1-2 share 0.089).
PRIORS = {(1, 1): 0.89, (1, 0): 0.0099 / 2, (0, 1): 0.0099 / 2, (2, 1): 0.089 / 2,
          (1, 2): 0.089 / 2, (2, 2): 0.011}  # fmt: skip
VARIANCE = 6.8  # variance of the length difference per character (Gale & Church)
MAX_CELLS = 400_000  # sentence count product above which a page pair is not aligned

# Sentence ends: Latin/Cyrillic/Greek punctuation followed by space; CJK, Devanagari, Arabic ends.
_SENT_END = re.compile(r"(?<=[.!?…;])\s+(?=\S)|(?<=[。！？।؟])\s*(?=\S)")


class AlignConfig(BaseModel):
    """Sentence alignment of hreflang translations found by a crawl."""

    enabled: bool = Field(True, description="Align pages that name each other as translations.")
    directions: list[str] = Field(
        default_factory=list,
        description="Language pairs to align, as src-tgt (e.g. en-de); when empty, every pair "
        "the pivot allows (the pivot first, else alphabetical).",
    )
    pivot: str | None = Field(
        "en",
        description="Align each page only with the page of this language in its group (en-xx "
        "pairs). None aligns every two languages that name each other; a sentence then sits in "
        "several pairs, which may fall on both sides of the train/held-out split.",
    )
    min_score: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Keep a sentence pair whose length-based probability is at least this "
        "(1.0: lengths exactly as expected; 0.1 is about 1.6 standard deviations off).",
    )
    min_chars: int = Field(2, ge=1, description="Sentences shorter than this are not aligned.")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text: one per line at least, then cut at sentence-final punctuation."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            out.extend(s.strip() for s in _SENT_END.split(line) if s.strip())
    return out


def _norm_sf(x: float) -> float:
    """P(|Z| >= |x|) for a standard normal Z."""
    return math.erfc(abs(x) / math.sqrt(2.0))


def bead_score(src_len: int, tgt_len: int, ratio: float, variance: float = VARIANCE) -> float:
    """Probability of the length difference of a bead (1.0 when tgt_len == ratio * src_len)."""
    expected = tgt_len / ratio if ratio > 0 else tgt_len
    mean = (src_len + expected) / 2.0
    if mean <= 0:
        return 0.0
    delta = (expected - src_len) / math.sqrt(variance * mean)
    return _norm_sf(delta)


def gale_church(
    src: list[int], tgt: list[int], ratio: float | None = None
) -> list[tuple[int, int, int, int, float]]:
    """Align two sequences of sentence lengths; beads as (i0, i1, j0, j1, score), in order."""
    n, m = len(src), len(tgt)
    if ratio is None:
        ratio = (sum(tgt) / sum(src)) if sum(src) and sum(tgt) else 1.0
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    log_prior = {k: -math.log(v) for k, v in PRIORS.items()}
    ps = [0]
    for x in src:
        ps.append(ps[-1] + x)
    pt = [0]
    for x in tgt:
        pt.append(pt[-1] + x)
    for i in range(n + 1):
        row = cost[i]
        for j in range(m + 1):
            if i == 0 and j == 0:
                continue
            best, arg = inf, None
            for (di, dj), lp in log_prior.items():
                if di > i or dj > j:
                    continue
                prev = cost[i - di][j - dj]
                if prev == inf:
                    continue
                p = bead_score(ps[i] - ps[i - di], pt[j] - pt[j - dj], ratio)
                c = prev + lp - math.log(max(p, 1e-300))
                if c < best:
                    best, arg = c, (di, dj)
            row[j] = best
            back[i][j] = arg
    beads = []
    i, j = n, m
    while i > 0 or j > 0:
        step = back[i][j]
        assert step is not None
        di, dj = step
        score = 0.0
        if di and dj:
            score = bead_score(ps[i] - ps[i - di], pt[j] - pt[j - dj], ratio)
        beads.append((i - di, i, j - dj, j, score))
        i, j = i - di, j - dj
    beads.reverse()
    return beads


def align_texts(
    src_text: str, tgt_text: str, *, src_lang: str = "", tgt_lang: str = ""
) -> Iterator[tuple[str, str, float]]:
    """(src sentence(s), tgt sentence(s), score) for each bead; an empty side is unmatched."""
    s = split_sentences(src_text)
    t = split_sentences(tgt_text)
    if not s or not t or len(s) * len(t) > MAX_CELLS:
        return
    joiner_s = "" if src_lang in ("zh", "ja") else " "
    joiner_t = "" if tgt_lang in ("zh", "ja") else " "
    for i0, i1, j0, j1, score in gale_church([len(x) for x in s], [len(x) for x in t]):
        yield joiner_s.join(s[i0:i1]), joiner_t.join(t[j0:j1]), score


# --- pages of a crawl run ----------------------------------------------------------------------


def _lang(code: str) -> str:
    return code.split("-", 1)[0].split("_", 1)[0].lower()


def _direction(a: str, b: str, directions: list[str], first: str) -> tuple[str, str] | None:
    if directions:
        if f"{a}-{b}" in directions:
            return a, b
        if f"{b}-{a}" in directions:
            return b, a
        return None
    if a == first or (b != first and a < b):
        return a, b
    return b, a


def page_text(warc_path: str, offset: int, max_bytes: int = 8 << 20) -> str:
    """Main text of the response record at ``offset`` of a WARC file ('' when none)."""
    from warcio.archiveiterator import ArchiveIterator

    from crossling.sources.extract import (
        DecodeError,
        charset_from_content_type,
        charset_from_meta,
        decode_bytes,
        extract_main_text,
    )

    with open(warc_path, "rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)), None)
        if record is None or record.rec_type != "response":
            return ""
        ctype = record.http_headers.get_header("Content-Type") or ""
        url = record.rec_headers.get_header("WARC-Target-URI")
        body = record.content_stream().read(max_bytes)
    try:
        html, _ = decode_bytes(body, charset_from_content_type(ctype) or charset_from_meta(body))
    except DecodeError:
        return ""
    if ctype.startswith("text/plain"):
        return html
    return extract_main_text(html, url)


def align_run(
    state: Any, crawl_dir: Any, run: str, cfg: AlignConfig, pairs_path: str
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Align this run's translation pages; writes ``pairs_path`` (parallel JSONL the corpus
    reader takes) and returns (stats, REJECTS rows of the beads that were not kept)."""
    from crossling.sources.urls import netloc_of

    stats = {"page_pairs": 0, "pairs": 0, "rejected": 0}
    rejects: list[dict[str, Any]] = []
    if not cfg.enabled:
        return stats, rejects
    pages = state.pages_with_alternates(run)
    langs: dict[str, str] = {}
    alts: dict[str, dict[str, str]] = {}
    for url, lang, alternates in pages:
        alts[url] = alternates
        own = next((k for k, v in alternates.items() if v == url), None) or lang
        if own:
            langs[url] = _lang(own)
    done: set[tuple[str, str]] = set()
    texts: dict[str, str] = {}

    def text_of(url: str) -> str:
        if url not in texts:
            known = state.known(url) or {}
            path = os.path.join(crawl_dir.warc, known.get("warc_file") or "")
            ok = known.get("warc_file") and os.path.exists(path)
            texts[url] = page_text(path, known["warc_offset"]) if ok else ""
        return texts[url]

    tmp = pairs_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        for a, alternates in alts.items():
            for b in alternates.values():
                if b == a or b not in alts or a not in alts[b].values():
                    continue  # not named back: not a translation pair
                key = (min(a, b), max(a, b))
                if key in done or a not in langs or b not in langs or langs[a] == langs[b]:
                    continue
                done.add(key)
                if "page" not in (state.page_outcome(run, a), state.page_outcome(run, b)):
                    continue  # both unchanged since an earlier run: aligned then
                if cfg.pivot and cfg.pivot not in (langs[a], langs[b]):
                    continue
                d = _direction(langs[a], langs[b], cfg.directions, cfg.pivot or "en")
                if d is None:
                    continue
                src, tgt = (a, b) if d[0] == langs[a] else (b, a)
                stats["page_pairs"] += 1
                source = f"crawl:{netloc_of(src)}"
                known = state.known(src) or {}
                origin = make_id(source, known["record_id"]) if known.get("record_id") else None
                beads = align_texts(text_of(src), text_of(tgt), src_lang=d[0], tgt_lang=d[1])
                for k, (s, t, score) in enumerate(beads):
                    ok = s and t and len(s) >= cfg.min_chars and len(t) >= cfg.min_chars
                    if ok and score >= cfg.min_score:
                        # Pairs sharing a source sentence (en-de, en-fr of one English page) share
                        # the split: a sentence is never both trained on and held out.
                        row = {"src_lang": d[0], "tgt_lang": d[1], "src_text": s, "tgt_text": t,
                               "score": round(score, 4), "origin_id": origin,
                               "split_key": content_hash(s)}  # fmt: skip
                        out.write(json.dumps(row, ensure_ascii=False) + "\n")
                        stats["pairs"] += 1
                        continue
                    reason = Reason.ALIGN_SCORE_LOW if s and t else Reason.ALIGN_UNMATCHED
                    detail = (
                        f"length-based score {score:.3f} < {cfg.min_score}"
                        if reason == Reason.ALIGN_SCORE_LOW
                        else "no counterpart in the translation"
                    )
                    rejects.append(
                        {
                            "id": make_id(source, f"{run} {src} {tgt} {k}"),
                            "source": source,
                            "url": src,
                            "stage": str(Stage.ALIGN),
                            "reason": str(reason),
                            "detail": f"{d[0]}-{d[1]} {src} | {tgt}: {detail}",
                            "duplicate_of": None,
                            "text_prefix": f"{s} ||| {t}"[:TEXT_PREFIX_CHARS],
                            "lang": d[0],
                        }
                    )
                    stats["rejected"] += 1
    os.replace(tmp, pairs_path)
    return stats, rejects
