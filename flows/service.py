"""What ``crossling serve`` runs for a data root, as commands and flows see it.

``crossling serve`` (deployments/serve.py) records what it started in ``<root>/.serve/serve.json``
(docs/CONTRACTS.md, "Service state"). This module only reads that record:

- the CLI runs its flows against the recorded Prefect server instead of a temporary one, so the
  runs and artifacts show in that server's UI (:func:`find_service`);
- flows link their outputs (manifests, checkpoints, plots, reports) to the recorded read-only file
  server instead of ``file://`` (:func:`files_base_url`; flows call ``flows.links.output_link``).

Both check that the recorded server answers before using it; a stale record (the service was
killed) counts as no service. It also stops the recorded processes and tells whether they run
(``crossling stop`` / ``crossling status``); starting them is the launcher's job. Nothing here
imports the launcher: deployments/ depends on flows/, never the other way round.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_DIR = ".serve"
STATE_FILE = "serve.json"
# The only top-level folders of a data root the file server serves (never .prefect, .serve, ...).
SERVED_DIRS = ("corpora", "tokenizers", "models", "eval")
# A loopback health check answers in milliseconds; a host that is down must not stall a flow.
HEALTH_TIMEOUT_S = 1.5
# How long an answer (alive or not) is reused: a flow publishing ten links checks once.
HEALTH_CACHE_S = 15.0

_health_cache: dict[str, tuple[float, bool]] = {}


class ServiceStateError(ValueError):
    """The state file exists but cannot be read."""


@dataclass(frozen=True)
class Service:
    """A running ``crossling serve`` for one data root."""

    root: str
    api_url: str
    ui_url: str
    files_url: str | None  # the file server as links show it (browsers and other hosts)
    files_local_url: str | None  # the file server as this host reaches it
    auth: bool  # the servers want basic auth (PREFECT_SERVER_API_AUTH_STRING)


def state_path(root: str | os.PathLike[str]) -> Path:
    """``<root>/.serve/serve.json`` of a local data root."""
    return Path(root).expanduser().resolve() / STATE_DIR / STATE_FILE


def read_state(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The record ``crossling serve`` wrote for ``root``; None when there is none.

    Raises:
        ServiceStateError: the file exists but is not a JSON object.
    """
    path = state_path(root)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as e:
        raise ServiceStateError(
            f"{path} is not readable JSON ({e}); remove it after checking"
        ) from None
    if not isinstance(data, dict):
        raise ServiceStateError(f"{path} is not a JSON object; remove it after checking")
    return data


LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


def is_loopback(host: str) -> bool:
    """Is ``host`` a loopback name or address (only this machine reaches it)?"""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_refusal(host: str) -> str | None:
    """Why serving on ``host`` is refused (beyond loopback without basic auth); None if it is not."""
    if is_loopback(host) or os.environ.get("PREFECT_SERVER_API_AUTH_STRING"):
        return None
    return (
        f"refusing to serve on {host}: beyond loopback the server needs basic auth. Set "
        "PREFECT_SERVER_API_AUTH_STRING='user:password' (and PREFECT_UI_API_URL to the "
        "address browsers use), or serve on 127.0.0.1 and tunnel (README: 'Running crossling as "
        "a service')"
    )


def auth_string() -> str | None:
    """The basic-auth ``user:password`` this process would send (client's, else server's)."""
    return os.environ.get("PREFECT_API_AUTH_STRING") or os.environ.get(
        "PREFECT_SERVER_API_AUTH_STRING"
    )


def answers(url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    """Does an HTTP server answer at ``url``? Any status counts (401 too); cached briefly."""
    now = time.monotonic()
    hit = _health_cache.get(url)
    if hit and now - hit[0] < HEALTH_CACHE_S:
        return hit[1]
    req = urllib.request.Request(url, method="GET")
    if auth := auth_string():
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout):
            ok = True
    except urllib.error.HTTPError:
        ok = True  # it answered, with an error status
    except (urllib.error.URLError, OSError, ValueError):
        ok = False
    _health_cache[url] = (now, ok)
    return ok


def redacted_db(url: str) -> str:
    """A database URL without its password (for logs, state files and messages)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def _service(root: str, state: dict[str, Any]) -> Service:
    return Service(
        root=state.get("root") or root,
        api_url=state["api_url"],
        ui_url=state.get("ui_url") or state["api_url"].removesuffix("/api"),
        files_url=state.get("files_url"),
        files_local_url=state.get("files_local_url") or state.get("files_url"),
        auth=bool(state.get("auth")),
    )


def find_service(root: str | None) -> Service | None:
    """The ``crossling serve`` of a local data root, if it runs and answers; else None."""
    if not root or "://" in root:
        return None
    try:
        state = read_state(root)
    except ServiceStateError:
        return None
    if not state or not state.get("api_url"):
        return None
    svc = _service(str(Path(root).expanduser().resolve()), state)
    return svc if answers(f"{svc.api_url}/health") else None


def served_root_of(path: str) -> str | None:
    """The nearest folder at or above ``path`` with a service record (a served data root)."""
    p = Path(os.path.abspath(path))
    for d in (p, *p.parents):
        if (d / STATE_DIR / STATE_FILE).is_file():
            return str(d)
    return None


def files_base_url(root: str) -> str | None:
    """The URL the file server of ``root`` is reached at for links, if it runs; else None."""
    try:
        state = read_state(root)
    except ServiceStateError:
        return None
    if not state or not state.get("files_url"):
        return None
    svc = _service(root, state)
    for url in dict.fromkeys(u for u in (svc.files_local_url, svc.files_url) if u):
        if answers(url.rstrip("/") + "/"):
            return svc.files_url
    return None


# --- the processes `crossling serve` recorded: are they running, stop them ------------------------


def proc_alive(entry: dict[str, Any]) -> bool:
    """Is the recorded process still running, and still the one we started?"""
    import psutil

    try:
        p = psutil.Process(entry["pid"])
        if abs(p.create_time() - entry["create_time"]) > 1.0:
            return False  # the PID was reused by another process
        return p.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, KeyError):
        return False


def stop_entry(entry: dict[str, Any], timeout: float = 20.0) -> str:
    """SIGTERM the process group of a recorded process, SIGKILL what remains after timeout."""
    if not proc_alive(entry):
        return "not running"
    pid = entry["pid"]
    import psutil

    try:
        group = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return "not running"
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)  # started with start_new_session: its pgid is its pid
    for p in group:  # children that left the group
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.terminate()
    _, alive = psutil.wait_procs(group, timeout=timeout)
    if not alive:
        return "stopped"
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.kill()
    psutil.wait_procs(alive, timeout=5)
    return "killed"


def stop(root: str, quiet: bool = False) -> dict[str, str]:
    """Stop the processes recorded for ``root`` (workers first); remove the state file."""
    state = read_state(root)
    if state is None:
        return {}
    result: dict[str, str] = {}
    for entry in sorted(state.get("processes", []), key=lambda p: p["name"] == "server"):
        result[entry["name"]] = stop_entry(entry)
        if not quiet:
            print(f"{entry['name']} (pid {entry['pid']}): {result[entry['name']]}", flush=True)
    with contextlib.suppress(FileNotFoundError):
        state_path(root).unlink()
    return result


def status(root: str) -> dict[str, Any] | None:
    """The record of ``crossling serve`` for ``root``, each process with ``alive``; None if none."""
    state = read_state(root)
    if state is None:
        return None
    for p in state.get("processes", []):
        p["alive"] = proc_alive(p)
    return state
