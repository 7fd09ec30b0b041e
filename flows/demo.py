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

# The zh-en back-translation part, in the low-resource regime where back-translation pays: the
# first 800 of the 3,000 real pairs (scripts/make_zh_en_data.py), half of them held out (about 390
# train pairs; the ~400 held-out ones make the paired bootstrap meaningful), and 1,500 English
# documents. What made back-translation hurt before (3,000 pairs, 300 steps, unfiltered): a
# reverse model that writes fluent Chinese with the wrong nouns, whose pairs teach wrong word
# translations. A round-trip filter (chrF >= 60 of the model's own zh->en of the output against
# the English sentence) keeps the faithful ones; up to two synthetic pairs per real pair; <BT>
# tagged; 600 steps so the real-only model is trained to its plateau (32 BLEU after 300 steps).
# The same experiment with other settings: benchmarks/backtranslate_gain.py.
ZH_EN_NAME = "demo-zh-en"
ZH_EN_REAL_PAIRS = 800
ZH_EN_CONFIG = {"heldout_fraction": 0.5}
ZH_EN_TRAIN = {
    "preset": "tiny",
    "max_steps": 600,
    "batch_size": 32,
    "seed": 0,
    "save_every": 600,
    "log_every": 200,
    "model_name": ZH_EN_NAME,
}
ZH_EN_BACKTRANSLATE = {
    "decoding": {"beam": 2},
    "budget_ratio": 2.0,
    "filters": {"round_trip": True, "min_round_trip_chrf": 60.0},
}
# Rounds of back-translation the demo runs. A second, iterative round (measured against the
# first) costs another back-translation and another training, about 50 s on 2 cores, which does
# not fit the demo's 4 minutes: `crossling demo --bt-rounds 2` runs it.
ZH_EN_ROUNDS = 1
SIGNIFICANCE = 0.05
ZH_EN_COMPRESS_EVAL_ROWS = 200  # held-out pairs per direction of the compression table


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


def zh_en_sources(root: str | None = None, real_pairs: int | None = None) -> list[str]:
    """The zh-en demo inputs: the real pairs (all 3,000, or the first ``real_pairs``, written
    once under ``<root>/inputs/``) and the English documents."""
    import gzip

    d = demo_dir()
    names = ["zh-en.parallel.jsonl.gz", "en.mono.jsonl.gz"]
    missing = [n for n in names if not os.path.exists(os.path.join(d, n))]
    if missing:
        raise FileNotFoundError(
            f"demo data missing in {d}: {missing} (run `python scripts/make_zh_en_data.py`)"
        )
    parallel = os.path.join(d, names[0])
    if real_pairs is not None:
        subset = os.path.join(
            os.path.abspath(root or "."), "inputs", f"zh-en.first{real_pairs}.jsonl"
        )
        if not os.path.exists(subset):
            os.makedirs(os.path.dirname(subset), exist_ok=True)
            with gzip.open(parallel, "rt", encoding="utf-8") as f:
                rows = [line for _, line in zip(range(real_pairs), f, strict=False)]
            with open(subset + ".tmp", "w", encoding="utf-8") as f:
                f.writelines(rows)
            os.replace(subset + ".tmp", subset)
        parallel = subset
    return [parallel, os.path.join(d, names[1])]


def run_zh_en_demo(
    root: str, *, workers: int = 2, rounds: int = ZH_EN_ROUNDS, compress: bool = True
) -> dict:
    """The survey's worked example: zh->en with and without back-translated English documents.

    Trains a tiny translation model on a few hundred real en-zh pairs (both directions), back-
    translates the English documents into Chinese with it, trains the same model (same steps and
    seed) on real plus tagged synthetic pairs (and with ``rounds`` 2, a second round with that
    model); scores each
    on the held-out real zh->en pairs, with the paired bootstrap. Then compresses the real-only
    model to int8 (CTranslate2) and evaluates both side by side.
    """
    from crossling.augment.measure import compare_backtranslation
    from flows.backtranslate import BacktranslateParams, run_backtranslate
    from flows.train import run_train

    corpus = run_corpus(
        CorpusParams(
            sources=zh_en_sources(root, ZH_EN_REAL_PAIRS),
            root=root,
            name=ZH_EN_NAME,
            config=ZH_EN_CONFIG,
            workers=workers,
        )
    )

    def backtranslate_flow(root: str, name: str, version: str, cfg) -> dict:
        params = BacktranslateParams(root=root, corpus=name, version=version, config=cfg)
        return run_backtranslate(params)["rounds"][0]

    t0 = time.perf_counter()
    result = compare_backtranslation(
        root,
        ZH_EN_NAME,
        corpus["version"],
        lang="en",
        to="zh",
        train=ZH_EN_TRAIN,
        backtranslate=ZH_EN_BACKTRANSLATE,
        rounds=rounds,
        train_fn=run_train,
        backtranslate_fn=backtranslate_flow,
    )
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print_zh_en(result)
    if compress:
        t0 = time.perf_counter()
        result["compression"] = compress_demo(root, result["real"]["checkpoint"])
        result["compression"]["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def compress_demo(root: str, checkpoint: str) -> dict:
    """``crossling compress`` of the real-only zh-en model: int8 (CTranslate2), evaluated side by
    side with its teacher."""
    from flows.compress import CompressParams, print_comparison, run_compress

    out = run_compress(
        CompressParams(
            root=root,
            checkpoint=checkpoint,
            config={"method": "int8"},
            eval_rows=ZH_EN_COMPRESS_EVAL_ROWS,
        )
    )
    print()
    print_comparison(out["comparison"], "int8")
    return out


def _verdict(test: dict) -> str:
    if test["p"] is None:
        return "not tested"
    ci = test["ci"]
    return f"{test['delta']:+.2f} [{ci[0]:+.2f}, {ci[1]:+.2f}], p {test['p']:.3f}" + (
        " significant" if test["p"] < SIGNIFICANCE and test["delta"] > 0 else ""
    )


def print_zh_en(r: dict) -> None:
    t = r["train"]
    bt = r["rounds"][0]["backtranslation"]
    print(
        f"\nzh->en back-translation ({ZH_EN_NAME}, low resource: "
        f"{bt['budget']['real_pairs']:,} real train pairs; {t['preset']} preset, "
        f"{t['max_steps']} steps, batch {t['batch_size']}, seed {t['seed']}):"
    )
    for rd in r["rounds"]:
        b = rd["backtranslation"]
        dropped = ", ".join(f"{k} {v}" for k, v in b["dropped"].items()) or "none"
        print(
            f"  round {rd['round']}: {b['inputs']:,} English sentences read, {b['kept']:,} "
            f"back-translated pairs kept (dropped: {dropped}); {b['sentences_per_s']:,.0f} "
            f"sentences/s ({b['backend']} {b.get('compute_type') or ''}, {b['decoding']})"
        )
    print(
        f"  zh->en on {r['heldout_pairs']} held-out real pairs     BLEU    chrF   "
        "change against the row above: BLEU, chrF [95% interval], p (paired bootstrap)"
    )
    real = r["real"]
    print(f"    real pairs only                   {real['bleu']:6.2f}  {real['chrf']:6.2f}")
    failed = []
    for rd in r["rounds"]:
        s = r[rd["label"]]
        name = "real + tagged back-translation" if rd["round"] == 1 else f"  round {rd['round']}"
        bleu, chrf = rd["tests"]
        print(
            f"    {name:<33} {s['bleu']:6.2f}  {s['chrf']:6.2f}   "
            f"BLEU {_verdict(bleu)}; chrF {_verdict(chrf)}"
        )
        if rd["round"] == 1 and not (
            bleu["p"] is not None and bleu["p"] < SIGNIFICANCE and bleu["delta"] > 0
        ):
            failed.append(rd)
    later = [rd for rd in r["rounds"][1:] if not (rd["tests"][0]["p"] or 1) < SIGNIFICANCE]
    if later:
        print(
            f"  round {later[0]['round']} did not improve on the round before it: the demo has "
            "monolingual text in English only, so the back-translating direction (en->zh) gets "
            "no new data from a round (iterative back-translation needs both languages)"
        )
    if failed:
        print(
            "  !!! BACK-TRANSLATION DID NOT SIGNIFICANTLY HELP in this run (BLEU p >= "
            f"{SIGNIFICANCE}): see README.md, 'Back-translation', for what it needs !!!"
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


def run_demo(root: str, *, workers: int = 2, train: bool = True, bt_rounds: int = 1) -> dict:
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
        t_zh = time.perf_counter()
        out["zh_en"] = run_zh_en_demo(root, workers=workers, rounds=bt_rounds)
        print(f"(zh-en part: {time.perf_counter() - t_zh:.0f}s)")
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
        "tiny models, evaluate them; then zh->en from a few hundred real pairs with and without "
        "back-translated English documents (paired bootstrap), and the int8 compression table.",
    )
    p.add_argument("--out", default="./data", metavar="ROOT", help="data root (default ./data)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--corpus-only", action="store_true", help="skip training and evaluation")
    p.add_argument(
        "--bt-rounds",
        type=int,
        choices=[1, 2, 3],
        default=1,
        help="zh-en back-translation rounds (2: an iterative round against the first, ~50 s more)",
    )
    p.set_defaults(
        func=lambda a: (
            run_demo(a.out, workers=a.workers, train=not a.corpus_only, bt_rounds=a.bt_rounds) and 0
        )
    )
