"""Words per language: a table language -> segmenter, maintained libraries where the script has no
spaces between words, the current rule everywhere else.

==========  ====================================================  ==============================
language    segmenter                                             package (dictionary)
==========  ====================================================  ==============================
zh          jieba, accurate mode (HMM for unknown words)          ``jieba`` (its own dictionary)
ja          MeCab through fugashi, UniDic-lite short units        ``fugashi`` + ``unidic-lite``
th          PyThaiNLP's ``newmm`` (maximal matching)              ``pythainlp`` (bundled lists)
others      the rule: whitespace-separated tokens; in a text      none
            mostly in a spaceless script, single letters (what
            crossling/clean.py counts as ``n_units``)
==========  ====================================================  ==============================

All three load offline from their packages (nothing is downloaded) and are loaded lazily, once per
process, on the first document of their language (jieba ~2 s, fugashi ~0.1 s, pythainlp ~2 s on
a loaded 2-core machine), so a worker that never sees Thai never loads the Thai segmenter. A
language whose library is missing falls back to the rule with a warning, once.

A *word* is a segmenter token with at least one letter or digit: punctuation and spaces the
segmenters return as tokens are dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

# language (ISO 639-1) -> segmenter name; see the module docstring.
DEFAULT_SEGMENTERS: dict[str, str] = {"zh": "jieba", "ja": "fugashi", "th": "pythainlp"}
SEGMENTER_NAMES = ("jieba", "fugashi", "pythainlp", "rule")

_WORDLIKE = re.compile(r"[^\W_]")
# Scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan): what the rule
# counts letter by letter when they make up most of a text (as crossling/clean.py does).
_SPACELESS = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u0f00-\u0fff\u3040-\u30ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uf900-\ufaff]"
)


class WordSegmentConfig(BaseModel):
    """Which segmenter splits each language into words."""

    segmenters: dict[str, str] = Field(
        default_factory=dict,
        description="Overrides of the table language -> segmenter (jieba, fugashi, pythainlp, "
        "rule), e.g. {'zh': 'rule'} to count Chinese by characters again.",
    )

    def segmenter_name(self, lang: str | None) -> str:
        name = self.segmenters.get(lang or "") or DEFAULT_SEGMENTERS.get(lang or "", "rule")
        if name not in SEGMENTER_NAMES:
            raise ValueError(f"segmenter {name!r} for {lang!r}: one of {SEGMENTER_NAMES}")
        return name


def rule_words(text: str) -> list[str]:
    """The current rule: whitespace tokens; single letters when the text is mostly spaceless."""
    letters = len(_WORDLIKE.findall(text[:2000]))
    if len(_SPACELESS.findall(text[:2000])) > 0.3 * max(1, letters):
        return [c for c in text if c.isalnum()]
    search = _WORDLIKE.search
    return [w for w in text.split() if w.isalnum() or search(w)]


def _load_jieba() -> Callable[[str], list[str]]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return lambda text: tok.lcut(text, HMM=True)


def _load_fugashi() -> Callable[[str], list[str]]:
    import fugashi
    import unidic_lite

    tagger = fugashi.Tagger(f"-d {unidic_lite.DICDIR}")
    return lambda text: [w.surface for w in tagger(text)]


def _load_pythainlp() -> Callable[[str], list[str]]:
    from pythainlp.tokenize import word_tokenize

    return lambda text: word_tokenize(text, engine="newmm", keep_whitespace=False)


_LOADERS: dict[str, Callable[[], Callable[[str], list[str]]]] = {
    "jieba": _load_jieba,
    "fugashi": _load_fugashi,
    "pythainlp": _load_pythainlp,
}
_LOADED: dict[str, Callable[[str], list[str]] | None] = {}  # per process


def segmenter(name: str) -> Callable[[str], list[str]] | None:
    """The tokenizer function of a segmenter, loaded on first use in this process (None for the
    rule, or when its package is missing)."""
    if name == "rule":
        return None
    if name not in _LOADED:
        try:
            _LOADED[name] = _LOADERS[name]()
        except ImportError as e:
            log.warning(
                "word segmenter %s unavailable (%s): the rule counts words instead", name, e
            )
            _LOADED[name] = None
    return _LOADED[name]


def words(text: str, lang: str | None, config: WordSegmentConfig | None = None) -> list[str]:
    """The words of ``text`` in language ``lang`` (tokens with a letter or a digit)."""
    fn = segmenter((config or WordSegmentConfig()).segmenter_name(lang))
    if fn is None:
        return rule_words(text)
    return [w for w in fn(text) if _WORDLIKE.search(w)]


def word_signals(
    text: str, lang: str | None, config: WordSegmentConfig | None = None
) -> dict[str, Any]:
    """Word-based quality signals from the language's segmenter: ``n_words``, ``mean_word_len``
    (characters), ``top_2gram_frac`` / ``top_3gram_frac`` (Gopher: characters covered by the most
    frequent word n-gram, 0 when it does not repeat) and ``unique_word_frac``."""
    from crossling.clean import _top_ngram_fracs  # Gopher's definition, counted in numpy

    ws = words(text, lang, config)
    n = len(ws)
    chars = sum(map(len, ws))
    top2, top3, _ = _top_ngram_fracs(ws, chars)
    return {
        "n_words": n,
        "mean_word_len": chars / n if n else 0.0,
        "unique_word_frac": len(set(ws)) / n if n else 0.0,
        "top_2gram_frac": top2,
        "top_3gram_frac": top3,
    }
