"""The local Prefect server of a data root: started by the first command that needs one, shared by
the commands that follow, stopped after it has been idle.

A command on a local data root that no ``crossling serve`` serves (and with no PREFECT_API_URL)
runs its flows against this server instead of a temporary one, so its runs, logs and artifacts are
kept in the root's own database (``<root>/.prefect/prefect.db``, the one ``crossling serve``
opens): the next ``crossling serve`` or this server's UI shows them. Only the first command on a
root pays for the server's start (seconds); the ones that follow find it answering.

    <root>/.serve/local.json      the record: supervisor and server PIDs, port, URLs
    <root>/.serve/local.lock      flock held while a command checks or starts the server
    <root>/.serve/clients/<pid>   one file per command using it (the idle clock waits for them)
    <root>/.serve/logs/local-server.log

The server runs under a small supervisor (``python -m flows.local_server``, stdlib only) that
writes the record, stops the server after ``CROSSLING_SERVER_IDLE_S`` seconds (default 600; 0 =
never) with no command running, starts a new one on the same port and database when its server
dies under running commands (killed, out of memory: their clients' retries reach the new one, up
to three times), and removes the record when it ends. The server dies with its supervisor. A record whose processes are gone,
or whose server does not answer, is stale: the next command says so and starts a fresh server.

Nothing here imports prefect (a command checks for its server before it pays for that import) or
deployments/.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.service import STATE_DIR, auth_string, redacted_db

LOCAL_FILE = "local.json"
LOCK_FILE = "local.lock"
CLIENTS_DIR = "clients"
LOG_NAME = "local-server.log"
# Seconds with no command running after which the supervisor stops the server (0: never).
DEFAULT_IDLE_S = 600.0
# How long a command waits for a server to answer (its first start migrates a new database).
START_TIMEOUT_S = 180.0
# How often the supervisor starts a new server after its server died (SIGKILL, out of memory).
MAX_RESTARTS = 3
# How long a live but silent server gets before it counts as stale (it may be busy).
SILENT_GRACE_S = 10.0


class LocalServerError(RuntimeError):
    """The local server could not be started (the message says why and names its log)."""


@dataclass(frozen=True)
class LocalServer:
    """The local server a command uses."""

    root: str
    api_url: str
    ui_url: str
    started: bool  # this command started it
    seconds: float  # how long this command waited for it (start included)
    note: str | None = None  # what was found stale, if anything


def idle_seconds() -> float:
    """``CROSSLING_SERVER_IDLE_S`` (seconds of idleness before the server stops; 0 = never)."""
    raw = os.environ.get("CROSSLING_SERVER_IDLE_S", "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_IDLE_S
    except ValueError:
        return DEFAULT_IDLE_S


def enabled(root: str | None) -> bool:
    """Can a command on ``root`` use a local server? (A local root this user may write to; not
    turned off with CROSSLING_LOCAL_SERVER=0.)"""
    if not root or "://" in root:
        return False
    if os.environ.get("CROSSLING_LOCAL_SERVER", "1").lower() in ("0", "false", "no", "off"):
        return False
    path = Path(root).expanduser().resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK)


def state_dir(root: str | os.PathLike[str]) -> Path:
    return Path(root).expanduser().resolve() / STATE_DIR


def read_record(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The record of the local server of ``root``; None when there is none or it is unreadable."""
    try:
        data = json.loads((state_dir(root) / LOCAL_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _write_record(root: Path, record: dict[str, Any]) -> None:
    sdir = state_dir(root)
    tmp = sdir / f"{LOCAL_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record, indent=2))
    tmp.replace(sdir / LOCAL_FILE)


def _remove_record(root: str | os.PathLike[str], pid: int | None = None) -> None:
    """Remove the record (only if it is still the one of supervisor ``pid``, when given)."""
    path = state_dir(root) / LOCAL_FILE
    if pid is not None:
        rec = read_record(root)
        if rec is not None and rec.get("pid") != pid:
            return
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _alive(pid: int | None, create_time: float | None) -> bool:
    """Is ``pid`` running and still the process recorded (not a reused PID)?"""
    if not pid:
        return False
    import psutil

    try:
        p = psutil.Process(pid)
        if create_time is not None and abs(p.create_time() - create_time) > 1.0:
            return False
        return p.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _create_time(pid: int) -> float:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return time.time()


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Does the Prefect API at ``api_url`` answer ``/health`` with 200?"""
    req = urllib.request.Request(f"{api_url}/health")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def count_flow_runs(api_url: str, timeout: float = 5.0) -> int | None:
    """How many flow runs the server at ``api_url`` holds (None when it does not say)."""
    import base64

    req = urllib.request.Request(
        f"{api_url}/flow_runs/count",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    if auth := auth_string():
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return int(json.loads(r.read()))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Hold ``<root>/.serve/local.lock``: one command at a time checks or starts the server."""
    sdir = state_dir(root)
    sdir.mkdir(parents=True, exist_ok=True)
    with open(sdir / LOCK_FILE, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _kill_record(rec: dict[str, Any]) -> None:
    """End the processes of a record (supervisor first: it ends its server)."""
    for pid_key, ct_key in (("pid", "create_time"), ("server_pid", "server_create_time")):
        pid = rec.get(pid_key)
        if _alive(pid, rec.get(ct_key)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _usable(rec: dict[str, Any]) -> tuple[bool, str | None]:
    """Is a recorded server usable now? Else why the record is stale."""
    sup = _alive(rec.get("pid"), rec.get("create_time"))
    srv = _alive(rec.get("server_pid"), rec.get("server_create_time"))
    port = rec.get("port")
    if not srv:
        what = "its server process is gone" if sup else "its processes are gone"
        return (
            False,
            f"stale local-server record (pid {rec.get('server_pid')}, port {port}): {what}",
        )
    deadline = time.monotonic() + SILENT_GRACE_S
    while True:
        if healthy(rec["api_url"]):
            return True, None
        if time.monotonic() > deadline:
            return False, (
                f"stale local-server record (pid {rec.get('server_pid')}, port {port}): "
                f"its server does not answer at {rec['api_url']}"
            )
        time.sleep(0.3)


def ensure(root: str, timeout: float = START_TIMEOUT_S) -> LocalServer:
    """The local server of ``root``: the running one, else a fresh one started in the background.

    Two commands calling this at once share one server: the second waits on the lock while the
    first starts it. A stale record (processes gone, server silent) is removed, its leftovers
    killed, and a fresh server started; the returned ``note`` says what was found.

    Raises:
        LocalServerError: the server did not answer within ``timeout`` (its log is named).
    """
    path = Path(root).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    note = None
    with _locked(path):
        rec = read_record(path)
        if rec is not None and rec.get("api_url"):
            ok, note = _usable(rec)
            if ok:
                return LocalServer(
                    str(path), rec["api_url"], rec["ui_url"], False, time.monotonic() - t0
                )
            _kill_record(rec)
            _remove_record(path)
        port = _free_port()
        logs = state_dir(path) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / LOG_NAME
        cmd = [
            sys.executable,
            "-m",
            "flows.local_server",
            "--root",
            str(path),
            "--port",
            str(port),
            "--idle",
            str(idle_seconds()),
        ]
        env = dict(os.environ)
        pkg_parent = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (pkg_parent, env.get("PYTHONPATH")) if p
        )  # the supervisor imports this checkout's flows/
        with open(log, "ab") as out:
            sup = subprocess.Popen(
                cmd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives this command; Ctrl-C here does not reach it
                cwd=str(path),
            )
        api_url = f"http://127.0.0.1:{port}/api"
        while not healthy(api_url, timeout=5):
            if sup.poll() is not None:
                raise LocalServerError(
                    f"the local Prefect server of {path} exited with status {sup.returncode} "
                    f"(log {log})"
                )
            if time.monotonic() - t0 > timeout:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(sup.pid, signal.SIGTERM)
                raise LocalServerError(
                    f"the local Prefect server of {path} did not answer within {timeout:.0f}s "
                    f"(log {log})"
                )
            time.sleep(0.2)
        return LocalServer(
            str(path), api_url, f"http://127.0.0.1:{port}", True, time.monotonic() - t0, note
        )


@contextlib.contextmanager
def client(root: str) -> Iterator[None]:
    """Mark this process as a command using the local server of ``root`` while it runs."""
    cdir = state_dir(root) / CLIENTS_DIR
    cdir.mkdir(parents=True, exist_ok=True)
    mark = cdir / str(os.getpid())
    mark.write_text(json.dumps({"pid": os.getpid(), "create_time": _create_time(os.getpid())}))
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            mark.unlink()
        with contextlib.suppress(OSError):
            (cdir / ".last").touch()


def live_clients(root: str | os.PathLike[str]) -> tuple[list[int], float]:
    """PIDs of the commands using the server now, and when the last one ended (epoch s)."""
    cdir = state_dir(root) / CLIENTS_DIR
    pids: list[int] = []
    last = 0.0
    with contextlib.suppress(FileNotFoundError):
        last = (cdir / ".last").stat().st_mtime
    if not cdir.is_dir():
        return pids, last
    for mark in cdir.iterdir():
        if not mark.name.isdigit():
            continue
        try:
            info = json.loads(mark.read_text())
        except (OSError, json.JSONDecodeError):
            info = {}
        pid = int(mark.name)
        if _alive(pid, info.get("create_time")):
            pids.append(pid)
        else:  # a command that died: its death counts as its end
            with contextlib.suppress(FileNotFoundError):
                mark.unlink()
            with contextlib.suppress(OSError):
                (cdir / ".last").touch()
            last = max(last, time.time())
    return pids, last


def status(root: str) -> dict[str, Any] | None:
    """The local server of ``root`` as ``crossling status`` shows it; None when none is recorded.

    Keys: the record's (``api_url``, ``ui_url``, ``port``, ``pid``, ``server_pid``, ...) and
    ``running`` (its server answers), ``stale`` (why not, if recorded but not usable), ``runs``
    (flow runs it holds), ``clients`` (PIDs of the commands using it).
    """
    rec = read_record(root)
    if rec is None:
        return None
    srv = _alive(rec.get("server_pid"), rec.get("server_create_time"))
    up = srv and healthy(rec.get("api_url", ""))
    out = {**rec, "running": bool(up), "clients": live_clients(root)[0]}
    out["runs"] = count_flow_runs(rec["api_url"]) if up else None
    if not up:
        out["stale"] = "its server does not answer" if srv else "its processes are gone"
    return out


def stop(root: str, timeout: float = 20.0) -> str | None:
    """Stop the local server of ``root``; return what happened (None: none was recorded)."""
    rec = read_record(root)
    if rec is None:
        return None
    pid, ct = rec.get("pid"), rec.get("create_time")
    result = "not running (stale record removed)"
    if _alive(pid, ct):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)  # the supervisor stops its server, removes the record
        deadline = time.monotonic() + timeout
        while _alive(pid, ct) and time.monotonic() < deadline:
            time.sleep(0.1)
        result = "stopped"
    if _alive(rec.get("server_pid"), rec.get("server_create_time")) or _alive(pid, ct):
        _kill_record(rec)
        result = "killed"
    _remove_record(root)
    return result


# --- the supervisor (``python -m flows.local_server``) --------------------------------------------


def _server_env(root: Path, port: int) -> dict[str, str]:
    """The server's environment: the database and home ``crossling serve`` uses for this root."""
    home = root / ".prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for k in ("PREFECT_PROFILE", "PREFECT_API_KEY"):
        env.pop(k, None)
    api = f"http://127.0.0.1:{port}/api"
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": api,
            "PREFECT_UI_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(port),
            "CROSSLING_ROOT": str(root),
        }
    )
    env.setdefault(
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
        f"sqlite+aiosqlite:///{home / 'prefect.db'}",
    )
    return env


# Tables that hold what runs write: a template database must have none of their rows.
_RUN_TABLES = ("flow", "flow_run", "task_run", "log", "artifact", "events", "event_resources")


def _template_path() -> Path:
    """Where an empty, migrated database of this Prefect version is kept (the user's cache): a
    new root's server starts from a copy of it instead of migrating a new database (~7 s of the
    first command on a root, measured: a server on a new database answered after 10.6 s, on a
    migrated one after 3.6 s)."""
    import prefect

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "crossling" / f"prefect-{prefect.__version__}-empty.db"


def _seed_database(db: Path) -> bool:
    """Copy the template database to ``db`` when ``db`` does not exist yet; True if copied."""
    template = _template_path()
    if db.exists() or not template.exists():
        return False
    tmp = db.with_name(db.name + ".seed")
    import shutil

    shutil.copyfile(template, tmp)
    os.replace(tmp, db)
    return True


def _keep_template(db: Path) -> None:
    """Save the just-migrated ``db`` as the template, if it holds no run's rows yet (a command may
    already be writing: then no template is kept, and a later new root tries again)."""
    import sqlite3

    template = _template_path()
    if template.exists():
        return
    template.parent.mkdir(parents=True, exist_ok=True)
    tmp = template.with_name(f"{template.name}.{os.getpid()}.tmp")
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=5)) as src:
            with contextlib.closing(sqlite3.connect(tmp)) as dst:
                src.backup(dst)  # consistent while the server runs
        with contextlib.closing(sqlite3.connect(tmp)) as con:
            names = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
            for t in _RUN_TABLES:
                if t in names and con.execute(f"select count(*) from {t}").fetchone()[0]:
                    return
            con.execute("pragma journal_mode=delete")
        os.replace(tmp, template)
    except sqlite3.Error:
        return
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def _die_with_parent() -> None:
    """In the server's process: receive SIGTERM when the supervisor dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def supervise(root: Path, port: int, idle_s: float) -> int:
    """Run the server until it exits, is asked to stop (SIGTERM), or has been idle ``idle_s``."""
    env = _server_env(root, port)
    cmd = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--analytics-off",
    ]
    me = os.getpid()
    db_url = env["PREFECT_SERVER_DATABASE_CONNECTION_URL"]
    default_db = db_url == f"sqlite+aiosqlite:///{root / '.prefect' / 'prefect.db'}"
    db = root / ".prefect" / "prefect.db"
    fresh = default_db and not db.exists()
    seeded = fresh and _seed_database(db)

    def spawn() -> subprocess.Popen:
        return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)

    server = spawn()
    record = {
        "root": str(root),
        "port": port,
        "api_url": f"http://127.0.0.1:{port}/api",
        "ui_url": f"http://127.0.0.1:{port}",
        "pid": me,
        "create_time": _create_time(me),
        "server_pid": server.pid,
        "server_create_time": _create_time(server.pid),
        "database": redacted_db(
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"].replace("sqlite+aiosqlite:///", "")
        ),
        "idle_stop_s": idle_s,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "log": str(state_dir(root) / "logs" / LOG_NAME),
        "restarts": 0,
    }
    _write_record(root, record)
    stop_now: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_now.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop_now.append(1))
    started = time.time()
    why = "asked to stop"
    if fresh and not seeded:  # this server migrates a new database: keep it as the template
        while server.poll() is None and not healthy(record["api_url"], timeout=2):
            time.sleep(0.05)
        if server.poll() is None:
            _keep_template(db)
    while not stop_now:
        time.sleep(1.0)
        if server.poll() is not None:
            why = f"the server exited with status {server.returncode}"
            if stop_now or record["restarts"] >= MAX_RESTARTS:
                break
            # Killed under running commands: a new server on the same port and database, which
            # their clients' retries reach, so their runs go on and are recorded.
            print(f"local server of {root}: {why}; restarting it on port {port}", flush=True)
            server = spawn()
            record.update(
                server_pid=server.pid,
                server_create_time=_create_time(server.pid),
                restarts=record["restarts"] + 1,
            )
            _write_record(root, record)
            continue
        if idle_s > 0:
            with _locked(root):  # a command checking the server now either sees it stay or go
                clients, last = live_clients(root)
                if not clients and time.time() - max(started, last) > idle_s:
                    why = f"idle for {idle_s:.0f}s"
                    _remove_record(root, pid=me)
                    break
    print(f"local server of {root} stopping: {why}", flush=True)
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    _remove_record(root, pid=me)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="supervise the local Prefect server of a data root")
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--idle", type=float, default=DEFAULT_IDLE_S)
    args = ap.parse_args(argv)
    return supervise(Path(args.root).resolve(), args.port, args.idle)


if __name__ == "__main__":
    sys.exit(main())
