"""Prefect tasks of the dedup flow: one per unit of the dedup job (crossling/dedup/job.py
``run``: per partition the line counts, signatures, shingle sets and filter; per hash range or
band group the reduces; the clustering once).

Arguments and results are small JSON-able values (the job plan, paths, counts), so the units run
the same in worker processes or on a Dask cluster. Every step rewrites its own output files, so a
retry is safe; Prefect's result cache is off (the files are the state).
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from crossling.run.executors import Executor, Unit
from tasks.units import call

# No tags, as in tasks/corpus.py: each tagged task costs a round trip for its tag's concurrency slots.
_OPTS = {
    "cache_policy": NO_CACHE,
    "retries": 1,
    "retry_delay_seconds": 5,
    "task_run_name": "{label}",
}


@task(name="dedup-line-counts", **_OPTS)
def line_counts(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Line dedup map: unit hashes and document counts of one partition."""
    return call(unit, executor)


@task(name="dedup-frequent-lines", **_OPTS)
def frequent_lines(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Line dedup reduce: the frequent units of one hash range."""
    return call(unit, executor)


@task(name="dedup-signatures", **_OPTS)
def signatures(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Near dedup map: signatures and band keys of one partition."""
    return call(unit, executor)


@task(name="dedup-buckets", **_OPTS)
def buckets(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Near dedup reduce: candidate pairs of one group of bands."""
    return call(unit, executor)


@task(name="dedup-shingles", **_OPTS)
def shingles(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Exact verification: shingle sets of one partition's documents in candidate pairs."""
    return call(unit, executor)


@task(name="dedup-clusters", **_OPTS)
def clusters(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Near dedup reduce: verification, connected components, decisions."""
    return call(unit, executor)


@task(name="dedup-filter", **_OPTS)
def filter_partition(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Near dedup filter: one partition's kept rows and rejects."""
    return call(unit, executor)


TASKS = {
    t.name: t
    for t in (
        line_counts,
        frequent_lines,
        signatures,
        buckets,
        shingles,
        clusters,
        filter_partition,
    )
}
