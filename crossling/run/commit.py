"""The commit: the dataset card and the manifest, last (its existence means the version is
complete), after the conservation check the writer makes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from crossling.corpus import VersionWriter
from crossling.run.config import thresholds_record
from crossling.run.plan import CorpusPlan
from crossling.run.stats import write_version_stats


def commit(
    plan: CorpusPlan,
    tag_results: list[dict[str, Any]],
    decide_results: list[dict[str, Any]],
    stage_results: dict[str, dict[str, Any]],
    write_results: list[dict[str, Any]],
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The dataset card and the manifest (last): the version is complete."""
    inputs_by_source: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    for r in tag_results:
        inputs_by_source.update(r["inputs_by_source"])
        stats.update(r["stats"])
    for r in decide_results:
        stats.update(r["stats"])
    writer = VersionWriter(plan.root, plan.name, plan.version)
    tag_dirs = [plan.tag_dirs[p.index] for p in sorted(plan.partitions, key=lambda p: p.index)]
    stats_files = write_version_stats(writer, tag_dirs, write_results)
    manifest = writer.commit(
        write_results,
        parent=plan.parent,
        config=plan.ctx.config,
        inputs=plan.inputs,
        inputs_by_source=dict(inputs_by_source),
        inputs_key=plan.inputs_key,
        extra={
            "partitions": len(plan.partitions),
            "errors": [{"input": e.input, "error": e.error} for e in plan.input_errors],
            "stats": dict(sorted(stats.items())),
            "stages": stage_results,
            "deduplicated_against": list(plan.ctx.prior_versions),
            "tags_reused": plan.tags_reused,
            "thresholds": thresholds_record(plan.ctx.corpus_config()),
            "timings": {k: round(v, 3) for k, v in (timings or {}).items()},
        },
        stats_files=stats_files,
    )
    fs = plan.ctx.data.fs
    if fs.exists(plan.ctx.work_dir):
        fs.rm(plan.ctx.work_dir, recursive=True)
    return manifest


def manifest_sha256(root: str, name: str, version: str) -> str:
    from crossling.corpus import CorpusVersion

    return CorpusVersion.open(root, name, version).manifest_sha256
