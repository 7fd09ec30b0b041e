"""``crossling quality-model train`` and ``crossling thresholds``: learn from reference text, as
flows. The work is in crossling/quality_model.py and crossling/thresholds.py."""

from __future__ import annotations

import argparse
import os
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from crossling.quality_model import QualityModelConfig, QualityModelError, train_quality_model
from crossling.textsources import SourceError
from crossling.thresholds import DeriveConfig, ThresholdsError, derive_thresholds
from flows.cli_params import Opt, add_options, build
from flows.links import artifact_key


class QualityModelParams(BaseModel):
    positive: list[str] = Field(..., description="Reference text: corpus versions or inputs.")
    negative: list[str] = Field(..., description="Text to score low: corpus versions or inputs.")
    out: str = Field(..., description="The model folder to write.")
    config: QualityModelConfig = Field(default_factory=QualityModelConfig)


class ThresholdsParams(BaseModel):
    reference: list[str] = Field(..., description="Reference corpus versions or inputs.")
    out: str = Field(..., description="The thresholds file to write (JSON).")
    config: DeriveConfig = Field(default_factory=DeriveConfig)


@flow(name="quality-model-train", log_prints=True)
def quality_model_flow(params: QualityModelParams) -> dict[str, Any]:
    """Train the fastText quality classifier on reference vs other text."""
    meta = train_quality_model(params.positive, params.negative, params.out, params.config)
    held = meta.get("heldout") or {}
    rows = [
        {"lang": lang, "positive": n, "negative": meta["trained_on"]["negative"].get(lang, 0),
         "model": meta["models"].get(lang, "all.bin")}
        for lang, n in sorted(meta["trained_on"]["positive"].items())
    ]  # fmt: skip
    create_table_artifact(
        key=artifact_key("quality-model", os.path.basename(os.path.abspath(params.out))),
        table=rows or [{"lang": "-", "positive": 0, "negative": 0, "model": "-"}],
        description=f"Quality model {params.out}: held-out precision "
        f"{held.get('precision', float('nan')):.3f}, recall {held.get('recall', float('nan')):.3f}",
    )
    return meta


@flow(name="thresholds", log_prints=True)
def thresholds_flow(params: ThresholdsParams) -> dict[str, Any]:
    """Derive per-language quality thresholds from reference text and write the file."""
    tf = derive_thresholds(params.reference, params.out, params.config)
    rows = [
        {"group": name, "docs": g.docs, "tail": g.tail, "kept": g.kept_share,
         "lang_min_score": g.lang_min_score if g.lang_min_score is not None else "-"}
        for name, g in tf.groups.items()
    ]  # fmt: skip
    create_table_artifact(
        key=artifact_key("thresholds", os.path.basename(params.out)),
        table=rows,
        description=f"Thresholds {params.out} ({tf.rule}, keep {tf.params.keep})",
    )
    return tf.model_dump(mode="json")


# The commands' options, made from the flows' parameter models and their nested configs (one
# declaration: the UI form and --help say the same).
TRAIN_OPTIONS = [
    Opt("positive", metavar="REF", required=True),
    Opt("negative", metavar="WEB", required=True),
    Opt("out", metavar="DIR"),
    Opt("config.per_language"),
    Opt("config.min_docs_per_lang", metavar="N"),
    Opt("config.langs", metavar="LANG"),
    Opt("config.limit_per_lang", metavar="N"),
    Opt("config.max_chars", metavar="N"),
    Opt("config.heldout_fraction", metavar="F"),
    Opt("config.balance", invert="--no-balance"),
    Opt("config.dim", metavar="N"),
    Opt("config.epoch", metavar="N"),
    Opt("config.lr", metavar="LR"),
    Opt("config.word_ngrams", metavar="N"),
    Opt("config.min_count", metavar="N"),
    Opt("config.bucket", metavar="N"),
    Opt("config.threads", metavar="N"),
    Opt("config.seed", metavar="N"),
]
THRESHOLDS_OPTIONS = [
    Opt("reference", positional=True, metavar="REFERENCE"),
    Opt("out", metavar="FILE"),
    Opt("config.keep", metavar="F"),
    Opt("config.margin", metavar="F"),
    Opt("config.max_tail", metavar="F"),
    Opt("config.min_docs", metavar="N"),
    Opt("config.limit_per_lang", metavar="N"),
]
UI_ONLY: dict[str, str] = {}


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quality-model",
        help="train the fastText quality classifier",
        description="Model-based quality: a fastText classifier of reference vs other text, "
        "whose score the corpus run writes as a signal (qm_score).",
    )
    qs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = qs.add_parser("train", help="train a model folder from positive and negative text")
    add_options(t, QualityModelParams, TRAIN_OPTIONS)
    t.set_defaults(func=_cli_train, check=_train_params)

    th = sub.add_parser(
        "thresholds",
        help="derive per-language quality thresholds from reference text",
        description="Measure the quality signals of reference text per language and script and "
        "write a thresholds file (rule quantile-tail/1, docs/QUALITY.md).",
    )
    add_options(th, ThresholdsParams, THRESHOLDS_OPTIONS)
    th.set_defaults(func=_cli_thresholds, check=_thresholds_params)


def _train_params(args: argparse.Namespace) -> QualityModelParams:
    return build(QualityModelParams, TRAIN_OPTIONS, args)


def _thresholds_params(args: argparse.Namespace) -> ThresholdsParams:
    return build(ThresholdsParams, THRESHOLDS_OPTIONS, args)


def _cli_train(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    params = _train_params(args)
    try:
        meta = quality_model_flow(params)
    except (SourceError, QualityModelError, ValueError) as e:
        raise UsageError(str(e).splitlines()[0]) from None
    held = meta.get("heldout")
    figures = (
        f"held-out precision {held['precision']:.3f} recall {held['recall']:.3f}"
        if held
        else "no held-out documents"
    )
    print(f"{args.out}: models {', '.join(sorted(meta['models']))}; {figures}")
    return 0


def _cli_thresholds(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    params = _thresholds_params(args)
    try:
        result = thresholds_flow(params)
    except (SourceError, ThresholdsError, ValueError) as e:
        raise UsageError(str(e).splitlines()[0]) from None
    groups = result["groups"]
    kept = min(g["kept_share"] for g in groups.values())
    print(
        f"{args.out}: {len(groups)} language groups ({', '.join(groups)}); lowest kept {kept:.3f}"
    )
    return 0
