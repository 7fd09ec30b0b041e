"""Helpers shared by the flows: artifact keys, output links, task runners, events, the Prefect API,
and the flow class that gives deployment runs their deployment's defaults."""

from __future__ import annotations

import contextlib
import copy
import os
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prefect import Flow
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from flows.service import (
    SERVED_DIRS,
    auth_string,
    files_base_url,
    find_service,
    redacted_db,
    served_root_of,
)

NOT_SERVED_NOTE = "local file: no `crossling serve` serves this data root"


def artifact_key(*parts: str) -> str:
    """Artifact keys may hold lowercase letters, digits and dashes only."""
    key = "-".join(parts).lower()
    key = re.sub(r"[^a-z0-9-]+", "-", key)
    return re.sub(r"-{2,}", "-", key).strip("-")[:100]


@dataclass(frozen=True)
class OutputLink:
    """Where a user opens one output: the file server's URL, or ``file://`` when not served."""

    url: str
    served: bool

    def label(self, text: str) -> str:
        """Link text; says so when the link is a local file that a browser will not open."""
        return text if self.served else f"{text} ({NOT_SERVED_NOTE})"


def output_link(path: str) -> OutputLink:
    """The link to an output (a file or a folder) under a data root, for artifacts.

    Use it instead of ``DataRoot.uri``. When ``crossling serve`` serves the data root holding
    ``path`` (found by walking up from it) and the path is under one of its served folders
    (corpora, tokenizers, models, eval), the link is the service's read-only file server, which a
    browser opens from the UI. Otherwise it is ``file://`` (a local root) or the fsspec URL (a
    remote root), as before.
    """
    if path.startswith(("http://", "https://")):  # already a link to a server
        return OutputLink(path, served=True)
    if "://" in path and not path.startswith("file://"):
        return OutputLink(path, served=False)
    if path.startswith("file://"):
        path = urllib.parse.unquote(path.removeprefix("file://"))
    local = os.path.abspath(path)
    root = served_root_of(local)
    if root is not None:
        rel = os.path.relpath(local, root).replace(os.sep, "/")
        parts = rel.split("/")
        if (
            parts[0] in SERVED_DIRS
            and not any(p.startswith(".") for p in parts)
            and (base := files_base_url(root))
        ):
            suffix = "/" if os.path.isdir(local) else ""
            return OutputLink(f"{base.rstrip('/')}/{urllib.parse.quote(rel)}{suffix}", served=True)
    return OutputLink("file://" + urllib.parse.quote(local), served=False)


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


def emit(
    event: str,
    resource_id: str,
    payload: dict[str, Any],
    name: str | None = None,
    labels: dict[str, str] | None = None,
) -> None:
    """Emit a Prefect event (no-op without an API: events then go nowhere, runs still succeed).

    ``labels`` become resource labels, which triggers can ``match`` (payload fields they cannot).
    """
    from prefect.events import emit_event

    resource = {"prefect.resource.id": resource_id, **(labels or {})}
    if name:
        resource["prefect.resource.name"] = name
    emit_event(event=event, resource=resource, payload=payload)


def flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return str(flow_run.id) if flow_run.id else None


# --- deployment runs: partial parameters keep the deployment's defaults ----------------------------


def deep_merge(base: Any, override: Any) -> Any:
    """``override`` laid over ``base``: dicts merge key by key (recursively); anything else in
    ``override`` (a list, a scalar, an explicit null) replaces what ``base`` has."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = deep_merge(base[k], v) if k in base else v
        return out
    return override


def _filled_paths(base: Any, override: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields that ``deep_merge(base, override)`` took from ``base``."""
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return []
    out = []
    for k, v in base.items():
        name = f"{prefix}{k}"
        if k not in override:
            out.append(name)
        else:
            out += _filled_paths(v, override[k], f"{name}.")
    return out


def _hydration_free(value: Any) -> bool:
    """False for values the server hydrates when it creates a run (workspace variables, Jinja)."""
    if isinstance(value, dict):
        return "__prefect_kind" not in value and all(_hydration_free(v) for v in value.values())
    if isinstance(value, list):
        return all(_hydration_free(v) for v in value)
    return True


def fill_from_deployment(flow: Flow[..., Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters of this process's deployment run with the deployment's own parameters
    under them, nested objects included.

    The server merges a run's parameters over its deployment's one level deep only:
    ``prefect deployment run corpus/corpus --param params='{"name": "x"}'`` would lose every
    other field of the deployment's ``params`` (its data root above all). This fills them back.
    Only the top-level run of a worker process is filled (``PREFECT__FLOW_RUN_ID`` is set and no
    flow run is active yet); direct calls and subflows are left as they are. The filled
    parameters are written back to the run, so the UI shows what the run used.
    """
    from prefect.context import FlowRunContext

    run_id = os.environ.get("PREFECT__FLOW_RUN_ID")
    if not run_id or FlowRunContext.get() is not None:
        return parameters
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.logging.loggers import flow_run_logger

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(run_id))
        if run.deployment_id is None:
            return parameters
        defaults = client.read_deployment(run.deployment_id).parameters or {}
        merged = dict(parameters)
        filled: list[str] = []
        for name, value in parameters.items():
            base = defaults.get(name)
            if isinstance(base, dict) and isinstance(value, dict) and _hydration_free(base):
                merged[name] = deep_merge(copy.deepcopy(base), value)
                filled += _filled_paths(base, value, f"{name}.")
        if not filled:
            return parameters
        with contextlib.suppress(Exception):  # the run goes on even if the UI shows less
            client.update_flow_run(run.id, parameters=merged)
    flow_run_logger(flow_run=run, flow=flow).info(
        "parameters not given for this run, taken from deployment defaults: %s", ", ".join(filled)
    )
    return merged


class DeploymentFlow(Flow):
    """A Prefect flow whose deployment runs keep the deployment's defaults under partial
    parameter objects (see :func:`fill_from_deployment`). Every deployed crossling flow is one."""

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        return super().validate_parameters(fill_from_deployment(self, parameters))


def deployment_flow(**options: Any) -> Callable[[Callable[..., Any]], DeploymentFlow]:
    """``@deployment_flow(name=...)``: ``@prefect.flow`` for flows that deployments run."""

    def wrap(fn: Callable[..., Any]) -> DeploymentFlow:
        return DeploymentFlow(fn=fn, **options)

    return wrap


# --- which Prefect API a command talks to ----------------------------------------------------------


class ServiceAuthMissing(RuntimeError):
    """The service of the data root wants basic auth and this process has none to give."""


@dataclass
class ApiSession:
    """The Prefect API a command used: a configured one, the service's, or a temporary one."""

    url: str
    kind: str  # "configured" (PREFECT_API_URL), "service" (crossling serve) or "temporary"
    ui_url: str | None = None
    database: str | None = None  # the temporary server's database

    def closing_note(self, root: str | None) -> str | None:
        """What to tell the user after a command whose runs went to a temporary server."""
        if self.kind != "temporary":
            return None
        serve = f"crossling serve --root {root}" if root else "crossling serve --root ROOT"
        where = f" (its database: {self.database})" if self.database else ""
        return (
            f"note: no Prefect server runs for {root or 'this data root'}, so this command's runs, "
            f"logs and artifacts went to a temporary server that has now stopped{where}; no UI "
            f"shows them. To keep them in a UI, start `{serve}` once: commands on that root then "
            "record there (or export PREFECT_API_URL)."
        )


@contextlib.contextmanager
def prefect_api(root: str | None = None) -> Iterator[ApiSession]:
    """Make sure one Prefect API serves this process and every worker process it starts.

    In order: PREFECT_API_URL when set; else the server ``crossling serve`` runs for ``root``
    (``<root>/.serve/serve.json``), so the runs and artifacts show in that UI; else a temporary
    server for the length of the command. Without this, Prefect would start a temporary server
    in this process *and* one in each process-pool worker (each one seconds of start-up, and the
    runs split over several databases).
    """
    from prefect.settings import (
        PREFECT_API_AUTH_STRING,
        PREFECT_API_URL,
        temporary_settings,
    )

    if PREFECT_API_URL.value():
        yield ApiSession(PREFECT_API_URL.value(), "configured")
        return
    svc = find_service(root)
    if svc is not None:
        updates: dict[Any, Any] = {PREFECT_API_URL: svc.api_url}
        env = {"PREFECT_API_URL": svc.api_url}
        auth = auth_string()
        if svc.auth and not auth:
            raise ServiceAuthMissing(
                f"the Prefect server `crossling serve` runs for {root} ({svc.api_url}) wants "
                "basic auth: export PREFECT_API_AUTH_STRING='user:password'"
            )
        if svc.auth:
            updates[PREFECT_API_AUTH_STRING] = auth
            env["PREFECT_API_AUTH_STRING"] = auth
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # for subprocesses we start ourselves
        try:
            with temporary_settings(updates=updates):
                try:
                    yield ApiSession(svc.api_url, "service", svc.ui_url)
                finally:
                    # Queued logs and events go out while the settings still name the server
                    # (after, Prefect would start a temporary server to send them to).
                    _drain_prefect_workers()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    server = SubprocessASGIServer()  # the instance Prefect's own ephemeral mode would use
    # Prefect's default (20 s) is too short on a busy 2-core machine (database migrations).
    server.start(timeout=max(90, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
    os.environ["PREFECT_API_URL"] = server.api_url  # for subprocesses we start ourselves
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            try:
                yield ApiSession(server.api_url, "temporary", database=_temporary_database())
            finally:
                _drain_prefect_workers()  # queued logs and events must reach the server first
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _temporary_database() -> str | None:
    """The database the temporary server writes to (PREFECT_HOME's, unless configured)."""
    from prefect.settings import get_current_settings

    with contextlib.suppress(Exception):
        url = get_current_settings().server.database.connection_url
        if url is not None:
            url = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
            return redacted_db(url.replace("sqlite+aiosqlite:///", ""))
    return None


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
