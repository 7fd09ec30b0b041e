"""``crossling demo``: the whole pipeline on the bundled demo data, then where everything landed."""

from __future__ import annotations

import argparse
import os
import time
from importlib import resources

from flows.corpus import CorpusParams, print_summary, run_corpus

DEMO_NAME = "demo"
# The demo corpus is small (a few hundred documents over 12+ languages): a larger held-out share
# leaves every language a few evaluation documents.
DEMO_CONFIG = {"heldout_fraction": 0.15}


def demo_dir() -> str:
    return str(resources.files("crossling") / "data" / "demo")


def demo_sources() -> list[str]:
    d = demo_dir()
    names = ["docs.jsonl", "pages.warc.gz", "parallel.jsonl"]
    missing = [n for n in names if not os.path.exists(os.path.join(d, n))]
    if missing:
        raise FileNotFoundError(
            f"demo data missing in {d}: {missing} (run `python scripts/make_demo_data.py`)"
        )
    return [os.path.join(d, n) for n in names]


def run_demo(root: str, *, workers: int = 2, train: bool = True) -> dict:
    t0 = time.perf_counter()
    summary = run_corpus(
        CorpusParams(
            sources=demo_sources(), root=root, name=DEMO_NAME, config=DEMO_CONFIG, workers=workers
        )
    )
    print()
    print_summary(summary)
    out = {"corpus": summary}
    if train:
        try:
            from flows.train import run_demo_training
        except ImportError:
            run_demo_training = None
        if run_demo_training is not None:
            print("\ntraining the tokenizer, a tiny MLM encoder and a tiny translation model ...")
            out["training"] = run_demo_training(root, DEMO_NAME, summary["version"])
            for k, v in out["training"].items():
                print(f"  {k}: {v}")
            try:
                from flows.evaluate import run_demo_evaluation
            except ImportError:
                run_demo_evaluation = None
            if run_demo_evaluation is not None:
                print("\nevaluating every checkpoint without results ...")
                out["evaluation"] = run_demo_evaluation(root)
                print(out["evaluation"]["text"])
    root_abs = os.path.abspath(root)
    print(f"\neverything is under {root_abs}:")
    for sub in ("corpora", "tokenizers", "models", "eval"):
        path = os.path.join(root_abs, sub)
        if os.path.exists(path):
            print(f"  {path}/")
    print(
        f"done in {time.perf_counter() - t0:.0f}s. Runs and artifacts: `prefect server start`, "
        "then open http://127.0.0.1:4200 (see README, 'Inspecting runs')."
    )
    return out


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the pipeline on the bundled demo data",
        description="Build the demo corpus (12+ languages; JSONL, WARC and "
        "parallel data), train a tokenizer and tiny models, evaluate them.",
    )
    p.add_argument("--out", default="./data", metavar="ROOT", help="data root (default ./data)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--corpus-only", action="store_true", help="skip training and evaluation")
    p.set_defaults(func=lambda a: run_demo(a.out, workers=a.workers, train=not a.corpus_only) and 0)
