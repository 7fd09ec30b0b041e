"""Which Prefect API a command talks to, and for how long.

In order: PREFECT_API_URL when set; else the server ``crossling serve`` runs for the command's data
root; else the root's local server (flows/local_server.py: started on first use, shared, stopped
when idle), so the runs are kept; else (a remote root, or CROSSLING_LOCAL_SERVER=0) a temporary
server for the length of the command.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flows import local_server
from flows.service import auth_string, find_service, redacted_db


class ServiceAuthMissing(RuntimeError):
    """The service of the data root wants basic auth and this process has none to give."""


@dataclass
class ApiSession:
    """The Prefect API a command used: a configured one, the service's, the root's local server,
    or a temporary one."""

    url: str
    kind: str  # "configured" (PREFECT_API_URL), "service" (crossling serve), "local", "temporary"
    ui_url: str | None = None
    database: str | None = None  # the temporary server's database
    started: bool = False  # a local server this command started
    note: str | None = None  # a stale local-server record found and replaced

    def closing_note(self, root: str | None) -> str | None:
        """What to tell the user at the end: where the runs went, when that is news."""
        if self.kind == "local":
            if not self.started:
                return None
            idle = local_server.idle_seconds()
            until = f"after {idle:.0f}s with no command" if idle else "when stopped"
            stale = f"{self.note}; " if self.note else ""
            return (
                f"note: {stale}runs kept by the local Prefect server of {root}, started by this "
                f"command: UI {self.ui_url} (it stops {until}; `crossling status --root {root}`, "
                f"`crossling stop --root {root}`)"
            )
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
def _using(url: str, auth: str | None = None) -> Iterator[None]:
    """Point this process's Prefect settings, and the processes it starts, at ``url``."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    updates: dict[Any, Any] = {PREFECT_API_URL: url}
    env = {"PREFECT_API_URL": url}
    if auth:
        updates[PREFECT_API_AUTH_STRING] = auth
        env["PREFECT_API_AUTH_STRING"] = auth
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # for subprocesses we start ourselves (process-pool workers)
    try:
        with temporary_settings(updates=updates):
            try:
                yield
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


@contextlib.contextmanager
def prefect_api(root: str | None = None) -> Iterator[ApiSession]:
    """Make sure one Prefect API serves this process and every worker process it starts (see
    :func:`_prefect_api`), for a command run in the foreground.

    Flow runs of the command send no heartbeats unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY is set:
    the command is there to report its own end, no crossling automation listens to heartbeats,
    and Prefect joins the heartbeat thread at every flow's end (up to a second each).
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    quiet = (
        {}
        if "PREFECT_FLOWS_HEARTBEAT_FREQUENCY" in os.environ
        else {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    )
    with temporary_settings(updates=quiet), _prefect_api(root) as api:
        yield api


@contextlib.contextmanager
def _prefect_api(root: str | None = None) -> Iterator[ApiSession]:
    """Make sure one Prefect API serves this process and every worker process it starts.

    In order: PREFECT_API_URL when set; else the server ``crossling serve`` runs for ``root``
    (``<root>/.serve/serve.json``), so the runs and artifacts show in that UI; else the local
    server of ``root`` (started in the background on first use and kept for the commands that
    follow: flows/local_server.py); else (a remote root, or CROSSLING_LOCAL_SERVER=0) a temporary
    server for the length of the command. Without this, Prefect would start a temporary server
    in this process *and* one in each process-pool worker (each one seconds of start-up, and the
    runs split over several databases).

    Raises:
        ServiceAuthMissing: the root's service wants basic auth and none is configured.
        local_server.LocalServerError: the local server did not start (its log is named).
    """
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        yield ApiSession(PREFECT_API_URL.value(), "configured")
        return
    svc = find_service(root)
    if svc is not None:
        auth = auth_string()
        if svc.auth and not auth:
            raise ServiceAuthMissing(
                f"the Prefect server `crossling serve` runs for {root} ({svc.api_url}) wants "
                "basic auth: export PREFECT_API_AUTH_STRING='user:password'"
            )
        with _using(svc.api_url, auth if svc.auth else None):
            yield ApiSession(svc.api_url, "service", svc.ui_url)
        return
    if root is not None and local_server.enabled(root):
        # Marked as a client first: the server's idle clock cannot stop it under this command.
        with local_server.client(root):
            srv = local_server.ensure(root)
            with _using(srv.api_url):
                yield ApiSession(
                    srv.api_url, "local", srv.ui_url, started=srv.started, note=srv.note
                )
        return
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    server = SubprocessASGIServer()  # the instance Prefect's own ephemeral mode would use
    # Prefect's default (20 s) is too short on a busy 2-core machine (database migrations).
    server.start(timeout=max(90, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
    try:
        with _using(server.api_url):
            yield ApiSession(server.api_url, "temporary", database=_temporary_database())
    finally:
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
