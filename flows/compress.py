"""``crossling compress``: a smaller or faster model from a trained one (crossling.compress), as a
Prefect flow.

- A crossling causal-LM checkpoint (``clm``, ``clm-translation``): ``int8`` quantizes it (torch
  dynamic int8) into a registered checkpoint ``<model>-int8``; the table compares weights size,
  tokens/s and bits per byte per language (BLEU/chrF for a translation fine-tuned one).
- A translation checkpoint: ``int8`` exports it to CTranslate2 with int8 weights; ``distill``
  trains a smaller student on the teacher's translations of monolingual corpus text. Either way
  the result is a registered checkpoint (``<teacher>-int8`` / ``<teacher>-distilled`` under
  ``<root>/models``, metadata naming the teacher), both are evaluated side by side, and the flow
  publishes a table ``compress-<model>``: weights size, sentences/s and BLEU/chrF of the teacher
  and the result, with the change's 95% paired-bootstrap interval.
- A local transformers causal-LM directory: ``int8`` quantizes its Linear layers (torch dynamic
  int8) into ``--out`` and measures size, tokens/s and bits per byte on ``--texts``.

The compressed checkpoint's ``crossling.checkpoint.saved`` event is emitted, so the evaluation
deployment also picks it up like any other.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from crossling.compress import CompressConfig
from flows.cli_params import Opt, add_options, build
from flows.deployment_flow import deployment_flow
from flows.events import emit
from flows.links import artifact_key
from tasks.events import CHECKPOINT_SAVED, model_resource


class CompressParams(BaseModel):
    """Parameters of a compression run (rendered as a form in the Prefect UI)."""

    root: str = Field("./data", description="Data root holding models/ and corpora/.")
    checkpoint: str = Field(
        description="A translation or causal-LM checkpoint (its directory, or <model>/"
        "<run_version>/checkpoint-<step> under <root>/models), or a local transformers causal-LM "
        "directory."
    )
    config: CompressConfig = Field(
        default_factory=CompressConfig, description="Method (int8 or distill) and its settings."
    )
    out: str | None = Field(
        None, description="Causal LM: where the int8 model is written (default <dir>-int8)."
    )
    texts: str | None = Field(
        None,
        description="Causal LM: a text file (one text a line) or JSONL with a 'text' field, to "
        "measure bits per byte and tokens/s of both models on.",
    )
    evaluate: bool = Field(
        True, description="Checkpoints: evaluate the teacher and the result side by side."
    )
    eval_rows: int | None = Field(
        None, ge=1, description="Translation: held-out pairs per direction (default: the eval's)."
    )


def _read_texts(path: str, limit: int = 200) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                line = str(json.loads(line).get("text") or "")
            if line:
                out.append(line)
            if len(out) >= limit:
                break
    return out


def is_causal_lm_dir(path: str) -> bool:
    """A local model directory, not a crossling checkpoint, whose config is a decoder-only
    (causal) LM. A crossling checkpoint (its metadata.json names a ``model_kind``) is compressed
    into a registered checkpoint instead, a causal one included."""
    if not os.path.exists(os.path.join(path, "config.json")):
        return False
    if os.path.exists(os.path.join(path, "metadata.json")):
        with open(os.path.join(path, "metadata.json"), encoding="utf-8") as f:
            if json.load(f).get("model_kind"):
                return False
    from crossling.compress import _is_causal_lm

    return _is_causal_lm(path)


@task(name="compress", task_run_name="compress-{method}", cache_policy=NO_CACHE)
def compress_task(checkpoint: str, root: str, config: dict[str, Any], method: str) -> dict:
    from crossling.compress import compress

    train_fn = None
    if method == "distill":
        from flows.train import train_flow

        def train_fn(cfg: Any) -> dict[str, Any]:
            return train_flow.with_options(flow_run_name="distill-student")(cfg)

    return compress(checkpoint, root, CompressConfig.model_validate(config), train_fn=train_fn)


@task(name="compress-causal-lm", cache_policy=NO_CACHE)
def compress_causal_lm_task(src: str, out: str, texts: list[str] | None) -> dict[str, Any]:
    from crossling.compress import compress_causal_lm

    return compress_causal_lm(src, out, texts)


def comparison_rows(c: dict[str, Any]) -> list[dict[str, Any]]:
    """The table of a comparison (crossling.compress.compare): one row per model."""
    rows = []
    unit = c.get("speed_unit", "sentences_per_s")
    for who in ("teacher", "compressed"):
        row: dict[str, Any] = {
            "model": c[who],
            "weights MB": round((c["weights_bytes"][who] or 0) / 1e6, 3),
            unit.replace("_per_s", "/s"): c[unit][who],
        }
        for m, v in c["metrics"].items():
            row[m] = round(v[who], 4 if m.startswith("bits_per_byte/") else 2)
        rows.append(row)
    rows[1]["size x"] = round(c["size_x"], 2) if c["size_x"] else None
    rows[1]["speed x"] = round(c["speed_x"], 2) if c["speed_x"] else None
    return rows


@deployment_flow(name="crossling-compress", log_prints=True, validate_parameters=True)
def compress_flow(params: CompressParams) -> dict[str, Any]:
    """Compress one model; returns what was written and, when evaluated, the comparison."""
    from crossling.compress import compare
    from crossling.evaluate.suite import EvalConfig
    from crossling.registry import resolve_checkpoint
    from tasks.evaluate import evaluate_checkpoint_task

    logger = get_run_logger()
    cfg = params.config
    if is_causal_lm_dir(params.checkpoint):
        if cfg.method != "int8":
            raise ValueError(f"{params.checkpoint}: a causal LM is compressed with int8 only")
        src = params.checkpoint.rstrip("/")
        out = params.out or f"{src}-int8"
        texts = _read_texts(params.texts) if params.texts else None
        r = compress_causal_lm_task(src, out, texts)
        logger.info("int8 causal LM in %s: %.2fx smaller", out, r["size_ratio"])
        return {"method": "int8", "kind": "causal_lm", "checkpoint": out, "result": r}
    out = compress_task(params.checkpoint, params.root, cfg.model_dump(mode="json"), cfg.method)
    ref = resolve_checkpoint(out["checkpoint"], params.root)
    teacher = resolve_checkpoint(out["teacher"], params.root)
    meta = ref.metadata()
    emit(
        CHECKPOINT_SAVED,
        model_resource(ref.model_name),
        {
            "root": params.root,
            "model_name": ref.model_name,
            "run_version": ref.run_version,
            "step": ref.step,
            "checkpoint": ref.path,
            "objective": meta.get("objective"),
            "corpus": (meta.get("corpus") or {}).get("name"),
            "corpus_version": (meta.get("corpus") or {}).get("version"),
            "compressed_from": teacher.path,
        },
        name=ref.model_name,
    )
    if not params.evaluate:
        return out
    # Both now, one after the other: their speeds are measured under the same load.
    results = {}
    for r in (teacher, ref):
        evaluate_checkpoint_task(
            root=r.root,
            checkpoint_path=r.path,
            model_name=r.model_name,
            run_version=r.run_version,
            step=r.step,
            config=(
                EvalConfig(max_rows_per_lang=params.eval_rows) if params.eval_rows else EvalConfig()
            ).model_dump(),
            overwrite=True,
        )
        results[r.path] = r.results()
    comparison = compare(results[teacher.path], results[ref.path])
    create_table_artifact(
        table=comparison_rows(comparison),
        key=artifact_key("compress", ref.model_name),
        description=f"{cfg.method}: {comparison['compressed']} against its teacher "
        f"{comparison['teacher']} (weights, speed, BLEU/chrF on the held-out pairs)",
    )
    out["comparison"] = comparison
    return out


def run_compress(params: CompressParams) -> dict[str, Any]:
    """Run the flow (a temporary Prefect server starts if no API is configured)."""
    return compress_flow(params)


# --- command line ------------------------------------------------------------------------------------


def print_comparison(c: dict[str, Any], method: str) -> None:
    """The compression table: size x, speed x, BLEU/chrF change (95% interval)."""
    print(f"compression ({method}): {c['compressed']}  <-  teacher {c['teacher']}")
    unit = c.get("speed_unit", "sentences_per_s")
    wb, sp = c["weights_bytes"], c[unit]
    print(
        f"  weights {(wb['teacher'] or 0) / 1e6:.2f} MB -> {(wb['compressed'] or 0) / 1e6:.2f} MB "
        f"({c['size_x'] or 0:.2f}x smaller); {sp['teacher'] or 0:,.0f} -> "
        f"{sp['compressed'] or 0:,.0f} {unit.replace('_per_s', '/s')} "
        f"({c['speed_x'] or 0:.2f}x, one thread each, measured one after the other)"
    )
    for m, v in c["metrics"].items():
        ci = v["ci"]
        d = 4 if m.startswith("bits_per_byte/") else 2
        interval = f" [{ci[0]:+.{d}f}, {ci[1]:+.{d}f}]" if ci else ""
        print(
            f"  {m:<12} {v['teacher']:6.{d}f} -> {v['compressed']:6.{d}f}  "
            f"({v['change']:+.{d}f}{interval})"
        )


# The command's options, made from CompressParams and its nested CompressConfig (one
# declaration: the UI form and --help say the same).
CLI_OPTIONS = [
    Opt("checkpoint", positional=True, metavar="CHECKPOINT"),
    Opt("root", flag="--data", metavar="ROOT"),
    Opt("config.method", flag="--method"),
    Opt("config.model_name", flag="--name", metavar="NAME"),
    Opt("config.steps", flag="--steps", metavar="N"),
    Opt("config.student_layers", metavar="N"),
    Opt("config.student_width", metavar="F"),
    Opt("config.max_sentences", metavar="N"),
    Opt("config.batch_size", metavar="N"),
    Opt("config.lr", metavar="LR"),
    Opt("config.seed", metavar="N"),
    Opt("config.beam", metavar="N"),
    Opt("config.threads", metavar="N"),
    Opt("out", metavar="DIR"),
    Opt("texts", metavar="FILE"),
    Opt("evaluate", invert="--no-eval"),
    Opt("eval_rows", metavar="N"),
]
UI_ONLY: dict[str, str] = {}


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compress",
        help="int8 export or distillation of a trained model (a new registered checkpoint)",
        description="Compress a translation checkpoint (int8 CTranslate2 export, or sequence-"
        "level knowledge distillation into a smaller student) or a causal-LM checkpoint (int8) "
        "and evaluate it against the teacher; or quantize a local causal-LM directory to int8 "
        "(torch dynamic quantization).",
    )
    add_options(p, CompressParams, CLI_OPTIONS)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_cli, check=lambda args: build(CompressParams, CLI_OPTIONS, args))


def _cli(args: argparse.Namespace) -> int:
    from crossling.registry import resolve_checkpoint
    from flows.cli import UsageError

    params = build(CompressParams, CLI_OPTIONS, args)
    args.method, args.data = params.config.method, params.root
    if args.texts and not os.path.isfile(args.texts):
        raise UsageError(f"--texts {args.texts}: no such file")
    causal = os.path.isdir(args.checkpoint) and is_causal_lm_dir(args.checkpoint)
    if not causal:
        try:
            meta = resolve_checkpoint(args.checkpoint, args.data).metadata()
        except ValueError as e:
            raise UsageError(
                f"{args.checkpoint}: neither a checkpoint nor a causal-LM directory ({e})"
            ) from None
        if meta.get("model_kind") not in ("seq2seq", "causal"):
            raise UsageError(
                f"{args.checkpoint}: a {meta.get('model_kind')} checkpoint; compress takes "
                "translation and causal-LM checkpoints and causal-LM directories"
            )
        if meta.get("model_kind") == "causal" and args.method != "int8":
            raise UsageError(
                f"{args.checkpoint}: a causal LM is compressed with --method int8 only"
            )
        if meta.get("compression"):
            raise UsageError(
                f"{args.checkpoint}: already compressed ({meta['compression']['method']})"
            )
    elif args.method != "int8":
        raise UsageError(f"{args.checkpoint}: a causal LM is compressed with --method int8 only")
    out = run_compress(params)
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    elif "comparison" in out:
        print_comparison(out["comparison"], args.method)
    elif out.get("kind") == "causal_lm":
        r = out["result"]
        print(f"int8 causal LM: {out['checkpoint']} ({r['size_ratio']:.2f}x smaller weights)")
        if "eval" in r:
            print(
                f"  bits/byte {r['teacher_eval']['bits_per_byte']:.4f} -> "
                f"{r['eval']['bits_per_byte']:.4f}; tokens/s "
                f"{r['teacher_eval']['tokens_per_s']:,.0f} -> {r['eval']['tokens_per_s']:,.0f} "
                f"({r['speed_ratio']:.2f}x)"
            )
    else:
        print(f"compressed: {out['checkpoint']}")
    return 0
