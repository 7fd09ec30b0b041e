"""The manual end-to-end flow: corpus, then training on the new version, then its evaluation.

Deployed as ``pipeline`` (deployments/prefect.yaml), started by hand from the UI ("Run") or
``prefect deployment run crossling-pipeline/pipeline``. It calls the corpus, training and
evaluation flows as child runs named ``pipeline-<this run>-corpus|train|evaluate``: the ``train``
and ``evaluate`` deployment triggers skip events from runs named ``pipeline-*``, so a pipeline run
trains and evaluates once, itself, instead of also starting the event-driven runs.

Every step is idempotent (a finished corpus version, training run or evaluation is found and not
redone), so running the pipeline again on the same inputs only publishes its summary again.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel, Field, create_model

from crossling.augment.backtranslate import BacktranslateConfig
from crossling.evaluate.suite import EvalConfig
from crossling.train.config import TrainConfig
from flows.cli_params import Opt, add_options, build
from flows.corpus import CLI_OPTIONS as CORPUS_OPTIONS
from flows.corpus import CorpusParams, corpus_flow
from flows.deployment_flow import deployment_flow
from flows.evaluate import evaluate_flow
from flows.links import artifact_key, output_link
from flows.runners import make_task_runner
from flows.train import train_flow

# Child runs get this prefix; the deployment triggers ignore events from runs named like this.
CHILD_PREFIX = "pipeline-"
# Filled in from the corpus step; everything else of TrainConfig is a pipeline parameter.
_FROM_CORPUS = {"data_root", "corpus", "version"}

TrainOptions = create_model(
    "TrainOptions",
    __doc__="How to train on the new corpus version (TrainConfig without root, corpus, version).",
    **{
        name: (f.annotation, f)
        for name, f in TrainConfig.model_fields.items()
        if name not in _FROM_CORPUS
    },
)


class PipelineParams(BaseModel):
    """Parameters of a pipeline run (rendered as a form in the Prefect UI)."""

    corpus: CorpusParams = Field(description="Which inputs become which corpus, and how.")
    train: TrainOptions = Field(
        default_factory=TrainOptions,  # type: ignore[valid-type]
        description="Training on the corpus version just built.",
    )
    evaluate: EvalConfig = Field(
        default_factory=EvalConfig, description="Evaluation of the checkpoint just trained."
    )
    backtranslate: BacktranslateConfig | None = Field(
        None,
        description="Back-translate documents of the new version (e.g. lang en, to zh) into a "
        "derived version before training, which then reads real and synthetic pairs. With model "
        "'latest' and no translation checkpoint for the direction yet, one is trained first "
        "(translation, the train options' preset and steps).",
    )

    def train_config(self, version: str) -> TrainConfig:
        return TrainConfig(
            data_root=self.corpus.root,
            corpus=self.corpus.name,
            version=version,
            **self.train.model_dump(exclude_unset=True),
        )


def child_run_name(parent: str | None, step: str) -> str:
    return f"{CHILD_PREFIX}{parent or 'local'}-{step}"


@deployment_flow(name="crossling-pipeline", log_prints=True, validate_parameters=True)
def pipeline_flow(params: PipelineParams) -> dict[str, Any]:
    """Corpus -> train -> evaluate, each a child flow run; returns the three summaries."""
    from prefect.runtime import flow_run

    logger = get_run_logger()
    parent = flow_run.name
    runner = make_task_runner(params.corpus.workers, params.corpus.dask_address)
    corpus = corpus_flow.with_options(
        flow_run_name=child_run_name(parent, "corpus"), task_runner=runner
    )(params.corpus)
    logger.info(
        "corpus %s %s (%s)",
        corpus["name"],
        corpus["version"],
        "new" if corpus["new"] else "unchanged",
    )

    version = corpus["version"]
    bt_summary = None
    if params.backtranslate is not None:
        bt_summary = _backtranslate_step(params, parent, version)
        version = bt_summary["version"]

    tcfg = params.train_config(version)
    train = train_flow.with_options(flow_run_name=child_run_name(parent, "train"))(tcfg)
    root = tcfg.out_root or tcfg.data_root
    checkpoints = [train["checkpoint"]] if train.get("checkpoint") else []

    evaluation = evaluate_flow.with_options(flow_run_name=child_run_name(parent, "evaluate"))(
        root=root, checkpoints=checkpoints, config=params.evaluate
    )

    models = evaluation.get("models", {})
    manifest = output_link(corpus["manifest"])
    lines = [
        f"# Pipeline {parent or ''}",
        "",
        f"- corpus **{corpus['name']}** `{corpus['version']}` "
        f"({'new' if corpus['new'] else 'unchanged'}): {corpus['counts']['docs']} documents, "
        f"{corpus['counts']['pairs']} pairs, {corpus['counts']['rejects']} rejects; "
        f"[{manifest.label('manifest')}]({manifest.url})",
        *(
            [
                f"- back-translated {bt_summary['direction']}: `{bt_summary['version']}`, "
                f"{bt_summary['kept']} synthetic pairs kept of {bt_summary['inputs']} sentences"
            ]
            if bt_summary
            else []
        ),
    ]
    line = (
        f"- model **{train['model_name']}** `{train['run_version']}` step {train['step']} "
        f"({'trained' if train['trained'] else 'already complete'})"
    )
    if train.get("checkpoint"):
        ckpt = output_link(train["checkpoint"])
        line += f": [{ckpt.label('checkpoint')}]({ckpt.url})"
    lines += [line, f"- evaluated: {', '.join(evaluation['evaluated']) or 'nothing new'}"]
    for model, info in models.items():
        regs = [r["metric"] for rs in info["regressions"].values() for r in rs]
        report = output_link(info["report"])
        lines.append(
            f"- {model}: [{report.label('report')}]({report.url}); "
            f"regressions: {', '.join(regs) or 'none'}"
        )
    create_markdown_artifact(
        key=artifact_key("pipeline", corpus["name"]),
        markdown="\n".join(lines) + "\n",
        description=f"Corpus, model and evaluation of pipeline run {parent}",
    )
    return {
        "corpus": corpus,
        "backtranslate": bt_summary,
        "train": {k: v for k, v in train.items() if k != "losses"},
        "evaluate": evaluation,
    }


def _backtranslate_step(params: PipelineParams, parent: str | None, version: str) -> dict[str, Any]:
    """Back-translation as a child run; first a translation model when none covers the direction."""
    from crossling.augment.translate import ModelNotFound, resolve_model
    from crossling.langid import canonical
    from flows.backtranslate import BacktranslateParams, backtranslate_flow

    cfg = params.backtranslate
    assert cfg is not None
    lang, to = canonical(cfg.lang)[0], canonical(cfg.to)[0]
    try:
        resolve_model(cfg.model, params.corpus.root, lang, to)
    except ModelNotFound:
        if cfg.model not in ("latest", ""):
            raise
        opts = params.train.model_dump(exclude_unset=True)
        opts.pop("objective", None)
        opts.pop("directions", None)
        opts.pop("model_name", None)
        mt = train_flow.with_options(flow_run_name=child_run_name(parent, "bt-model"))(
            TrainConfig(
                data_root=params.corpus.root,
                corpus=params.corpus.name,
                version=version,
                objective="translation",
                model_name=f"{params.corpus.name}-bt-model",
                **opts,
            )
        )
        cfg = cfg.model_copy(update={"model": mt["checkpoint"]})
    out = backtranslate_flow.with_options(flow_run_name=child_run_name(parent, "backtranslate"))(
        BacktranslateParams(
            root=params.corpus.root, corpus=params.corpus.name, version=version, config=cfg
        )
    )
    return out["rounds"][-1]


# --- command line (add "flows.pipeline" to flows/cli.py's _COMMAND_MODULES to enable) ------------


# The command's options, made from PipelineParams: the corpus command's options (into `corpus`)
# and the main training ones (into `train`). `--backtranslate XX:YY` is the command line's
# spelling of backtranslate.lang and backtranslate.to.
CLI_OPTIONS = [
    *(
        replace(o, field="corpus." + o.field)
        for o in CORPUS_OPTIONS
        if o.field not in ("langid_mode", "config_file")  # --mode, --config: train's words too
    ),
    Opt("train.objective"),
    Opt("train.preset"),
    Opt("train.max_steps", metavar="N"),
]
UI_ONLY = {
    "corpus.config": "CorpusConfig fields as a dict",
    "corpus.langid_mode": "set in the UI or a deployment",
    "corpus.config_file": "set in the UI or a deployment",
    "train": "the other training settings (crossling train has them all)",
    "evaluate": "evaluation settings (crossling evaluate has them)",
    "backtranslate": "on the command line: --backtranslate XX:YY (the other settings: the UI)",
}


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pipeline",
        help="corpus, training and evaluation in one run",
        description="Build a corpus version from files, train on it and evaluate "
        "the checkpoint, as one flow run with three child runs.",
    )
    add_options(p, PipelineParams, CLI_OPTIONS)
    p.add_argument(
        "--backtranslate",
        metavar="XX:YY",
        help="back-translate the XX documents into YY before training (e.g. en:zh)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cli, check=_params)


def _params(args: argparse.Namespace) -> PipelineParams:
    from flows.cli import UsageError

    bt = None
    if args.backtranslate:
        lang, _, to = args.backtranslate.partition(":")
        if not lang or not to:
            raise UsageError(f"--backtranslate {args.backtranslate}: expected XX:YY, e.g. en:zh")
        bt = {"lang": lang, "to": to}
    return build(PipelineParams, CLI_OPTIONS, args, backtranslate=bt)


def _cli(args: argparse.Namespace) -> int:
    params = _params(args)
    out = pipeline_flow(params)
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        t = out["train"]
        print(
            f"corpus {out['corpus']['name']} {out['corpus']['version']}; model "
            f"{t['model_name']} {t['run_version']} step {t['step']}; evaluated "
            f"{', '.join(out['evaluate']['evaluated']) or 'nothing new'}"
        )
    return 0
