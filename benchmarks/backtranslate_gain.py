"""Does back-translation help zh->en on the demo's Chinese-English data? Side by side: the same
training with and without tagged back-translated pairs, with the paired bootstrap.

    python benchmarks/backtranslate_gain.py [--steps 600 1500] [--batch-size 64] [--seeds 0 1]
    # the demo's low-resource setting, with a second round:
    python benchmarks/backtranslate_gain.py --real-pairs 800 --heldout 0.5 --steps 600 \
        --batch-size 32 --budget 2 --round-trip 60 --rounds 2

For each step count and seed: the zh-en demo corpus is built by the corpus pipeline (3,000 real
en-zh pairs, or the first ``--real-pairs``, 10% held out; 1,500 English documents), a tiny translation model is trained on the
real pairs (both directions), it back-translates the English documents (CTranslate2 int8, beam 2,
tagged), the same model is trained again, same steps and seed, on real plus synthetic pairs, and
both are scored (BLEU, chrF) on the held-out real zh->en pairs. Prints one row per run and the
difference; ``--json FILE`` also writes everything.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from importlib import resources

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from crossling import pipeline  # noqa: E402
from crossling.augment.measure import compare_backtranslation  # noqa: E402

CORPUS = "demo-zh-en"


def build_corpus(root: str, real_pairs: int | None = None, heldout: float = 0.1) -> str:
    demo = resources.files("crossling") / "data" / "demo"
    parallel = str(demo / "zh-en.parallel.jsonl.gz")
    if real_pairs is not None:  # a lower-resource variant: the first N real pairs only
        with gzip.open(parallel, "rt", encoding="utf-8") as f:
            rows = [line for _, line in zip(range(real_pairs), f, strict=False)]
        parallel = os.path.join(root, f"zh-en.first{real_pairs}.jsonl")
        with open(parallel, "w", encoding="utf-8") as f:
            f.writelines(rows)
    sources = [parallel, str(demo / "en.mono.jsonl.gz")]
    manifest = pipeline.run_local(
        sources, root, CORPUS, pipeline.load_config(None, heldout_fraction=heldout)
    )
    return manifest["version"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, nargs="+", default=[600, 1500])
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--beam", type=int, default=2)
    ap.add_argument("--budget", type=float, default=2.0, help="synthetic / real ratio")
    ap.add_argument(
        "--real-pairs",
        type=int,
        help="use only the first N of the 3,000 real pairs (lower resource)",
    )
    ap.add_argument("--heldout", type=float, default=0.1, help="held-out share of the pairs")
    ap.add_argument(
        "--round-trip", type=float, metavar="CHRF", help="keep pairs with round-trip chrF >= CHRF"
    )
    ap.add_argument("--rounds", type=int, default=1, help="rounds of iterative back-translation")
    ap.add_argument("--root", help="data root to keep (default: a temporary folder)")
    ap.add_argument("--json", metavar="FILE", help="write every result here")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"load: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    results = []
    with tempfile.TemporaryDirectory(prefix="bt-gain-") as tmp:
        root = args.root or tmp
        os.makedirs(root, exist_ok=True)
        version = build_corpus(root, args.real_pairs, args.heldout)
        print(f"corpus {CORPUS} {version} under {root}")
        print(
            f"{'steps':>6} {'seed':>4} {'round':>5} {'before BLEU':>11} {'BLEU':>6} {'diff':>6} "
            f"{'95% interval':>16} {'p':>6} {'before chrF':>11} {'chrF':>6} {'diff':>6} "
            f"{'p':>6} {'kept':>6} {'minutes':>7}"
        )
        bt_cfg: dict = {"decoding": {"beam": args.beam}, "budget_ratio": args.budget}
        if args.round_trip is not None:
            bt_cfg["filters"] = {"round_trip": True, "min_round_trip_chrf": args.round_trip}
        for steps in args.steps:
            for seed in args.seeds:
                t0 = time.perf_counter()
                r = compare_backtranslation(
                    root,
                    CORPUS,
                    version,
                    lang="en",
                    to="zh",
                    train={
                        "preset": "tiny",
                        "max_steps": steps,
                        "batch_size": args.batch_size,
                        "seed": seed,
                        "save_every": steps,
                        "log_every": max(1, steps // 5),
                        "model_name": f"gain-s{steps}-seed{seed}",
                    },
                    backtranslate=bt_cfg,
                    rounds=args.rounds,
                )
                minutes = (time.perf_counter() - t0) / 60
                for rd in r["rounds"]:
                    a, b = r[rd["against"]], r[rd["label"]]
                    tb, tc = rd["tests"]
                    ci = f"[{tb['ci'][0]:+.2f}, {tb['ci'][1]:+.2f}]"
                    print(
                        f"{steps:>6} {seed:>4} {rd['round']:>5} {a['bleu']:>11.2f} "
                        f"{b['bleu']:>6.2f} {tb['delta']:>+6.2f} "
                        f"{ci:>16} {tb['p']:>6.3f} "
                        f"{a['chrf']:>11.2f} {b['chrf']:>6.2f} {tc['delta']:>+6.2f} "
                        f"{tc['p']:>6.3f} {rd['backtranslation']['kept']:>6} {minutes:>7.1f}",
                        flush=True,
                    )
                results.append({"steps": steps, "seed": seed, **r})
    print(f"held-out zh->en pairs: {results[0]['heldout_pairs'] if results else 0}")
    print("p: share of 1,000 paired-bootstrap resamples in which the round is not better")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2, ensure_ascii=False, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
