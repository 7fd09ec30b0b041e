"""The evaluation flow: score checkpoints that have no results, then publish per-model comparisons.

Runs on a cron schedule and on ``crossling.checkpoint.saved`` (deployments/). With no checkpoints
given it evaluates every complete checkpoint under the data root that has no ``results.json``; a
second run finds none and does nothing (no tasks, artifacts or events). For every model that got
new results it publishes:

- a table artifact ``eval-<model>``: the leaderboard across checkpoints (headline metrics, and
  what had nothing to evaluate),
- a markdown artifact ``eval-<model>-report``: each metric of the newest checkpoint against the
  previous and the best earlier one with the interval and p of a paired bootstrap, the regression
  flag, and plots (also written as PNGs next to the newest results:
  ``<root>/eval/<model>/<run_version>/<step>/plots/<metric>.png``),
- one ``crossling.eval.completed`` event per evaluated checkpoint,
- a warning in the run's log for every checkpoint with nothing (or not everything) to evaluate,
  and for every regression.

Selecting checkpoints, scoring, comparing and writing the report are ``crossling.evaluate``'s;
this module adds the Prefect parts (tasks, artifacts, events, logs) and the command.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from crossling.evaluate import report
from crossling.evaluate.select import select_checkpoints
from crossling.evaluate.suite import ContaminationError, EvalConfig
from crossling.storage import DataRoot
from flows.cli_params import Opt, add_options, build, signature_model
from flows.deployment_flow import deployment_flow
from flows.events import emit
from flows.links import artifact_key, output_link
from tasks.evaluate import evaluate_checkpoint_task
from tasks.events import EVAL_COMPLETED, model_resource

DEFAULT_ROOT = os.environ.get("CROSSLING_ROOT", "./data")


class EvaluationFailed(RuntimeError):
    """One or more checkpoints could not be evaluated (the others were, and were published)."""


def publish_model(
    root: str, model_name: str, new_steps: set[tuple[str, int]], margin: float
) -> dict[str, Any]:
    """Leaderboard and report artifacts of one model; an event per newly evaluated checkpoint.

    Links (report, plots, results) go to the service's file server when ``crossling serve``
    serves the root (``output_link``), else ``file://``.
    """
    rep = report.model_report(
        root, model_name, new_steps, margin, link=lambda path: output_link(path).url
    )
    key = artifact_key("eval", model_name)
    create_table_artifact(
        table=rep.leaderboard,
        key=key,
        description=f"Evaluation of {model_name} across checkpoints (macro averages; "
        f"regressions = metrics significantly down more than {margin:.0%} on the previous "
        "checkpoint; status and no_heldout = what had nothing to evaluate)",
    )
    create_markdown_artifact(
        markdown=rep.markdown,
        key=artifact_key("eval", model_name, "report"),
        description=f"{model_name} {rep.newest} against earlier checkpoints",
    )
    for n in rep.new:
        emit(
            EVAL_COMPLETED,
            model_resource(model_name),
            {
                "root": root,
                "model_name": model_name,
                "run_version": n.result["run_version"],
                "step": n.result["step"],
                "results": n.results_uri,
                "regressions": n.regressions,
                "headline": n.headline,
                "status": report.status(n.result),
                "missing": report.missing(n.result),
            },
            name=model_name,
        )
    return {
        "table_key": key,
        "report": rep.report_uri,
        "plots": rep.plots,
        "leaderboard": rep.leaderboard,
        "regressions": rep.regressions,
        "warnings": rep.warnings,
    }


@deployment_flow(name="crossling-evaluate", log_prints=True)
def evaluate_flow(
    root: str = DEFAULT_ROOT,
    checkpoints: list[str] | None = None,
    config: EvalConfig | None = None,
    regression_margin: float = report.DEFAULT_REGRESSION_MARGIN,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Evaluate checkpoints and publish leaderboards, reports, plots and events per model.

    Args:
        root: the data root (local directory or fsspec URL).
        checkpoints: checkpoint directories, or ``<model>/<run_version>/checkpoint-<step>`` under
            ``<root>/models``. Empty: every checkpoint that has no results yet.
        config: how to evaluate (rows per language, lengths, labeled set, device).
        regression_margin: relative drop against the previous checkpoint flagged as a regression.
        overwrite: re-evaluate checkpoints that already have results.

    Returns:
        ``evaluated`` checkpoint names, ``failed`` (name -> error), and ``models``: per model the
        table artifact key, report URI, plot URIs, leaderboard rows and regressions.
    """
    logger = get_run_logger()
    if regression_margin < 0:
        raise ValueError(f"regression_margin must be >= 0, got {regression_margin}")
    cfg = config or EvalConfig()
    refs = select_checkpoints(root, checkpoints, overwrite=overwrite)
    if not overwrite:
        refs = [r for r in refs if not r.has_results()]
    if not refs:
        logger.info("nothing to evaluate under %s: every checkpoint has results", root)
        return {"evaluated": [], "failed": {}, "models": {}}
    logger.info("evaluating %d checkpoint(s): %s", len(refs), ", ".join(r.name for r in refs))
    # One checkpoint at a time: each evaluation already uses every core torch is given, and two
    # models in memory at once buy nothing on a CPU box.
    evaluated: dict[str, set[tuple[str, int]]] = defaultdict(set)
    failed: dict[str, str] = {}
    errors: list[BaseException] = []
    for ref in refs:
        state = evaluate_checkpoint_task(
            root=ref.root,
            checkpoint_path=ref.path,
            model_name=ref.model_name,
            run_version=ref.run_version,
            step=ref.step,
            config=cfg.model_dump(),
            overwrite=overwrite,
            return_state=True,
        )
        if state.is_completed():
            evaluated[(ref.root, ref.model_name)].add((ref.run_version, ref.step))
        else:
            exc = state.result(raise_on_failure=False)
            failed[ref.name] = str(exc)
            errors.append(exc if isinstance(exc, BaseException) else RuntimeError(str(exc)))
    models = {
        model: publish_model(model_root, model, steps, regression_margin)
        for (model_root, model), steps in sorted(evaluated.items())
    }
    for model, info in models.items():
        for warning in info["warnings"]:
            logger.warning("%s", warning)
        for label, regs in info["regressions"].items():
            if regs:
                logger.warning(
                    "REGRESSION %s %s: %s",
                    model,
                    label,
                    ", ".join(f"{r['metric']} (p {r['p']})" for r in regs),
                )
    summary = {
        "evaluated": [
            f"{m}/{v}/checkpoint-{s}" for (_, m), st in evaluated.items() for v, s in sorted(st)
        ],
        "failed": failed,
        "models": models,
    }
    if errors:
        contaminated = [e for e in errors if isinstance(e, ContaminationError)]
        first = contaminated[0] if contaminated else errors[0]
        raise EvaluationFailed(
            f"{len(errors)} of {len(refs)} checkpoint(s) failed; first: {first}"
        ) from first
    return summary


# --- command line ------------------------------------------------------------------------------------


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    params = _params(args)
    root = params.root
    data = DataRoot(root)
    if not data.fs.exists(data.path):
        raise UsageError(f"data root {root} does not exist")
    try:
        refs = select_checkpoints(root, params.checkpoints)
    except ValueError as e:
        raise UsageError(str(e)) from e
    names = sorted({r.model_name for r in refs}) if params.checkpoints else None
    try:
        summary = evaluate_flow(
            root=root,
            checkpoints=[r.path for r in refs] if params.checkpoints else [],
            config=params.config or EvalConfig(),
            regression_margin=params.regression_margin,
            overwrite=params.overwrite,
        )
    except EvaluationFailed as e:
        print(report.leaderboard_text(root, names, params.regression_margin))
        raise UsageError(str(e)) from e
    if not summary["evaluated"]:
        print("nothing new to evaluate: every checkpoint has results")
    print(report.leaderboard_text(root, names, params.regression_margin))
    for model, info in summary["models"].items():
        print(f"report for {model}: {info['report']}")
    return 0


# The command's options, made from the flow's own arguments (its docstring's Args: the UI form's
# descriptions) and their EvalConfig (one declaration: the UI form and --help say the same).
EvaluateParams = signature_model(evaluate_flow, "EvaluateParams")
CLI_OPTIONS = [
    Opt("checkpoints", positional=True, metavar="CHECKPOINT"),
    Opt("root", flag="--data", metavar="ROOT"),
    Opt("config.max_rows_per_lang", flag="--max-rows", metavar="N"),
    Opt("config.languages", flag="--languages", metavar="CODES", split=","),
    Opt("config.labeled_path", flag="--labeled", metavar="JSONL"),
    Opt("config.device", flag="--device"),
    Opt("regression_margin", flag="--margin", metavar="M"),
    Opt("overwrite", flag="--force"),
]
UI_ONLY = {"config": "the other evaluation settings (lengths, beams, batch size, threads)"}


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crossling evaluate [CHECKPOINT...] [--data ROOT]``."""
    p = subparsers.add_parser(
        "evaluate",
        help="evaluate checkpoints that have no results and print the leaderboard",
        description="Evaluate checkpoints (default: every checkpoint under ROOT without results) "
        "and print each model's leaderboard across checkpoints. Running it again does nothing new.",
    )
    add_options(p, EvaluateParams, CLI_OPTIONS)
    p.set_defaults(func=_cmd_evaluate, check=_params)


def _params(args: argparse.Namespace) -> Any:
    from flows.cli import UsageError

    params = build(EvaluateParams, CLI_OPTIONS, args)
    if params.regression_margin < 0:
        raise UsageError(f"invalid --margin ({params.regression_margin}): must be >= 0")
    return params


def run_demo_evaluation(root: str) -> dict[str, Any]:
    """Evaluate every demo checkpoint under ``root`` that has no results.

    Called at the end of ``crossling demo``, which prints ``text``: each model's leaderboard and
    its first against its last checkpoint. Returns the flow's summary plus ``text``. Classifier
    checkpoints are scored on the packaged demo labeled set unless their metadata names one.
    """
    from importlib import resources

    labeled = resources.files("crossling").joinpath("data/demo/labeled.jsonl")
    cfg = EvalConfig(labeled_path=str(labeled) if labeled.is_file() else None)
    summary = evaluate_flow(root=root, config=cfg)
    summary["text"] = report.leaderboard_text(root) + "\n\n" + report.progress_text(root)
    return summary
