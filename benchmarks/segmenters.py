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
- throughput (characters per second, measured under load on a shared machine).

    python benchmarks/segmenters.py [--per-lang 40]
"""

from __future__ import annotations

import argparse
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


if __name__ == "__main__":
    main()
