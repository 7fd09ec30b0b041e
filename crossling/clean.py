"""Unicode normalization and quality filters (in the spirit of Gopher and C4).

Measuring and deciding are separate: :func:`quality_signals` measures a document once, and
:meth:`QualityConfig.decide` compares the signals with thresholds, so changing a threshold never
measures again. Thresholds have defaults per script (texts without spaces between words are
measured in characters) that a config can override per script or per language.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field, PrivateAttr

from crossling import chartables
from crossling.documents import Reason

# The compiled folding and counting (crossling/_signals.c, built by `pip install`); without it the
# Python below, which defines what both do, runs instead (slower, the same results).
try:
    from crossling import _signals
except ImportError:  # pragma: no cover - a build without a C compiler
    _signals = None
if os.environ.get("CROSSLING_PURE_PYTHON"):  # the definitions only (to compare, or debug)
    _signals = None

# Control characters except tab and newline; also zero-width/bidi marks that break n-gram stats.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060\ufeff]"
)
_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces between words: measured in characters, not words.
_NO_SPACE = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
    r"\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff]"
)
_BULLETS = ("•", "‣", "●", "▪", "◦", "-", "*", "·")
# UTF-8 read as Latin-1/cp1252 ("GroÃŸmutter", "â€™"): text decoded with the wrong charset.
_MOJIBAKE = re.compile(
    r"[ÃÂ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2013-\u203a]|â€"
)
# C4's boilerplate markers, matched per line (lowercased).
_BOILERPLATE = (
    "use cookies",
    "use of cookies",
    "uses cookies",
    "cookie policy",
    "privacy policy",
    "terms of use",
    "javascript",
    "accept all",
    "all rights reserved",
)


# Lone UTF-16 surrogates: valid in JSON ("\ud800") and in Python strings, but not UTF-8, so
# fastText, pyarrow and every file format refuse them.
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def strip_surrogates(text: str) -> str:
    """Lone surrogates replaced by U+FFFD (the replacement character)."""
    return _SURROGATES.sub("\ufffd", text)


def normalize_text(text: str, *, fold: bool = True) -> str:
    """NFC, lone surrogates replaced, control characters removed, whitespace folded (one space;
    one newline between paragraphs). ``fold=False`` only makes the text safe to store."""
    if not text.isascii():  # ASCII has no surrogates and is already NFC
        text = _SURROGATES.sub("\ufffd", text)
        if fold and not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
    if not fold:
        return _CONTROL.sub("", text)
    if _signals is not None:
        return _signals.fold(text, character_flags())
    return _fold_py(text)


def _fold_py(text: str) -> str:
    """The folding of :func:`normalize_text` (what the compiled ``fold`` does in one pass)."""
    text = _CONTROL.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Per line, str.split folds every whitespace run (C speed); empty lines go.
    return "\n".join(filter(None, (" ".join(ln.split()) for ln in text.split("\n"))))


# Characters that are not letters: whitespace, digits, ASCII and general/CJK/fullwidth punctuation
# and symbols. Counting these with one regex runs in C; combining marks (Devanagari vowel signs,
# Arabic harakat) are not in it, so they count with the letters they modify.
_NON_LETTER = re.compile(
    r"[\s\d!-/:-@\[-`{-~\u00a0-\u00bf\u2000-\u2bff\u3000-\u303f\uff00-\uff20"
    r"\uff3b-\uff40\uff5b-\uff65\ufe30-\ufe4f]"
)
# Whitespace-delimited tokens without a single letter or mark (numbers, punctuation runs).
# A letter (Gopher's "alphabetic character"): a word character that is not a digit or "_".
_LETTER = re.compile(r"[^\W\d_]")
# Everything but letters and whitespace: deleted, the tokens left are those with a letter.
_NOT_LETTER_OR_SPACE = re.compile(r"[^\w\s]|[\d_]")
_SPACELESS_UNIT = re.compile(r"[^\W_]")


def _top_ngram_fracs(units: list[str], total_chars: int) -> tuple[float, float, float]:
    """Gopher: share of characters covered by the most frequent word 2-, 3- and 4-gram (0 when
    it does not repeat; among equally frequent ones, the first to occur, as Counter.most_common).

    Words become 64-bit hashes, an n-gram a rolling 64-bit code of its words' hashes, and the
    counting is a numpy sort of the codes: no tuples, no Counter of n-grams. (Collisions of 64-bit
    codes within one document are negligible; the hashes never leave this function.)
    """
    n = len(units)
    if n < 3:
        return 0.0, 0.0, 0.0
    words = np.fromiter(map(hash, units), np.int64, n).view(np.uint64)
    out = [0.0, 0.0, 0.0]
    codes = words
    with np.errstate(over="ignore"):  # the codes wrap around on purpose
        for j, k in enumerate((2, 3, 4)):
            if n < k + 1:
                break
            codes = codes[:-1] * _GRAM_MULT + words[k - 1 :]
            srt = np.sort(codes)
            starts = np.flatnonzero(np.concatenate(([True], srt[1:] != srt[:-1])))
            counts = np.diff(np.append(starts, len(srt)))
            top = counts.max()
            if top < 2:  # no k-gram repeats, so no longer one does either
                break
            ties = srt[starts[counts == top]]
            first = int(np.argmax(np.isin(codes, ties) if len(ties) > 1 else codes == ties[0]))
            gram_chars = sum(map(len, units[first : first + k]))
            out[j] = gram_chars * int(top) / max(1, total_chars)
    return out[0], out[1], out[2]


_GRAM_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio)
_SYMBOL_STRINGS = ("#", "...", "…", *"{}<>[]|=;$%^~_\\")
# ASCII fast paths (bytes.translate runs in C), built from the regexes they stand in for so
# they count exactly the same characters.
_ASCII_NON_LETTER = bytes(b for b in range(128) if _NON_LETTER.match(chr(b)))
_ASCII_SPACE = bytes(b for b in range(128) if chr(b).isspace())
# str.split() splits on every one of _ASCII_SPACE, bytes.split() only on " \t\n\r\v\f": map the
# others (\x1c-\x1f) to a space, delete every byte that is neither a letter nor a space.
_ASCII_TO_SPACE = bytes.maketrans(
    bytes(b for b in _ASCII_SPACE if b not in b" \t\n\r\x0b\x0c"),
    b" " * len([b for b in _ASCII_SPACE if b not in b" \t\n\r\x0b\x0c"]),
)
_ASCII_NOT_LETTER_OR_SPACE = bytes(
    b for b in range(256) if b not in _ASCII_SPACE and not _LETTER.match(chr(b))
)


def _boilerplate_lines(lowered: str) -> int:
    """Lines that mention a C4 boilerplate marker (one pass over the text when none does)."""
    found = [b for b in _BOILERPLATE if b in lowered]
    if not found:
        return 0
    return sum(1 for ln in lowered.split("\n") if any(b in ln for b in found))


def quality_signals(text: str) -> dict[str, Any]:
    """Measure one normalized text (see :func:`quality_signals_batch`)."""
    return quality_signals_batch([text])[0]


# Flags of the class table the compiled counting reads (the same bits as in _signals.c).
F_SPACE, F_NON_LETTER, F_LETTER, F_NO_SPACE, F_UNIT, F_DIGIT, F_CONTROL = 1, 2, 4, 8, 16, 32, 64


def _compute_classes() -> np.ndarray:
    """The flags of every code point, from the same regexes and str methods the Python counting
    uses (each regex here matches one character, so substituting a marker keeps positions)."""
    every = "".join(map(chr, range(chartables.SIZE)))

    def matches(pattern: re.Pattern[str]) -> np.ndarray:
        marked = pattern.sub("\x00", every).encode("utf-32-le", "surrogatepass")
        hit = np.frombuffer(marked, dtype=np.uint32) == 0
        hit[0] = pattern.match("\x00") is not None
        return hit

    table = np.zeros(chartables.SIZE, dtype=np.uint8)
    table[np.fromiter(map(str.isspace, every), bool, chartables.SIZE)] |= F_SPACE
    table[matches(_NON_LETTER)] |= F_NON_LETTER
    table[matches(_LETTER)] |= F_LETTER
    table[matches(_NO_SPACE)] |= F_NO_SPACE
    table[matches(_SPACELESS_UNIT)] |= F_UNIT
    table[np.fromiter(map(str.isdigit, every), bool, chartables.SIZE)] |= F_DIGIT
    table[matches(_CONTROL)] |= F_CONTROL
    return table


@functools.cache
def character_flags() -> np.ndarray:
    """The class table of the compiled counting (from the disk cache after the first time)."""
    patterns = (_NON_LETTER, _LETTER, _NO_SPACE, _SPACELESS_UNIT, _CONTROL)
    return chartables.cached_table(
        "quality-classes",
        repr((unicodedata.unidata_version, [p.pattern for p in patterns], F_CONTROL)),
        _compute_classes,
    )


def quality_signals_batch(texts: list[str]) -> list[dict[str, Any]]:
    """Measure normalized texts. The counting runs compiled, over the characters of each text
    without copies (crossling/_signals.c; it gives what :func:`_quality_signals_py` gives, which
    defines the signals and runs where the extension was not built)."""
    if _signals is None or not texts:
        return _quality_signals_py(texts)
    texts = texts if type(texts) is list else list(texts)
    counts = np.empty((len(texts), _signals.NCOLS), dtype=np.float64)
    _signals.signals(texts, character_flags(), counts)
    rows: list[dict[str, Any]] = []
    for text, values in zip(texts, counts.tolist(), strict=True):
        row = dict(zip(_KERNEL_COLUMNS, values, strict=True))
        for k in ("n_chars", "n_units", "n_lines"):
            row[k] = int(row[k])
        row["spaceless"] = row["spaceless"] > 0
        row.update(_text_signals(text, row["n_units"], row["n_lines"]))
        rows.append(row)
    return rows


def _text_signals(text: str, n_units: int, n_lines: int) -> dict[str, Any]:
    """The signals found by searching the (lowercased) text rather than counting characters."""
    lowered = text.lower()
    mojibake = 0
    if not text.isascii() and ("\u00c3" in text or "\u00c2" in text or "\u00e2\u20ac" in text):
        mojibake = len(_MOJIBAKE.findall(text))
    return {
        "lorem_ipsum": "lorem ipsum" in lowered[:5000],
        "mojibake_per_unit": mojibake / max(1, n_units),
        "boilerplate_line_frac": _boilerplate_lines(lowered) / max(1, n_lines),
    }


def _quality_signals_py(texts: list[str]) -> list[dict[str, Any]]:
    """Measure normalized texts: counts done by regexes, byte translation and Counters, the
    n-gram repetition in numpy; no per-character Python. ASCII texts (most of
    the web) take byte-level fast paths that count exactly what the regexes would."""
    rows: list[dict[str, Any]] = []
    for text in texts:
        n_chars = len(text)
        sample = text[:2000]
        ascii_ = text.isascii()
        if ascii_:
            raw = sample.encode("ascii")
            letters = len(raw.translate(None, _ASCII_NON_LETTER))
            spaceless = False
        else:
            letters = len(sample) - len(_NON_LETTER.findall(sample))
            spaceless = len(_NO_SPACE.findall(sample)) > 0.3 * max(1, letters)
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if spaceless:  # units are single letters/digits
            units = _SPACELESS_UNIT.findall(text)
            alpha_units = len(units) - sum(1 for c in units if c.isdigit())
        else:
            units = text.split()
            # Words with a letter: delete all but letters and spaces, count the words left.
            if ascii_:
                b = text.encode("ascii").translate(_ASCII_TO_SPACE, _ASCII_NOT_LETTER_OR_SPACE)
                alpha_units = len(b.split())
            else:
                alpha_units = len(_NOT_LETTER_OR_SPACE.sub("", text).split())
        n_units = len(units)
        top2, top3, top4 = _top_ngram_fracs(units, sum(map(len, units)))
        line_counts = Counter(lines)
        dup_lines = sum(c - 1 for c in line_counts.values() if c > 1)
        dup_line_chars = sum(len(ln) * (c - 1) for ln, c in line_counts.items() if c > 1)
        n_lines = max(1, len(lines))
        rows.append(
            {
                "n_chars": n_chars,
                "n_units": n_units,  # words, or letters for spaceless scripts
                "spaceless": spaceless,
                "n_lines": len(lines),
                "dup_line_frac": dup_lines / n_lines,
                "dup_line_char_frac": dup_line_chars / max(1, n_chars),
                "top_2gram_frac": top2,
                "top_3gram_frac": top3,
                "top_4gram_frac": top4,
                "alpha_unit_frac": alpha_units / max(1, n_units),
                "letter_frac": letters / max(1, len(sample)),
                "symbol_per_unit": sum(map(text.count, _SYMBOL_STRINGS)) / max(1, n_units),
                "bullet_line_frac": sum(1 for ln in lines if ln.lstrip().startswith(_BULLETS))
                / n_lines,
                "ellipsis_line_frac": sum(1 for ln in lines if ln.rstrip().endswith(("...", "…")))
                / n_lines,
                **_text_signals(text, n_units, len(lines)),
            }
        )
    return rows


# Bumped when a signal's definition changes: tagged files measured before are measured again.
SIGNALS_VERSION = 2

# The signals of quality_signals() as tag columns (prefixed q_), in the order they are measured.
QUALITY_SIGNALS = [
    pa.field("q_n_chars", pa.int32()),
    pa.field("q_n_units", pa.int32()),
    pa.field("q_spaceless", pa.bool_()),
    pa.field("q_n_lines", pa.int32()),
    *(
        pa.field(f"q_{k}", pa.float32())
        for k in (
            "dup_line_frac",
            "dup_line_char_frac",
            "top_2gram_frac",
            "top_3gram_frac",
            "top_4gram_frac",
            "alpha_unit_frac",
            "letter_frac",
            "symbol_per_unit",
            "bullet_line_frac",
            "ellipsis_line_frac",
        )
    ),
    pa.field("q_lorem_ipsum", pa.bool_()),
    pa.field("q_mojibake_per_unit", pa.float32()),
    pa.field("q_boilerplate_line_frac", pa.float32()),
]
# The signals the compiled counting fills, in its column order (the first of QUALITY_SIGNALS; the
# others are searched for in the text by _text_signals).
_KERNEL_COLUMNS = tuple(f.name[2:] for f in QUALITY_SIGNALS[:14])
if _signals is not None and _signals.NCOLS != len(_KERNEL_COLUMNS):
    raise RuntimeError(
        "crossling/_signals.c was built from another version of crossling: run `make install` "
        "(or pip install -e .) again"
    )


class Thresholds(BaseModel):
    """Quality thresholds. Every field may be overridden per script or per language."""

    min_chars: int = Field(120, description="Drop shorter documents (after normalization).")
    min_units: int = Field(
        20, description="Minimum words (or letters in spaceless scripts). Gopher: 50."
    )
    max_dup_line_frac: float = Field(0.30, description="Gopher: fraction of duplicate lines.")
    max_dup_line_char_frac: float = Field(0.20, description="Gopher: chars in duplicate lines.")
    max_top_2gram_frac: float = Field(0.20, description="Gopher: chars covered by the top 2-gram.")
    max_top_3gram_frac: float = Field(0.18, description="Gopher: chars covered by the top 3-gram.")
    max_top_4gram_frac: float = Field(0.16, description="Gopher: chars covered by the top 4-gram.")
    min_alpha_unit_frac: float = Field(0.70, description="Gopher: words containing a letter (0.8).")
    min_letter_frac: float = Field(0.50, description="Letters among all characters.")
    max_symbol_per_unit: float = Field(
        0.10, description="Gopher: '#', '...' and code symbols per word."
    )
    max_bullet_line_frac: float = Field(0.90, description="Gopher: lines starting with a bullet.")
    max_ellipsis_line_frac: float = Field(
        0.30, description="Gopher: lines ending with an ellipsis."
    )
    drop_lorem_ipsum: bool = Field(True, description="C4: drop pages containing 'lorem ipsum'.")
    max_boilerplate_line_frac: float = Field(
        0.5, description="C4-style: lines mentioning cookies, privacy policy, javascript..."
    )
    max_mojibake_per_unit: float = Field(
        0.02, description="Mis-decoded UTF-8 sequences ('Ã¤', 'â€™') per word."
    )


# Spaceless scripts pack more meaning per character: fewer characters make a real document.
_SCRIPT_DEFAULTS: dict[str, dict[str, Any]] = {
    "Hans": {"min_chars": 40, "min_units": 30},
    "Hant": {"min_chars": 40, "min_units": 30},
    "Jpan": {"min_chars": 40, "min_units": 30},
    "Kore": {"min_chars": 60},
    "Thai": {"min_chars": 60, "min_units": 40},
}


# Upper limits in the order they are checked (the first failing one names the reason).
_MAX_CHECKS = (
    ("dup_line_frac", Reason.REPETITION),
    ("dup_line_char_frac", Reason.REPETITION),
    ("top_2gram_frac", Reason.REPETITION),
    ("top_3gram_frac", Reason.REPETITION),
    ("top_4gram_frac", Reason.REPETITION),
    ("symbol_per_unit", Reason.SYMBOL_RATIO),
    ("bullet_line_frac", Reason.BAD_LINES),
    ("ellipsis_line_frac", Reason.BAD_LINES),
    ("boilerplate_line_frac", Reason.BAD_LINES),
    ("mojibake_per_unit", Reason.MOJIBAKE),
)


@functools.cache
def _signal_keys(prefix: str) -> tuple[str, ...]:
    return tuple(prefix + f.name[2:] for f in QUALITY_SIGNALS)


class QualityConfig(BaseModel):
    """Quality filtering: defaults, then per-script, then per-language overrides."""

    enabled: bool = Field(True, description="Turn all quality filters off (keep everything).")
    defaults: Thresholds = Field(default_factory=Thresholds)
    per_script: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in _SCRIPT_DEFAULTS.items()},
        description="Overrides by ISO 15924 script, e.g. {'Hans': {'min_chars': 40}}.",
    )
    per_lang: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Overrides by language code, e.g. {'de': {'min_units': 30}}.",
    )

    _resolved: dict[tuple[str | None, str | None], Thresholds] = PrivateAttr(default_factory=dict)

    def thresholds_for(self, lang: str | None, script: str | None) -> Thresholds:
        key = (lang, script)
        t = self._resolved.get(key)
        if t is None:
            t = self._resolved[key] = self._thresholds(lang, script)
        return t

    def _thresholds(self, lang: str | None, script: str | None) -> Thresholds:
        over: dict[str, Any] = {}
        if script and script in self.per_script:
            over.update(self.per_script[script])
        if lang and lang in self.per_lang:
            over.update(self.per_lang[lang])
        return self.defaults.model_copy(update=over) if over else self.defaults

    def decide(
        self, signals: dict[str, Any], lang: str | None, script: str | None, prefix: str = ""
    ) -> tuple[Reason, str] | None:
        """``None`` to keep, else the reason and a detail naming the signal and its threshold.
        ``prefix``: the signals' keys carry it (``q_n_chars`` in tagged rows)."""
        if not self.enabled:
            return None
        t = self.thresholds_for(lang, script)
        p = signals if not prefix else {k[len(prefix) :]: signals[k] for k in _signal_keys(prefix)}
        if p["n_chars"] < t.min_chars:
            return Reason.TOO_SHORT, f"n_chars={p['n_chars']} < {t.min_chars}"
        if p["n_units"] < t.min_units:
            return Reason.TOO_SHORT, f"n_units={p['n_units']} < {t.min_units}"
        if t.drop_lorem_ipsum and p["lorem_ipsum"]:
            return Reason.BAD_LINES, "contains 'lorem ipsum'"
        for key, reason in _MAX_CHECKS:
            limit = getattr(t, f"max_{key}")
            if p[key] > limit:
                return reason, f"{key}={p[key]:.3f} > {limit}"
        for key in ("alpha_unit_frac", "letter_frac"):
            limit = getattr(t, f"min_{key}")
            if p[key] < limit:
                return Reason.ALPHA_RATIO, f"{key}={p[key]:.3f} < {limit}"
        return None

    def decide_columns(
        self, signals: dict[str, np.ndarray], rows: np.ndarray, lang: str | None, script: str | None
    ) -> dict[int, tuple[Reason, str]]:
        """:meth:`decide` for many documents of one language and script at once: ``signals``
        maps each signal (without prefix) to a column, ``rows`` are the row numbers to decide.
        Returns the dropped rows, each with the verdict :meth:`decide` gives it."""
        if not self.enabled or not len(rows):
            return {}
        t = self.thresholds_for(lang, script)
        # The checks of decide(), in its order: (signal, failing rows, reason, detail format).
        checks: list[tuple[str, np.ndarray, Reason, str]] = [
            ("n_chars", signals["n_chars"][rows] < t.min_chars, Reason.TOO_SHORT,
             f"n_chars={{}} < {t.min_chars}"),
            ("n_units", signals["n_units"][rows] < t.min_units, Reason.TOO_SHORT,
             f"n_units={{}} < {t.min_units}"),
        ]  # fmt: skip
        if t.drop_lorem_ipsum:
            lorem = signals["lorem_ipsum"][rows].astype(bool)
            checks.append(("lorem_ipsum", lorem, Reason.BAD_LINES, "contains 'lorem ipsum'"))
        for key, reason in _MAX_CHECKS:
            limit = getattr(t, f"max_{key}")
            checks.append((key, signals[key][rows] > limit, reason, f"{key}={{:.3f}} > {limit}"))
        for key in ("alpha_unit_frac", "letter_frac"):
            limit = getattr(t, f"min_{key}")
            fails = signals[key][rows] < limit
            checks.append((key, fails, Reason.ALPHA_RATIO, f"{key}={{:.3f}} < {limit}"))
        first = np.full(len(rows), -1)
        for j, (_, fails, _, _) in enumerate(checks):
            first[(first < 0) & fails] = j
        out: dict[int, tuple[Reason, str]] = {}
        for pos in np.flatnonzero(first >= 0).tolist():
            key, _, reason, detail = checks[first[pos]]
            row = int(rows[pos])
            out[row] = reason, detail.format(signals[key][row].item())
        return out
