"""``crossling dedup IN... --out OUT``: near-duplicate (and line) removal over files, as a flow.

The job's schedule (:func:`crossling.dedup.job.run`) with each unit a Prefect task, on the
flow's worker processes (or a Dask cluster with ``--dask-address``): signatures per input
partition, the bucket reduce per band group, shingle sets for exact verification per partition
that needs them, one clustering task, and the filter per partition. Publishes a
table of rejects by reason and a summary artifact.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import BaseModel, Field

from crossling.dedup import job as dedup_job
from crossling.dedup.lines import LineDedupConfig
from crossling.dedup.minhash import NearDedupConfig
from crossling.run.executors import LocalExecutor
from crossling.sources.files import InputNotFound
from flows.cli_params import Opt, add_options, build
from flows.links import artifact_key
from flows.runners import make_task_runner
from tasks import dedup as dedup_tasks
from tasks.units import TaskExecutor


class DedupParams(BaseModel):
    """Parameters of a dedup run (rendered as a form in the Prefect UI)."""

    inputs: list[str] = Field(
        ..., description="JSONL files (fields `id`, `text`, any others) or Parquet (`text`)."
    )
    out: str = Field(..., description="Output folder: kept/ and rejects/ Parquet folders.")
    near: NearDedupConfig = Field(default_factory=NearDedupConfig)
    lines: LineDedupConfig = Field(default_factory=LineDedupConfig)
    partition_bytes: int = Field(64 << 20, description="Inputs are cut into parts of this size.")
    keep_work: bool = Field(False, description="Keep OUT/.work for inspection.")
    workers: int = Field(2, ge=1, le=256, description="Worker processes (or Dask workers).")
    dask_address: str | None = Field(
        None, description="tcp://host:8786 to run on a Dask cluster; 'local' for a LocalCluster."
    )

    def job_config(self) -> dedup_job.DedupJobConfig:
        return dedup_job.DedupJobConfig(
            near=self.near,
            lines=self.lines,
            partition_bytes=self.partition_bytes,
            keep_work=self.keep_work,
        )


@flow(name="dedup", log_prints=True, validate_parameters=True)
def dedup_flow(params: DedupParams) -> dict[str, Any]:
    """Remove near-duplicates (and, if enabled, repeated lines) from the inputs."""
    job = dedup_job.plan(params.inputs, params.out, params.job_config())
    dedup_job.prepare(job)
    print(
        f"dedup {len(job['partitions'])} partitions of {len(params.inputs)} inputs -> {job['out']}"
    )
    if params.dask_address:
        runner, inner = make_task_runner(params.workers, params.dask_address), None
    else:
        runner = ThreadPoolTaskRunner(max_workers=params.workers)
        inner = LocalExecutor(params.workers)
    with runner, TaskExecutor(runner, params.workers, dedup_tasks.TASKS, inner) as executor:
        summary = dedup_job.run(job, executor)
    print(
        f"clusters: {summary['candidate_pairs']} candidate pairs, {summary['verified_pairs']} "
        f"verified, {summary['by_reason'].get('near_duplicate', 0)} near-duplicates in "
        f"{summary['clusters']} clusters"
    )
    _artifacts(summary)
    return summary


def _artifacts(s: dict[str, Any]) -> None:
    key = artifact_key("dedup", os.path.basename(s["out"].rstrip("/")) or "out")
    rows = [{"reason": k, "rows": v} for k, v in sorted(s["by_reason"].items())]
    create_table_artifact(
        key=f"{key}-rejects",
        table=rows or [{"reason": "-", "rows": 0}],
        description=f"Rejected records by reason, {s['out']}",
    )
    stage_rows = [{"stage": k, **v} for k, v in s["stages"].items()]
    create_table_artifact(
        key=f"{key}-stages",
        table=stage_rows,
        description="Tasks, seconds (summed over tasks) and peak worker memory per stage",
    )
    near = s["near"]
    create_markdown_artifact(
        key=f"{key}-summary",
        description=f"What the dedup run into {s['out']} kept and removed",
        markdown=(
            f"# Dedup into `{s['out']}`\n\n"
            f"- records: {s['records']} -> kept **{s['kept']}**, rejects {s['rejects']} "
            f"({'balanced' if s['balanced'] else 'NOT BALANCED'})\n"
            f"- near-duplicates: {s['by_reason'].get('near_duplicate', 0)} in {s['clusters']} "
            f"clusters; {s['candidate_pairs']} candidate pairs, {s['verified_pairs']} verified "
            f"({near['verify']})\n"
            f"- MinHash: threshold {near['threshold']}, {near['bands']} bands x {near['rows']} "
            f"rows of {near['num_perm']}, {_shingle_text(near)}\n"
            f"- units removed by line dedup: {s['units_removed'] or 'none'}\n"
            f"- wall time {s['seconds']:.1f}s; errors: {s['errors'] or 'none'}\n"
        ),
    )


# --- CLI ------------------------------------------------------------------------------------------


# The command's options, made from DedupParams and its nested near/lines configs (one
# declaration: the UI form and --help say the same).
CLI_OPTIONS = [
    Opt("inputs", positional=True, metavar="IN"),
    Opt("out", metavar="OUT"),
    Opt("near.threshold"),
    Opt("near.shingles"),
    Opt("near.ngram", metavar="N"),
    Opt("near.char_ngram", metavar="N"),
    Opt("near.bands", metavar="N"),
    Opt("near.rows", metavar="N"),
    Opt("near.num_perm", metavar="N"),
    Opt("near.verify"),
    Opt("near.recall_weight", metavar="W"),
    Opt("near.seed", metavar="N"),
    Opt("near.signature_slack", metavar="F"),
    Opt("near.band_groups", metavar="N"),
    Opt("near.expand", metavar="N"),
    Opt("near.small_bucket", metavar="N"),
    Opt("near.batch_chars", metavar="N"),
    Opt("lines.min_count", flag="--lines", metavar="N", extra_help="Turns line dedup on."),
    Opt("lines.unit", flag="--paragraphs", const="paragraph", extra_help="(with --lines)"),
    Opt("lines.hash_shards", metavar="N"),
    Opt("partition_bytes", metavar="BYTES"),
    Opt("workers", metavar="N", default=min(4, os.cpu_count() or 1)),
    Opt("dask_address"),
    Opt("keep_work"),
]
UI_ONLY = {
    "near.enabled": "the dedup command always removes near-duplicates",
    "lines.enabled": "set by --lines N",
}


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dedup",
        help="remove near-duplicates (MinHash LSH) from JSONL or Parquet files",
        description="Near-duplicate removal over JSONL (`id`, `text`) or Parquet files. Writes "
        "OUT/kept (id, the input's columns, dup_cluster_size) and OUT/rejects (id, duplicate_of, "
        "reason, detail) as Parquet folders.",
    )
    add_options(p, DedupParams, CLI_OPTIONS)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cli, check=_params)


def _params(args: argparse.Namespace) -> DedupParams:
    """The run's parameters from the command line (usage errors before any server starts)."""
    from flows.cli import UsageError

    if args.lines__unit and args.lines__min_count is None:
        raise UsageError("--paragraphs needs --lines N")
    lines = {"enabled": True} if args.lines__min_count is not None else {}
    params = build(DedupParams, CLI_OPTIONS, args, lines=lines)
    for s in params.inputs:
        if not any(c in s for c in "*?[") and not os.path.exists(s):
            raise UsageError(f"{s}: no such file or directory")
    return params


def _cli(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    params = _params(args)
    try:
        summary = dedup_flow(params)
    except (InputNotFound, dedup_job.DedupInputError) as e:
        raise UsageError(str(e)) from None
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
    return 0 if summary["balanced"] else 1


def print_summary(s: dict[str, Any], out=None) -> None:
    out = out or sys.stdout
    near = s["by_reason"].get("near_duplicate", 0)
    other = {k: v for k, v in s["by_reason"].items() if k != "near_duplicate"}
    print(
        f"dedup: {s['records']} records -> {s['kept']} kept, {near} near-duplicates "
        f"({s['clusters']} clusters), other rejects {other or 'none'}",
        file=out,
    )
    if s["units_removed"]:
        print(f"  line dedup removed {s['units_removed']}", file=out)
    for e in s["errors"]:
        print(f"  input error: {e['input']}: {e['error']}", file=out)
    print(f"  kept: {s['kept_dir']}\n  rejects: {s['rejects_dir']}", file=out)


def _shingle_text(near: dict) -> str:
    """The shingles of a run's settings, in words (for the summary artifact)."""
    if near.get("shingles", "chars") == "chars":
        return f"character {near['char_ngram']}-grams in every script"
    return f"word {near['ngram']}-grams, character {near['char_ngram']}-grams"
