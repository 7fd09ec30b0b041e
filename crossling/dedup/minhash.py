"""MinHash LSH near-duplicate detection: script-aware shingles, signatures, bands, clusters.

A global stage in three parts, each a plain function over arrays and Parquet files:

- **map** (per partition): :func:`signatures` of the texts (or read back from the tagged work
  files, where the tag pass stored :func:`signature_array`), then :func:`band_table` -> one band
  file per partition (:func:`write_band_file`).
- **reduce** (once, corpus-wide, but split into independent band groups): :func:`plan_reduce`
  lists the band files of this run after the band indexes of earlier versions;
  :func:`candidate_edges` buckets one group of bands (several tasks can run side by side);
  :func:`cluster` optionally verifies the candidate pairs and finds connected components with
  ``scipy.sparse.csgraph``, giving the decisions: for every dropped document its
  ``duplicate_of``, for every kept representative its ``dup_cluster_size``.
- **filter** (per partition): :func:`filter_partition` applies the decisions to a partition's rows.

Shingles (``SHINGLING_VERSION`` ``minhash_v2``). Text is lowercased; punctuation, symbols and
whitespace are separators. With ``shingles='chars'`` (the default) every letter, mark and digit is
a token and a shingle is ``char_ngram`` consecutive tokens, in every script (separators skipped,
so a changed space or comma changes nothing, and a typo changes only ``char_ngram`` of the ~one
shingle per letter; benchmarks/dedup.py measured recall 0.97 against 0.71 with word shingles on
lightly edited copies, docs/near-dedup.md). With ``shingles='words'`` (``minhash_v1``'s
definition) digits become ``0``; in scripts that separate words with spaces a token is a word and a
shingle is ``ngram`` consecutive words; in Han, Kana, Hangul, Thai, Lao, Khmer and Myanmar every
character is a token and a shingle is ``char_ngram`` consecutive characters (these scripts write
words without spaces); a document mixing both gets both kinds. A document with fewer tokens than
``n`` gets one shingle of all of them; one without any letter or digit gets no shingle and is
never a near-duplicate (exact dedup handles those). The shingle hashes are computed over whole
batches (compiled, or numpy: the same numbers).

Signatures. ``num_perm`` 32-bit min-hashes per document, from rensa's R-MinHash over our 64-bit
shingle hashes (``RMinHash.digest_matrix_from_flat_token_hashes``). Chosen by measurement
(benchmarks/dedup.py, 4,000 real documents of 2.2 KB, 112 min-hashes, documents per CPU-second on
the same shingle hashes): rensa 129,000, numpy multiply-shift permutations over 64-bit hashes
8,600, datasketch 780; our numpy shingling runs at 20,000, so with rensa the signature is a
small part of the map. rensa's estimates are unbiased with the expected band-collision
probability ``s**r`` and, on small sets, a lower variance than independent permutations.
Signatures are only comparable for the same ``num_perm``, ``seed``, shingle settings,
:data:`SHINGLING_VERSION` and rensa ``ALGORITHM_VERSION`` (:meth:`NearDedupConfig.fingerprint`).

The S-curve. With ``b`` bands of ``r`` rows, two documents of Jaccard similarity ``s`` become
candidates with probability ``P(s) = 1 - (1 - s**r)**b`` (:func:`s_curve`); the curve is steepest
near ``(1/b)**(1/r)``. Unless given, ``b`` and ``r`` are chosen (``b*r <= num_perm``) to minimize
``(1-w)*FP + w*FN`` where ``FP = integral of P over [0, t]``, ``FN = integral of 1-P over [t, 1]``,
``t = threshold`` and ``w = recall_weight``: verification removes false candidates afterwards, so
the default leans to recall. Defaults (``threshold=0.8``, ``num_perm=128``, ``w=0.99``) give
18 bands x 7 rows (chosen with benchmarks/dedup.py: docs/near-dedup.md):

    s     0.50   0.60   0.70   0.75   0.80   0.85   0.90   0.95
    P(s)  0.132  0.400  0.787  0.924  0.986  0.999  1.000  1.000

(datatrove's 14 x 8 on 112 permutations: 0.053 0.211 0.565 0.772 0.924 0.988 1.0 1.0.)

Representatives. The earliest document of a cluster is kept: published versions (oldest first)
before this run, then the order of the band files (partition order), then the row order. So the
result never depends on which worker finished first, and documents of earlier versions are never
removed (checkpoints were trained on them).
"""

from __future__ import annotations

import functools
import math
import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossling.chartables import cached_table

try:  # the compiled shingling (crossling/_signals.c); without it, numpy (the same hashes)
    from crossling import _signals
except ImportError:  # pragma: no cover - a build without a C compiler
    _signals = None
if os.environ.get("CROSSLING_PURE_PYTHON"):  # the definitions only (to compare, or debug)
    _signals = None

# bump when shingles change: old signatures stop matching (v2: character shingles in every script
# by default, the `shingles` setting; v1 band files and indexes are refused, see plan_reduce)
SHINGLING_VERSION = "minhash_v2"
EMPTY_SLOT = np.uint32(0xFFFFFFFF)  # every slot of a document without shingles
NEAR_DUPLICATE = "near_duplicate"  # the REJECTS reason (crossling.documents.Reason)

# --- configuration ------------------------------------------------------------------------------


class NearDedupConfig(BaseModel):
    """MinHash LSH near-duplicate removal (``dedup.near`` in a corpus config)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run near-duplicate removal at all.")
    threshold: float = Field(
        0.8,
        gt=0.0,
        lt=1.0,
        description="Jaccard similarity of shingle sets above which two documents are "
        "near-duplicates. 0.7-0.85 is usual for web text; lower removes more (and more "
        "false positives when verify is 'none').",
    )
    shingles: Literal["chars", "words"] = Field(
        "chars",
        description="Shingle kind. 'chars': `char_ngram` consecutive letters and digits in every "
        "script (spaces and punctuation skipped), robust to typos and small edits; 'words': "
        "`ngram` consecutive words in scripts that separate words with spaces and `char_ngram` "
        "characters in the others (one typo changes `ngram` word shingles). Chosen by "
        "benchmarks/dedup.py (docs/near-dedup.md).",
    )
    ngram: int = Field(
        5,
        ge=1,
        le=32,
        description="Words per shingle in scripts that separate words with spaces, with "
        "shingles='words' (datatrove and FineWeb use 5).",
    )
    char_ngram: int = Field(
        5,
        ge=1,
        le=32,
        description="Characters per shingle: in every script with shingles='chars', else in "
        "Han, Kana, Hangul, Thai, Lao, Khmer and Myanmar text (written without spaces).",
    )
    num_perm: int = Field(
        128,
        ge=8,
        le=1024,
        description="Min-hashes per signature (4 bytes each). Fixed for a corpus: signatures "
        "stored in tagged files and indexes are only comparable with the same value.",
    )
    bands: int | None = Field(
        None,
        ge=1,
        description="LSH bands; with `rows` overrides the choice from `threshold` "
        "(bands * rows <= num_perm). More bands find more pairs and more false candidates.",
    )
    rows: int | None = Field(
        None, ge=1, description="Min-hashes per band; more rows make a band match rarer."
    )
    recall_weight: float = Field(
        0.99,
        ge=0.0,
        le=1.0,
        description="Weight of missed pairs against false candidates when bands x rows are "
        "chosen from the threshold (0.5 = equal; verification removes false candidates).",
    )
    seed: int = Field(
        42, ge=0, description="Seed of the min-hash permutations (fixed for a corpus)."
    )
    verify: Literal["none", "signature", "exact"] = Field(
        "exact",
        description="Check candidate pairs before clustering: 'exact' computes the true "
        "Jaccard of their shingle sets (pairs with a document of an earlier version fall back to "
        "'signature'), 'signature' the share of equal min-hashes, 'none' trusts the bands.",
    )
    signature_slack: float = Field(
        2.0,
        ge=0.0,
        description="'signature' verification keeps a pair whose estimate is at least "
        "threshold minus this many standard errors (sqrt(t(1-t)/num_perm)), so that true pairs "
        "near the threshold are not lost to estimation noise.",
    )
    band_groups: int = Field(
        4,
        ge=1,
        description="The reduce runs as this many independent tasks, each over a group of bands "
        "(memory per task: about 8 bytes per document and band of the group, plus 18 per "
        "document while one band is sorted).",
    )
    expand: int = Field(
        16,
        ge=0,
        description="When a candidate pair fails verification, check each document against up "
        "to this many verified partners of the other, and as many members of the other's "
        "cluster (0: off). Finds true pairs that shared no band; precision is unchanged since "
        "every pair added is verified.",
    )
    small_bucket: int = Field(
        8,
        ge=2,
        description="Buckets up to this size give every pair as a candidate; larger ones (a "
        "template shared by thousands of pages) give each member paired with the earliest.",
    )
    batch_chars: int = Field(
        1 << 18,
        ge=1 << 10,
        description="Characters shingled per numpy batch (cache-sized; longer documents are "
        "cut into pieces of this size, so memory stays bounded).",
    )

    @model_validator(mode="after")
    def _check_lsh(self) -> NearDedupConfig:
        b, r = self.lsh_params()
        if b * r > self.num_perm:
            raise ValueError(f"bands * rows = {b}*{r} = {b * r} exceeds num_perm = {self.num_perm}")
        return self

    def lsh_params(self) -> tuple[int, int]:
        """(bands, rows): the configured ones, else the best for ``threshold`` (see module doc)."""
        if self.bands and self.rows:
            return self.bands, self.rows
        if self.bands:
            return self.bands, max(1, self.num_perm // self.bands)
        if self.rows:
            return max(1, self.num_perm // self.rows), self.rows
        return optimal_bands(self.threshold, self.num_perm, self.recall_weight)

    def fingerprint(self) -> dict[str, Any]:
        """What two signatures must share to be comparable (stored with every band file/index)."""
        import rensa

        out = {
            "shingling": SHINGLING_VERSION,
            "shingles": self.shingles,
            "ngram": self.ngram,
            "char_ngram": self.char_ngram,
            "num_perm": self.num_perm,
            "seed": self.seed,
            "rensa_algorithm": int(rensa.RMinHash.ALGORITHM_VERSION),
        }
        if self.shingles == "chars":  # words per shingle play no part
            del out["ngram"]
        return out


def s_curve(bands: int, rows: int, s: float | np.ndarray) -> float | np.ndarray:
    """Probability that two documents of Jaccard similarity ``s`` share at least one band."""
    return 1.0 - (1.0 - np.asarray(s, dtype=np.float64) ** rows) ** bands


@functools.cache
def optimal_bands(threshold: float, num_perm: int, recall_weight: float = 0.5) -> tuple[int, int]:
    """Bands and rows (``b*r <= num_perm``) minimizing the weighted false positive and negative areas."""
    s = np.linspace(0.0, 1.0, 1001)
    below = s < threshold
    best = (math.inf, 1, num_perm)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = s_curve(b, r, s)
            fp = np.trapezoid(np.where(below, p, 0.0), s)
            fn = np.trapezoid(np.where(below, 0.0, 1.0 - p), s)
            cost = (1.0 - recall_weight) * fp + recall_weight * fn
            if cost < best[0] - 1e-12:
                best = (cost, b, r)
    return best[1], best[2]


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


# --- signatures ---------------------------------------------------------------------------------


def signatures(texts: Sequence[str], config: NearDedupConfig | None = None) -> np.ndarray:
    """MinHash signatures: a ``(len(texts), num_perm)`` uint32 array.

    A text without any shingle (empty, only punctuation) gets every slot ``0xFFFFFFFF``
    (:func:`empty_rows` finds them); such rows never become candidates.
    """
    import rensa

    cfg = config or NearDedupConfig()
    if isinstance(texts, pa.ChunkedArray | pa.Array):
        texts = texts.to_pylist()
    out = np.empty((len(texts), cfg.num_perm), dtype=np.uint32)
    start, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text) if isinstance(text, str) else 0
        if size >= cfg.batch_chars or i == len(texts) - 1:
            batch = texts[start : i + 1]
            h, off = shingle_hashes(batch, cfg)
            if len(h):
                m = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
                    h, off, cfg.num_perm, cfg.seed
                )
                out[start : i + 1] = np.asarray(m.to_rows(), dtype=np.uint32)
            else:
                out[start : i + 1] = EMPTY_SLOT
            start, size = i + 1, 0
    return out


def empty_rows(sigs: np.ndarray) -> np.ndarray:
    """Boolean mask of signatures of documents without shingles."""
    return np.all(sigs == EMPTY_SLOT, axis=1)


def signature_type(num_perm: int) -> pa.DataType:
    """Arrow type of a signature column: ``fixed_size_list<uint32>[num_perm]``."""
    return pa.list_(pa.uint32(), num_perm)


def signature_array(sigs: np.ndarray) -> pa.FixedSizeListArray:
    """A signature matrix as an Arrow column (zero-copy), for tagged work files and indexes."""
    sigs = np.ascontiguousarray(sigs, dtype=np.uint32)
    return pa.FixedSizeListArray.from_arrays(pa.array(sigs.reshape(-1)), sigs.shape[1])


def signatures_from_arrow(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The inverse of :func:`signature_array` (a ``(n, num_perm)`` uint32 array); also reads a
    variable-size ``list<uint32>`` column whose rows all have the same length."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        raise ValueError("signature column has nulls: compute signatures for every row")
    values = column.flatten().to_numpy(zero_copy_only=False).astype(np.uint32, copy=False)
    if pa.types.is_fixed_size_list(column.type):
        return values.reshape(-1, column.type.list_size)
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        raise ValueError("signatures of different lengths in one column")
    return values.reshape(len(column), int(lengths[0]) if len(lengths) else 0)


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of equal min-hashes, row by row (an unbiased estimate of the Jaccard similarity)."""
    return np.mean(a == b, axis=-1)


# --- map: band keys per document ------------------------------------------------------------------


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per band: ``(n, bands)`` uint64 (equal keys = the band's rows all equal)."""
    n = sigs.shape[0]
    x = sigs[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    acc = np.broadcast_to(_BAND_MULT[:bands], (n, bands)).copy()
    for k in range(rows):
        acc ^= x[:, :, k]
        acc *= _BAND_MULT[(k + 1) % len(_BAND_MULT)]
        acc ^= acc >> np.uint64(29)
    return _mix(acc)


def band_column(j: int) -> str:
    return f"b{j:03d}"


def band_table(
    ids: Sequence[str] | pa.Array | pa.ChunkedArray,
    sigs: np.ndarray,
    config: NearDedupConfig,
    rows: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> pa.Table:
    """The map output of one partition: ``id``, ``row``, ``weight``, one uint64 column per band,
    ``signature``.

    Documents without shingles are left out (they cannot be near-duplicates). ``rows`` are the
    positions the filter step will see (default ``0..n-1``, the order of ``ids``); ``weights`` how
    many documents each already stands for (an earlier exact dedup's ``dup_cluster_size``;
    default 1), summed into the representative's ``dup_cluster_size``.
    """
    b, r = config.lsh_params()
    n = sigs.shape[0]
    if len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} signatures")
    rows = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    keep = ~empty_rows(sigs)
    sigs = sigs[keep]
    keys = band_keys(sigs, b, r)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    id_arr = ids if isinstance(ids, pa.Array) else pa.array(list(ids), pa.string())
    w = np.ones(n, dtype=np.int32) if weights is None else np.asarray(weights, dtype=np.int32)
    cols: dict[str, pa.Array] = {
        "id": id_arr.cast(pa.string()).filter(pa.array(keep)),
        "row": pa.array(rows[keep]),
        "weight": pa.array(w[keep], pa.int32()),
    }
    for j in range(b):
        cols[band_column(j)] = pa.array(keys[:, j])
    cols["signature"] = signature_array(sigs)
    meta = {"crossling.minhash": _json({**config.fingerprint(), "bands": b, "rows": r})}
    return pa.table(cols).replace_schema_metadata(meta)


def write_band_file(table: pa.Table, path: str, fs: fsspec.AbstractFileSystem | None = None) -> str:
    """Write a band table atomically (keeps its metadata); returns the path."""
    from crossling.shards import write_shard

    write_shard(_fs(fs), path, table)
    return path


# --- reduce: buckets -> candidate pairs -> clusters ------------------------------------------------


@dataclass(frozen=True)
class BandSource:
    """One band file (this run) or one earlier version's band index, in the global order."""

    path: str
    rows: int  # documents in the file
    offset: int  # global number of its first document
    partition: int | None  # this run's partition index; None for an earlier version
    version: str | None  # the earlier version's name; None for this run
    bands: int
    band_rows: int


@dataclass(frozen=True)
class ReducePlan:
    """The global numbering of documents: earlier versions first, then this run's partitions."""

    sources: tuple[BandSource, ...]
    n_old: int  # documents of earlier versions (numbers 0 .. n_old-1)
    n_total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [asdict(s) for s in self.sources],
            "n_old": self.n_old,
            "n_total": self.n_total,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReducePlan:
        return cls(tuple(BandSource(**s) for s in d["sources"]), d["n_old"], d["n_total"])

    def locate(self, nodes: np.ndarray) -> np.ndarray:
        """Index into ``sources`` of each global document number."""
        offsets = np.array([s.offset for s in self.sources], dtype=np.int64)
        return np.searchsorted(offsets, nodes, side="right") - 1


def _fs(fs: fsspec.AbstractFileSystem | None) -> fsspec.AbstractFileSystem:
    if fs is None:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()
    return fs


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, sort_keys=True)


def read_minhash_meta(path: str, fs: fsspec.AbstractFileSystem | None = None) -> dict[str, Any]:
    """The settings a band file or index was made with (its Parquet metadata)."""
    import json

    with _fs(fs).open(path, "rb") as f:
        pf = pq.ParquetFile(f)
        meta = pf.schema_arrow.metadata or {}
        rows = pf.metadata.num_rows
    raw = meta.get(b"crossling.minhash")
    if raw is None:
        raise ValueError(f"{path}: not a MinHash band file (no crossling.minhash metadata)")
    return {**json.loads(raw), "num_rows": rows}


class IncompatibleSignatures(ValueError):
    """Band files or indexes made with settings whose signatures cannot be compared."""


def plan_reduce(
    band_files: Sequence[str],
    config: NearDedupConfig,
    index_files: Sequence[tuple[str, str]] = (),
    fs: fsspec.AbstractFileSystem | None = None,
    partitions: Sequence[int] | None = None,
) -> ReducePlan:
    """Number every document: the indexes of earlier versions first, then the band files.

    Args:
        band_files: this run's band files, in partition order.
        config: this run's settings.
        index_files: ``(version, path)`` of earlier versions' band indexes, oldest first
            (:func:`crossling.dedup.index.load_indexes`).
        fs: the filesystem of all paths (default: local).
        partitions: the partition index of each band file (default ``0, 1, ...``); decisions
            name partitions by these.

    Raises:
        IncompatibleSignatures: a file made with other shingle or signature settings.
    """
    want = config.fingerprint()
    sources: list[BandSource] = []
    offset = 0
    parts = list(range(len(band_files))) if partitions is None else list(partitions)
    if len(parts) != len(band_files):
        raise ValueError(f"{len(parts)} partition indexes for {len(band_files)} band files")
    entries = [(v, p, None) for v, p in index_files] + [
        (None, p, i) for i, p in zip(parts, band_files, strict=True)
    ]
    for version, path, part in entries:
        meta = read_minhash_meta(path, fs)
        diff = {k: (meta.get(k), v) for k, v in want.items() if meta.get(k) != v}
        if diff:
            what = ", ".join(f"{k}={a} (this run: {b})" for k, (a, b) in sorted(diff.items()))
            raise IncompatibleSignatures(
                f"{path}: made with {what}; its signatures cannot be compared with this run's. "
                "Keep these settings fixed for a corpus, or rebuild the index "
                "(crossling.dedup.index.build_index)."
            )
        rows = int(meta["num_rows"])
        sources.append(
            BandSource(path, rows, offset, part, version, int(meta["bands"]), int(meta["rows"]))
        )
        offset += rows
    n_old = sum(s.rows for s in sources if s.partition is None)
    return ReducePlan(tuple(sources), n_old, offset)


def band_group_list(config: NearDedupConfig) -> list[list[int]]:
    """The bands split into ``config.band_groups`` contiguous groups (one reduce task each)."""
    b, _ = config.lsh_params()
    groups = np.array_split(np.arange(b), min(b, config.band_groups))
    return [g.tolist() for g in groups if len(g)]


def _read_band_keys(
    src: BandSource,
    bands: Sequence[int],
    config: NearDedupConfig,
    fs: fsspec.AbstractFileSystem,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (``(len(bands), rows)``) with one source's keys, batch by batch; recomputed
    from the signatures when the source was banded with other bands x rows."""
    b, r = config.lsh_params()
    with fs.open(src.path, "rb") as f:
        pf = pq.ParquetFile(f)
        row = 0
        if (src.bands, src.band_rows) == (b, r):
            cols = [band_column(j) for j in bands]
            for batch in pf.iter_batches(columns=cols, batch_size=65536, use_threads=False):
                for i in range(len(bands)):
                    out[i, row : row + batch.num_rows] = batch.column(i).to_numpy()
                row += batch.num_rows
            return
        for batch in pf.iter_batches(columns=["signature"], batch_size=65536, use_threads=False):
            sig = signatures_from_arrow(batch.column(0))
            out[:, row : row + len(sig)] = band_keys(sig, b, r)[:, list(bands)].T
            row += len(sig)


def candidate_edges(
    plan: ReducePlan,
    bands: Sequence[int],
    config: NearDedupConfig,
    fs: fsspec.AbstractFileSystem | None = None,
) -> np.ndarray:
    """Candidate pairs from one group of bands: an ``(k, 2)`` int64 array of global numbers.

    Independent of the other groups, so groups can run as separate tasks. In every bucket (equal
    band key) each document of this run is paired with the bucket's earliest document, and, in
    buckets of at most ``small_bucket`` documents, with every earlier one (so that verification
    has alternatives). Pairs of two documents of earlier versions are never produced.
    Memory: 8 bytes per document and band of the group, plus about 18 per document.
    """
    fs = _fs(fs)
    bands = list(bands)
    keys = np.zeros((len(bands), plan.n_total), dtype=np.uint64)  # a band's keys contiguous
    for src in plan.sources:
        if src.rows:
            _read_band_keys(src, bands, config, fs, keys[:, src.offset : src.offset + src.rows])
    edges: list[np.ndarray] = []
    for j in range(len(bands)):
        edges.append(_bucket_pairs(keys[j], plan.n_old, config.small_bucket))
    del keys
    return unique_edges(edges)


def _bucket_pairs(keys: np.ndarray, n_old: int, small_bucket: int) -> np.ndarray:
    """Pairs (earlier, later) of documents with the same key (see :func:`candidate_edges`).

    Memory: the sort order and the sorted keys (16 bytes per document) and two masks; the
    buckets themselves are worked out on the (few) documents that share a key.
    """
    n = len(keys)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(keys)  # not stable (a stable sort needs more memory): reordered below
    sk = keys[order]
    eq = sk[1:] == sk[:-1]
    del sk
    shared = np.zeros(n, dtype=bool)
    shared[1:] = eq
    shared[:-1] |= eq
    idx = np.flatnonzero(shared)
    if not len(idx):
        return np.zeros((0, 2), dtype=np.int64)
    members = order[idx]  # documents in buckets of 2 or more, bucket by bucket
    start = np.ones(len(idx), dtype=bool)  # first member of its bucket
    start[1:] = ~eq[idx[1:] - 1]
    del order, eq, shared
    m = len(members)
    group = np.cumsum(start) - 1
    members = members[np.lexsort((members, group))]  # each bucket in global order
    first = np.flatnonzero(start)
    size = np.diff(np.append(first, m))[group]
    out = []
    later = ~start & (members >= n_old)  # each member of this run, but the first
    out.append(np.column_stack([members[first[group[later]]], members[later]]))
    small = size <= small_bucket
    largest = int(size[small].max(initial=0))
    for d in range(1, largest - 1):  # pairs (i, i+d) of small buckets, i not the first member
        i = np.flatnonzero(small[: m - d] & ~start[: m - d])
        i = i[(group[i] == group[i + d]) & (members[i + d] >= n_old)]
        if len(i):
            out.append(np.column_stack([members[i], members[i + d]]))
    return np.concatenate(out).astype(np.int64, copy=False)


def unique_edges(edges: Iterable[np.ndarray]) -> np.ndarray:
    """Concatenate pair arrays, orient each pair (smaller first), drop repeats."""
    parts = [e for e in edges if len(e)]
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    e = np.concatenate(parts)
    e = np.sort(e, axis=1)
    e = e[e[:, 0] != e[:, 1]]
    return np.unique(e, axis=0)


def needed_nodes(plan: ReducePlan, edges: np.ndarray) -> dict[int, np.ndarray]:
    """For exact verification: partition -> the global numbers of its documents in ``edges``."""
    nodes = np.unique(edges)
    nodes = nodes[nodes >= plan.n_old]
    which = plan.locate(nodes)
    return {int(plan.sources[si].partition): nodes[which == si] for si in np.unique(which)}


def rows_of(
    plan: ReducePlan, nodes: np.ndarray, fs: fsspec.AbstractFileSystem | None = None
) -> np.ndarray:
    """The partition row (what the filter sees) of each global number of this run."""
    fs = _fs(fs)
    nodes = np.asarray(nodes, dtype=np.int64)
    which = plan.locate(nodes)
    rows = np.zeros(len(nodes), dtype=np.int64)
    for si in np.unique(which):
        sel = which == si
        src = plan.sources[si]
        rows[sel] = _read_column(src, "row", nodes[sel] - src.offset, fs).to_numpy()
    return rows


def _read_column(
    src: BandSource, column: str, local_rows: np.ndarray, fs: fsspec.AbstractFileSystem
) -> pa.Array:
    with fs.open(src.path, "rb") as f:
        col = pq.ParquetFile(f).read(columns=[column]).column(0)
    return col.take(pa.array(local_rows)).combine_chunks()


def _node_values(
    plan: ReducePlan, nodes: np.ndarray, column: str, fs: fsspec.AbstractFileSystem
) -> list[pa.Array]:
    """A column's values for sorted unique global numbers, as one array per source touched."""
    which = plan.locate(nodes)
    return [
        _read_column(plan.sources[si], column, nodes[which == si] - plan.sources[si].offset, fs)
        for si in np.unique(which)
    ]


def verify_edges(
    plan: ReducePlan,
    edges: np.ndarray,
    config: NearDedupConfig,
    fs: fsspec.AbstractFileSystem | None = None,
    exact_sets: dict[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the candidate pairs that pass the configured check.

    With ``expand``, a pair that fails also has each of its documents checked against the other's
    verified partners and cluster: a true pair that shared no band but is close is found, and,
    the check being the same, precision is unchanged.

    Args:
        plan: the numbering.
        edges: candidate pairs (global numbers).
        config: ``verify``, ``threshold``, ``signature_slack``, ``expand``.
        fs: filesystem of the band files.
        exact_sets: for ``verify == 'exact'``: global number -> sorted unique shingle hashes of
            every document of this run in ``edges`` (:func:`needed_nodes`, :func:`rows_of`,
            :func:`shingle_sets`).

    Returns:
        ``(edges, similarity)``: the pairs kept and their similarity (exact, or estimated where
        the check used signatures; NaN when not verified).
    """
    if not len(edges) or config.verify == "none":
        return edges, np.full(len(edges), np.nan, dtype=np.float32)
    fs = _fs(fs)
    sigs = _SignatureCache(plan, fs)
    sim, ok = _check(plan, edges, config, sigs, exact_sets)
    kept, kept_sim = edges[ok], sim[ok]
    if config.expand and (~ok).any() and ok.any():
        extra = _one_step(edges[~ok], kept, edges, config.expand, plan.n_old)
        if len(extra):
            sim2, ok2 = _check(plan, extra, config, sigs, exact_sets)
            kept = np.concatenate([kept, extra[ok2]])
            kept_sim = np.concatenate([kept_sim, sim2[ok2]])
    return kept, kept_sim.astype(np.float32)


class _SignatureCache:
    """Signatures of documents read from the band files on demand (for 'signature' checks)."""

    def __init__(self, plan: ReducePlan, fs: fsspec.AbstractFileSystem):
        self.plan, self.fs = plan, fs
        self.nodes = np.zeros(0, dtype=np.int64)
        self.sigs = np.zeros((0, 0), dtype=np.uint32)

    def get(self, nodes: np.ndarray) -> np.ndarray:
        missing = np.setdiff1d(nodes, self.nodes)
        if len(missing):
            new = np.concatenate(
                [
                    signatures_from_arrow(a)
                    for a in _node_values(self.plan, missing, "signature", self.fs)
                ]
            )
            allnodes = np.concatenate([self.nodes, missing])
            allsigs = np.concatenate([self.sigs, new]) if len(self.sigs) else new
            order = np.argsort(allnodes)
            self.nodes, self.sigs = allnodes[order], allsigs[order]
        return self.sigs[np.searchsorted(self.nodes, nodes)]


def _check(
    plan: ReducePlan,
    edges: np.ndarray,
    config: NearDedupConfig,
    sigs: _SignatureCache,
    exact_sets: dict[int, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, passes) of each pair: exact where both sets are known, else by signatures."""
    sim = np.full(len(edges), np.nan, dtype=np.float64)
    use_sig = np.ones(len(edges), dtype=bool)
    if config.verify == "exact":
        if exact_sets is None:
            raise ValueError("verify='exact' needs the shingle sets of the documents in the pairs")
        both_new = edges[:, 0] >= plan.n_old
        for k in np.flatnonzero(both_new):
            a, b = edges[k]
            sim[k] = jaccard(exact_sets[int(a)], exact_sets[int(b)])
        use_sig = ~both_new
    if use_sig.any():
        sub = edges[use_sig]
        sim[use_sig] = estimated_jaccard(sigs.get(sub[:, 0]), sigs.get(sub[:, 1]))
    t = config.threshold
    floor = np.full(len(edges), t)
    floor[use_sig] = t - config.signature_slack * math.sqrt(t * (1 - t) / config.num_perm)
    return sim, sim >= floor - 1e-9


def _one_step(
    failed: np.ndarray, kept: np.ndarray, tried: np.ndarray, limit: int, n_old: int
) -> np.ndarray:
    """Pairs (a, c) for a failed pair (a, b) and c a verified partner of b, or a member of b's
    cluster of verified pairs (at most ``limit`` of each: the earliest)."""
    from scipy.sparse import coo_matrix  # here: scipy costs workers that never reduce 0.2 s
    from scipy.sparse.csgraph import connected_components

    nodes, inv = np.unique(kept, return_inverse=True)
    inv = inv.reshape(-1, 2)
    m = len(nodes)
    graph = coo_matrix((np.ones(len(inv), dtype=np.int8), (inv[:, 0], inv[:, 1])), shape=(m, m))
    _, label = connected_components(graph, directed=False)
    by_label = np.lexsort((nodes, label))  # members of each cluster together, earliest first
    first_of = np.searchsorted(label[by_label], np.arange(label.max() + 1))
    end_of = np.append(first_of[1:], m)
    both = np.concatenate([inv, inv[:, ::-1]])
    both = both[np.argsort(both[:, 0], kind="stable")]
    p_first = np.searchsorted(both[:, 0], np.arange(m))
    p_end = np.searchsorted(both[:, 0], np.arange(m), side="right")
    out = []
    for a, b in np.concatenate([failed, failed[:, ::-1]]):
        i = np.searchsorted(nodes, b)
        if i == m or nodes[i] != b:
            continue
        c = label[i]
        members = nodes[by_label[first_of[c] : min(end_of[c], first_of[c] + limit)]]
        partners = nodes[both[p_first[i] : min(p_end[i], p_first[i] + limit), 1]]
        near = np.union1d(members, partners)
        near = near[near != a]
        out.append(np.column_stack([np.full(len(near), a), near]))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    extra = unique_edges(out)
    # leave out pairs already checked, and pairs of two documents of earlier versions
    done = {(int(x), int(y)) for x, y in tried}
    keep = [(int(x), int(y)) not in done for x, y in extra]
    extra = extra[np.array(keep, dtype=bool)]
    return extra[extra[:, 1] >= n_old] if len(extra) else extra


DECISIONS_SCHEMA = pa.schema(
    [
        pa.field("partition", pa.int32(), nullable=False),  # this run's partition index
        pa.field("row", pa.int64(), nullable=False),  # the row the filter sees
        pa.field("id", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string()),  # the kept representative; null = kept
        pa.field("duplicate_of_version", pa.string()),  # its earlier version; null = this run
        pa.field("similarity", pa.float32()),  # of the pair that linked it (NaN: not verified)
        pa.field("dup_cluster_size", pa.int32(), nullable=False),  # kept rows: cluster size
    ]
)


def cluster(
    plan: ReducePlan,
    edges: np.ndarray,
    similarity: np.ndarray | None = None,
    fs: fsspec.AbstractFileSystem | None = None,
) -> pa.Table:
    """Connected components of the (verified) pairs; one representative each (the earliest).

    Returns:
        The decisions (:data:`DECISIONS_SCHEMA`) for this run's documents that are in a cluster:
        each dropped one with ``duplicate_of`` (and the version it is in, when earlier), each kept
        representative with its ``dup_cluster_size`` (the weights of the documents of this run it
        stands for: each counts what it already stood for, see :func:`band_table`).
        Documents absent from the table are kept with ``dup_cluster_size`` 1.
    """
    fs = _fs(fs)
    if not len(edges):
        return DECISIONS_SCHEMA.empty_table()
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes, inv = np.unique(edges, return_inverse=True)
    inv = inv.reshape(-1, 2)
    m = len(nodes)
    graph = coo_matrix(
        (np.ones(len(inv), dtype=np.int8), (inv[:, 0], inv[:, 1])), shape=(m, m)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    # nodes are sorted, so the first node of each label is its earliest document
    _, first = np.unique(labels, return_index=True)
    rep = nodes[first][labels]
    new = nodes >= plan.n_old
    weight = np.ones(m, dtype=np.int64)
    if new.any():
        weight[new] = _weights_of(plan, nodes[new], fs)
    sizes = np.bincount(labels, weights=weight).astype(np.int64)[labels]
    # the similarity of the pair that links a dropped document to its cluster (best one)
    sim_of = np.full(m, -1.0, dtype=np.float32)
    if similarity is not None and len(similarity):
        s = np.nan_to_num(similarity.astype(np.float32), nan=-1.0)
        for col in (0, 1):
            np.maximum.at(sim_of, inv[:, col], s)
    sim_of[sim_of < 0] = np.nan
    keep_new = new  # decisions only for this run's documents
    nodes_new = nodes[keep_new]
    rep_new = rep[keep_new]
    dropped = nodes_new != rep_new

    ids = ids_of(plan, nodes_new, fs)
    rep_ids_needed = np.unique(rep_new[dropped])
    rep_id_map = dict(zip(rep_ids_needed.tolist(), ids_of(plan, rep_ids_needed, fs), strict=True))
    which = plan.locate(nodes_new)
    partition = np.array([plan.sources[i].partition for i in which], dtype=np.int32)
    rows = rows_of(plan, nodes_new, fs)
    rep_src = plan.locate(rep_new)
    dup_of = [rep_id_map[int(r)] if d else None for r, d in zip(rep_new, dropped, strict=True)]
    dup_ver = [
        plan.sources[s].version if d else None for s, d in zip(rep_src, dropped, strict=True)
    ]
    cluster_size = np.where(dropped, 1, sizes[keep_new]).astype(np.int32)
    table = pa.table(
        {
            "partition": pa.array(partition, pa.int32()),
            "row": pa.array(rows, pa.int64()),
            "id": pa.array(ids, pa.string()),
            "duplicate_of": pa.array(dup_of, pa.string()),
            "duplicate_of_version": pa.array(dup_ver, pa.string()),
            "similarity": pa.array(np.where(dropped, sim_of[keep_new], np.nan), pa.float32()),
            "dup_cluster_size": pa.array(cluster_size, pa.int32()),
        },
        schema=DECISIONS_SCHEMA,
    )
    return table


def _weights_of(plan: ReducePlan, nodes: np.ndarray, fs: fsspec.AbstractFileSystem) -> np.ndarray:
    """Each (sorted) node's weight; 1 for band files written before weights existed."""
    out = np.ones(len(nodes), dtype=np.int64)
    which = plan.locate(nodes)
    for si in np.unique(which):
        src = plan.sources[si]
        with fs.open(src.path, "rb") as f:
            if "weight" not in pq.ParquetFile(f).schema_arrow.names:
                continue
        sel = which == si
        out[sel] = _read_column(src, "weight", nodes[sel] - src.offset, fs).to_numpy()
    return out


def ids_of(plan: ReducePlan, nodes: np.ndarray, fs: fsspec.AbstractFileSystem) -> list[str]:
    """The document ids of some nodes (in the order given)."""
    if not len(nodes):
        return []
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    vals = pa.concat_arrays(_node_values(plan, sorted_nodes, "id", fs)).to_pylist()
    out: list[str] = [""] * len(nodes)
    for pos, v in zip(order.tolist(), vals, strict=True):
        out[pos] = v
    return out


def reduce(
    plan: ReducePlan,
    config: NearDedupConfig,
    fs: fsspec.AbstractFileSystem | None = None,
    exact_sets: dict[int, np.ndarray] | None = None,
) -> pa.Table:
    """All of the reduce in one process: every band group, verification, clusters.

    For ``verify == 'exact'`` pass ``exact_sets`` (see :func:`verify_edges`) or use
    :func:`candidate_edges`, :func:`needed_nodes`, :func:`verify_edges`, :func:`cluster` step by
    step (the corpus stage and ``crossling dedup`` do, to spread the work over tasks).
    """
    edges = unique_edges(candidate_edges(plan, g, config, fs) for g in band_group_list(config))
    edges, sim = verify_edges(plan, edges, config, fs, exact_sets)
    return cluster(plan, edges, sim, fs)


def decisions_for(decisions: pa.Table, partition: int) -> pa.Table:
    """The decisions of one partition (what its filter task needs)."""
    import pyarrow.compute as pc

    return decisions.filter(pc.equal(decisions.column("partition"), partition))


# --- filter ---------------------------------------------------------------------------------------

REJECT_COLUMNS = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
    ]
)


@dataclass
class PartitionDecisions:
    """One partition's decisions as arrays over its rows (what a writer of REJECTS rows needs)."""

    drop: np.ndarray  # bool: near-duplicate, leave the row out
    dup_cluster_size: np.ndarray  # int32: 1, or the cluster size on a representative
    duplicate_of: list[str | None]  # the kept document, for dropped rows
    detail: list[str | None]  # e.g. "jaccard 0.912, of a document in version ..."


def partition_decisions(decisions: pa.Table, n_rows: int) -> PartitionDecisions:
    """Spread one partition's decisions (:func:`decisions_for`) over its ``n_rows`` rows."""
    size = np.ones(n_rows, dtype=np.int32)
    drop = np.zeros(n_rows, dtype=bool)
    dup_of: list[str | None] = [None] * n_rows
    detail: list[str | None] = [None] * n_rows
    if decisions.num_rows:
        rows = decisions.column("row").to_numpy()
        if rows.max(initial=-1) >= n_rows:
            raise ValueError(
                f"decisions name row {int(rows.max())} of a partition of {n_rows} rows"
            )
        is_drop = decisions.column("duplicate_of").is_valid().to_numpy(zero_copy_only=False)
        drop[rows[is_drop]] = True
        size[rows[~is_drop]] = decisions.column("dup_cluster_size").to_numpy()[~is_drop]
        cols = [decisions.column(c).to_pylist() for c in ("duplicate_of", "similarity")]
        versions = decisions.column("duplicate_of_version").to_pylist()
        for k in np.flatnonzero(is_drop):
            r = int(rows[k])
            dup_of[r] = cols[0][k]
            detail[r] = _detail(cols[1][k], versions[k])
    return PartitionDecisions(drop, size, dup_of, detail)


def filter_partition(
    table: pa.Table, decisions: pa.Table, also_drop: np.ndarray | None = None
) -> tuple[pa.Table, pa.Table]:
    """Apply one partition's decisions to its rows (row ``i`` of ``table`` is ``row == i``).

    ``also_drop`` marks rows another step removed (they are in neither output).

    Returns:
        ``(kept, rejects)``: ``kept`` is ``table`` without the dropped rows and with
        ``dup_cluster_size`` set (1 unless a representative); ``rejects`` has ``id``,
        ``duplicate_of``, ``reason`` (``near_duplicate``) and ``detail``, in row order.
    """
    d = partition_decisions(decisions, table.num_rows)
    keep = ~d.drop if also_drop is None else ~d.drop & ~np.asarray(also_drop, dtype=bool)
    kept = table.filter(pa.array(keep))
    col = pa.array(d.dup_cluster_size[keep], pa.int32())
    if "dup_cluster_size" in kept.column_names:
        kept = kept.set_column(kept.column_names.index("dup_cluster_size"), "dup_cluster_size", col)
    else:
        kept = kept.append_column("dup_cluster_size", col)
    gone = np.flatnonzero(d.drop)
    rejects = pa.table(
        {
            "id": table.column("id").take(pa.array(gone)).cast(pa.string()),
            "duplicate_of": pa.array([d.duplicate_of[i] for i in gone], pa.string()),
            "reason": pa.array([NEAR_DUPLICATE] * len(gone), pa.string()),
            "detail": pa.array([d.detail[i] for i in gone], pa.string()),
        },
        schema=REJECT_COLUMNS,
    )
    return kept, rejects


def _detail(similarity: float | None, version: str | None) -> str:
    parts = []
    if similarity is not None and not math.isnan(similarity):
        parts.append(f"jaccard {similarity:.3f}")
    parts.append(f"of a document in version {version}" if version else "in this run")
    return ", ".join(parts)
