"""Script-aware shingles and their 64-bit hashes (compiled in crossling/_signals.c, defined
by :func:`_hash_pieces_py`), shingle sets and their Jaccard similarity.

Part of :mod:`crossling.dedup.minhash` (its docstring describes the method).
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from crossling.chartables import cached_table
from crossling.dedup.minhash.config import NearDedupConfig

try:  # the compiled shingling (crossling/_signals.c); without it, numpy (the same hashes)
    from crossling import _signals
except ImportError:  # pragma: no cover - a build without a C compiler
    _signals = None
if os.environ.get("CROSSLING_PURE_PYTHON"):  # the definitions only (to compare, or debug)
    _signals = None

# --- shingles -----------------------------------------------------------------------------------

SEP, WORD, CHAR, DIGIT = 0, 1, 2, 3

# Scripts written without spaces between words: their letters are tokens of their own.
_CHAR_SCRIPT_RANGES = [
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x1000, 0x109F),  # Myanmar
    (0xA9E0, 0xA9FF),  # Myanmar Extended-B
    (0xAA60, 0xAA7F),  # Myanmar Extended-A
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo Extended-B
    (0xFFA0, 0xFFDC),  # halfwidth Hangul
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3038, 0x303B),
    (0x3040, 0x30FF),  # Hiragana, Katakana (with ー)
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31FF),  # Bopomofo extended, Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x1B000, 0x1B16F),  # Kana supplement / extended
    (0x20000, 0x323AF),  # CJK extensions B-H
]


@functools.cache
def char_classes() -> np.ndarray:
    """Token class of every code point (``SEP``, ``WORD``, ``CHAR``, ``DIGIT``).

    Kept on disk (crossling.chartables): computing it asks unicodedata about every code point.
    """
    return cached_table(
        "char-classes",
        repr((unicodedata.unidata_version, SEP, WORD, CHAR, DIGIT, _CHAR_SCRIPT_RANGES)),
        _compute_char_classes,
    )


@functools.cache
def shingle_classes(kind: str = "words") -> np.ndarray:
    """The class table of a shingle kind: :func:`char_classes` for 'words'; for 'chars' every
    letter, mark and digit is a character token of its own (``CHAR``)."""
    table = char_classes()
    if kind == "words":
        return table
    if kind != "chars":
        raise ValueError(f"shingles: unknown kind {kind!r} (expected 'chars' or 'words')")
    table = table.copy()
    table[(table == WORD) | (table == DIGIT)] = CHAR
    return table


def _compute_char_classes() -> np.ndarray:
    cats = "".join(unicodedata.category(chr(i)) for i in range(0x110000)).encode("ascii")
    cat = np.frombuffer(cats, dtype=np.uint8).reshape(-1, 2)
    major, minor = cat[:, 0], cat[:, 1]
    table = np.full(0x110000, SEP, dtype=np.uint8)
    table[(major == ord("L")) | (major == ord("M")) | (major == ord("N"))] = WORD
    for lo, hi in _CHAR_SCRIPT_RANGES:
        part = table[lo : hi + 1]
        part[part == WORD] = CHAR
    table[(major == ord("N")) & (minor == ord("d"))] = DIGIT
    return table


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_RNG = np.random.default_rng(0x5EED_C0DE)  # fixed constants: part of SHINGLING_VERSION
_POS_MULT = _RNG.integers(1, 2**63, size=1024, dtype=np.uint64) | np.uint64(1)
_GRAM_MULT = _RNG.integers(1, 2**63, size=64, dtype=np.uint64) | np.uint64(1)
_BAND_MULT = _RNG.integers(1, 2**63, size=1024, dtype=np.uint64) | np.uint64(1)
_WORD_SALT = np.uint64(0x57A1_D5EE_D000_0001)
_CHAR_SALT = np.uint64(0xC4A2_5EED_0000_0003)
_CHAR_TOKEN_SALT = np.uint64(0x9E37_79B9_7F4A_7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place on a uint64 array (and returned)."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _ngram_hashes(
    tokens: np.ndarray, doc: np.ndarray, n: int, salt: np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every window of ``n`` tokens of one document (one window if it has fewer)."""
    m = len(tokens)
    acc = tokens * _GRAM_MULT[0]
    for k in range(1, min(n, m)):
        same = doc[k:] == doc[: m - k]
        acc[: m - k] += np.where(same, tokens[k:] * _GRAM_MULT[k], np.uint64(0))
    first = np.ones(m, dtype=bool)
    first[1:] = doc[1:] != doc[:-1]
    full = np.zeros(m, dtype=bool)
    if m >= n:
        full[: m - n + 1] = doc[n - 1 :] == doc[: m - n + 1]
    keep = full | first  # a document shorter than n keeps its first (partial) window
    return _mix(acc[keep] ^ salt), doc[keep]


_SALTS = np.array([_WORD_SALT, _CHAR_SALT, _CHAR_TOKEN_SALT], dtype=np.uint64)


def _hash_pieces(
    pieces: list[str], ngram: int, char_ngram: int, kind: str = "words"
) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of a batch of texts and the piece index of each, sorted by piece: compiled
    (crossling/_signals.c) where it was built, else :func:`_hash_pieces_py`, which defines them
    (the same numbers, in the same order). ``kind``: the shingle kind (:func:`shingle_classes`)."""
    if _signals is None:
        return _hash_pieces_py(pieces, ngram, char_ngram, kind)
    lowered = [p.lower() for p in pieces]
    bound = sum(map(len, lowered)) + len(lowered)
    hashes = np.empty(bound, dtype=np.uint64)
    owners = np.empty(bound, dtype=np.int64)
    n = _signals.shingles(
        lowered,
        shingle_classes(kind),
        ngram,
        char_ngram,
        _POS_MULT,
        _GRAM_MULT,
        _SALTS,
        hashes,
        owners,
    )
    return hashes[:n], owners[:n]


def _hash_pieces_py(
    pieces: list[str], ngram: int, char_ngram: int, kind: str = "words"
) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes in numpy over the whole batch (the definition; see :func:`_hash_pieces`)."""
    table = shingle_classes(kind)
    lowered = [p.lower() for p in pieces]
    lens = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
    starts = np.zeros(len(lowered), dtype=np.int64)
    starts[1:] = np.cumsum(lens + 1)[:-1]
    # "surrogatepass": lone surrogates (JavaScript-escaped dumps) are code points like any other
    cp = np.frombuffer("\x00".join(lowered).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = table[cp]
    out_h: list[np.ndarray] = []
    out_d: list[np.ndarray] = []

    wpos = np.flatnonzero((cls == WORD) | (cls == DIGIT))
    if len(wpos):
        val = np.where(cls[wpos] == DIGIT, np.uint32(ord("0")), cp[wpos]).astype(np.uint64)
        brk = np.ones(len(wpos), dtype=bool)
        brk[1:] = np.diff(wpos) != 1
        first = np.flatnonzero(brk)
        pos_in_word = np.arange(len(wpos)) - first[np.cumsum(brk) - 1]
        words = _mix(np.add.reduceat(val * _POS_MULT[pos_in_word & 1023], first))
        wdoc = np.searchsorted(starts, wpos[first], side="right") - 1
        h, d = _ngram_hashes(words, wdoc, ngram, _WORD_SALT)
        out_h.append(h)
        out_d.append(d)

    cpos = np.flatnonzero(cls == CHAR)
    if len(cpos):
        chars = _mix(cp[cpos].astype(np.uint64) ^ _CHAR_TOKEN_SALT)
        cdoc = np.searchsorted(starts, cpos, side="right") - 1
        h, d = _ngram_hashes(chars, cdoc, char_ngram, _CHAR_SALT)
        out_h.append(h)
        out_d.append(d)

    if not out_h:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    if len(out_h) == 1:
        return out_h[0], out_d[0]
    h, d = np.concatenate(out_h), np.concatenate(out_d)
    order = np.argsort(d, kind="stable")
    return h[order], d[order]


def shingle_hashes(
    texts: Sequence[str], config: NearDedupConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every shingle of every text, grouped by text.

    Args:
        texts: the documents (a non-string counts as an empty text).
        config: shingle settings (``ngram``, ``char_ngram``, ``batch_chars``).

    Returns:
        ``(hashes, offsets)``: uint64 hashes, and int64 offsets of length ``len(texts) + 1``;
        the shingles of text ``i`` are ``hashes[offsets[i]:offsets[i + 1]]`` (repeats included).
    """
    cfg = config or NearDedupConfig()
    step = cfg.batch_chars
    hashes: list[np.ndarray] = []
    docs: list[np.ndarray] = []
    pieces: list[str] = []
    owner: list[int] = []
    size = 0

    def flush() -> None:
        nonlocal pieces, owner, size
        if pieces:
            h, p = _hash_pieces(pieces, cfg.ngram, cfg.char_ngram, cfg.shingles)
            hashes.append(h)
            docs.append(np.asarray(owner, dtype=np.int64)[p])
        pieces, owner, size = [], [], 0

    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text:
            continue
        for k in range(0, len(text), step):  # a long document is cut into batch-sized pieces
            piece = text[k : k + step]
            pieces.append(piece)
            owner.append(i)
            size += len(piece) + 1
            if size >= step:
                flush()
    flush()
    h = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    d = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(d, minlength=len(texts)), out=offsets[1:])
    return h, offsets


def shingle_sets(texts: Sequence[str], config: NearDedupConfig | None = None) -> list[np.ndarray]:
    """The set of shingle hashes of each text (sorted, unique), for exact Jaccard."""
    h, off = shingle_hashes(texts, config)
    return [_sorted_unique(h[off[i] : off[i + 1]]) for i in range(len(texts))]


def set_column(sets: Sequence[np.ndarray]) -> pa.ListArray:
    """Shingle sets (:func:`shingle_sets`) as a compact Arrow ``list<uint32>`` column for work
    files: the high 32 bits of each hash, sorted and unique. Verification compares sets of a few
    thousand shingles, where 32-bit collisions (about 0.002 per pair) change no decision."""
    parts = []
    for s in sets:
        x = (s >> np.uint64(32)).astype(np.uint32)  # sorted input: the high bits stay sorted
        parts.append(x if len(x) < 2 else x[np.concatenate(([True], x[1:] != x[:-1]))])
    offsets = np.zeros(len(parts) + 1, dtype=np.int32)
    np.cumsum([len(x) for x in parts], out=offsets[1:])
    values = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` of a small array, by sorting (numpy 2.3's hash-based unique is ~6x slower)."""
    x = np.sort(x)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays (0.0 when both are empty)."""
    if not len(a) or not len(b):
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    pos = np.searchsorted(b, a)
    pos[pos == len(b)] = 0
    inter = int(np.count_nonzero(b[pos] == a))
    return inter / (len(a) + len(b) - inter)
