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
DEMO_SITE_CRAWL = "demo-site"
# The demo website is ours and on loopback: no delay. Its translations are aligned for the two
# directions the demo's translation model trains on.
DEMO_CRAWL_CONFIG = {"per_host_concurrency": 8, "align": {"directions": ["en-de", "en-fr"]}}

# The zh-en back-translation part: 3,000 real pairs and 1,500 English documents
# (scripts/make_zh_en_data.py), about a minute on 2 cores. The same experiment with more steps:
# benchmarks/backtranslate_gain.py.
ZH_EN_NAME = "demo-zh-en"
ZH_EN_CONFIG = {"heldout_fraction": 0.1}
ZH_EN_TRAIN = {
    "preset": "tiny",
    "max_steps": 300,
    "batch_size": 32,
    "seed": 0,
    "save_every": 300,
    "log_every": 100,
    "model_name": ZH_EN_NAME,
}
ZH_EN_BACKTRANSLATE = {"decoding": {"beam": 2}, "budget_ratio": 1.0}


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


def zh_en_sources() -> list[str]:
    d = demo_dir()
    names = ["zh-en.parallel.jsonl.gz", "en.mono.jsonl.gz"]
    missing = [n for n in names if not os.path.exists(os.path.join(d, n))]
    if missing:
        raise FileNotFoundError(
            f"demo data missing in {d}: {missing} (run `python scripts/make_zh_en_data.py`)"
        )
    return [os.path.join(d, n) for n in names]


def run_zh_en_demo(root: str, *, workers: int = 2) -> dict:
    """The survey's worked example: zh->en with and without back-translated English documents.

    Trains a tiny translation model on the real en-zh pairs (both directions), back-translates
    the English documents into Chinese with it, trains the same model (same steps and seed) on
    real plus tagged synthetic pairs, and scores both on the held-out real zh->en pairs.
    """
    from crossling.augment.measure import compare_backtranslation
    from flows.backtranslate import BacktranslateParams, run_backtranslate
    from flows.train import run_train

    corpus = run_corpus(
        CorpusParams(
            sources=zh_en_sources(),
            root=root,
            name=ZH_EN_NAME,
            config=ZH_EN_CONFIG,
            workers=workers,
        )
    )

    def backtranslate_flow(root: str, name: str, version: str, cfg) -> dict:
        params = BacktranslateParams(root=root, corpus=name, version=version, config=cfg)
        return run_backtranslate(params)["rounds"][0]

    result = compare_backtranslation(
        root,
        ZH_EN_NAME,
        corpus["version"],
        lang="en",
        to="zh",
        train=ZH_EN_TRAIN,
        backtranslate=ZH_EN_BACKTRANSLATE,
        train_fn=run_train,
        backtranslate_fn=backtranslate_flow,
    )
    print_zh_en(result)
    return result


def print_zh_en(r: dict) -> None:
    t, bt = r["train"], r["backtranslation"]
    real, with_bt = r["real"], r["real+bt"]
    dropped = ", ".join(f"{k} {v}" for k, v in bt["dropped"].items()) or "none"
    print(
        f"\nzh->en back-translation ({ZH_EN_NAME}, {t['preset']} preset, {t['max_steps']} steps, "
        f"batch {t['batch_size']}, seed {t['seed']}):"
    )
    print(
        f"  {bt['budget']['real_pairs']:,} real train pairs; {bt['inputs']:,} English sentences "
        f"read, {bt['kept']:,} back-translated pairs kept (dropped: {dropped}); "
        f"{bt['sentences_per_s']:,.0f} sentences/s ({bt['backend']} {bt.get('compute_type') or ''}"
        f", {bt['decoding']})"
    )
    print(f"  zh->en on {r['heldout_pairs']} held-out real pairs      BLEU    chrF")
    print(f"    real pairs only                    {real['bleu']:6.2f}  {real['chrf']:6.2f}")
    print(
        f"    real + tagged back-translation     {with_bt['bleu']:6.2f}  {with_bt['chrf']:6.2f}"
        f"   ({with_bt['bleu'] - real['bleu']:+.2f} BLEU, {with_bt['chrf'] - real['chrf']:+.2f} "
        "chrF)"
    )


def site_dir() -> str:
    return os.path.join(demo_dir(), "site")


def crawl_demo_site(root: str, *, workers: int = 2) -> dict:
    """Serve the demo website on 127.0.0.1, crawl it over HTTP and build the demo corpus version
    from the crawl plus the demo files. A root that already holds a finished demo crawl reuses
    it, so a second ``crossling demo`` finds its version complete, as the corpus flow does."""
    from crossling.sources import crawl as crawler
    from crossling.sources.site import LoopbackSite, pages_from_folder
    from flows.crawl import CrawlParams, run_crawl

    finished = [r for r in crawler.runs(root, DEMO_SITE_CRAWL) if r["status"] == "finished"]
    if finished and all(os.path.exists(f) for f in finished[-1]["files"]):
        print(f"reusing the demo site crawl {finished[-1]['run']} under {root}/crawls/")
        return run_corpus(
            CorpusParams(
                sources=demo_sources() + finished[-1]["files"],
                root=root,
                name=DEMO_NAME,
                config=DEMO_CONFIG,
                workers=workers,
            )
        )
    with LoopbackSite(pages_from_folder(site_dir())) as site:
        print(f"serving the demo website at {site.url}/ and crawling it ...")
        out = run_crawl(
            CrawlParams(
                seeds=[site.url + "/"],
                root=root,
                name=DEMO_SITE_CRAWL,
                corpus=DEMO_NAME,
                allow_hosts=[f"127.0.0.1:{site.port}"],
                delay=0.0,
                concurrency=8,
                config=DEMO_CRAWL_CONFIG,
                corpus_config=DEMO_CONFIG,
                workers=workers,
                extra_sources=demo_sources(),
            )
        )
    from flows.crawl import print_summary as print_crawl

    print()
    print_crawl(out)
    return out["builds"][-1]


def run_demo(root: str, *, workers: int = 2, train: bool = True) -> dict:
    t0 = time.perf_counter()
    summary = crawl_demo_site(root, workers=workers)
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
        print("\nzh-en: a translation model, back-translation, the same model with it ...")
        out["zh_en"] = run_zh_en_demo(root, workers=workers)
    root_abs = os.path.abspath(root)
    print(f"\neverything is under {root_abs}:")
    for sub in ("crawls", "corpora", "tokenizers", "models", "eval"):
        path = os.path.join(root_abs, sub)
        if os.path.exists(path):
            print(f"  {path}/")
    print(
        f"done in {time.perf_counter() - t0:.0f}s. Runs and artifacts are kept in the Prefect UI "
        f"of this root: `crossling status --root {root}` gives its address (see README, "
        "'Inspecting runs')."
    )
    return out


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the pipeline on the bundled demo data",
        description="Serve the demo website on 127.0.0.1 and crawl it, build the demo corpus "
        "(12+ languages; the crawl plus JSONL, WARC and parallel data), train a tokenizer and "
        "tiny models, evaluate them; then zh->en with and without back-translated English "
        "documents.",
    )
    p.add_argument("--out", default="./data", metavar="ROOT", help="data root (default ./data)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--corpus-only", action="store_true", help="skip training and evaluation")
    p.set_defaults(func=lambda a: run_demo(a.out, workers=a.workers, train=not a.corpus_only) and 0)
