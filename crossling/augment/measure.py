"""Does back-translation help? BLEU and chrF of checkpoints on the held-out *real* pairs of a
corpus version (synthetic rows are never scored), read through the version and its ancestors.

Greedy decoding (CTranslate2 float32: the same output as transformers ``generate``) and the
evaluation's sacrebleu settings (:mod:`crossling.evaluate.metrics`), so the figures compare with
the evaluation flow's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from crossling.corpus import CorpusVersion

if TYPE_CHECKING:
    from crossling.augment.backtranslate import BacktranslateConfig
    from crossling.train.config import TrainConfig


def heldout_real_pairs(
    root: str, corpus: str, version: str, src: str, tgt: str, limit: int | None = None
) -> list[tuple[str, str]]:
    """(source, reference) of the held-out real pairs between ``src`` and ``tgt``, either way
    round as stored, in a stable order (by pair id)."""
    rows: list[tuple[str, str, str]] = []
    cols = ["id", "src_lang", "tgt_lang", "src_text", "tgt_text", "synthetic"]
    for v in CorpusVersion.open(root, corpus, version).chain():
        for b in v.pairs(
            split="heldout", directions=[f"{src}-{tgt}", f"{tgt}-{src}"], columns=cols
        ):
            for r in b.to_pylist():
                if r["synthetic"]:
                    continue
                if r["src_lang"] == src:
                    rows.append((r["id"], r["src_text"], r["tgt_text"]))
                else:
                    rows.append((r["id"], r["tgt_text"], r["src_text"]))
    rows.sort()
    return [(s, t) for _, s, t in rows[:limit]]


@dataclass
class DirectionScore:
    """BLEU and chrF of one checkpoint on one direction."""

    checkpoint: str
    direction: str
    bleu: float
    chrf: float
    segments: int
    examples: list[dict[str, str]]
    # sacrebleu's statistics per held-out pair, in the pairs' order (paired tests); not in to_dict
    stats: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("stats")
        return d

    def as_results(self) -> dict[str, Any]:
        """The shape of an evaluation's results that :mod:`crossling.evaluate.significance`
        tests: the metrics and their per-pair statistics, pairs numbered in order."""
        return {
            "metrics": {f"bleu/{self.direction}": self.bleu, f"chrf/{self.direction}": self.chrf},
            "examples": {f"translation/{self.direction}": self.stats},
        }


def gain_test(before: DirectionScore, after: DirectionScore, metric: str) -> dict[str, Any]:
    """Is ``after`` better than ``before`` on ``metric`` (``bleu`` or ``chrf``)? The paired
    bootstrap of the evaluation (1000 resamples of the held-out pairs, seeded): the change, its
    95% interval, and ``p`` = the share of resamples in which ``after`` is not better (one-sided;
    below 0.05: the gain holds up however the held-out pairs are drawn)."""
    from crossling.evaluate.significance import paired_test

    t = paired_test(
        f"{metric}/{after.direction}",
        before.as_results(),
        after.as_results(),
        higher_is_better=False,  # p then counts the resamples where after <= before
    )
    if t is None:
        return {"metric": metric, "delta": None, "ci": None, "p": None, "pairs": 0}
    return {
        "metric": metric,
        "delta": round(t.delta, 4),
        "ci": [round(t.ci_low, 4), round(t.ci_high, 4)],
        "p": round(t.p, 4),
        "pairs": t.examples,
    }


def score_checkpoint(
    checkpoint: str,
    pairs: list[tuple[str, str]],
    src: str,
    tgt: str,
    *,
    batch_size: int = 64,
    cache_dir: str | None = None,
) -> DirectionScore:
    """Greedy translations of ``pairs``' sources by ``checkpoint``, scored against references.

    Decoded with CTranslate2 in float32, whose greedy output is the same as transformers
    ``generate`` (tests/augment/test_translate.py) and many times faster on a CPU.
    """
    from crossling.augment.translate import Decoding, make_translator, resolve_model
    from crossling.evaluate import metrics

    model = resolve_model(checkpoint, None, src, tgt)
    translator = make_translator(
        "ct2",
        model,
        src,
        tgt,
        Decoding(beam=1, batch_size=batch_size),
        device="cpu",
        compute_type="float32",
        cache_dir=cache_dir,
    )
    try:
        hyps = [t.text for t in translator.translate([s for s, _ in pairs])]
    finally:
        translator.close()
    s = metrics.translation_score(hyps, [t for _, t in pairs], tgt)
    examples = [
        {"src": a, "ref": b, "hyp": h} for (a, b), h in list(zip(pairs, hyps, strict=True))[:3]
    ]
    stats = {
        "ids": [str(i) for i in range(len(pairs))],
        "bleu_stats": s.bleu_stats,
        "chrf_stats": s.chrf_stats,
    }
    return DirectionScore(checkpoint, f"{src}-{tgt}", s.bleu, s.chrf, s.segments, examples, stats)


TrainFn = Callable[["TrainConfig"], dict[str, Any]]
BacktranslateFn = Callable[[str, str, str, "BacktranslateConfig"], dict[str, Any]]


def _train_here(cfg: TrainConfig) -> dict[str, Any]:
    from crossling.train.run import run_training

    return run_training(cfg)


def _backtranslate_here(
    root: str, corpus: str, version: str, cfg: BacktranslateConfig
) -> dict[str, Any]:
    from crossling.augment.backtranslate import backtranslate

    return backtranslate(root, corpus, cfg, version=version)


def compare_backtranslation(
    root: str,
    corpus: str,
    version: str,
    *,
    lang: str,
    to: str,
    train: dict[str, Any],
    backtranslate: dict[str, Any] | None = None,
    rounds: int = 1,
    max_eval_pairs: int | None = None,
    train_fn: TrainFn | None = None,
    backtranslate_fn: BacktranslateFn | None = None,
) -> dict[str, Any]:
    """The experiment: the same training with and without back-translated pairs.

    1. Train a translation model on the real pairs of ``version`` (both directions: it is the
       baseline for ``to -> lang`` *and* the ``lang -> to`` model that back-translates).
    2. Back-translate the ``lang`` documents with it into a derived version.
    3. Train the same model (same config, steps and seed) on the derived version: real and
       tagged synthetic pairs.
    4. With ``rounds`` = 2 (iterative back-translation, Hoang et al. 2018): the round-1 model
       back-translates the same documents again (its better ``to -> lang`` direction also scores
       the round trip, when the filters ask for one) into a version that replaces round 1's
       rows, and the same model is trained on it.
    5. Score every model on the held-out real ``to -> lang`` pairs, and test each gain with the
       paired bootstrap (:func:`gain_test`): round 1 against real only, round 2 against round 1.

    ``train`` holds TrainConfig fields (preset, max_steps, batch_size, seed, ...), ``backtranslate``
    BacktranslateConfig fields. ``train_fn`` / ``backtranslate_fn`` run those steps (default: in
    this process; the demo passes its Prefect flows).
    """
    from crossling.augment.backtranslate import BacktranslateConfig
    from crossling.augment.ct2 import default_cache_dir
    from crossling.train.config import TrainConfig

    train_fn = train_fn or _train_here
    backtranslate_fn = backtranslate_fn or _backtranslate_here
    base = {"data_root": root, "corpus": corpus, "objective": "translation", **train}
    name = train.get("model_name") or f"{corpus}-{to}-{lang}"
    pairs = heldout_real_pairs(root, corpus, version, to, lang, max_eval_pairs)
    cache = default_cache_dir(root)

    def score(checkpoint: str) -> DirectionScore:
        return score_checkpoint(checkpoint, pairs, to, lang, cache_dir=cache)

    real = train_fn(TrainConfig(**{**base, "version": version, "model_name": f"{name}-real"}))
    scores = {"real": score(real["checkpoint"])}
    out: dict[str, Any] = {
        "direction": f"{to}-{lang}",
        "heldout_pairs": len(pairs),
        "train": dict(train),
        "mixture": {"real": real.get("data")},
        "rounds": [],
    }
    model, parent = real["checkpoint"], version
    for r in range(1, rounds + 1):
        bt_cfg = BacktranslateConfig(
            **{"lang": lang, "to": to, **(backtranslate or {}), "model": model, "round": r}
        )
        bt = backtranslate_fn(root, corpus, parent, bt_cfg)
        label = "real+bt" if r == 1 else f"real+bt-round{r}"
        suffix = "bt" if r == 1 else f"bt-round{r}"
        trained = train_fn(
            TrainConfig(**{**base, "version": bt["version"], "model_name": f"{name}-{suffix}"})
        )
        previous = "real" if r == 1 else ("real+bt" if r == 2 else f"real+bt-round{r - 1}")
        scores[label] = score(trained["checkpoint"])
        out["rounds"].append(
            {
                "round": r,
                "label": label,
                "against": previous,
                "backtranslation": {k: v for k, v in bt.items() if k != "samples"},
                "samples": (bt.get("samples") or [])[:3],
                "tests": [gain_test(scores[previous], scores[label], m) for m in ("bleu", "chrf")],
            }
        )
        out["mixture"][label] = trained.get("data")
        model, parent = trained["checkpoint"], bt["version"]
    for label, sc in scores.items():
        out[label] = sc.to_dict()
    if out["rounds"]:  # the first round's summary where callers looked for it before rounds
        out["backtranslation"] = out["rounds"][0]["backtranslation"]
        out["tests"] = out["rounds"][0]["tests"]
    return out
