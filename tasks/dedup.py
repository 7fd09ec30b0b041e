"""Prefect tasks of the dedup flow: one per partition (map, shingles, filter) or per band group.

Each wraps one step of :mod:`crossling.dedup.job`; arguments and results are small JSON-able
values (the job plan, paths, counts), so the tasks run the same on a process pool or a Dask
cluster. Every step rewrites its own output files, so a retry is safe; Prefect's result cache is
off (the files are the state).
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from crossling.dedup import job as dedup_job

# No tags, as in tasks/corpus.py: each tagged task costs a round trip for its tag's concurrency slots.
_OPTS = {"cache_policy": NO_CACHE, "retries": 1, "retry_delay_seconds": 5}


@task(name="dedup-line-counts", task_run_name="line-counts-{index}", **_OPTS)
def line_counts(job: dict[str, Any], index: int) -> dict[str, Any]:
    """Line dedup map: unit hashes and document counts of one partition."""
    return dedup_job.map_lines(job, index)


@task(name="dedup-frequent-lines", task_run_name="frequent-lines-{shard}", **_OPTS)
def frequent_lines(job: dict[str, Any], shard: int) -> dict[str, Any]:
    """Line dedup reduce: the frequent units of one hash range."""
    return dedup_job.reduce_lines(job, shard)


@task(name="dedup-signatures", task_run_name="signatures-{index}", **_OPTS)
def signatures(job: dict[str, Any], index: int) -> dict[str, Any]:
    """Near dedup map: signatures and band keys of one partition."""
    return dedup_job.map_partition(job, index)


@task(name="dedup-buckets", task_run_name="buckets-group-{group}", **_OPTS)
def buckets(job: dict[str, Any], plan: dict[str, Any], group: int) -> dict[str, Any]:
    """Near dedup reduce: candidate pairs of one group of bands."""
    return dedup_job.reduce_band_group(job, plan, group)


@task(name="dedup-shingles", task_run_name="shingles-{index}", **_OPTS)
def shingles(
    job: dict[str, Any], plan: dict[str, Any], index: int, nodes: list[int]
) -> dict[str, Any]:
    """Exact verification: shingle sets of one partition's documents in candidate pairs."""
    return dedup_job.shingle_partition(job, plan, index, nodes)


@task(name="dedup-clusters", **_OPTS)
def clusters(
    job: dict[str, Any], plan: dict[str, Any], edges_path: str, set_paths: list[str]
) -> dict[str, Any]:
    """Near dedup reduce: verification, connected components, decisions."""
    return dedup_job.finish_reduce(job, plan, edges_path, set_paths)


@task(name="dedup-filter", task_run_name="filter-{index}", **_OPTS)
def filter_partition(job: dict[str, Any], index: int, schema: str) -> dict[str, Any]:
    """Near dedup filter: one partition's kept rows and rejects."""
    return dedup_job.filter_partition(job, index, schema)
