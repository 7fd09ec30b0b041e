"""Does back-translation help? BLEU and chrF of checkpoints on the held-out *real* pairs of a
corpus version (synthetic rows are never scored), read through the version and its ancestors.

Greedy decoding (CTranslate2 float32: the same output as transformers ``generate``) and the
evaluation's sacrebleu settings (:mod:`crossling.evaluate.metrics`), so the figures compare with
the evaluation flow's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    return DirectionScore(checkpoint, f"{src}-{tgt}", s.bleu, s.chrf, s.segments, examples)


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
    4. Score both on the held-out real ``to -> lang`` pairs.

    ``train`` holds TrainConfig fields (preset, max_steps, batch_size, seed, ...), ``backtranslate``
    BacktranslateConfig fields. ``train_fn`` / ``backtranslate_fn`` run those steps (default: in
    this process; the demo passes its Prefect flows).
    """
    from crossling.augment.backtranslate import BacktranslateConfig
    from crossling.train.config import TrainConfig

    train_fn = train_fn or _train_here
    backtranslate_fn = backtranslate_fn or _backtranslate_here
    base = {"data_root": root, "corpus": corpus, "objective": "translation", **train}
    name = train.get("model_name") or f"{corpus}-{to}-{lang}"
    real = train_fn(TrainConfig(**{**base, "version": version, "model_name": f"{name}-real"}))
    bt_cfg = BacktranslateConfig(
        **{"lang": lang, "to": to, **(backtranslate or {}), "model": real["checkpoint"]}
    )
    bt = backtranslate_fn(root, corpus, version, bt_cfg)
    with_bt = train_fn(
        TrainConfig(**{**base, "version": bt["version"], "model_name": f"{name}-bt"})
    )
    from crossling.augment.ct2 import default_cache_dir

    pairs = heldout_real_pairs(root, corpus, version, to, lang, max_eval_pairs)
    cache = default_cache_dir(root)
    return {
        "direction": f"{to}-{lang}",
        "heldout_pairs": len(pairs),
        "train": {k: v for k, v in train.items()},
        "backtranslation": {k: v for k, v in bt.items() if k != "samples"},
        "real": score_checkpoint(real["checkpoint"], pairs, to, lang, cache_dir=cache).to_dict(),
        "real+bt": score_checkpoint(
            with_bt["checkpoint"], pairs, to, lang, cache_dir=cache
        ).to_dict(),
        "mixture": {"real": real.get("data"), "real+bt": with_bt.get("data")},
    }
