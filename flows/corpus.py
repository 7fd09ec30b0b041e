"""The corpus flow: raw files to a versioned, language-labelled corpus version, with artifacts.

Maps ``process-partition`` over input partitions on a process pool (or a Dask cluster), then
``publish-version``; publishes a table per language, a table of drops, a link to the manifest, a
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
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.futures import as_completed
from pydantic import BaseModel, Field, ValidationError

from crossling import pipeline
from crossling.sources.files import InputNotFound
from crossling.storage import MANIFEST, DataRoot, read_json
from flows.common import artifact_key, deployment_flow, emit, make_task_runner, output_link
from tasks.corpus import process_partition, publish_version
from tasks.events import CORPUS_PUBLISHED


class CorpusParams(BaseModel):
    """Parameters of a corpus run (rendered as a form in the Prefect UI)."""

    sources: list[str] = Field(
        ...,
        description="Input files, folders or globs: JSONL(.gz), Parquet, WARC(.gz), .txt "
        "folders, saved Hugging Face datasets; JSONL with src_text/tgt_text is parallel data.",
    )
    root: str = Field("./data", description="Data root: a local folder or an fsspec URL.")
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
    workers: int = Field(2, ge=1, le=256, description="Worker processes (or Dask workers).")
    dask_address: str | None = Field(
        None,
        description="tcp://host:8786 to run partitions on a Dask cluster; 'local' for a "
        "LocalCluster.",
    )

    def resolve_config(self) -> pipeline.CorpusConfig:
        cfg = pipeline.load_config(self.config_file)
        data = cfg.model_dump()
        for k, v in (self.config or {}).items():
            data[k] = (
                {**data[k], **v} if isinstance(data.get(k), dict) and isinstance(v, dict) else v
            )
        if self.langs:
            data["langs"] = self.langs
        if self.langid_mode:
            data["langid"]["mode"] = self.langid_mode
        return pipeline.CorpusConfig.model_validate(data)


@deployment_flow(name="corpus", log_prints=True, validate_parameters=True)
def corpus_flow(params: CorpusParams) -> dict[str, Any]:
    """Build (or find, or resume) the corpus version for these inputs and this config."""
    logger = get_run_logger()
    config = params.resolve_config()
    plan = pipeline.plan_run(params.sources, params.root, params.name, config)
    key = artifact_key("corpus", params.name)
    dr = DataRoot(params.root)
    manifest_path = os.path.join(plan.version_dir, MANIFEST)
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
    n = len(plan.partitions)
    done = n - len(plan.pending)
    verb = "resuming" if plan.resumed else "building"
    print(
        f"{verb} corpus {params.name} version {plan.version}: {n} partitions "
        f"({done} already finished), {len(plan.input_errors)} input errors"
    )
    progress_id = create_progress_artifact(
        progress=100.0 * done / max(1, n),
        key=f"{key}-progress",
        description=f"Partitions finished for {params.name} {plan.version}",
    )
    # The runner comes from the parameters, so a run started from a deployment or the UI gets
    # the same process pool (or Dask cluster) as one started from the command line.
    with make_task_runner(params.workers, params.dask_address) as runner:
        futures = [
            runner.submit(
                process_partition,
                parameters={
                    "root": plan.root,
                    "version_dir": plan.version_dir,
                    "part": p.to_dict(),
                    "config": plan.config,
                    "label": p.label,
                },
            )
            for p in plan.pending
        ]
        for fut in as_completed(futures):
            r = fut.result()
            done += 1
            update_progress_artifact(progress_id, progress=100.0 * done / max(1, n))
            print(
                f"[{done}/{n}] {r['label']}: {r['inputs']} records -> {r['docs']} docs, "
                f"{r['pairs']} pairs, {r['rejects']} rejects ({r['seconds']:.1f}s)"
            )
    results = [read_json(dr.fs, pipeline.done_marker(plan, p.index)) for p in plan.partitions]
    manifest = publish_version(plan, results)
    seconds = time.perf_counter() - t0
    _publish_artifacts(params.name, plan, manifest, manifest_path, seconds)
    if not manifest["conservation"]["balanced"]:
        logger.error("conservation check failed: %s", manifest["conservation"])
    sha = pipeline.manifest_sha256(plan.root, plan.name, plan.version)
    emit(
        CORPUS_PUBLISHED,
        f"crossling.corpus.{params.name}",
        {
            "root": os.path.abspath(plan.root) if "://" not in plan.root else plan.root,
            "name": plan.name,
            "version": plan.version,
            "manifest_uri": dr.uri(manifest_path),
            "manifest_sha256": sha,
            "counts": {k: manifest["counts"][k] for k in ("docs", "pairs", "rejects")},
        },
        name=params.name,
    )
    return _summary(plan, manifest, new=True, seconds=seconds)


def _publish_artifacts(
    name: str, plan: pipeline.RunPlan, manifest: dict[str, Any], manifest_path: str, seconds: float
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
            f"(against {counts['dedup_prior_hashes']} hashes of earlier versions)\n"
            f"- wall time: {seconds:.1f}s over {manifest['partitions']} partitions\n"
            f"- input errors:{errors}\n"
        ),
    )


def _summary(
    plan: pipeline.RunPlan, manifest: dict[str, Any], *, new: bool, seconds: float
) -> dict[str, Any]:
    return {
        "root": plan.root,
        "name": plan.name,
        "version": plan.version,
        "new": new,
        "manifest": os.path.join(plan.version_dir, MANIFEST),
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


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "corpus",
        help="build a corpus version from files",
        description="Build a versioned, language-labelled corpus from files.",
    )
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="JSONL(.gz), Parquet, WARC(.gz), .txt folders, saved HF datasets",
    )
    p.add_argument("--out", required=True, metavar="ROOT", help="data root")
    p.add_argument("--name", required=True, help="corpus name")
    p.add_argument("--langs", help="comma-separated languages to keep, e.g. de,fr")
    p.add_argument("--config", metavar="FILE", help="CorpusConfig as JSON or YAML")
    p.add_argument("--mode", choices=["doc", "line"], help="language ID mode")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--dask-address", help="tcp://host:8786, or 'local' for a LocalCluster")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    try:
        params = CorpusParams(
            sources=args.sources,
            root=args.out,
            name=args.name,
            langs=[x.strip() for x in args.langs.split(",") if x.strip()] if args.langs else None,
            config_file=args.config,
            langid_mode=args.mode,
            workers=args.workers,
            dask_address=args.dask_address,
        )
        for s in params.sources:
            if not any(c in s for c in "*?[") and not os.path.exists(s):
                raise UsageError(f"{s}: no such file or directory")
        if params.config_file and not os.path.exists(params.config_file):
            raise UsageError(f"{params.config_file}: no such config file")
        params.resolve_config()
    except ValidationError as e:
        err = e.errors()[0]
        raise UsageError(f"invalid {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    except (json.JSONDecodeError, ValueError) as e:
        raise UsageError(f"{args.config}: cannot read config: {e}") from None
    try:
        summary = run_corpus(params)
    except InputNotFound as e:
        raise UsageError(str(e)) from None
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
    return 0 if summary["balanced"] else 1
