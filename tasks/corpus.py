"""Prefect tasks of the corpus flow: one task per unit of the run's schedule
(crossling/run/schedule.py), so each partition, share, reduce, write and the commit is visible,
retried and timed on its own.

Resume is by the markers the run writes (a tag's ``done.json``, ``_work/*.json``), not by
Prefect's cache: a rerun of a task whose marker exists returns the recorded result at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import TaskRunner

from crossling.run.executors import Executor, InlineExecutor, LocalExecutor, Unit, Where

# No tags: a tagged task asks the server for the tag's concurrency slots before it starts, a round
# trip per task that was seen to stall each of a run's measuring tasks for about 2 s while the
# server was busy recording the others. The worker count already bounds a run's concurrency.
_COMMON = {"cache_policy": NO_CACHE, "task_run_name": "{label}"}


def _call(unit: Unit, executor: Executor | None) -> Any:
    """The unit on the run's local executor (its worker processes) when there is one, else in
    this task (a thread of the flow, or a Dask worker)."""
    if isinstance(executor, LocalExecutor):
        return executor.run(unit)
    return unit()


@task(name="process", retries=2, retry_delay_seconds=5, **_COMMON)
def process(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Measure one partition (unless measured before), decide, and map the first global stage;
    or decide and map a share of partitions measured by an earlier run."""
    return _call(unit, executor)


@task(name="stage-map", retries=1, **_COMMON)
def stage_map(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """A global stage's map over a share of the partitions."""
    return _call(unit, executor)


@task(name="stage-reduce", retries=1, **_COMMON)
def stage_reduce(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """A global stage's corpus-wide decision."""
    return _call(unit, executor)


@task(name="write", retries=2, retry_delay_seconds=5, **_COMMON)
def write(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """The shards of a share of the partitions, one file per language and split for the share
    (a retry finds the share's marker, or starts the share over)."""
    return _call(unit, executor)


@task(name="commit", **_COMMON)
def commit(unit: Unit, label: str, executor: Executor | None = None) -> Any:
    """Dataset card and manifest, last."""
    return _call(unit, executor)


TASKS = {
    "process": process,
    "stage-map": stage_map,
    "stage-reduce": stage_reduce,
    "write": write,
    "commit": commit,
}


class TaskExecutor(Executor):
    """Each unit of the schedule as a Prefect task on ``runner`` (threads of the flow, or a Dask
    cluster), handing its work to ``inner`` (a :class:`LocalExecutor`'s worker processes) when
    given. The order of the units stays the schedule's."""

    def __init__(self, runner: TaskRunner, workers: int, inner: Executor | None = None):
        self.runner, self.workers = runner, max(1, workers)
        self.inner = inner or InlineExecutor()

    def map(self, units: list[Unit]) -> Iterator[tuple[Unit, Any]]:
        inner = self.inner if isinstance(self.inner, LocalExecutor) else None
        if inner is not None and inner.workers > 1:
            inner.prepare(units)
        futures = {
            self.runner.submit(
                TASKS[u.name], parameters={"unit": u, "label": u.label, "executor": inner}
            ): u
            for u in units
        }
        for f in as_completed(list(futures)):
            yield futures[f], f.result()

    def release(self, where: Where) -> None:
        self.inner.release(where)

    def close(self) -> None:
        self.inner.close()
