"""The corpus flow: raw files to a versioned, language-labelled corpus version, with artifacts.

Runs the corpus run's schedule (crossling/run/schedule.py), each unit a task, on the run's
worker processes (or a Dask cluster); publishes a table per language, a table of drops, a link to the manifest, a
progress artifact, and emits ``crossling.corpus.published``. A rerun with the same inputs and
config finds the finished version and does nothing; after a crash it resumes from the finished
partitions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Literal

from prefect import get_run_logger
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import BaseModel, Field, ValidationError

from crossling.blocklists import BlocklistError
from crossling.corpus import CorpusVersion
from crossling.quality_model import QualityModelError
from crossling.run import schedule
from crossling.run.config import CorpusConfig, check_steps, load_config
from crossling.run.executors import LocalExecutor
from crossling.run.plan import CorpusPlan, plan_run
from crossling.run.stats import artifact_views
from crossling.sources.files import InputNotFound
from crossling.sources.remote import RemoteReadError, is_url, redact_url
from crossling.storage import MANIFEST, DataRoot
from crossling.thresholds import ThresholdsError
from flows.cli_params import Opt, add_options, build
from flows.deployment_flow import deployment_flow
from flows.events import emit
from flows.links import artifact_key, output_link
from flows.progress import ProgressArtifact
from flows.runners import make_task_runner
from tasks.corpus import TASKS
from tasks.events import CORPUS_ORIGIN, CORPUS_PUBLISHED, corpus_resource
from tasks.units import TaskExecutor


class CorpusParams(BaseModel):
    """Parameters of a corpus run (rendered as a form in the Prefect UI)."""

    sources: list[str] = Field(
        ...,
        description="Input files, folders or globs: JSONL(.gz), Parquet, WARC(.gz), WET, .txt "
        "folders, saved Hugging Face datasets; JSONL with src_text/tgt_text is parallel data. "
        "Also URLs (http(s)://, s3://bucket/prefix/, globs on s3) and Common Crawl path lists "
        "(warc.paths.gz, wet.paths.gz), streamed with retries.",
    )
    root: str = Field(
        "./data", description="Data root: a local folder or an fsspec URL (e.g. s3://bucket/root)."
    )
    name: str = Field(
        "corpus",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Corpus name; versions accumulate under corpora/<name>/.",
    )
    langs: list[str] | None = Field(None, description="Keep only these languages (e.g. de, fr).")
    langid_mode: Literal["doc", "line"] | None = Field(
        None, description="Language ID per document or per line (mixed-language pages)."
    )
    config_file: str | None = Field(None, description="A JSON/YAML CorpusConfig file.")
    config: dict[str, Any] | None = Field(
        None, description="CorpusConfig fields as a dict (applied over the file's)."
    )
    thresholds_file: str | None = Field(
        None,
        description="A thresholds file from `crossling thresholds` (per-language limits derived "
        "from reference text); the measured tags of an earlier run are reused.",
    )
    paths_base: str | None = Field(
        None,
        description="Base URL of the files a path list names (e.g. https://data.commoncrawl.org/ "
        "or s3://commoncrawl/); default: the path list's own host or bucket.",
    )
    paths_limit: int | None = Field(
        None, ge=1, description="Read only the first this many files of each path list."
    )
    workers: int = Field(2, ge=1, le=256, description="Worker processes (or Dask workers).")
    dask_address: str | None = Field(
        None,
        description="tcp://host:8786 to run partitions on a Dask cluster; 'local' for a "
        "LocalCluster.",
    )

    def resolve_config(self) -> CorpusConfig:
        """Defaults, then the config file, then ``config`` (the UI's dict), then the flags."""
        return load_config(
            self.config_file,
            self.config,
            langs=self.langs or None,
            thresholds_file=self.thresholds_file,
            **{
                "langid.mode": self.langid_mode,
                "remote.paths_base": self.paths_base,
                "remote.paths_limit": self.paths_limit,
            },
        )


@deployment_flow(name="corpus", log_prints=True, validate_parameters=True)
def corpus_flow(params: CorpusParams) -> dict[str, Any]:
    """Build (or find, or resume) the corpus version for these inputs and this config."""
    logger = get_run_logger()
    config = params.resolve_config()
    plan = plan_run(params.sources, params.root, params.name, config)
    key = artifact_key("corpus", params.name)
    dr = DataRoot(params.root)
    manifest_path = _manifest_path(plan)
    if plan.complete:
        print(f"corpus {params.name} version {plan.version} is already complete: nothing to do")
        manifest = dr.read_manifest(params.name, plan.version)
        link = output_link(manifest_path)
        create_link_artifact(
            key=f"{key}-manifest",
            link=link.url,
            link_text=link.label(f"{params.name} {plan.version} (unchanged)"),
            description="The finished version for these inputs and config.",
        )
        return _summary(plan, manifest, new=False, seconds=0.0)

    t0 = time.perf_counter()
    manifest = _run(plan, params)
    seconds = time.perf_counter() - t0
    _publish_artifacts(params.name, plan, manifest, manifest_path, seconds)
    if not manifest["conservation"]["balanced"]:
        logger.error("conservation check failed: %s", manifest["conservation"])
    emit(
        CORPUS_PUBLISHED,
        corpus_resource(params.name),
        {
            "root": os.path.abspath(plan.root) if "://" not in plan.root else plan.root,
            "name": plan.name,
            "version": plan.version,
            "manifest_uri": dr.uri(manifest_path),
            "manifest_sha256": CorpusVersion.open(
                plan.root, plan.name, plan.version
            ).manifest_sha256,
            "counts": {k: manifest["counts"][k] for k in ("docs", "pairs", "rejects")},
        },
        name=params.name,
        labels={CORPUS_ORIGIN: "inputs"},
    )
    return _summary(plan, manifest, new=True, seconds=seconds)


def _run(plan: CorpusPlan, params: CorpusParams) -> dict[str, Any]:
    """The run's schedule (crossling/run/schedule.py), each unit a task of this flow.

    On one machine the tasks run in threads of this process and hand their work to the run's
    worker processes (crossling.run.executors.LocalExecutor); with one worker everything runs in
    the tasks themselves; on a Dask cluster, on the cluster.
    """
    n = len(plan.partitions)
    verb = "resuming" if plan.resumed else "building"
    print(
        f"{verb} corpus {params.name} version {plan.version}: {n} partitions "
        f"({plan.tags_reused} already measured), {len(plan.input_errors)} input errors"
    )
    if params.dask_address:
        runner, inner = make_task_runner(params.workers, params.dask_address), None
    else:
        runner = ThreadPoolTaskRunner(max_workers=max(1, params.workers))
        inner = LocalExecutor(params.workers, plan.ctx.corpus_config().langid.model_path)
    progress = ProgressArtifact(
        key=f"{artifact_key('corpus', params.name)}-progress",
        description=f"Units of work finished for {params.name} {plan.version}",
        units=schedule.total_units(plan),
    )
    seen = 0

    def on_progress(p: schedule.Progress) -> None:
        nonlocal seen
        progress.set(p.done)
        if p.unit.name == "process":
            seen += 1
            t, d = p.result["tag"], p.result["decide"]["stats"]
            kept = sum(v for k, v in d.items() if k.endswith("/kept") and k.startswith("quality"))
            print(
                f"[{seen}/{n}] {t['label']}: {t['inputs']} records -> "
                f"{t['docs']} documents ({kept} pass the thresholds), {t['pairs']} pairs, "
                f"{t['read_rejects']} unreadable ({t['seconds']:.1f}s to measure)"
            )

    with progress, runner, TaskExecutor(runner, params.workers, TASKS, inner) as executor:
        return schedule.run(plan, executor, on_progress)


def _publish_artifacts(
    name: str, plan: CorpusPlan, manifest: dict[str, Any], manifest_path: str, seconds: float
) -> None:
    key = artifact_key("corpus", name)
    counts = manifest["counts"]
    lang_rows = [
        {"lang": lang, **{k: v for k, v in d.items()}} for lang, d in counts["by_lang"].items()
    ]
    create_table_artifact(
        key=f"{key}-languages",
        table=lang_rows or [{"lang": "-", "docs": 0}],
        description=f"Documents, characters and mean LID score per language, {name} {plan.version}",
    )
    drop_rows = [
        {"stage": k.split("/", 1)[0], "reason": k.split("/", 1)[1], "count": v}
        for k, v in counts["by_reason"].items()
    ]
    create_table_artifact(
        key=f"{key}-drops",
        table=drop_rows or [{"stage": "-", "reason": "-", "count": 0}],
        description=f"Rows dropped by stage and reason, {name} {plan.version}",
    )
    _publish_stats(key, name, plan, manifest)
    link = output_link(manifest_path)
    create_link_artifact(
        key=f"{key}-manifest",
        link=link.url,
        link_text=link.label(f"{name} {plan.version} manifest"),
        description="Files with rows, bytes and sha256; counts; config.",
    )
    cons = manifest["conservation"]
    errors = "".join(f"\n- `{e['input']}`: {e['error']}" for e in manifest["errors"]) or " none"
    create_markdown_artifact(
        key=f"{key}-summary",
        description=f"What version {plan.version} of {name} holds, and whether it balances",
        markdown=(
            f"# Corpus {name}, version {plan.version}\n\n"
            f"- parent: {manifest['parent'] or 'none'}\n"
            f"- documents: **{counts['docs']}** in {len(counts['by_lang'])} languages; "
            f"pairs: {counts['pairs']}; rejects: {counts['rejects']}\n"
            f"- conservation: {cons['inputs']} inputs = {cons['docs']} docs + {cons['pairs']} pairs "
            f"+ {cons['rejects']} rejects: **{'balanced' if cons['balanced'] else 'NOT BALANCED'}**\n"
            f"- exact duplicates dropped: {counts['by_reason'].get('dedup/exact_duplicate', 0)} "
            f"(against {manifest['stages'].get('exact', {}).get('prior_hashes', 0)} hashes of "
            f"{len(manifest['deduplicated_against'])} earlier versions)\n"
            f"- measured partitions reused from earlier runs: {manifest['tags_reused']} of "
            f"{manifest['partitions']}\n"
            f"- wall time: {seconds:.1f}s over {manifest['partitions']} partitions\n"
            f"- input errors:{errors}\n"
        ),
    )


def _publish_stats(key: str, name: str, plan: CorpusPlan, manifest: dict[str, Any]) -> None:
    """The version's stats/ files (crossling/run/stats.py) as tables and a page of histograms."""
    views = artifact_views(DataRoot(plan.root).fs, plan.version_dir, manifest)
    where = f"{name} {plan.version}"
    if views["signals"]:
        create_table_artifact(
            key=f"{key}-signal-stats",
            table=views["signals"],
            description=f"Signal quantiles per language, as measured (stats/signals.parquet), {where}",
        )
    if views["outcomes"]:
        create_table_artifact(
            key=f"{key}-outcomes",
            table=views["outcomes"],
            description=f"Kept and dropped share per language and reason, {where}",
        )
    if views["pii"]:
        create_table_artifact(
            key=f"{key}-pii",
            table=views["pii"],
            description=f"Personal data replaced per kind and language (counts only), {where}",
        )
    if views["histograms"]:
        create_markdown_artifact(
            key=f"{key}-histograms",
            markdown=views["histograms"],
            description=f"Histograms of every signal per language, {where}",
        )


def _manifest_path(plan: CorpusPlan) -> str:
    """The manifest's path (local root) or URL (a remote root: ``s3://bucket/...``)."""
    path = os.path.join(plan.version_dir, MANIFEST)
    return DataRoot(plan.root).uri(path) if "://" in plan.root else path


def _summary(
    plan: CorpusPlan, manifest: dict[str, Any], *, new: bool, seconds: float
) -> dict[str, Any]:
    return {
        "root": plan.root,
        "name": plan.name,
        "version": plan.version,
        "new": new,
        "manifest": _manifest_path(plan),
        "seconds": round(seconds, 2),
        "counts": {k: manifest["counts"][k] for k in ("docs", "pairs", "rejects")},
        "languages": {k: v["docs"] for k, v in manifest["counts"]["by_lang"].items()},
        "balanced": manifest["conservation"]["balanced"],
        "errors": manifest["errors"],
    }


def run_corpus(params: CorpusParams) -> dict[str, Any]:
    """Run the flow (it picks its task runner from the parameters)."""
    return corpus_flow(params)


def print_summary(s: dict[str, Any], out=sys.stdout) -> None:
    state = "built" if s["new"] else "unchanged (already complete)"
    print(f"corpus {s['name']} {s['version']}: {state}", file=out)
    print(
        f"  docs {s['counts']['docs']}, pairs {s['counts']['pairs']}, rejects "
        f"{s['counts']['rejects']}; conservation {'balanced' if s['balanced'] else 'FAILED'}",
        file=out,
    )
    langs = ", ".join(f"{k} {v}" for k, v in sorted(s["languages"].items(), key=lambda x: -x[1]))
    print(f"  languages: {langs}", file=out)
    for e in s["errors"]:
        print(f"  input error: {e['input']}: {e['error']}", file=out)
    print(f"  manifest: {s['manifest']}", file=out)


# --- CLI ---------------------------------------------------------------------------------------


# The command's options, made from CorpusParams (one declaration: the UI form and --help say the
# same). ``config`` (a dict of CorpusConfig fields) is the UI's: the CLI reads them from --config.
CLI_OPTIONS = [
    Opt("sources", positional=True, metavar="SOURCE"),
    Opt("paths_base", metavar="URL"),
    Opt("paths_limit", metavar="N"),
    Opt("root", flag="--out", metavar="ROOT", required=True),
    Opt("name", required=True),
    Opt("langs", split=",", extra_help="Comma-separated: de,fr."),
    Opt("config_file", flag="--config", metavar="FILE"),
    Opt("langid_mode", flag="--mode"),
    Opt("thresholds_file", flag="--thresholds", metavar="FILE"),
    Opt("workers", metavar="N", default=min(4, os.cpu_count() or 1)),
    Opt("dask_address"),
]
UI_ONLY = {"config": "CorpusConfig fields as a dict; on the command line: --config FILE"}


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "corpus",
        help="build a corpus version from files",
        description="Build a versioned, language-labelled corpus from files.",
    )
    add_options(p, CorpusParams, CLI_OPTIONS)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cli, check=lambda args: build(CorpusParams, CLI_OPTIONS, args))


def _cli(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    try:
        params = build(CorpusParams, CLI_OPTIONS, args)
        for s in params.sources:
            if is_url(s):
                continue  # checked when planned (a missing one: a one-line error)
            if not any(c in s for c in "*?[") and not os.path.exists(s):
                raise UsageError(f"{s}: no such file or directory")
        if params.config_file and not os.path.exists(params.config_file):
            raise UsageError(f"{params.config_file}: no such config file")
        check_steps(params.resolve_config())
    except (ThresholdsError, BlocklistError, QualityModelError) as e:
        raise UsageError(str(e)) from None  # one line naming the file
    except ValidationError as e:
        err = e.errors()[0]
        raise UsageError(f"invalid {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    except (json.JSONDecodeError, ValueError) as e:
        raise UsageError(f"{params.config_file}: cannot read config: {e}") from None
    try:
        summary = run_corpus(params)
    except (InputNotFound, FileNotFoundError, RemoteReadError) as e:
        raise UsageError(redact_url(str(e))) from None
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
    return 0 if summary["balanced"] else 1
