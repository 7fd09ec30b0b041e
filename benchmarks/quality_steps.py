"""What the new quality steps add to the measuring of a corpus run, step by step, on one core.

Real input: manual pages of this machine in ~24 languages (benchmarks/realtext.py). Every step
measures the same batches in the order docs/QUALITY.md gives; the steps the corpus run has today
(Normalize, LanguageID, Quality) are the baseline the new ones are compared with. Times are
measured under load on a shared machine: read the ratios, not the absolute figures.

    python benchmarks/quality_steps.py [--per-lang 40]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from realtext import man_documents

from crossling.documents import Document
from crossling.pipeline import CorpusConfig
from crossling.stages.blocklists import BadWords
from crossling.stages.document import LanguageID, Normalize, Quality
from crossling.stages.lines import LineFilter
from crossling.stages.pii import PiiAnonymize
from crossling.stages.words import WordSignals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-lang", type=int, default=40)
    args = ap.parse_args()
    pages = man_documents(per_lang=args.per_lang)
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        for lang in ("en", "de", "fr", "zh", "ja"):  # a real-size list: 400 entries each
            with open(os.path.join(bad, lang), "w", encoding="utf-8") as f:
                f.write("\n".join(f"badword{i}x" for i in range(400)) + "\n")
        cfg = CorpusConfig()
        chain = [
            ("normalize", Normalize(cfg), True),
            ("langid", LanguageID(cfg), True),
            ("lines", LineFilter({"enabled": True}), False),
            ("pii", PiiAnonymize({}), False),
            ("bad_words", BadWords({"bad_words_dir": bad}), False),
            ("words", WordSignals({}), False),
            ("quality", Quality(cfg), True),
        ]
        docs = [Document(id=str(i), text=t, source="man") for i, (_, t) in enumerate(pages)]
        WordSignals({}).measure([Document(id="w", text=t, source="w", lang=lang)
                                 for lang, t in (("zh", "中文"), ("ja", "日本語"), ("th", "ไทย"))])  # fmt: skip
        LanguageID(cfg).measure(docs[:2])  # models loaded outside the timing
        spent = {}
        for name, step, _ in chain:
            t0 = time.perf_counter()
            for k in range(0, len(docs), 256):
                step.measure(docs[k : k + 256])
            spent[name] = time.perf_counter() - t0
    base = sum(spent[n] for n, _, b in chain if b)
    new = sum(spent[n] for n, _, b in chain if not b)
    n = len(docs)
    print(f"{n} manual pages, {sum(len(d.text) for d in docs) / 1e6:.1f} M characters, one core")
    for name, _, b in chain:
        print(f"  {name:10} {n / spent[name]:>9.0f} docs/s  {'(today)' if b else '(new)'}")
    print(
        f"today's steps {n / base:.0f} docs/s; with the new ones {n / (base + new):.0f} docs/s "
        f"({(base + new) / base:.2f}x the measuring time)"
    )


if __name__ == "__main__":
    main()
