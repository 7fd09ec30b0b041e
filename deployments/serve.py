"""The local service launcher behind ``crossling serve`` / ``crossling stop`` (and make serve/stop).

``start`` runs, in order:

1. ``prefect server start`` on loopback (SQLite under ``<root>/.prefect/`` unless
   ``PREFECT_SERVER_DATABASE_CONNECTION_URL`` names another database, e.g. PostgreSQL), with the
   UI pointed at the same port, analytics off;
2. waits for ``/api/health``;
3. creates the work pools listed under ``definitions.work_pools`` in ``deployments/prefect.yaml``
   (``cpu``; ``gpu`` with a concurrency limit of 1);
4. ``prefect deploy --all`` with that file, from the repository (entrypoints are relative to it);
5. starts the read-only file server of the root's outputs (``deployments/files.py``) on the next
   port, which the artifacts' links point to;
6. starts a process worker on ``cpu`` (and on ``gpu`` when asked);
7. records every process in ``<root>/.serve/serve.json`` (read by ``flows/service.py``: the CLI
   then runs against this server, flows link to this file server) and prints the UI address.

``stop`` stops what the state file lists (workers first, each with its process group, so flow
runs in progress stop too), after checking that each PID is still the process it started.

Binding beyond loopback is refused unless ``PREFECT_SERVER_API_AUTH_STRING`` is set (the
server's basic auth, ``user:password``); workers and deploys then get it as
``PREFECT_API_AUTH_STRING``, and the file server asks for the same credentials.

The ``crossling serve`` and ``crossling stop`` commands (flows/serve.py) call this module; it
imports only ``flows.service`` (the state file's format) and ``flows.local_server`` (an idle local server
it takes over) from flows/, never the CLI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from flows import local_server, service

REPO = Path(__file__).resolve().parents[1]
PREFECT_FILE = REPO / "deployments" / "prefect.yaml"
STATE_DIR = service.STATE_DIR
STATE_FILE = service.STATE_FILE
DEFAULT_PORT = 4200
LOOPBACK_NAMES = service.LOOPBACK_NAMES


class ServeError(RuntimeError):
    """The service could not be started or stopped; the message says why (one line)."""


@dataclass
class ServeOptions:
    root: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    gpu: bool = False
    cpu_worker: bool = True
    repo: Path = REPO
    prefect_file: Path | None = None  # default: <repo>/deployments/prefect.yaml
    prefect_home: str | None = None  # default: <root>/.prefect
    database_url: str | None = None  # default: $PREFECT_SERVER_DATABASE_CONNECTION_URL or SQLite
    ui_api_url: str | None = None  # default: $PREFECT_UI_API_URL or http://<host>:<port>/api
    files_port: int | None = None  # default: port + 1 when free, else any free port
    files_url: str | None = None  # default: $CROSSLING_FILES_URL or http://<host>:<files_port>
    worker_query_seconds: float | None = None  # how often workers poll (Prefect's default: 10)
    startup_timeout: float = 180.0
    env: dict[str, str] = field(default_factory=dict)  # extra environment for every process
    quiet: bool = False


# --- small helpers --------------------------------------------------------------------------------


is_loopback = service.is_loopback


def connect_host(host: str) -> str:
    """Where this machine reaches a server bound to ``host``."""
    if host in ("0.0.0.0", "", "*"):
        return "127.0.0.1"
    if host in ("::", "[::]"):
        return "::1"
    return host


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def state_dir(root: str) -> Path:
    if "://" in root:
        raise ServeError(f"serve needs a local data root for its database and state, not {root}")
    return Path(root).expanduser().resolve() / STATE_DIR


def read_state(root: str) -> dict[str, Any] | None:
    state_dir(root)  # refuses a remote root
    try:
        return service.read_state(root)
    except service.ServiceStateError as e:
        raise ServeError(str(e)) from None


def work_pools(prefect_file: Path) -> list[dict[str, Any]]:
    """The pools under ``definitions.work_pools`` of prefect.yaml (Prefect ignores that key)."""
    data = yaml.safe_load(prefect_file.read_text()) or {}
    pools = (data.get("definitions") or {}).get("work_pools") or {}
    return [{"name": name, **(spec or {})} for name, spec in pools.items()]


def _log(opts: ServeOptions, msg: str) -> None:
    if not opts.quiet:
        print(msg, flush=True)


def _tail(path: Path, n: int = 25) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    return "\n".join(lines[-n:])


def _spawn(name: str, cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> dict[str, Any]:
    import psutil

    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        created = psutil.Process(proc.pid).create_time()
    except psutil.NoSuchProcess:
        created = time.time()
    return {
        "name": name,
        "pid": proc.pid,
        "create_time": created,
        "log": str(log),
        "cmd": cmd,
        "_popen": proc,
    }


def wait_healthy(
    api_url: str, proc: subprocess.Popen | None, timeout: float, log: Path | None = None
) -> float:
    """Poll ``<api_url>/health`` until it answers 200; return the seconds it took."""
    t0 = time.monotonic()
    last = ""
    while time.monotonic() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise ServeError(
                f"the Prefect server exited with status {proc.returncode}:\n"
                + (_tail(log) if log else "")
            )
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=5) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            last = str(e)
        time.sleep(0.5)
    raise ServeError(
        f"the Prefect server at {api_url} was not healthy after {timeout:.0f}s "
        f"({last})" + (f":\n{_tail(log)}" if log else "")
    )


def wait_answering(url: str, proc: subprocess.Popen, timeout: float, log: Path, what: str) -> float:
    """Poll ``url`` until an HTTP server answers (any status: 401 too); return the seconds."""
    t0 = time.monotonic()
    last = ""
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise ServeError(f"{what} exited with status {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return time.monotonic() - t0
        except urllib.error.HTTPError:
            return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            last = str(e)
        time.sleep(0.2)
    raise ServeError(f"{what} at {url} did not answer after {timeout:.0f}s ({last}):\n{_tail(log)}")


def files_port_for(opts: ServeOptions) -> int:
    """The file server's port: the one asked for, else the server's port + 1 when free."""
    if opts.files_port:
        if opts.files_port == opts.port or port_in_use(opts.host, opts.files_port):
            raise ServeError(
                f"port {opts.files_port} on {opts.host} is in use (choose another: --files-port)"
            )
        return opts.files_port
    nxt = opts.port + 1
    if nxt < 65536 and not port_in_use(opts.host, nxt):
        return nxt
    return free_port(opts.host)


# --- environment ----------------------------------------------------------------------------------


def service_env(opts: ServeOptions, api_url: str, ui_api_url: str) -> dict[str, str]:
    """Environment shared by the server, the deploy step and the workers."""
    root = str(Path(opts.root).expanduser().resolve())
    home = opts.prefect_home or os.path.join(root, ".prefect")
    env = dict(os.environ)
    # A stale profile or URL of another server must not leak into the service.
    for k in ("PREFECT_PROFILE", "PREFECT_API_KEY"):
        env.pop(k, None)
    env.update(
        {
            "PREFECT_HOME": home,
            "PREFECT_API_URL": api_url,
            "PREFECT_UI_API_URL": ui_api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": opts.host,
            "PREFECT_SERVER_API_PORT": str(opts.port),
            "HF_HUB_OFFLINE": env.get("HF_HUB_OFFLINE", "1"),
            "CROSSLING_ROOT": root,
        }
    )
    db = opts.database_url or os.environ.get("PREFECT_SERVER_DATABASE_CONNECTION_URL")
    env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = db or (
        f"sqlite+aiosqlite:///{os.path.join(home, 'prefect.db')}"
    )
    auth = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if auth and not env.get("PREFECT_API_AUTH_STRING"):
        env["PREFECT_API_AUTH_STRING"] = auth  # clients of this server authenticate with it
    if opts.worker_query_seconds:
        env["PREFECT_WORKER_QUERY_SECONDS"] = str(opts.worker_query_seconds)
        env["PREFECT_WORKER_PREFETCH_SECONDS"] = str(max(1.0, opts.worker_query_seconds))
    env.update(opts.env)
    return env


redacted_db = service.redacted_db
_proc_alive = service.proc_alive
_stop_entry = service.stop_entry


# --- pools and deployments ------------------------------------------------------------------------


def ensure_work_pools(api_url: str, pools: list[dict[str, Any]], auth: str | None) -> list[str]:
    """Create the process pools that are missing; set their concurrency limits. Idempotent."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings
    from prefect.workers.process import ProcessWorker

    updates: dict[Any, Any] = {PREFECT_API_URL: api_url}
    if auth:
        updates[PREFECT_API_AUTH_STRING] = auth
    done = []
    with temporary_settings(updates=updates), get_client(sync_client=True) as client:
        for spec in pools:
            kind = spec.get("type", "process")
            if kind != "process":
                raise ServeError(
                    f"work pool {spec['name']}: only process pools are served locally, not {kind!r}"
                )
            limit = spec.get("concurrency_limit")
            try:
                pool = client.read_work_pool(spec["name"])
                if pool.concurrency_limit != limit:
                    client.update_work_pool(spec["name"], WorkPoolUpdate(concurrency_limit=limit))
            except ObjectNotFound:
                client.create_work_pool(
                    WorkPoolCreate(
                        name=spec["name"],
                        type="process",
                        description=spec.get("description"),
                        base_job_template=ProcessWorker.get_default_base_job_template(),
                        concurrency_limit=limit,
                    )
                )
            done.append(spec["name"])
    return done


def deploy(opts: ServeOptions, env: dict[str, str], log: Path) -> None:
    """``prefect deploy --all`` from the repository, with the service's environment."""
    prefect_file = Path(opts.prefect_file or opts.repo / "deployments" / "prefect.yaml")
    denv = dict(env)
    # Left as a template in the pull step, so each worker resolves its own checkout.
    denv.pop("CROSSLING_REPO", None)
    cmd = [
        sys.executable,
        "-m",
        "prefect",
        "--no-prompt",
        "deploy",
        "--all",
        "--prefect-file",
        str(prefect_file),
    ]
    with open(log, "ab") as out:
        r = subprocess.run(
            cmd,
            cwd=opts.repo,
            env=denv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=600,
        )
    text = log.read_text(errors="replace")
    if r.returncode != 0 or "successfully created" not in text:
        raise ServeError(
            f"`prefect deploy --all` failed (status {r.returncode}); see {log}:\n" + _tail(log)
        )


def worker_command(pool: str, name: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "prefect",
        "worker",
        "start",
        "--pool",
        pool,
        "--type",
        "process",
        "--name",
        name,
    ]


# --- start / stop ---------------------------------------------------------------------------------


def check_bind(host: str) -> None:
    if why := service.bind_refusal(host):
        raise ServeError(why)


def start(opts: ServeOptions) -> dict[str, Any]:
    """Start server, pools, deployments and workers; return the recorded state."""
    check_bind(opts.host)
    prefect_file = Path(opts.prefect_file or opts.repo / "deployments" / "prefect.yaml")
    if not prefect_file.is_file():
        raise ServeError(f"{prefect_file}: no such file")
    if not (opts.repo / "flows" / "corpus.py").is_file():
        raise ServeError(f"{opts.repo} is not a crossling checkout (no flows/corpus.py)")
    sdir = state_dir(opts.root)
    old = read_state(opts.root)
    if old and any(_proc_alive(p) for p in old.get("processes", [])):
        raise ServeError(
            f"already serving {old.get('ui_url')} for {opts.root} "
            f"(`crossling stop --root {opts.root}` first)"
        )
    local = local_server.status(opts.root)
    if local is not None:  # commands started it; the service takes over the same database
        if local["clients"]:
            raise ServeError(
                f"commands are using the local Prefect server of {opts.root} (pids "
                f"{', '.join(map(str, local['clients']))}): wait for them to end, or "
                f"`crossling stop --root {opts.root}`"
            )
        local_server.stop(opts.root)
        _log(
            opts,
            f"stopped the local Prefect server of {opts.root} (the service opens its database)",
        )
    if port_in_use(opts.host, opts.port):
        raise ServeError(f"port {opts.port} on {opts.host} is in use (choose another: --port)")
    files_port = files_port_for(opts)
    sdir.mkdir(parents=True, exist_ok=True)
    logs = sdir / "logs"
    logs.mkdir(exist_ok=True)

    base = f"http://{url_host(connect_host(opts.host))}:{opts.port}"
    api_url = f"{base}/api"
    ui_api_url = (
        opts.ui_api_url
        or os.environ.get("PREFECT_UI_API_URL")
        or f"http://{url_host(opts.host if is_loopback(opts.host) else socket.getfqdn())}"
        f":{opts.port}/api"
    )
    env = service_env(opts, api_url, ui_api_url)
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    processes: list[dict[str, Any]] = []
    state: dict[str, Any] = {
        "root": str(Path(opts.root).expanduser().resolve()),
        "host": opts.host,
        "port": opts.port,
        "api_url": api_url,
        "ui_url": base,
        "prefect_home": env["PREFECT_HOME"],
        "database": redacted_db(env["PREFECT_SERVER_DATABASE_CONNECTION_URL"]),
        "repo": str(opts.repo),
        "prefect_file": str(prefect_file),
        "auth": bool(os.environ.get("PREFECT_SERVER_API_AUTH_STRING")),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "processes": processes,
    }

    def save() -> None:
        tmp = sdir / (STATE_FILE + ".tmp")
        tmp.write_text(
            json.dumps(
                {
                    **state,
                    "processes": [
                        {k: v for k, v in p.items() if not k.startswith("_")} for p in processes
                    ],
                },
                indent=2,
            )
        )
        tmp.replace(sdir / STATE_FILE)

    try:
        _log(opts, f"starting the Prefect server on {base} (database {state['database']}) ...")
        server = _spawn(
            "server",
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                opts.host,
                "--port",
                str(opts.port),
                "--analytics-off",
            ],
            env,
            opts.repo,
            logs / "server.log",
        )
        processes.append(server)
        save()
        secs = wait_healthy(api_url, server["_popen"], opts.startup_timeout, logs / "server.log")
        _log(opts, f"  healthy after {secs:.1f}s")
        files = _spawn(
            "files",
            [
                sys.executable,
                "-m",
                "deployments.files",
                "--root",
                state["root"],
                "--host",
                opts.host,
                "--port",
                str(files_port),
            ],
            env,
            opts.repo,
            logs / "files.log",
        )
        processes.append(files)
        files_local = f"http://{url_host(connect_host(opts.host))}:{files_port}"
        state["files_local_url"] = files_local
        state["files_url"] = (
            opts.files_url
            or os.environ.get("CROSSLING_FILES_URL")
            or f"http://{url_host(opts.host if is_loopback(opts.host) else socket.getfqdn())}"
            f":{files_port}"
        ).rstrip("/")
        save()
        wait_answering(f"{files_local}/", files["_popen"], 60, logs / "files.log", "file server")
        _log(opts, f"outputs served read-only at {state['files_url']}/")
        pools = work_pools(prefect_file)
        ensure_work_pools(api_url, pools, env.get("PREFECT_API_AUTH_STRING"))
        _log(opts, f"work pools: {', '.join(p['name'] for p in pools)}")
        _log(opts, f"deploying {prefect_file} ...")
        deploy(opts, env, logs / "deploy.log")
        wenv = {**env, "CROSSLING_REPO": str(opts.repo)}
        host = socket.gethostname()
        wanted = (["cpu"] if opts.cpu_worker else []) + (["gpu"] if opts.gpu else [])
        for pool in wanted:
            w = _spawn(
                f"worker-{pool}",
                worker_command(pool, f"{pool}-{host}"),
                wenv,
                opts.repo,
                logs / f"worker-{pool}.log",
            )
            processes.append(w)
            _log(opts, f"worker on pool {pool} started (log {w['log']})")
        save()
        time.sleep(0.5)
        for w in processes[1:]:
            if w["_popen"].poll() is not None:
                raise ServeError(f"{w['name']} exited at once:\n{_tail(Path(w['log']))}")
    except BaseException:
        for p in reversed(processes):
            _stop_entry(p, timeout=10)
        with contextlib.suppress(FileNotFoundError):
            (sdir / STATE_FILE).unlink()
        raise
    state["seconds"] = round(time.monotonic() - t0, 1)
    save()
    _log(
        opts,
        f"\ncrossling is served: UI {base} (deployments at {base}/deployments)\n"
        f"  API {api_url}; data root {state['root']}; logs {logs}\n"
        f"  outputs (read-only, linked from the artifacts): {state['files_url']}/\n"
        f"  crossling commands on this root use this server; other clients: "
        f"export PREFECT_API_URL={api_url}\n"
        f"  stop with: crossling stop --root {opts.root}",
    )
    return {
        **state,
        "processes": [{k: v for k, v in p.items() if not k.startswith("_")} for p in processes],
    }


def stop(root: str, quiet: bool = False) -> dict[str, str]:
    """Stop the processes recorded for ``root`` (workers first); remove the state file."""
    state_dir(root)  # refuses a remote root
    try:
        return service.stop(root, quiet=quiet)
    except service.ServiceStateError as e:
        raise ServeError(str(e)) from None


def status(root: str) -> dict[str, Any] | None:
    """The state recorded for ``root``, each process with ``alive``; None when nothing is."""
    state_dir(root)
    try:
        return service.status(root)
    except service.ServiceStateError as e:
        raise ServeError(str(e)) from None


def main(argv: list[str] | None = None) -> int:
    """``python -m deployments.serve OPTIONS [--wait] [--json]``: the program ``crossling serve``
    runs (it parses the user's options, then replaces itself with this), so that flows/ imports
    nothing of deployments/. OPTIONS is a JSON object of :class:`ServeOptions` fields."""
    ap = argparse.ArgumentParser(prog="crossling serve")
    ap.add_argument("options", help="ServeOptions fields as a JSON object")
    ap.add_argument("--wait", action="store_true", help="stay in the foreground; Ctrl-C stops")
    ap.add_argument("--json", action="store_true", help="print the state as JSON")
    args = ap.parse_args(argv)
    try:
        opts = ServeOptions(**json.loads(args.options))
        os.makedirs(opts.root, exist_ok=True)
        state = start(opts)
    except (ServeError, TypeError, ValueError) as e:
        print(f"crossling serve: error: {e}", file=sys.stderr, flush=True)
        return 2
    if args.json:
        print(json.dumps(state, indent=2), flush=True)
    if not args.wait:
        return 0
    stop_now: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_now.append(1))
    try:
        while not stop_now:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    stop(opts.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
