"""The edited near-duplicate set of benchmarks/dedup.py, its ground truth and per-script scores.

Base documents are real text installed on this machine (man pages in ~30 languages, gettext
catalogs for Chinese, Japanese and Korean, the README and copyright files of Debian packages); the
near-copies are made from them, seeded, by the edits real near-copies have:

- ``typo``: 1-12 character edits (a letter replaced, dropped, doubled or swapped with the next;
  in Chinese/Japanese/Korean a character replaced by another of the same document);
- ``drop`` / ``add``: a line (sentence) removed, or a line of another document of the same
  language inserted;
- ``header`` / ``footer``: a boilerplate line (mirror notice, retrieval date, copyright, "last
  updated") added at the top or the bottom, localized for zh, ja, ko and ru;
- ``reorder``: two paragraphs (or lines) swapped;
- ``space``: line breaks reflowed (lines joined or split), spaces doubled or trimmed;
- ``punct``: punctuation changed (ASCII <-> full-width in CJK, quotes, commas, final stops).

Each copy gets 1 to 3, 8 or 20 edits (the budget is drawn per copy, so the similarities spread
across the thresholds that matter).

Ground truth is computed here, in plain Python, apart from the code under test:

- **char-5** (every script): the text lowercased, every run of whitespace made one space,
  stripped; a shingle is 5 consecutive characters (punctuation and spaces included);
- **word-5** (scripts with spaces): the ``\\w+`` words of the lowercased text; a shingle is 5
  consecutive words (texts with fewer words: one shingle of all of them).

Two documents are near-duplicates at threshold ``t`` when the exact Jaccard of their shingle sets
is ``>= t``; all pairs above the lowest threshold are found exactly (prefix filtering) and the
curves read off the higher ones.
"""

from __future__ import annotations

import collections
import glob
import gzip
import math
import os
import random
import re
import unicodedata

import numpy as np

CJK = ("zh", "ja", "ko")
SCRIPTS = ("Latn", "Cyrl", "CJK", "other")

# --- base documents ---------------------------------------------------------------------------


def doc_files(base: str = "/usr/share/doc", limit: int = 900) -> list[tuple[str, str]]:
    """(language, text) of README and copyright files of installed packages (~2.4 KB pieces)."""
    out = []
    paths = sorted(glob.glob(os.path.join(base, "*", "copyright")))
    paths += sorted(glob.glob(os.path.join(base, "*", "README*")))
    for path in paths:
        try:
            raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
        except (OSError, EOFError):
            continue
        text = raw.decode("utf-8", "replace")
        out.extend(("en", d) for d in chunks(text.split("\n\n"), 2400, "\n\n"))
    random.Random(7).shuffle(out)
    return out[:limit]


def chunks(parts: list[str], max_bytes: int, sep: str) -> list[str]:
    """Paragraphs grouped into documents of about ``max_bytes`` (at least 300 bytes each)."""
    out, cur, size = [], [], 0
    for p in parts:
        p = p.strip()
        if p:
            cur.append(p)
            size += len(p.encode()) + 1
        if size >= max_bytes:
            out.append(sep.join(cur))
            cur, size = [], 0
    if cur:
        out.append(sep.join(cur))
    return [d for d in out if len(d.encode()) >= 300]


def script_of(text: str) -> str:
    """The main script of a text: Latn, Cyrl, CJK (Han, Kana, Hangul) or other."""
    counts: collections.Counter[str] = collections.Counter()
    for ch in text[:2000]:
        if not ch.isalpha():
            continue
        o = ord(ch)
        if o < 0x250 or 0x1E00 <= o < 0x1F00:
            counts["Latn"] += 1
        elif 0x400 <= o < 0x530:
            counts["Cyrl"] += 1
        elif 0x1100 <= o < 0x1200 or 0x2E80 <= o < 0xA000 or 0xAC00 <= o < 0xD7B0:
            counts["CJK"] += 1
        elif 0xF900 <= o < 0xFB00 or 0xFF00 <= o < 0xFFF0 or o >= 0x20000:
            counts["CJK"] += 1
        else:
            counts["other"] += 1
    return counts.most_common(1)[0][0] if counts else "other"


# --- edits ------------------------------------------------------------------------------------

_BOILER = {
    "zh": [
        "本文转载自 {host}，获取时间 {y}年{m}月{d}日。",
        "版权所有 © {y} {host}。保留所有权利。",
        "最后更新：{y}-{m:02d}-{d:02d}",
    ],
    "ja": [
        "この記事は {host} から転載しました（{y}年{m}月{d}日取得）。",
        "Copyright © {y} {host} All rights reserved.",
        "最終更新日: {y}年{m}月{d}日",
    ],
    "ko": [
        "이 글은 {host}에서 가져왔습니다 ({y}년 {m}월 {d}일).",
        "저작권 © {y} {host}. 모든 권리 보유.",
        "마지막 수정: {y}-{m:02d}-{d:02d}",
    ],
    "ru": [
        "Зеркало {host}, получено {d:02d}.{m:02d}.{y}.",
        "© {y} {host}. Все права защищены.",
        "Последнее изменение: {d:02d}.{m:02d}.{y}",
    ],
    "": [
        "Mirrored from https://{host}/docs/ on {y}-{m:02d}-{d:02d}.",
        "Copyright (c) {y} {host}. All rights reserved.",
        "Last updated: {y}-{m:02d}-{d:02d} | Home | About | Contact",
        "This page is part of release {m}.{d} ({y}).",
    ],
}
_HOSTS = ["docs.example.org", "mirror.linux-docs.net", "wiki.osdn.jp", "manpages.club"]
_PUNCT_CJK = {"，": ",", "。": ".", "：": ":", "（": "(", "）": ")", "、": ",", "！": "!"}
_PUNCT_LATIN = {",": ";", ".": "", '"': "\u201c", "'": "\u2019", ":": " :", "-": "\u2013"}


def _boiler(lang: str, rng: random.Random) -> str:
    lines = _BOILER.get(lang[:2], _BOILER[""])
    return rng.choice(lines).format(
        host=rng.choice(_HOSTS),
        y=rng.randint(1998, 2025),
        m=rng.randint(1, 12),
        d=rng.randint(1, 28),
    )


def _typo(text: str, cjk: bool, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if not letters:
        return text
    i = rng.choice(letters)
    if cjk:
        return text[:i] + text[rng.choice(letters)] + text[i + 1 :]
    op = rng.randrange(4)
    if op == 0:  # replaced by another letter of the text
        return text[:i] + text[rng.choice(letters)] + text[i + 1 :]
    if op == 1:
        return text[:i] + text[i + 1 :]
    if op == 2:
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1 : i + 2] + text[i] + text[i + 2 :]


def edit_copy(text: str, lang: str, pool: list[str], rng: random.Random) -> str:
    """A near-copy of ``text`` (see the module doc for the edits)."""
    cjk = lang[:2] in CJK
    budget = rng.choice((3, 8, 20))
    for _ in range(rng.randint(1, budget)):
        op = rng.choices(
            ["typo", "drop", "add", "header", "footer", "reorder", "space", "punct"],
            [4, 2, 2, 1, 1, 1, 1, 1],
        )[0]
        lines = text.split("\n")
        i = rng.randrange(len(lines))
        if op == "typo":
            for _ in range(rng.randint(1, 12)):
                text = _typo(text, cjk, rng)
            continue
        if op == "drop" and len(lines) > 3:
            del lines[i]
        elif op == "add" and pool:
            other = [x for x in rng.choice(pool).split("\n") if x.strip()]
            if other:
                lines.insert(i, rng.choice(other))
        elif op == "header":
            lines.insert(0, _boiler(lang, rng))
        elif op == "footer":
            lines.append(_boiler(lang, rng))
        elif op == "reorder":
            paras = text.split("\n\n")
            unit, sep = (paras, "\n\n") if len(paras) > 2 else (lines, "\n")
            a, b = rng.randrange(len(unit)), rng.randrange(len(unit))
            unit[a], unit[b] = unit[b], unit[a]
            text = sep.join(unit)
            continue
        elif op == "space":
            j = rng.randrange(3)
            if j == 0 and len(lines) > 1:  # reflow: a line joined to the next
                lines[i : i + 2] = [" ".join(lines[i : i + 2])]
            elif j == 1:
                lines[i] = lines[i].replace(" ", "  ", rng.randint(1, 5))
            else:
                lines[i] = "\n".join(lines[i].split(". ", 1))
        else:  # punct
            table = _PUNCT_CJK if cjk else _PUNCT_LATIN
            src = rng.choice(list(table))
            lines[i] = lines[i].replace(src, table[src])
        text = "\n".join(lines)
    return text


def build_edited_set(
    base_docs: list[tuple[str, str]], n_base: int, seed: int = 22, share: float = 0.3
) -> list[dict]:
    """``n_base`` base documents (at most) plus 1-3 edited copies of a ``share`` of them.

    Returns records ``{"id", "text", "lang", "origin"}`` in a seeded random order.
    """
    rng = random.Random(seed)
    base = list(base_docs)
    rng.shuffle(base)
    base = base[:n_base]
    by_lang: dict[str, list[str]] = collections.defaultdict(list)
    for lang, text in base:
        by_lang[lang].append(text)
    records = [
        {"id": f"e{k:06d}", "text": t, "lang": lang, "origin": f"e{k:06d}"}
        for k, (lang, t) in enumerate(base)
    ]
    copies = []
    for r in records:
        if rng.random() < share:
            for c in range(rng.randint(1, 3)):
                text = edit_copy(r["text"], r["lang"], by_lang[r["lang"]], rng)
                copies.append(
                    {"id": f"{r['id']}-c{c}", "text": text, "lang": r["lang"], "origin": r["id"]}
                )
    records += copies
    rng.shuffle(records)
    return records


# --- ground truth (plain Python, independent of crossling) -------------------------------------

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def char_shingles(text: str, n: int = 5) -> set[str]:
    """char-5: lowercased, whitespace runs made one space, every n consecutive characters."""
    s = _SPACE.sub(" ", unicodedata.normalize("NFC", text).lower()).strip()
    return {s[i : i + n] for i in range(max(1, len(s) - n + 1))} if s else set()


def word_shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    """word-5: the ``\\w+`` words of the lowercased text, every n consecutive words."""
    w = _WORD.findall(text.lower())
    return {tuple(w[i : i + n]) for i in range(max(1, len(w) - n + 1))} if w else set()


def as_arrays(sets: list[set]) -> list[np.ndarray]:
    """Shingle sets as sorted int64 arrays (Python's hash, fixed within this process)."""
    return [np.unique(np.fromiter(map(hash, s), dtype=np.int64, count=len(s))) for s in sets]


def all_pairs(sets: list[np.ndarray], t: float) -> dict[tuple[int, int], float]:
    """Every pair with Jaccard >= t, exactly: prefix filtering (shingles ordered rarest first; two
    sets with Jaccard >= t share a shingle among the first ``|s| - ceil(t |s|) + 1`` of each),
    the length filter, then the exact Jaccard of every candidate. Vectorized over the prefixes."""
    n = len(sets)
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    flat = np.concatenate([s for s in sets if len(s)])
    uniq, inv = np.unique(flat, return_inverse=True)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(np.bincount(inv), kind="stable")] = np.arange(len(uniq))
    cols, toks, docs, pos = [], [], [], 0
    for i, size in enumerate(sizes.tolist()):
        c = np.sort(rank[inv[pos : pos + size]])
        pos += size
        cols.append(c)
        p = size - math.ceil(t * size - 1e-9) + 1 if size else 0
        toks.append(c[:p])
        docs.append(np.full(p, i, dtype=np.int64))
    tok, doc = np.concatenate(toks), np.concatenate(docs)
    order = np.lexsort((doc, tok))
    tok, doc = tok[order], doc[order]
    start = np.ones(len(tok), dtype=bool)
    start[1:] = tok[1:] != tok[:-1]
    gid = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    left = np.diff(np.append(first, len(tok)))[gid] - (np.arange(len(tok)) - first[gid])
    keys = []
    active = np.flatnonzero(left > 1)
    d = 1
    while len(active):  # pairs (i, i + d) within a token's group, d = 1, 2, ...
        keys.append(np.unique(doc[active] * n + doc[active + d]))
        d += 1
        active = active[left[active] > d]
    cand = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    x, y = cand // n, cand % n
    ok = np.minimum(sizes[x], sizes[y]) >= t * np.maximum(sizes[x], sizes[y])
    out = {}
    for a, b in zip(x[ok].tolist(), y[ok].tolist(), strict=True):
        inter = len(np.intersect1d(cols[a], cols[b], assume_unique=True))
        j = inter / (sizes[a] + sizes[b] - inter)
        if j >= t - 1e-12:
            out[(a, b)] = j
    return out


class Truth:
    """Exact near-duplicate pairs of a set of texts, on one shingle definition."""

    def __init__(
        self, texts: list[str], kind: str, lowest: float, subset: np.ndarray | None = None
    ):
        shingle = char_shingles if kind == "char-5" else word_shingles
        self.kind = kind
        self.sets = as_arrays([shingle(t) for t in texts])
        if subset is not None:  # documents outside the subset take no part (empty sets)
            self.sets = [s if keep else s[:0] for s, keep in zip(self.sets, subset, strict=True)]
        self.pairs = all_pairs(self.sets, lowest)

    def at(self, t: float) -> dict[tuple[int, int], float]:
        return {p: j for p, j in self.pairs.items() if j >= t - 1e-12}

    def jaccard(self, a: int, b: int) -> float:
        x, y = self.sets[a], self.sets[b]
        if not len(x) or not len(y):
            return 0.0
        inter = len(np.intersect1d(x, y, assume_unique=True))
        return inter / (len(x) + len(y) - inter)


# --- scores -----------------------------------------------------------------------------------


def _labels(n: int, pairs) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    e = np.array(list(pairs), dtype=np.int64).reshape(-1, 2)
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1]


def score(
    removed: dict[str, str | None],
    ids: list[str],
    truth: Truth,
    t: float,
    members: np.ndarray | None = None,
) -> dict[str, float]:
    """Per-document quality, independent of which copy a tool keeps.

    In each true cluster (connected components of the pairs >= t) of k documents, k-1 removals
    are right; any other removal is a false drop. ``members`` restricts the count to some
    documents (a script): its removals and the clusters' members among them.
    """
    index = {d: i for i, d in enumerate(ids)}
    labels = _labels(len(ids), truth.at(t).keys())
    mask = np.ones(len(ids), dtype=bool) if members is None else members
    size = np.bincount(labels[mask], minlength=labels.max() + 1)
    gone = collections.Counter(labels[index[d]] for d in removed if mask[index[d]])
    right = sum(min(k, max(0, size[c] - 1)) for c, k in gone.items())
    n_removed = sum(gone.values())
    should = int(np.maximum(size - 1, 0).sum())
    return {
        "removed": n_removed,
        "right": right,
        "false_drops": n_removed - right,
        "to_remove": should,
        "precision": right / n_removed if n_removed else 1.0,
        "recall": right / should if should else 1.0,
    }
