"""The corpus run's worker pool: work runs in other processes, a dead worker costs only the
call it was running (the task's retry finds a fresh pool), and the pool is found by its key."""

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from crossling import workers


def _exit_now() -> None:
    os._exit(3)  # a worker killed mid-partition (out of memory, say)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_runs_in_worker_processes_and_recovers_from_a_dead_worker(start, monkeypatch):
    monkeypatch.setenv("CROSSLING_WORKER_START", start)
    with workers.WorkerPool(2) as pool:
        assert workers.get(pool.key) is pool
        pids = {pool.run(os.getpid) for _ in range(4)}
        assert os.getpid() not in pids
        with pytest.raises(BrokenProcessPool):
            pool.run(_exit_now)
        assert pool.run(os.getpid) != os.getpid()  # the retry runs on a fresh pool
    assert workers.get(pool.key) is None
    assert workers.get(None) is None


def test_a_worker_measures_like_this_process(tmp_path):
    # A forked worker starts with the parent's imports and tables; what it measures is what
    # this process measures.
    from crossling.clean import quality_signals_batch
    from tests.texts import PARAGRAPHS

    texts = list(PARAGRAPHS.values())
    with workers.WorkerPool(1) as pool:
        assert pool.run(quality_signals_batch, texts) == quality_signals_batch(texts)


def test_an_unknown_start_method_is_named(monkeypatch):
    monkeypatch.setenv("CROSSLING_WORKER_START", "vfork")
    with pytest.raises(ValueError, match="CROSSLING_WORKER_START='vfork'"):
        workers.WorkerPool(1)
