"""A short CLI command against a served data root, and the same command with a temporary server.

``crossling langid`` on a one-line file, run as a user runs it (a fresh process, no
PREFECT_API_URL), alternately on a root that ``crossling serve`` serves (its runs go to that
server) and on a root nobody serves (the command starts and stops a temporary Prefect server, as
before the service was found by root). The service is started once for the benchmark (its start
is not counted) and stopped at the end. Prints each run, the medians, their ratio and the load.

    python benchmarks/cli_service.py [--repeat 5]
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

from deployments import serve  # noqa: E402

LINE = '{"id": 1, "text": "Das ist ein kurzer deutscher Satz über das Wetter in Berlin."}\n'


def run_langid(src: Path, out: Path, root: Path, home: Path) -> tuple[float, str]:
    env = {
        **os.environ,
        "CROSSLING_ROOT": str(root),
        "PREFECT_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    cmd = [sys.executable, "-m", "flows.cli", "langid", str(src), "--out", str(out)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    secs = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"langid failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return secs, (r.stderr.strip().splitlines() or [""])[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="crossling-bench-cli-") as tmp:
        base = Path(tmp)
        served, unserved, home = base / "served", base / "unserved", base / "home"
        for d in (served, unserved, home):
            d.mkdir()
        src = base / "one.jsonl"
        src.write_text(LINE, encoding="utf-8")
        opts = serve.ServeOptions(
            root=str(served),
            port=serve.free_port(),
            files_port=serve.free_port(),
            cpu_worker=False,
            quiet=True,
        )
        t0 = time.perf_counter()
        serve.start(opts)
        print(f"service up in {time.perf_counter() - t0:.1f}s (not counted)")
        times: dict[str, list[float]] = {"served root": [], "temporary server": []}
        try:
            for i in range(args.repeat):
                for label, root in (("served root", served), ("temporary server", unserved)):
                    secs, last = run_langid(src, base / "out.jsonl", root, home)
                    times[label].append(secs)
                    note = " (closing note printed)" if "note:" in last else ""
                    print(f"  run {i + 1} {label:17s} {secs:6.2f}s{note}")
        finally:
            serve.stop(str(served), quiet=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"crossling langid, one line: served root {med['served root']:.2f}s, temporary server "
        f"{med['temporary server']:.2f}s (medians of {args.repeat}); "
        f"temporary / served = {med['temporary server'] / med['served root']:.2f}x"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
