"""Prefect tasks of the corpus flow: per partition (measure and decide; write), per share of the
partitions (a global stage's map), once (a global stage's reduce; the commit).

Resume is by the markers crossling.pipeline writes (a tag's ``done.json``, ``_work/*.json``), not
by Prefect's cache: a rerun of a task whose marker exists returns the recorded result at once.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from crossling import pipeline
from crossling.pipeline import RunContext
from crossling.workers import get as get_pool

# No tags: a tagged task asks the server for the tag's concurrency slots before it starts, a round
# trip per task that was seen to stall each of a run's measuring tasks for about 2 s while the
# server was busy recording the others. The worker count already bounds a run's concurrency.
_COMMON = {"cache_policy": NO_CACHE}


@task(name="process", task_run_name="process-{label}", retries=2, retry_delay_seconds=5, **_COMMON)
def process_partition(
    ctx: RunContext, tag_dir: str, part: dict[str, Any], label: str, pool: str | None = None
) -> dict[str, Any]:
    """Measure one partition (unless measured before), decide, and map the first global stage;
    in a process of the run's worker pool when ``pool`` names one here (else in this task)."""
    return _run(pool, pipeline.process_partition, ctx, tag_dir, part)


def _run(pool: str | None, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in a process of the run's worker pool when ``pool`` names one in this
    process (real parallelism: no GIL shared with the orchestration), else in this task."""
    workers = get_pool(pool)
    return workers.run(fn, *args) if workers is not None else fn(*args)


@task(name="process", task_run_name="process-{label}", retries=2, retry_delay_seconds=5, **_COMMON)
def process_partitions(
    ctx: RunContext, items: list[tuple[str, dict[str, Any]]], label: str, pool: str | None = None
) -> list[dict[str, Any]]:
    """Decide and map a share of the partitions measured by an earlier run (light work: one task
    for several partitions, as a stage map is)."""
    return _run(pool, pipeline.process_partitions, ctx, items)


@task(name="stage-map", task_run_name="{stage}-map-{first}", retries=1, **_COMMON)
def stage_maps(
    ctx: RunContext, stage: str, items: list[tuple[int, str]], first: int, pool: str | None = None
) -> list[dict[str, Any]]:
    """A global stage's map over a share of the partitions."""
    return _run(pool, pipeline.stage_maps, ctx, stage, items)


@task(name="stage-reduce", task_run_name="{stage}-reduce", retries=1, **_COMMON)
def stage_reduce(ctx: RunContext, stage: str, maps: list[dict[str, Any]]) -> dict[str, Any]:
    """A global stage's corpus-wide decision."""
    return pipeline.stage_reduce(ctx, stage, maps)


@task(name="write", task_run_name="write-{label}", retries=2, retry_delay_seconds=5, **_COMMON)
def write_partitions(
    ctx: RunContext, items: list[tuple[int, str]], label: str, pool: str | None = None
) -> dict[str, Any]:
    """The shards of a share of the partitions, one file per language and split for the share
    (a retry finds the share's marker, or starts the share over)."""
    return _run(pool, pipeline.write_partitions, ctx, items)


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
