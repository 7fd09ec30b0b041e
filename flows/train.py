"""The training flow: tokenizer, then one training run, then its loss curve and checkpoint link.

Triggered by ``crossling.corpus.published`` (deployments/: retrain on each new corpus version, the
version templated from the event payload) or run by hand with ``crossling train``. Publishes:

- a table artifact ``train-<model>-loss``: step, loss, learning rate, tokens/s (and MFU on GPU),
- a markdown artifact ``train-<model>-curve``: the loss curve (PNG embedded, also written as
  ``<run_dir>/loss.png`` beside the checkpoints) and the run's lineage,
- a link artifact ``train-<model>-checkpoint`` to the newest checkpoint,
- one ``crossling.checkpoint.saved`` event per checkpoint (from the task, as they are written).

Running it again with the same parameters resumes the unfinished run, or finds the finished one
and trains nothing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from crossling.corpus import CorpusVersion
from crossling.storage import DataRoot
from crossling.train.config import TrainConfig, resolve
from crossling.train.plots import plot_losses
from crossling.train.run import run_training, starting_point, validate
from flows.cli_params import Opt, add_options, build, complete
from flows.deployment_flow import deployment_flow
from flows.events import flow_run_id
from flows.links import artifact_key, output_link
from tasks.train import prepare_training_task, train_model_task, train_tokenizer_task

# Steps of the demo's tiny causal LM: about 7 s of CPU time to train, 2 x 2 s to evaluate.
DEMO_CLM_STEPS = 40
# Markdown artifacts live in Prefect's database: embed the PNG only while it stays small.
MAX_EMBEDDED_PNG_BYTES = 200_000


def _has_own_tokenizer(path: str | None) -> bool:
    return bool(path) and any(
        os.path.exists(os.path.join(path, f)) for f in ("tokenizer.json", "tokenizer_config.json")
    )


def publish_artifacts(summary: dict[str, Any]) -> dict[str, str]:
    """Loss table, loss-curve PNG (file + markdown) and checkpoint link of a run summary."""
    model = summary["model_name"]
    key = artifact_key("train", model)
    losses = summary["losses"]
    rows = [
        {k: r[k] for k in ("step", "loss", "lr", "tokens_per_s", "mfu") if k in r} for r in losses
    ]
    create_table_artifact(
        table=rows or [{"step": 0, "loss": None}],
        key=f"{key}-loss",
        description=f"Training loss of {model} {summary['run_version']} ({summary['objective']}, "
        f"preset {summary['preset']})",
    )
    out: dict[str, str] = {}
    lines = [
        f"# Training {model}",
        "",
        f"- run: `{summary['run_version']}`, objective **{summary['objective']}**, preset "
        f"**{summary['preset']}**, step {summary['step']}, tokens seen {summary['tokens_seen']:,}",
        f"- corpus: {summary['corpus']['name']} `{summary['corpus']['version']}` (manifest sha256 "
        f"`{summary['corpus']['manifest_sha256'][:12]}`)",
        f"- languages: {', '.join(summary['languages'])}",
    ]
    if summary.get("parent_checkpoint"):
        lines.append(f"- continued from `{summary['parent_checkpoint']}`")
    seen = summary.get("corpus_versions") or []
    read = {v["version"] for v in summary.get("trained_on") or []}
    if seen:
        lines.append(
            "- corpus versions seen: "
            + ", ".join(
                f"`{v['version']}`" + (" (this run)" if v["version"] in read else "") for v in seen
            )
        )
    if summary.get("tokens_per_s"):
        lines.append(
            f"- throughput: {summary['tokens_per_s']:,.0f} tokens/s"
            + (f", MFU {summary['mfu']:.1%}" if summary.get("mfu") else "")
        )
    if summary.get("packing_efficiency"):
        lines.append(
            f"- packing efficiency: {summary['packing_efficiency']:.3f} (real tokens / positions)"
        )
    if losses:
        png = plot_losses(
            losses,
            os.path.join(summary["run_dir"], "loss.png"),
            f"{model} {summary['run_version']}",
        )
        link = output_link(png)
        out["plot"] = png
        lines += ["", f"Loss curve: [{link.label(os.path.basename(png))}]({link.url})", ""]
        data = open(png, "rb").read()
        if len(data) <= MAX_EMBEDDED_PNG_BYTES:
            lines.append(f"![loss curve](data:image/png;base64,{base64.b64encode(data).decode()})")
        elif link.served:
            lines.append(f"![loss curve]({link.url})")
    create_markdown_artifact(
        markdown="\n".join(lines),
        key=f"{key}-curve",
        description=f"Loss curve and lineage of {model} {summary['run_version']}",
    )
    if summary.get("checkpoint"):
        link = output_link(summary["checkpoint"])
        create_link_artifact(
            link=link.url,
            link_text=link.label(f"{model} {summary['run_version']} step {summary['step']}"),
            key=f"{key}-checkpoint",
            description="The newest checkpoint of this run.",
        )
        out["checkpoint"] = link.url
    return out


@deployment_flow(name="crossling-train", log_prints=True, validate_parameters=True)
def train_flow(params: TrainConfig) -> dict[str, Any]:
    """Train the tokenizer of the corpus version (if needed), then the model, and publish the run."""
    logger = get_run_logger()
    out_root = params.out_root or params.data_root
    head = CorpusVersion.open(params.data_root, params.corpus, params.version)
    params = params.model_copy(update={"version": head.version, "out_root": out_root})
    start = starting_point(resolve(params))
    if start is not None:
        logger.info("mode %s: starting from %s", params.mode, start.path)
    if not _has_own_tokenizer(start.path if start else None):
        tok = train_tokenizer_task(
            params.data_root,
            out_root,
            params.corpus,
            head.version,
            params.tokenizer_vocab_size,
            params.seed,
        )
        logger.info("tokenizer: %s", tok["path"])
    plan = prepare_training_task(params.model_dump(), flow_run_id())
    logger.info("run %s/%s (%s)", plan["model_name"], plan["run_version"], plan["run_dir"])
    summary = train_model_task(plan)
    if not summary["trained"]:
        logger.info(
            "%s %s was already complete at step %d",
            summary["model_name"],
            summary["run_version"],
            summary["step"],
        )
    summary["artifacts"] = publish_artifacts(summary)
    return summary


def run_train(params: TrainConfig) -> dict[str, Any]:
    """Run the training flow (a temporary Prefect server starts if no API is configured)."""
    return train_flow(params)


def run_demo_training(root: str, corpus: str, version: str) -> dict[str, str]:
    """Tokenizer, a tiny MLM encoder, a tiny translation model and a tiny causal LM on the demo
    corpus.

    A few minutes on a CPU at most; returns where the tokenizer and the checkpoints are.

    The encoder also saves its untrained weights (checkpoint-0): on a corpus this small and this
    varied (13 languages, 8 scripts, ~70k tokens), masked-token accuracy of a tiny model stays at
    the level of always guessing the most frequent piece for thousands of steps, while
    pseudo-perplexity falls steadily; against the untrained baseline both show what was learned.
    """
    base = {"data_root": root, "corpus": corpus, "version": version, "preset": "tiny"}
    mlm = run_train(
        TrainConfig(
            **base,
            objective="mlm",
            max_steps=400,
            save_every=200,
            save_initial=True,
            log_every=50,
        )
    )
    mt = run_train(
        TrainConfig(**base, objective="translation", max_steps=800, save_every=400, log_every=100)
    )
    # A tiny decoder-only causal LM (seconds): evaluation scores it in bits per byte per language
    # against its untrained weights.
    clm = run_train(
        TrainConfig(
            **base,
            objective="clm",
            max_steps=DEMO_CLM_STEPS,
            save_every=DEMO_CLM_STEPS,
            save_initial=True,
            log_every=20,
            batch_size=8,
            rehydration="up-to-5",
        )
    )
    return {
        "tokenizer": DataRoot(root).tokenizer_dir(corpus, version),
        "mlm": mlm["checkpoint"],
        "translation": mt["checkpoint"],
        "clm": clm["checkpoint"],
    }


# --- command line ------------------------------------------------------------------------------------


def _params(args: argparse.Namespace) -> TrainConfig:
    """The run's parameters from the command line (usage errors before any server starts)."""
    from flows.cli import UsageError

    data = DataRoot(args.data_root)
    if not data.fs.exists(data.path):
        raise UsageError(f"data root {args.data_root} does not exist")
    if args.objective == "classification" and not args.labeled_path:
        raise UsageError("--objective classification needs --labeled FILE")
    if (
        args.labeled_path
        and not os.path.exists(args.labeled_path)
        and "://" not in args.labeled_path
    ):
        raise UsageError(f"{args.labeled_path}: no such labeled file")
    if args.init_from and not os.path.isdir(args.init_from):
        raise UsageError(f"--init-from {args.init_from}: not a directory")
    return build(TrainConfig, CLI_OPTIONS, args)


def _cmd_train(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    params = _params(args)
    try:
        validate(resolve(params))  # fail fast, in one line, before any Prefect or training work
    except ValueError as e:  # CorpusNotFound included
        raise UsageError(str(e).splitlines()[0]) from None
    summary = run_train(params) if args.needs_prefect else run_training(params)
    if args.json:
        print(
            json.dumps({k: v for k, v in summary.items() if k != "losses"}, indent=2, default=str)
        )
    else:
        print_summary(summary)
    return 0


def print_summary(s: dict[str, Any]) -> None:
    state = "trained" if s["trained"] else "already complete"
    print(
        f"{s['model_name']} {s['run_version']}: {state}, step {s['step']}, "
        f"tokens seen {s['tokens_seen']:,}"
    )
    if s["losses"]:
        first, last = s["losses"][0], s["losses"][-1]
        print(
            f"  loss {first['loss']:.4f} (step {first['step']}) -> {last['loss']:.4f} (step {last['step']})"
        )
    if s.get("resumed_from"):
        print(f"  resumed from {s['resumed_from']}")
    if s.get("tokens_per_s"):
        mfu = f", MFU {s['mfu']:.1%}" if s.get("mfu") else ""
        print(f"  {s['tokens_per_s']:,.0f} tokens/s{mfu}")
    if s.get("packing_efficiency"):
        print(f"  packing efficiency {s['packing_efficiency']:.3f}")
    print(f"  checkpoint: {s['checkpoint']}")


# The command's options, made from TrainConfig (one declaration: the UI form and --help say the
# same): these spelled their own way, then every other field as --field-name.
CLI_OPTIONS = complete(
    TrainConfig,
    [
        Opt("data_root", flag="--data", metavar="ROOT", required=True),
        Opt("corpus", metavar="NAME"),
        Opt("version", metavar="V"),
        Opt("objective"),
        Opt("preset"),
        Opt("mode"),
        Opt("max_steps", metavar="N"),
        Opt("out_root", flag="--out", metavar="ROOT"),
        Opt("labeled_path", flag="--labeled", metavar="FILE"),
        Opt("train_langs", metavar="CODES", split=","),
        Opt("directions", metavar="PAIRS", split=","),
        Opt("languages", metavar="CODES", split=","),
        Opt("init_from", metavar="DIR"),
        Opt("seq_len", metavar="N"),
        Opt("rehydration", type=str, extra_help="On the command line: none or up-to-5."),
        Opt("model_name"),
        Opt("batch_size", metavar="N"),
        Opt("grad_accum", metavar="N"),
        Opt("lr", metavar="LR"),
        Opt("save_every", metavar="N"),
        Opt("seed", metavar="N"),
        Opt("devices", metavar="N"),
        Opt("distributed"),
        Opt("precision"),
    ],
)
UI_ONLY: dict[str, str] = {}


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crossling train --data ROOT --corpus NAME --objective ... --preset ...``."""
    p = subparsers.add_parser(
        "train",
        help="train a tokenizer and a model on a corpus version",
        description="Train (or resume, or find finished) a model on a corpus version: MLM, TLM or "
        "causal-LM "
        "pretraining, translation or classification fine-tuning. Killed and run again, it resumes "
        "from the last checkpoint.",
    )
    add_options(p, TrainConfig, CLI_OPTIONS)
    # Stored as `needs_prefect` (read by flows.cli): --local starts no Prefect API at all.
    p.add_argument(
        "--local",
        dest="needs_prefect",
        action="store_false",
        help="train in this process without Prefect (no server, artifacts or events)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_train, check=_params)
