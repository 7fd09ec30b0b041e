"""Peak memory of a corpus run: ``crossling corpus`` on 100 MB and 1 GB of JSONL.

The peak is the largest sum over the whole process tree (the CLI, its worker processes and the
temporary Prefect server), sampled every 100 ms, of RSS (an upper bound: pages shared between the
processes count once per process) and of PSS (shared pages split between their processes: the
tree's real footprint). Target: under 1.5 GB for both sizes. Also prints the throughput.

    python benchmarks/memory.py [--sizes 100,1000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.texts import PARAGRAPHS  # noqa: E402


def write_jsonl(path: str, mb: int, seed: int = 0) -> int:
    """About ``mb`` MB of multilingual documents (unique texts, some exact duplicates)."""
    rng = random.Random(seed)
    words = {
        lang: p.split() if lang not in ("zh", "ja") else list(p) for lang, p in PARAGRAPHS.items()
    }
    target = mb * 1_000_000
    n = size = 0
    with open(path, "w", encoding="utf-8") as f:
        while size < target:
            lang = rng.choice(list(words))
            sep = "" if lang in ("zh", "ja") else " "
            paras = [PARAGRAPHS[lang]] + [
                sep.join(rng.sample(words[lang], len(words[lang])))
                for _ in range(rng.randint(2, 10))
            ]
            text = "\n".join(paras) + f" {n}"
            if n % 50 == 49:
                text = prev  # noqa: F821 - an exact duplicate now and then
            line = json.dumps({"id": f"doc-{n}", "text": text}, ensure_ascii=False) + "\n"
            f.write(line)
            size += len(line.encode())
            prev = text  # noqa: F841
            n += 1
    return n


PEAK_ROLES: dict[str, float] = {}  # MiB of PSS per kind of process at the peak, and when


def _role(p: psutil.Process, parent: psutil.Process) -> str:
    if p.pid == parent.pid:
        return "cli (flow, threads)"
    cmd = " ".join(p.cmdline())
    if "uvicorn" in cmd or "prefect server" in cmd or "prefect.server" in cmd:
        return "prefect server"
    return "worker processes"


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        parent = psutil.Process(proc.pid)
        peak_rss = peak_pss = 0
        t0 = time.perf_counter()
        while proc.poll() is None:
            rss = pss = 0
            roles: dict[str, float] = {}
            try:
                procs = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    mem = p.memory_full_info()
                    rss, pss = rss + mem.rss, pss + mem.pss
                    role = _role(p, parent)
                    roles[role] = roles.get(role, 0) + mem.pss / 2**20
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            if pss > peak_pss:
                PEAK_ROLES.clear()
                PEAK_ROLES.update(roles, at=round(time.perf_counter() - t0, 1))
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.1)
        proc.wait()
        secs = time.perf_counter() - t0
        if proc.returncode != 0:
            log.seek(0)
            sys.exit(f"corpus run failed ({proc.returncode}):\n{log.read()[-3000:]}")
    return secs, peak_rss / 2**20, peak_pss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="100,1000", help="input sizes in MB")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="crossling-mem-") as d:
        env = {
            **os.environ,
            "PREFECT_HOME": os.path.join(d, "prefect"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        env.pop("PREFECT_API_URL", None)
        for mb in (int(x) for x in args.sizes.split(",")):
            path = os.path.join(d, f"in-{mb}mb.jsonl")
            n = write_jsonl(path, mb)
            cmd = [
                sys.executable,
                "-m",
                "flows.cli",
                "corpus",
                path,
                "--out",
                os.path.join(d, f"root-{mb}"),
                "--name",
                "mem",
                "--workers",
                str(args.workers),
            ]
            secs, rss, pss = run(cmd, env)
            verdict = "ok" if pss < 1536 else "OVER TARGET"
            print(
                f"{mb:5d} MB JSONL ({n} docs): peak PSS {pss:6.0f} MiB (target < 1536: "
                f"{verdict}), peak RSS sum {rss:6.0f} MiB; {secs:6.1f}s wall, "
                f"{mb / secs:5.2f} MB/s, {n / secs:6.0f} docs/s on {args.workers} workers",
                flush=True,
            )
            at = PEAK_ROLES.pop("at", None)
            parts = ", ".join(f"{k} {v:.0f}" for k, v in sorted(PEAK_ROLES.items()))
            print(f"      at the peak ({at}s): {parts} MiB PSS", flush=True)
            os.remove(path)


if __name__ == "__main__":
    main()
