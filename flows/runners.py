"""The task runner a flow maps its partitions on: a process pool here, a Dask cluster beyond."""

from __future__ import annotations

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner


def make_task_runner(workers: int, dask_address: str | None = None) -> TaskRunner:
    """Process pool locally; a Dask cluster when an address is given ('local' = LocalCluster)."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        if dask_address == "local":
            return DaskTaskRunner(
                cluster_kwargs={
                    "n_workers": max(1, workers),
                    "threads_per_worker": 1,
                    "processes": True,
                }
            )
        return DaskTaskRunner(address=dask_address)
    if workers <= 1:
        return ThreadPoolTaskRunner(max_workers=1)
    return ProcessPoolTaskRunner(max_workers=workers)
