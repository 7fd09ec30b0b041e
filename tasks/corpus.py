"""Prefect tasks of the corpus flow: one per partition and pass, one per global stage's reduce.

Resume is by the markers crossling.pipeline writes (a tag's ``done.json``, ``_work/*.json``), not
by Prefect's cache: a rerun of a task whose marker exists returns the recorded result at once.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from crossling import pipeline
from crossling.pipeline import RunContext

_COMMON = {"cache_policy": NO_CACHE, "tags": ["corpus"]}


@task(name="tag", task_run_name="tag-{label}", retries=2, retry_delay_seconds=5, **_COMMON)
def tag_partition(
    root: str, tag_dir: str, part: dict[str, Any], config: dict[str, Any], label: str
) -> dict[str, Any]:
    """Read and measure one partition (extraction, normalization, fastText, quality signals)."""
    return pipeline.tag_partition(root, tag_dir, part, config)


@task(name="decide", task_run_name="decide-{index}", retries=1, **_COMMON)
def decide_partition(ctx: RunContext, tag_dir: str, index: int) -> dict[str, Any]:
    """The per-document thresholds over one tagged partition."""
    return pipeline.decide_partition(ctx, tag_dir, index)


@task(name="stage-map", task_run_name="{stage}-map-{index}", retries=1, **_COMMON)
def stage_map(ctx: RunContext, stage: str, tag_dir: str, index: int) -> list[dict[str, Any]]:
    """A global stage's map over one partition."""
    return pipeline.stage_map(ctx, stage, tag_dir, index)


@task(name="stage-reduce", task_run_name="{stage}-reduce", retries=1, **_COMMON)
def stage_reduce(ctx: RunContext, stage: str, maps: list[dict[str, Any]]) -> dict[str, Any]:
    """A global stage's corpus-wide decision."""
    return pipeline.stage_reduce(ctx, stage, maps)


@task(name="write", task_run_name="write-{index}", retries=2, retry_delay_seconds=5, **_COMMON)
def write_partition(ctx: RunContext, tag_dir: str, index: int) -> dict[str, Any]:
    """One partition's DOCS, PAIRS and REJECTS shards, every decision applied."""
    return pipeline.write_partition(ctx, tag_dir, index)


@task(name="commit", **_COMMON)
def commit(
    plan: pipeline.RunPlan,
    tags: list[dict[str, Any]],
    decided: list[dict[str, Any]],
    stages: dict[str, dict[str, Any]],
    written: list[dict[str, Any]],
    timings: dict[str, float],
) -> dict[str, Any]:
    """Dataset card and manifest, last."""
    return pipeline.commit(plan, tags, decided, stages, written, timings)
