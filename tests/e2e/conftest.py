"""Fixtures of the end-to-end tests: a served crossling (real `prefect server start`, deployments,
process workers) on SQLite and, with CROSSLING_TEST_POSTGRES=1, on a real PostgreSQL; Chromium."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployments import serve

REPO = Path(__file__).resolve().parents[2]
TEST_OUTPUT = REPO / "test-output" / "e2e"

# The real prefect.yaml, with training and evaluation made tiny: a few optimizer steps, a few
# held-out rows. Everything else (triggers, matches, templating, schedules, pools) is as shipped.
TRAIN_OVERRIDES = {"max_steps": 6, "log_every": 2, "save_every": 100, "tokenizer_vocab_size": 2000}
EVAL_OVERRIDES = {"max_rows_per_lang": 8, "batch_size": 8}


def lean_prefect_file(dest: Path) -> Path:
    data = yaml.safe_load(serve.PREFECT_FILE.read_text())
    for d in data["deployments"]:
        if d["name"] == "train":
            d["parameters"]["params"].update(TRAIN_OVERRIDES)
            for t in d["triggers"]:
                t["parameters"]["params"].update(TRAIN_OVERRIDES)
        elif d["name"] == "evaluate":
            d["parameters"]["config"] = dict(EVAL_OVERRIDES)
            for t in d["triggers"]:
                t["parameters"]["config"] = dict(EVAL_OVERRIDES)
        elif d["name"] == "pipeline":
            d["parameters"]["params"]["train"].update(TRAIN_OVERRIDES)
            d["parameters"]["params"]["evaluate"] = dict(EVAL_OVERRIDES)
    dest.write_text(yaml.safe_dump(data, sort_keys=False))
    return dest


# --- PostgreSQL (Debian's package) --------------------------------------------------------------


def postgres_bindir() -> str | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0,
    )
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """initdb + pg_ctl start in a temporary directory on a free port; yields the asyncpg URL."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail(
            "CROSSLING_TEST_POSTGRES=1 but PostgreSQL is not installed "
            "(apt-get install postgresql; .ci/run does it)"
        )
    base = tempfile.mkdtemp(prefix="crossling-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log = os.path.join(base, "data"), os.path.join(base, "postgres.log")
    port = serve.free_port()

    def run(*cmd: str) -> None:
        r = subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            tail = Path(log).read_text()[-2000:] if os.path.exists(log) else ""
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stdout}{r.stderr}{tail}")

    run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
    run(
        f"{bindir}/pg_ctl",
        "-D",
        data,
        "-l",
        log,
        "-w",
        "-t",
        "60",
        "-o",
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c max_connections=200",
        "start",
    )
    try:
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "prefect")
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/prefect"
    finally:
        with contextlib.suppress(Exception):
            run(f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


# --- the served crossling -----------------------------------------------------------------------


@dataclass
class Service:
    backend: str
    root: str
    api_url: str
    ui_url: str
    files_url: str
    state: dict[str, Any]

    def client_settings(self):
        from prefect.settings import PREFECT_API_URL, temporary_settings

        return temporary_settings(updates={PREFECT_API_URL: self.api_url})

    def logs(self, n: int = 40) -> str:
        out = []
        for p in self.state["processes"]:
            lines = Path(p["log"]).read_text(errors="replace").splitlines()[-n:]
            out.append(f"--- {p['name']} ({p['log']})\n" + "\n".join(lines))
        return "\n".join(out)


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="module", params=BACKENDS)
def service(request, tmp_path_factory) -> Iterator[Service]:
    """crossling served from a temporary root and PREFECT_HOME: server, the outputs' file server,
    pools, the deployments of deployments/prefect.yaml (lean), a cpu and a gpu-pool worker."""
    backend = request.param
    if backend == "postgres" and os.environ.get("CROSSLING_TEST_POSTGRES") != "1":
        pytest.skip("PostgreSQL backend: set CROSSLING_TEST_POSTGRES=1 (CI does)")
    base = tmp_path_factory.mktemp(f"serve-{backend}")
    root = base / "root"
    root.mkdir()
    with contextlib.ExitStack() as stack:
        db_url = stack.enter_context(postgres_server()) if backend == "postgres" else None
        opts = serve.ServeOptions(
            root=str(root),
            port=serve.free_port(),
            files_port=serve.free_port(),
            prefect_home=str(base / "prefect-home"),
            database_url=db_url,
            prefect_file=lean_prefect_file(base / "prefect.yaml"),
            gpu=True,
            worker_query_seconds=2,
            startup_timeout=240,
            env={
                "PREFECT_LOGGING_LEVEL": "INFO",
                "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
                "TOKENIZERS_PARALLELISM": "false",
            },
        )
        t0 = time.monotonic()
        state = serve.start(opts)
        print(f"[{backend}] served in {time.monotonic() - t0:.1f}s")
        stack.callback(serve.stop, str(root))
        yield Service(
            backend=backend,
            root=str(root),
            api_url=state["api_url"],
            ui_url=state["ui_url"],
            files_url=state["files_url"],
            state=state,
        )


# --- Chromium -----------------------------------------------------------------------------------


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def chromium(
    url: str, *, screenshot: Path | None = None, budget_ms: int = 30000, timeout: float = 180
) -> str:
    """Headless Chromium (flags from DESIGN.md): the DOM after scripts ran, or a screenshot."""
    binary = chromium_binary()
    assert binary
    with tempfile.TemporaryDirectory(prefix="crossling-chromium-") as profile:
        cmd = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            "--window-size=1440,1100",
        ]
        cmd += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        r = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"chromium failed ({r.returncode}) on {url}: {r.stderr[-2000:]}")
    return r.stdout
