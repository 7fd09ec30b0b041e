"""The local Prefect server of a data root (flows/local_server.py), with real processes: commands
start it on first use and share it, its runs are kept across servers, a stale record is replaced,
a server killed mid-run is replaced under the run, `crossling status` / `crossling stop`."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from crossling.corpus import CorpusVersion
from flows import local_server

REPO = Path(__file__).resolve().parents[2]
LINE = '{"id": 1, "text": "Das ist ein kurzer deutscher Satz über das Wetter in Berlin."}\n'


def _env(root: Path, home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "CROSSLING_ROOT": str(root),
        "PREFECT_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "CROSSLING_SERVER_IDLE_S": "120",  # stopped by the test; this only bounds a failed one
    }
    for k in ("PREFECT_API_URL", "CROSSLING_LOCAL_SERVER"):
        env.pop(k, None)
    return env


def _cli(*args: str, env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


def _status(root: Path, env: dict[str, str]) -> tuple[int, dict]:
    r = _cli("status", "--root", str(root), "--json", env=env)
    return r.returncode, json.loads(r.stdout)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _supervisors(root: Path) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if "flows.local_server" in cmd and str(root) in cmd:
            out.append(p)
    return out


def test_a_record_of_dead_processes_is_stale_and_status_says_so(tmp_path) -> None:
    root = tmp_path / "root"
    sdir = root / ".serve"
    sdir.mkdir(parents=True)
    dead = _dead_pid()
    rec = {"pid": dead, "server_pid": dead, "port": 9, "api_url": "http://127.0.0.1:9/api"}
    rec["ui_url"] = "http://127.0.0.1:9"
    (sdir / local_server.LOCAL_FILE).write_text(json.dumps(rec))
    ok, why = local_server._usable(rec)
    assert not ok and "stale" in why and "gone" in why and str(dead) in why
    st = local_server.status(str(root))
    assert st is not None and not st["running"] and st["stale"] and st["runs"] is None
    env = _env(root, tmp_path / "home")
    rc, js = _status(root, env)
    assert rc == 1 and js["kind"] == "local" and not js["running"] and js["stale"]
    r = _cli("stop", "--root", str(root), env=env)
    assert r.returncode == 0 and "stale record removed" in r.stdout
    assert local_server.read_record(root) is None
    rc, js = _status(root, env)
    assert rc == 1 and js == {"root": str(root), "running": False}
    # Turned off, or a remote root: no local server (a temporary one, as before).
    assert local_server.enabled(str(root)) and not local_server.enabled("s3://bucket/x")
    os.environ["CROSSLING_LOCAL_SERVER"] = "0"
    try:
        assert not local_server.enabled(str(root))
    finally:
        del os.environ["CROSSLING_LOCAL_SERVER"]


@pytest.mark.slow
def test_two_commands_at_once_share_one_server(tmp_path) -> None:
    root = tmp_path / "root"
    (root / ".serve").mkdir(parents=True)
    dead = _dead_pid()  # a stale record left by a server that was killed with its supervisor
    stale = {"pid": dead, "server_pid": dead, "port": 9, "api_url": "http://127.0.0.1:9/api"}
    (root / ".serve" / local_server.LOCAL_FILE).write_text(json.dumps(stale))
    src = tmp_path / "one.jsonl"
    src.write_text(LINE, encoding="utf-8")
    env = _env(root, tmp_path / "home")
    try:
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "flows.cli",
                    "langid",
                    str(src),
                    "--out",
                    str(tmp_path / f"o{i}.jsonl"),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        notes = [err.strip().splitlines()[-1] for _, err in outs]
        started = [n for n in notes if "started by this command" in n]
        assert len(started) == 1, notes  # one started it, the other waited and used it
        assert f"stale local-server record (pid {dead}, port 9)" in started[0]
        rec = local_server.read_record(root)
        assert rec and rec["ui_url"] in started[0] and rec["pid"] != dead
        assert [p.pid for p in _supervisors(root)] == [rec["pid"]]
        rc, js = _status(root, env)
        assert rc == 0 and js["kind"] == "local" and js["running"] and js["runs"] == 2, js
        assert js["ui_url"] == rec["ui_url"] and js["clients"] == []

        r = _cli("stop", "--root", str(root), env=env)
        assert r.returncode == 0 and "local server of" in r.stdout and "stopped" in r.stdout
        assert not local_server._alive(rec["server_pid"], rec["server_create_time"])
        assert not _supervisors(root) and local_server.read_record(root) is None
        assert _status(root, env)[0] == 1
    finally:
        local_server.stop(str(root))


@pytest.mark.slow
def test_a_server_killed_mid_run_is_replaced_and_the_runs_are_kept(tmp_path) -> None:
    root = tmp_path / "root"
    rng = random.Random(7)
    words = (
        "der die das und ist nicht ein eine zu mit auf für von dem den Wetter Berlin Stadt Haus "
        "Zeit Jahr Mensch Arbeit Leben Welt Frage Kind Frau Mann Tag Land Wasser Straße Buch"
    ).split()
    src = tmp_path / "in.jsonl"
    n = 1500
    src.write_text(
        "".join(
            json.dumps({"text": " ".join(rng.choice(words) for _ in range(60)) + "."}) + "\n"
            for _ in range(n)
        ),
        encoding="utf-8",
    )
    env = _env(root, tmp_path / "home")
    cmd = ["corpus", str(src), "--out", str(root), "--name", "k", "--workers", "2"]
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *cmd],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Wait for the flow run to be running on the server this command started, then kill it.
        deadline = time.monotonic() + 240
        rec = None
        while time.monotonic() < deadline and proc.poll() is None:
            rec = local_server.read_record(root)
            if rec and local_server.healthy(rec["api_url"]) and _running(rec["api_url"]):
                break
            time.sleep(0.1)
        assert rec and proc.poll() is None, "the run ended before the server could be killed"
        os.kill(rec["server_pid"], signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        version = CorpusVersion.open(str(root), "k")
        manifest = version.manifest
        assert manifest["conservation"]["balanced"]
        assert manifest["counts"]["docs"] + manifest["counts"]["rejects"] == n
        after = local_server.read_record(root)
        assert after["pid"] == rec["pid"] and after["restarts"] == 1
        assert after["server_pid"] != rec["server_pid"] and after["port"] == rec["port"]
        rc, js = _status(root, env)
        assert rc == 0 and js["runs"] == 1
        assert _states(after["api_url"]) == ["COMPLETED"]  # the run, recorded to its end

        # Killed with its supervisor: the record is stale; the next command starts a fresh one
        # (and finds the version done).
        os.kill(after["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while local_server._alive(after["server_pid"], after["server_create_time"]):
            assert time.monotonic() < deadline, "the server outlived its supervisor"
            time.sleep(0.2)
        assert _status(root, env)[0] == 1
        r = _cli(*cmd, env={**env, "CROSSLING_SERVER_IDLE_S": "2"})
        assert r.returncode == 0, r.stderr[-2000:]
        assert "stale local-server record" in r.stderr and "started by this command" in r.stderr
        assert CorpusVersion.open(str(root), "k").version == version.version
        assert local_server.read_record(root)["pid"] != after["pid"]
        # The runs are in the root's database: the fresh server holds the first one too.
        rc, js = _status(root, env)
        assert rc == 0 and js["runs"] == 2 and js["idle_stop_s"] == 2
        # Idle (no command using it) for its idle time: it stops by itself.
        fresh = local_server.read_record(root)
        deadline = time.monotonic() + 60
        while local_server.read_record(root) is not None or _supervisors(root):
            assert time.monotonic() < deadline, "the idle server did not stop"
            time.sleep(0.5)
        assert not local_server._alive(fresh["server_pid"], fresh["server_create_time"])
        assert "idle for 2s" in (root / ".serve" / "logs" / "local-server.log").read_text()
    finally:
        local_server.stop(str(root))


def _flow_runs(api_url: str, body: dict) -> list[dict]:
    import urllib.request

    req = urllib.request.Request(
        f"{api_url}/flow_runs/filter",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _running(api_url: str) -> bool:
    try:
        body = {"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}
        return bool(_flow_runs(api_url, body))
    except OSError:
        return False


def _states(api_url: str) -> list[str]:
    return [r["state_type"] for r in _flow_runs(api_url, {})]


@pytest.mark.slow
def test_a_new_root_starts_from_an_empty_migrated_database(tmp_path) -> None:
    """The first server on the machine keeps its freshly migrated database as a template; a new
    root's server starts from a copy of it, and holds none of another root's runs."""
    src = tmp_path / "one.jsonl"
    src.write_text(LINE, encoding="utf-8")
    roots = [tmp_path / "a", tmp_path / "b"]
    env0 = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    template = tmp_path / "cache" / "crossling"
    try:
        for i, root in enumerate(roots):
            env = {**_env(root, tmp_path / "home"), **env0}
            r = _cli("langid", str(src), "--out", str(tmp_path / f"o{i}.jsonl"), env=env)
            assert r.returncode == 0, r.stderr
            kept = list(template.glob("prefect-*-empty.db"))
            assert len(kept) == 1, kept  # made by the first root's server, reused after
            rc, js = _status(root, env)
            assert rc == 0 and js["runs"] == 1, js  # its own run only
    finally:
        for root in roots:
            local_server.stop(str(root))
    import sqlite3

    con = sqlite3.connect(kept[0])
    assert con.execute("select count(*) from flow_run").fetchone()[0] == 0
    assert con.execute("select count(*) from alembic_version").fetchone()[0] == 1
