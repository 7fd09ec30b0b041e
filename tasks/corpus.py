"""Prefect tasks of the corpus flow: one per input partition, and the publish step."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from crossling import pipeline


@task(
    name="process-partition",
    task_run_name="partition-{label}",
    retries=2,
    retry_delay_seconds=5,
    cache_policy=NO_CACHE,  # resume is by the partition's done.json marker, not Prefect's cache
    tags=["corpus"],
)
def process_partition(
    root: str, version_dir: str, part: dict[str, Any], config: dict[str, Any], label: str
) -> dict[str, Any]:
    """Read, normalize, identify languages, filter one partition (idempotent)."""
    return pipeline.process_partition(root, version_dir, part, config)


@task(name="publish-version", cache_policy=NO_CACHE, tags=["corpus"])
def publish_version(plan: pipeline.RunPlan, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Exact dedup, shards by language, dedup index, manifest (last)."""
    return pipeline.publish(plan, results)
