"""Language ID: crossling's LanguageIdentifier against raw fastText ``predict`` on the same texts.

Real documents with a known language, not the demo data: the human-written conversations of the
``chatterbot-corpus`` package (BSD; ~25 languages), grouped into documents of 1-12 lines. Mixed
documents join two languages' documents. Prints accuracy and throughput side by side, with ratios.

    python benchmarks/langid.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import time

import yaml

from crossling.langid import LanguageIdentifier, canonical

# chatterbot-corpus folder -> ISO 639-1 code
FOLDERS = {
    "bengali": "bn",
    "chinese": "zh",
    "dutch": "nl",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hebrew": "he",
    "hindi": "hi",
    "indonesian": "id",
    "italian": "it",
    "japanese": "ja",
    "korean": "ko",
    "marathi": "mr",
    "oriya": "or",
    "persian": "fa",
    "portuguese": "pt",
    "russian": "ru",
    "spanish": "es",
    "swedish": "sv",
    "tamil": "ta",
    "traditionalchinese": "zh",
    "turkish": "tr",
    "ukrainian": "uk",
}


def load_documents(seed: int = 0) -> tuple[list[tuple[str, str]], list[tuple[str, set[str]]]]:
    import chatterbot_corpus

    base = os.path.join(os.path.dirname(chatterbot_corpus.__file__), "data")
    rng = random.Random(seed)
    by_lang: dict[str, list[str]] = {}
    for folder, code in FOLDERS.items():
        lines: list[str] = []
        for path in sorted(glob.glob(os.path.join(base, folder, "*.yml"))):
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f) or {}
            for conv in data.get("conversations") or []:
                lines.extend(str(x).strip() for x in conv if isinstance(x, str) and x.strip())
        by_lang.setdefault(code, []).extend(dict.fromkeys(lines))  # unique, in order
    docs: list[tuple[str, str]] = []
    for code, lines in by_lang.items():
        i = 0
        while i < len(lines):
            n = rng.randint(1, 12)
            docs.append(("\n".join(lines[i : i + n]), code))
            i += n
    rng.shuffle(docs)
    # Mixed documents: 4+ lines of one language, then 4+ lines of another.
    long_docs: dict[str, list[str]] = {}
    for text, code in docs:
        if text.count("\n") >= 3:
            long_docs.setdefault(code, []).append(text)
    codes = sorted(c for c in long_docs if len(long_docs[c]) >= 4)
    mixed = []
    for _ in range(400):
        a, b = rng.sample(codes, 2)
        mixed.append((rng.choice(long_docs[a]) + "\n" + rng.choice(long_docs[b]), {a, b}))
    return docs, mixed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5, help="timing repetitions (best is kept)")
    args = ap.parse_args()
    docs, mixed = load_documents()
    texts = [t for t, _ in docs]
    gold = [c for _, c in docs]
    ours = LanguageIdentifier(mode="doc")
    model = ours.model
    n_chars = sum(map(len, texts))
    print(
        f"{len(docs)} real documents in {len(set(gold))} languages ({n_chars / 1e6:.2f} M chars), "
        f"{len(mixed)} mixed-language documents; model {os.path.basename(ours.model_path)}"
    )

    def raw_predict(batch: list[str]):
        return model.predict([t.replace("\n", " ") for t in batch], k=1)

    # accuracy: raw fastText on the whole text vs ours (doc and line mode)
    raw_labels, _ = raw_predict(texts)
    raw_acc = sum(canonical(lab[0])[0] == g for lab, g in zip(raw_labels, gold, strict=True))
    doc_acc = sum(p.lang == g for p, g in zip(ours.predict(texts), gold, strict=True))
    line = LanguageIdentifier(mode="line")
    line_acc = sum(p.lang == g for p, g in zip(line.predict(texts), gold, strict=True))
    n = len(texts)
    print(f"\naccuracy on single-language documents (n={n})")
    print(f"  raw fastText predict      {raw_acc / n:.4f}")
    print(f"  crossling doc mode        {doc_acc / n:.4f}   ratio {doc_acc / raw_acc:.3f}")
    print(f"  crossling line mode       {line_acc / n:.4f}   ratio {line_acc / raw_acc:.3f}")

    # mixed documents: are both languages found? (raw: top-2 with the 2nd >= 0.2, the same share
    # line mode uses to flag a mix)
    mtexts = [t for t, _ in mixed]
    labels2, probs2 = model.predict([t.replace("\n", " ") for t in mtexts], k=2)
    raw_both = sum(
        len(labs) == 2 and probs[1] >= 0.2 and {canonical(x)[0] for x in labs} == g
        for labs, probs, (_, g) in zip(labels2, probs2, mixed, strict=True)
    )
    line_preds = line.predict(mtexts)
    line_both = sum(
        p.mixed and {p.lang, p.lang2} == g for p, (_, g) in zip(line_preds, mixed, strict=True)
    )
    raw_major = sum(canonical(labs[0])[0] in g for labs, (_, g) in zip(labels2, mixed, strict=True))
    line_major = sum(p.lang in g for p, (_, g) in zip(line_preds, mixed, strict=True))
    m = len(mixed)
    print(f"\nmixed-language documents (n={m}): both languages found")
    print(
        f"  raw fastText (top-2)      {raw_both / m:.4f}   (top-1 is one of them: {raw_major / m:.4f})"
    )
    print(
        f"  crossling line mode       {line_both / m:.4f}   (top-1 is one of them: {line_major / m:.4f})"
    )

    # throughput, same texts, best of N
    def best(fn) -> float:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for i in range(0, n, ours.batch_size):
                fn(texts[i : i + ours.batch_size])
            times.append(time.perf_counter() - t0)
        return min(times)

    t_raw = best(raw_predict)
    t_ours = best(ours.predict)
    print(f"\nthroughput, doc mode, batches of {ours.batch_size} (best of {args.repeat})")
    print(f"  raw fastText predict      {n / t_raw:10.0f} docs/s")
    print(
        f"  crossling doc mode        {n / t_ours:10.0f} docs/s   ratio {t_raw / t_ours:.3f}x "
        "(target >= 0.9)"
    )
    t_line = best(line.predict)
    print(f"  crossling line mode       {n / t_line:10.0f} docs/s   ratio {t_raw / t_line:.3f}x")


if __name__ == "__main__":
    main()
