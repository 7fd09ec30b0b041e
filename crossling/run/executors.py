"""Where the units of a corpus run execute: one interface, three implementations.

The schedule (crossling/run/schedule.py) hands an executor lists of :class:`Unit` (a plain
function and picklable arguments: paths and configs, never rows) and reads their results as they
complete. A unit says where it wants to run:

- ``measure``: a process with the language-ID model loaded (the tag pass);
- ``light``: any worker process (decide of reused tags, global-stage maps);
- ``here``: this process (reduces, writes: pyarrow encodes and compresses without the GIL, and a
  writer in a worker process costs its working set again; the commit).

:class:`InlineExecutor` runs every unit in this process, one after another (tests, library use,
``--workers 1``). :class:`LocalExecutor` runs ``measure`` and ``light`` units in plain worker
processes (crossling/workers.py: forked, so ready in milliseconds; the measuring pool stops as
soon as measuring ends, so its memory is back before the global stages) and ``here`` units in
threads. :class:`DaskExecutor` runs ``measure`` and ``light`` units on a Dask cluster. An
orchestrator wraps any of them to give each unit a task of its own (flows/corpus.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

Where = Literal["measure", "light", "here"]


@dataclass(frozen=True)
class Unit:
    """One unit of work of a run."""

    name: str  # what kind of unit: process, stage-map, stage-reduce, write, commit
    label: (
        str  # this unit among its kind, e.g. "process-3", "near-map-0", "write-2-partitions-from-0"
    )
    fn: Callable[..., Any]  # a module-level function (picklable by reference)
    args: tuple[Any, ...]  # picklable arguments
    where: Where = "here"
    weight: int = 1  # units of progress this one stands for

    def __call__(self) -> Any:
        return self.fn(*self.args)


class Executor:
    """Runs units; :meth:`map` yields ``(unit, result)`` pairs as units complete."""

    workers: int = 1

    def map(self, units: list[Unit]) -> Iterator[tuple[Unit, Any]]:
        raise NotImplementedError

    def release(self, where: Where) -> None:
        """No more units of this kind will come: give back what runs them (memory, processes)."""

    def close(self) -> None:
        """Give back everything."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineExecutor(Executor):
    """Every unit in this process, in the order given."""

    def __init__(self) -> None:
        self.workers = 1

    def map(self, units: list[Unit]) -> Iterator[tuple[Unit, Any]]:
        for u in units:
            yield u, u()


def _as_completed(futures: dict[Future, Unit]) -> Iterator[tuple[Unit, Any]]:
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield futures[f], f.result()
    finally:
        for f in pending:
            f.cancel()


class LocalExecutor(Executor):
    """Worker processes on this machine: a measuring pool (language-ID model loaded), started
    when the first ``measure`` unit comes and stopped by ``release("measure")``; a light pool for
    ``light`` units once measuring is over; ``here`` units in threads of this process. One unit
    per worker runs at a time."""

    def __init__(self, workers: int, model_path: str | None = None):
        self.workers = max(1, workers)
        self.model_path = model_path
        self._measure: Any = None
        self._light: Any = None
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=self.workers)

    def _pool(self, where: Where) -> Any:
        from crossling.workers import WorkerPool

        if self.workers == 1:
            return None  # nothing to hand work to: every unit in the caller's thread
        with self._lock:
            if where == "measure" or (where == "light" and self._measure is not None):
                if self._measure is None:
                    self._measure = WorkerPool(self.workers, self.model_path)
                return self._measure
            if where == "light":
                if self._light is None:
                    self._light = WorkerPool(self.workers, lid=False)
                return self._light
            return None

    def prepare(self, units: list[Unit]) -> None:
        """Start the pools these units need now (a forked pool is ready in milliseconds; a
        spawned one warms up while the units are handed out)."""
        for u in units:
            self._pool(u.where)

    def run(self, unit: Unit) -> Any:
        """One unit, where it wants to run (blocks until it returns)."""
        pool = self._pool(unit.where)
        return pool.run(unit.fn, *unit.args) if pool is not None else unit()

    def map(self, units: list[Unit]) -> Iterator[tuple[Unit, Any]]:
        if self.workers == 1:  # no process to hand work to: every unit here, in order
            for u in units:
                yield u, u()
            return
        self.prepare(units)
        yield from _as_completed({self._threads.submit(self.run, u): u for u in units})

    def release(self, where: Where) -> None:
        with self._lock:
            if where == "measure" and self._measure is not None:
                self._measure.close()
                self._measure = None
            elif where == "light" and self._light is not None:
                self._light.close(wait=False)
                self._light = None

    def close(self) -> None:
        self.release("measure")
        self.release("light")
        self._threads.shutdown(wait=True)


class DaskExecutor(Executor):
    """``measure`` and ``light`` units on a Dask cluster (``address`` ``tcp://host:8786``, or
    ``local`` for a LocalCluster of ``workers`` processes); ``here`` units in this process."""

    def __init__(self, address: str, workers: int = 2):
        from dask.distributed import Client, LocalCluster

        self.workers = max(1, workers)
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)

    def map(self, units: list[Unit]) -> Iterator[tuple[Unit, Any]]:
        from dask.distributed import as_completed

        here = [u for u in units if u.where == "here"]
        remote = {
            self._client.submit(u.fn, *u.args, pure=False, key=f"{u.label}-{id(u)}"): u
            for u in units
            if u.where != "here"
        }
        for u in here:
            yield u, u()
        for f in as_completed(list(remote)):
            yield remote[f], f.result()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
