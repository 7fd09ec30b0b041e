"""Helpers shared by the flows: artifact keys, task runners, event emission."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from typing import Any

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner


def artifact_key(*parts: str) -> str:
    """Artifact keys may hold lowercase letters, digits and dashes only."""
    key = "-".join(parts).lower()
    key = re.sub(r"[^a-z0-9-]+", "-", key)
    return re.sub(r"-{2,}", "-", key).strip("-")[:100]


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


def emit(event: str, resource_id: str, payload: dict[str, Any], name: str | None = None) -> None:
    """Emit a Prefect event (no-op without an API: events then go nowhere, runs still succeed)."""
    from prefect.events import emit_event

    resource = {"prefect.resource.id": resource_id}
    if name:
        resource["prefect.resource.name"] = name
    emit_event(event=event, resource=resource, payload=payload)


def flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return str(flow_run.id) if flow_run.id else None


@contextlib.contextmanager
def prefect_api() -> Iterator[str | None]:
    """Make sure one Prefect API serves this process and every worker process it starts.

    With PREFECT_API_URL set (a real server), nothing changes. Without it, Prefect would start a
    temporary server in this process *and* one in each process-pool worker (each one seconds of
    start-up, and the runs split over several databases). Here one temporary server is started
    and its URL handed to the workers through the settings they inherit.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield PREFECT_API_URL.value()
        return
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    server = SubprocessASGIServer()  # the instance Prefect's own ephemeral mode would use
    # Prefect's default (20 s) is too short on a busy 2-core machine (database migrations).
    server.start(timeout=max(90, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
    os.environ["PREFECT_API_URL"] = server.api_url  # for subprocesses we start ourselves
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        _drain_prefect_workers()  # logs and events still queued must reach the server first
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _drain_prefect_workers() -> None:
    import inspect

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        try:
            result = APILogWorker.instance().drain()
            if inspect.isawaitable(result):
                await result
        except RuntimeError:  # never started
            pass
        result = EventsWorker.drain_all()
        if inspect.isawaitable(result):
            await result

    with contextlib.suppress(Exception):
        run_coro_as_sync(drain())
