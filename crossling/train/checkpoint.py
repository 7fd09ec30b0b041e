"""Checkpoints: safetensors weights, training state for an exact resume, lineage metadata.

Layout (docs/CONTRACTS.md)::

    <root>/models/<model_name>/<run_version>/checkpoint-<step>/
        model.safetensors, config.json, generation_config.json?   transformers save_pretrained
        tokenizer.json, tokenizer_config.json, sentencepiece.bpe.model
        train_state/optimizer.pt, scheduler.pt, loop.json, rng-<rank>.pt, data-<rank>.json
        metadata.json                                             written last inside the folder
    <root>/models/<model_name>/<run_version>/metadata.json        copy of the latest checkpoint's
    <root>/models/<model_name>/<run_version>/train_ids.parquet     rows training could read

A checkpoint is written as ``.checkpoint-<step>.tmp`` and renamed when complete, so a folder named
``checkpoint-<step>`` is always whole; a kill in between leaves only a dot-folder that the next save
of that step replaces. The optimizer and RNG states are only kept in the newest checkpoints
(``keep_train_state``); older ones stay loadable models.

Training writes to a local directory (``save_pretrained`` and ``os.replace`` need one).
``torch.load`` is only ever called with ``weights_only=True``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from typing import Any

import torch

from crossling.storage import config_hash, is_version

METADATA = "metadata.json"
TRAIN_STATE = "train_state"
TRAIN_IDS = "train_ids.parquet"
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


@cache
def code_version() -> str:
    """``crossling <version>`` plus the git commit of the source tree when there is one."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("crossling")
    except PackageNotFoundError:
        v = "unknown"
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"crossling {v}" + (f" git:{sha}" if sha else "")


def checkpoint_dir(run_dir: str, step: int) -> str:
    return os.path.join(run_dir, f"checkpoint-{step}")


def list_checkpoints(run_dir: str) -> list[tuple[int, str]]:
    """Complete checkpoints of a run (named ``checkpoint-<step>`` with metadata), by step."""
    if not os.path.isdir(run_dir):
        return []
    out = []
    for name in os.listdir(run_dir):
        m = CHECKPOINT_RE.match(name)
        path = os.path.join(run_dir, name)
        if m and os.path.exists(os.path.join(path, METADATA)):
            out.append((int(m.group(1)), path))
    return sorted(out)


def latest_checkpoint(run_dir: str, *, with_train_state: bool = False) -> tuple[int, str] | None:
    """The newest complete checkpoint (optionally: the newest that can be resumed from)."""
    for step, path in reversed(list_checkpoints(run_dir)):
        if not with_train_state or os.path.exists(os.path.join(path, TRAIN_STATE, "loop.json")):
            return step, path
    return None


def find_run(model_dir: str, cfg_hash: str) -> str | None:
    """The newest run version of a model trained with the same resolved config (to resume)."""
    if not os.path.isdir(model_dir):
        return None
    runs = sorted(v for v in os.listdir(model_dir) if is_version(v) and v.endswith(f"-{cfg_hash}"))
    return runs[-1] if runs else None


def read_metadata(path: str) -> dict[str, Any]:
    with open(os.path.join(path, METADATA), encoding="utf-8") as f:
        return json.load(f)


def _write_json(path: str, obj: Any) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    os.replace(tmp, path)


# --- RNG state ----------------------------------------------------------------------------------------


def rng_state() -> dict[str, Any]:
    """Every global generator training may draw from (dropout uses torch's)."""
    import random

    import numpy as np

    np_state = np.random.get_state()
    py = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype("int64")), *np_state[2:]],
        "python": [py[0], list(py[1]), py[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import random

    import numpy as np

    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype("uint32"), *n[2:]))
    random.setstate((state["python"][0], tuple(state["python"][1]), state["python"][2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --- writing -------------------------------------------------------------------------------------------


class Checkpointer:
    """Writes checkpoints of one run; every rank calls :meth:`save`, rank 0 does the renaming.

    Args:
        run_dir: ``<root>/models/<model_name>/<run_version>`` (local).
        save_model: writes weights, config and tokenizer into a folder (rank 0 only), given the
            full model state dict.
        metadata: builds metadata.json for ``(step, tokens_seen, losses)``.
        keep_train_state: newest checkpoints that keep their optimizer/RNG/data state.
    """

    def __init__(
        self,
        run_dir: str,
        save_model: Callable[[str, dict[str, torch.Tensor] | None], None],
        metadata: Callable[[int, int, list[dict[str, Any]]], dict[str, Any]],
        *,
        keep_train_state: int = 2,
        rank: int = 0,
        barrier: Callable[[], None] = lambda: None,
    ) -> None:
        self.run_dir, self.save_model, self.metadata = run_dir, save_model, metadata
        self.keep_train_state, self.rank, self.barrier = keep_train_state, rank, barrier

    def save(
        self,
        step: int,
        *,
        model_state: dict[str, torch.Tensor] | None,
        optimizer_state: dict[str, Any] | None,
        scheduler_state: dict[str, Any],
        data_state: dict[str, Any],
        loop_state: dict[str, Any],
    ) -> str:
        """Write checkpoint ``step``; returns its final path. Collective: every rank calls it."""
        tmp = os.path.join(self.run_dir, f".checkpoint-{step}.tmp")
        final = checkpoint_dir(self.run_dir, step)
        state_dir = os.path.join(tmp, TRAIN_STATE)
        if self.rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)  # a leftover of a kill during this very save
            os.makedirs(state_dir)
        self.barrier()
        # Each rank's own position and generators; rank 0 also the shared state.
        torch.save(rng_state(), os.path.join(state_dir, f"rng-{self.rank}.pt"))
        _write_json(os.path.join(state_dir, f"data-{self.rank}.json"), data_state)
        if self.rank == 0:
            self.save_model(tmp, model_state)
            torch.save(optimizer_state, os.path.join(state_dir, "optimizer.pt"))
            torch.save(scheduler_state, os.path.join(state_dir, "scheduler.pt"))
            _write_json(os.path.join(state_dir, "loop.json"), loop_state)
        self.barrier()
        if self.rank == 0:
            meta = self.metadata(step, loop_state["tokens_seen"], loop_state["losses"])
            _write_json(os.path.join(tmp, METADATA), meta)  # last: the folder is complete
            if os.path.exists(final):  # same step written by an earlier attempt: replace it
                shutil.rmtree(final)
            os.replace(tmp, final)
            _write_json(os.path.join(self.run_dir, METADATA), meta)
            self._prune()
        self.barrier()
        return final

    def _prune(self) -> None:
        """Drop optimizer/RNG/data state from all but the newest ``keep_train_state`` checkpoints."""
        if self.keep_train_state <= 0:
            return
        for _, path in list_checkpoints(self.run_dir)[: -self.keep_train_state]:
            shutil.rmtree(os.path.join(path, TRAIN_STATE), ignore_errors=True)


# --- reading -------------------------------------------------------------------------------------------


def load_train_state(path: str, rank: int = 0) -> dict[str, Any]:
    """The training state of checkpoint ``path`` as seen by ``rank``."""
    d = os.path.join(path, TRAIN_STATE)
    with open(os.path.join(d, "loop.json"), encoding="utf-8") as f:
        loop = json.load(f)
    data_path = os.path.join(d, f"data-{rank}.json")
    if not os.path.exists(data_path):
        raise ValueError(
            f"{path} was written by {loop.get('world_size')} process(es); cannot resume rank {rank} "
            "(resume with the same number of processes)"
        )
    with open(data_path, encoding="utf-8") as f:
        data = json.load(f)
    return {
        "loop": loop,
        "data": data,
        "optimizer": torch.load(os.path.join(d, "optimizer.pt"), weights_only=True),
        "scheduler": torch.load(os.path.join(d, "scheduler.pt"), weights_only=True),
        "rng": torch.load(os.path.join(d, f"rng-{rank}.pt"), weights_only=True),
    }


def run_config_hash(config: dict[str, Any]) -> str:
    """Short hash of a resolved training config: the suffix of its run versions."""
    return config_hash(config)
