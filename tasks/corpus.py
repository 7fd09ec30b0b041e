"""Prefect tasks of the corpus flow: one task per unit of the run's schedule
(crossling/run/schedule.py; tasks/units.py runs them), so each partition, share, reduce, write and the commit is visible,
retried and timed on its own.

Resume is by the markers the run writes (a tag's ``done.json``, ``_work/*.json``), not by
Prefect's cache: a rerun of a task whose marker exists returns the recorded result at once.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from crossling.run.executors import Executor, Unit
from tasks.units import call

# No tags: a tagged task asks the server for the tag's concurrency slots before it starts, a round
# trip per task that was seen to stall each of a run's measuring tasks for about 2 s while the
# server was busy recording the others. The worker count already bounds a run's concurrency.
_COMMON = {"cache_policy": NO_CACHE, "task_run_name": "{label}"}


@task(name="process", retries=2, retry_delay_seconds=5, **_COMMON)
def process(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Measure one partition (unless measured before), decide, and map the first global stage;
    or decide and map a share of partitions measured by an earlier run."""
    return call(unit, executor)


@task(name="stage-map", retries=1, **_COMMON)
def stage_map(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """A global stage's map over a share of the partitions."""
    return call(unit, executor)


@task(name="stage-reduce", retries=1, **_COMMON)
def stage_reduce(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """A global stage's corpus-wide decision."""
    return call(unit, executor)


@task(name="write", retries=2, retry_delay_seconds=5, **_COMMON)
def write(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """The shards of a share of the partitions, one file per language and split for the share
    (a retry finds the share's marker, or starts the share over)."""
    return call(unit, executor)


@task(name="commit", **_COMMON)
def commit(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Dataset card and manifest, last."""
    return call(unit, executor)


TASKS = {
    "process": process,
    "stage-map": stage_map,
    "stage-reduce": stage_reduce,
    "write": write,
    "commit": commit,
}
