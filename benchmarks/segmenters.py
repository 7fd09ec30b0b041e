"""Word segmenters against the rule, on real Chinese, Japanese and Thai text on this machine.

For each language and segmenter (the library of crossling/segment_words.py vs the rule of
crossling/clean.py: single letters in spaceless text), over real documents (manual pages and
message catalogs, see benchmarks/realtext.py) it prints:

- median words per document and the pooled mean word length (characters per word);
- the spread of the per-document mean word length across documents (coefficient of variation;
  lower is a steadier signal from one document to the next);
- the within-document drift: |mean word length of the first half - of the second half| relative
  to the document's mean (lower: a document's signal does not depend on where it is cut);
- the share of documents whose Gopher top-2-gram fraction exceeds 0.20 (the default threshold):
  counting characters as words makes frequent character pairs look like repetition;
- throughput (characters per second, measured under load on a shared machine);
- near-duplicate recall: each document gets a copy with 1% of its characters edited (a seeded
  mix of deletions, insertions of a character of the text, and swapped neighbours) and its
  lines shuffled in one place; the exact Jaccard of the copy's shingles with the original's is
  compared with 0.8 (crossling's default near-dedup threshold). Shingles are character 5-grams
  (what crossling/dedup/minhash/ uses for spaceless scripts) or word 3-grams from the
  segmenter. Also the highest Jaccard between two *different* documents (false matches).

    python benchmarks/segmenters.py [--per-lang 40]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from realtext import catalog_documents, man_documents, thai_pages

from crossling.segment_words import WordSegmentConfig, word_signals, words


def measure(docs: list[str], lang: str, cfg: WordSegmentConfig) -> dict[str, float]:
    words(docs[0][:200], lang, cfg)  # load the segmenter outside the timing
    t0 = time.perf_counter()
    sig = [word_signals(d, lang, cfg) for d in docs]
    secs = time.perf_counter() - t0
    drift = []
    for d in docs:
        mid = len(d) // 2
        a, b = words(d[:mid], lang, cfg), words(d[mid:], lang, cfg)
        if a and b:
            ma, mb = sum(map(len, a)) / len(a), sum(map(len, b)) / len(b)
            drift.append(abs(ma - mb) / ((ma + mb) / 2))
    mwl = [s["mean_word_len"] for s in sig if s["n_words"]]
    n_words = [s["n_words"] for s in sig]
    total_chars = sum(s["mean_word_len"] * s["n_words"] for s in sig)
    return {
        "median_words": statistics.median(n_words),
        "mean_word_len": total_chars / max(1, sum(n_words)),
        "cv_word_len": statistics.pstdev(mwl) / statistics.mean(mwl),
        "drift": statistics.mean(drift),
        "top2_over_0.20": sum(s["top_2gram_frac"] > 0.20 for s in sig) / len(sig),
        "chars_per_s": sum(map(len, docs)) / secs,
    }


def _edit(text: str, rng: random.Random, rate: float = 0.01) -> str:
    chars = list(text)
    for _ in range(int(len(chars) * rate)):
        i = rng.randrange(len(chars))
        op = rng.randrange(3)
        if op == 0:
            del chars[i]
        elif op == 1:
            chars.insert(i, rng.choice(chars))
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    lines = "".join(chars).split("\n")
    if len(lines) > 3:
        k = rng.randrange(len(lines) - 1)
        lines[k], lines[k + 1] = lines[k + 1], lines[k]
    return "\n".join(lines)


def _shingles(text: str, lang: str, how: str) -> set:
    if how == "char5":
        t = "".join(text.lower().split())
        return {t[i : i + 5] for i in range(max(1, len(t) - 4))}
    w = [x.lower() for x in words(text, lang, WordSegmentConfig())]
    return {tuple(w[i : i + 3]) for i in range(max(1, len(w) - 2))}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / max(1, len(a | b))


def near_dup(docs: list[str], lang: str, seed: int = 0) -> dict[str, dict[str, float]]:
    rng = random.Random(seed)
    copies = [_edit(d, rng) for d in docs]
    out = {}
    for how in ("char5", "words3"):
        orig = [_shingles(d, lang, how) for d in docs]
        sims = [_jaccard(o, _shingles(c, lang, how)) for o, c in zip(orig, copies, strict=True)]
        cross = max(
            _jaccard(orig[i], orig[j]) for i in range(len(orig)) for j in range(i + 1, len(orig))
        )
        out[how] = {
            "recall@0.8": sum(s >= 0.8 for s in sims) / len(sims),
            "median_j": statistics.median(sims),
            "max_other": cross,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-lang", type=int, default=40)
    args = ap.parse_args()
    sets = {
        "zh": man_documents({"zh"}, args.per_lang) + catalog_documents("zh_CN", "zh", limit=20),
        "ja": man_documents({"ja"}, args.per_lang) + catalog_documents("ja", "ja", limit=20),
        "th": thai_pages() + catalog_documents("th", "th", limit=args.per_lang),
    }
    rule = WordSegmentConfig(segmenters={"zh": "rule", "ja": "rule", "th": "rule"})
    lib = WordSegmentConfig()
    keys = [
        "median_words",
        "mean_word_len",
        "cv_word_len",
        "drift",
        "top2_over_0.20",
        "chars_per_s",
    ]
    print(f"{'lang':4} {'segmenter':10} {'docs':>4} " + " ".join(f"{k:>14}" for k in keys))
    for lang, pairs in sets.items():
        docs = [t for _, t in pairs]
        for label, cfg in (("rule", rule), (lib.segmenter_name(lang), lib)):
            m = measure(docs, lang, cfg)
            vals = " ".join(
                f"{m[k]:>14.3f}" if k != "chars_per_s" else f"{m[k]:>14.0f}" for k in keys
            )
            print(f"{lang:4} {label:10} {len(docs):>4} {vals}")
    print("\nnear-duplicates (copies with 1% of characters edited), exact Jaccard of shingles:")
    for lang, pairs in sets.items():
        docs = list(dict.fromkeys(t for _, t in pairs))[:40]  # distinct documents
        for how, m in near_dup(docs, lang).items():
            print(
                f"{lang:4} {how:7} recall@0.8 {m['recall@0.8']:.3f}  median Jaccard "
                f"{m['median_j']:.3f}  highest Jaccard of two different documents {m['max_other']:.3f}"
            )


if __name__ == "__main__":
    main()
