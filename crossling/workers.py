"""Worker processes for the CPU-heavy pass of a corpus run (measuring partitions).

Plain processes, started once per run and warmed while the run begins (crossling imported, the
language-ID model loaded), so no partition pays for a start. On Linux they are forked from the
run's process, which has imported crossling already (and pandas, which pyarrow imports on its
first conversion): a worker is ready in milliseconds instead of the second a fresh interpreter
takes to import it all. Forking a process that runs threads is safe here because the child only
runs crossling's own code (no orchestration client, no thread of the parent's), and the libraries
it uses (pyarrow, numpy, logging) reinitialise their locks and thread pools after a fork.
``CROSSLING_WORKER_START=spawn`` starts fresh interpreters instead, as on other systems.

The run's local executor (crossling/run/executors.py ``LocalExecutor``) holds its pools and hands
them its units: each partition stays one unit (one task under an orchestrator: visible, retried
and resumed), while the processes carry no orchestration engine, its clients or its log and event
forwarding (less memory per worker, no pauses between partitions). :meth:`WorkerPool.run` starts
a fresh pool when a worker died (killed for memory, say), so a retry has somewhere to run.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

_LOCK = threading.Lock()


def _warm(model_path: str | None, lid: bool = True) -> None:
    """Worker start: import the measuring code and load the language-ID model once."""
    _preload()
    if not lid:
        return
    from crossling.langid import _load_model, default_model_path

    path = model_path or default_model_path()
    if os.path.exists(path):
        _load_model(path)


def _start_method() -> str:
    default = "fork" if sys.platform == "linux" else "spawn"
    method = os.environ.get("CROSSLING_WORKER_START") or default
    if method not in ("fork", "spawn", "forkserver"):
        raise ValueError(f"CROSSLING_WORKER_START={method!r}: expected fork, spawn or forkserver")
    return method


def _preload() -> None:
    """What every worker needs, imported here once so forked workers start with it."""
    import pandas  # noqa: F401  (pyarrow imports it on its first conversion from Python objects)

    import crossling.run.schedule  # noqa: F401
    from crossling.clean import character_flags
    from crossling.dedup.minhash import char_classes

    character_flags()  # the per-code-point tables, from the disk cache (cached per process)
    char_classes()


def _ready() -> int:
    return os.getpid()


class WorkerPool:
    """``workers`` processes, forked (Linux) or spawned (see the module's docstring)."""

    def __init__(self, workers: int, model_path: str | None = None, *, lid: bool = True):
        self.workers = max(1, workers)
        self.model_path = model_path
        self.lid = lid  # load the language-ID model at start (the measuring pool does)
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        method = _start_method()
        if method == "fork":
            _preload()
        ex = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_warm,
            initargs=(self.model_path, self.lid),
        )
        # Start every process now, while the run plans (with fork, the first submit forks them
        # all). Frozen, this process's objects are never visited by the children's garbage
        # collector, so the pages holding them stay shared instead of being copied into each child.
        if method == "fork":
            gc.freeze()
        try:
            for _ in range(self.workers):
                ex.submit(_ready)
        finally:
            if method == "fork":
                gc.unfreeze()
        return ex

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker process; blocks until it returns (or raises)."""
        ex = self._executor
        try:
            return ex.submit(fn, *args).result()
        except BrokenProcessPool:
            with _LOCK:  # one fresh pool for every task that saw this one break
                if self._executor is ex:
                    self._executor = self._start()
            raise

    def close(self, wait: bool = True) -> None:
        """Stop the processes (and give their memory back); idempotent. ``wait=False`` returns at
        once, the processes exiting on their own."""
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
