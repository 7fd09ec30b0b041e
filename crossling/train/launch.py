"""Run a training run as a command: one process, or one rank of ``torchrun``.

    python -m crossling.train.launch --plan PLAN.json [--result OUT.json]     # a prepared run
    python -m crossling.train.launch --config CONFIG.json [--result OUT.json] # prepare, then run

``launch_torchrun`` starts ``torchrun --standalone --nproc-per-node N`` on a prepared plan; every
rank trains, rank 0 writes the result JSON. Killing the command at any point loses at most the
steps since the last checkpoint: running it again resumes there.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from typing import Any

from crossling.train.config import TrainConfig
from crossling.train.run import RunPlan, execute, prepare_run


def launch_torchrun(plan: RunPlan, nproc: int, *, timeout: float | None = None) -> dict[str, Any]:
    """Train ``plan`` on ``nproc`` local GPUs under torchrun; returns rank 0's summary."""
    with tempfile.TemporaryDirectory(prefix="crossling-launch-") as tmp:
        plan_path, result_path = os.path.join(tmp, "plan.json"), os.path.join(tmp, "result.json")
        with open(plan_path, "w", encoding="utf-8") as f:
            f.write(plan.to_json())
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={nproc}",
            "-m",
            "crossling.train.launch",
            "--plan",
            plan_path,
            "--result",
            result_path,
        ]
        subprocess.run(cmd, check=True, timeout=timeout)
        with open(result_path, encoding="utf-8") as f:
            return json.load(f)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m crossling.train.launch")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--plan", help="a RunPlan JSON written by prepare_run")
    src.add_argument("--config", help="a TrainConfig JSON: prepared here, then trained")
    p.add_argument("--result", help="write the run summary (rank 0) to this JSON file")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.plan:
        with open(args.plan, encoding="utf-8") as f:
            plan = RunPlan.from_json(f.read())
    else:
        with open(args.config, encoding="utf-8") as f:
            plan = prepare_run(TrainConfig(**json.load(f)))
    result = execute(plan)
    if args.result and int(os.environ.get("RANK", "0")) == 0:
        tmp = f"{args.result}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2, default=str)
        os.replace(tmp, args.result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
