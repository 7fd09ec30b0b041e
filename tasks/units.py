"""Units of a crossling schedule as Prefect tasks.

The corpus run (crossling/run/schedule.py) and the dedup job (crossling/dedup/job.py) write the
order of their passes once, as units handed to an executor. :class:`TaskExecutor` is that
executor under a flow: each unit becomes a run of the Prefect task registered for its name (so it
is visible, timed and retried on its own), on the flow's task runner (threads, or a Dask
cluster), handing its work to a local executor's worker processes when there is one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prefect import Task
from prefect.futures import as_completed
from prefect.task_runners import TaskRunner

from crossling.run.executors import Executor, InlineExecutor, LocalExecutor, Unit, Where


def call(unit: Unit, executor: Executor | None) -> Any:
    """The unit on the run's local executor (its worker processes) when there is one, else in
    the calling task (a thread of the flow, or a Dask worker)."""
    if isinstance(executor, LocalExecutor):
        return executor.run(unit)
    return unit()


class TaskExecutor(Executor):
    """Each unit a run of ``tasks[unit.name]`` on ``runner``; the work itself on ``inner``'s
    processes when it is a :class:`LocalExecutor`. The tasks take ``unit``, ``label`` (their
    task run name) and ``executor``. The order of the units stays the schedule's."""

    def __init__(
        self,
        runner: TaskRunner,
        workers: int,
        tasks: Mapping[str, Task],
        inner: Executor | None = None,
    ):
        self.runner, self.workers, self.tasks = runner, max(1, workers), tasks
        self.inner = inner or InlineExecutor()

    def map(self, units: list[Unit]) -> Iterator[tuple[Unit, Any]]:
        inner = self.inner if isinstance(self.inner, LocalExecutor) else None
        if inner is not None and inner.workers > 1:
            inner.prepare(units)
        futures = {
            self.runner.submit(
                self.tasks[u.name], parameters={"unit": u, "label": u.label, "executor": inner}
            ): u
            for u in units
        }
        for f in as_completed(list(futures)):
            yield futures[f], f.result()

    def release(self, where: Where) -> None:
        self.inner.release(where)

    def close(self) -> None:
        self.inner.close()
