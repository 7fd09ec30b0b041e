"""The corpus run's worker pool: work runs in other processes, a dead worker costs only the
call it was running (the task's retry finds a fresh pool), and the pool is found by its key."""

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from crossling import workers


def _exit_now() -> None:
    os._exit(3)  # a worker killed mid-partition (out of memory, say)


def test_runs_in_worker_processes_and_recovers_from_a_dead_worker():
    with workers.WorkerPool(2) as pool:
        assert workers.get(pool.key) is pool
        pids = {pool.run(os.getpid) for _ in range(4)}
        assert os.getpid() not in pids
        with pytest.raises(BrokenProcessPool):
            pool.run(_exit_now)
        assert pool.run(os.getpid) != os.getpid()  # the retry runs on a fresh pool
    assert workers.get(pool.key) is None
    assert workers.get(None) is None
