"""A command on a tiny input, as a user runs it: before (a temporary Prefect server per command)
and now (the data root's local server, started by the first command and reused).

``crossling langid`` and ``crossling corpus`` on a one-line JSONL, each a fresh process with no
PREFECT_API_URL and no ``crossling serve``, alternately:

- ``temporary``: CROSSLING_LOCAL_SERVER=0, a temporary server started and stopped by every
  command (the behaviour before the local server; with ``--before REPO``, that checkout's code);
- ``local``: the root's local server, already started by an earlier command (the usual case);
- ``first``: the first command on a new root, which starts the local server (``--first`` runs).

Also timed apart, since the machine may be loaded: importing the corpus command's modules, and
the local server's start (first minus local). Prints each run, the medians, the ratios and the
load average. Stops every server it started.

    python benchmarks/cli_service.py [--repeat 5] [--first 2] [--before /path/to/old/checkout]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flows import local_server  # noqa: E402

LINE = '{"id": 1, "text": "Das ist ein kurzer deutscher Satz über das Wetter in Berlin."}\n'


def command(kind: str, src: Path, root: Path, out: Path) -> list[str]:
    if kind == "langid":
        return ["langid", str(src), "--out", str(out / "langid.jsonl")]
    return ["corpus", str(src), "--out", str(root), "--name", "tiny", "--workers", "2"]


def run(argv: list[str], root: Path, home: Path, repo: Path, local: bool) -> tuple[float, str]:
    env = {
        **os.environ,
        "CROSSLING_ROOT": str(root),
        "PREFECT_HOME": str(home),
        "PYTHONPATH": str(repo),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "CROSSLING_LOCAL_SERVER": "1" if local else "0",
    }
    env.pop("PREFECT_API_URL", None)
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "flows.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(root.parent),
    )
    secs = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(
            f"{argv[0]} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}"
        )
    return secs, (r.stderr.strip().splitlines() or [""])[-1]


def import_seconds(repo: Path) -> float:
    code = "import flows.cli, flows.corpus, flows.api"
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(repo)}, check=True
    )
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each command and mode")
    ap.add_argument("--first", type=int, default=2, help="first commands on a new root")
    ap.add_argument("--before", type=Path, help="checkout to run for the `temporary` mode")
    args = ap.parse_args()
    before = (args.before or REPO).resolve()
    times: dict[str, list[float]] = {}
    roots: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="crossling-bench-cli-") as tmp:
        base = Path(tmp)
        src = base / "one.jsonl"
        src.write_text(LINE, encoding="utf-8")
        home = base / "home"
        home.mkdir()
        try:
            warm = base / "warm"
            roots.append(warm)
            secs, _ = run(command("langid", src, warm, base), warm, home, REPO, True)
            print(f"local server of the warm root started by a first command: {secs:.1f}s")
            for i in range(args.repeat):
                for kind in ("langid", "corpus"):
                    tmp_root = base / f"temporary-{i}-{kind}"
                    for mode, root, repo, local in (
                        ("temporary", tmp_root, before, False),
                        ("local", warm, REPO, True),
                    ):
                        secs, last = run(command(kind, src, root, base), root, home, repo, local)
                        times.setdefault(f"{kind} {mode}", []).append(secs)
                        print(f"  run {i + 1} {kind:6s} {mode:9s} {secs:6.2f}s")
            for i in range(args.first):
                root = base / f"first-{i}"
                roots.append(root)
                secs, last = run(command("corpus", src, root, base), root, home, REPO, True)
                assert "started by this command" in last, last
                times.setdefault("corpus first", []).append(secs)
                print(f"  run {i + 1} corpus first     {secs:6.2f}s (starts the local server)")
            imports = [import_seconds(REPO) for _ in range(3)]
        finally:
            for root in roots:
                local_server.stop(str(root))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nmedians of {args.repeat} (first: {args.first}), one-line input, no PREFECT_API_URL:")
    for kind in ("langid", "corpus"):
        t, loc = med[f"{kind} temporary"], med[f"{kind} local"]
        print(
            f"  crossling {kind}: temporary server {t:.2f}s, local server {loc:.2f}s "
            f"(temporary / local = {t / loc:.2f}x)"
        )
    if "corpus first" in med:
        first = med["corpus first"]
        print(
            f"  crossling corpus, first command on a new root (starts the server): {first:.2f}s; "
            f"server start about {first - med['corpus local']:.2f}s"
        )
    print(f"  importing the corpus command's modules: {statistics.median(imports):.2f}s")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
