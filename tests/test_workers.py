"""The corpus run's worker pool: work runs in other processes, a dead worker costs only the
call it was running (the task's retry finds a fresh pool); the local executor hands units to its
pools by where they want to run."""

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from crossling import workers
from crossling.run.executors import InlineExecutor, LocalExecutor, Unit


def _exit_now() -> None:
    os._exit(3)  # a worker killed mid-partition (out of memory, say)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_runs_in_worker_processes_and_recovers_from_a_dead_worker(start, monkeypatch):
    monkeypatch.setenv("CROSSLING_WORKER_START", start)
    with workers.WorkerPool(2) as pool:
        pids = {pool.run(os.getpid) for _ in range(4)}
        assert os.getpid() not in pids
        with pytest.raises(BrokenProcessPool):
            pool.run(_exit_now)
        assert pool.run(os.getpid) != os.getpid()  # the retry runs on a fresh pool


def test_the_local_executor_runs_units_where_they_ask_and_gives_pools_back():
    me = os.getpid()
    units = [Unit("process", f"p{i}", os.getpid, (), "measure") for i in range(4)]
    units.append(Unit("stage-reduce", "r", os.getpid, ()))
    with LocalExecutor(
        2,
    ) as ex:
        pids = {u.label: pid for u, pid in ex.map(units)}
        assert sorted(pids) == sorted(u.label for u in units)
        assert pids["r"] == me and all(pids[f"p{i}"] != me for i in range(4))
        measuring = ex._measure
        ex.release("measure")
        assert ex._measure is None
        with pytest.raises(RuntimeError):  # its processes are gone
            measuring.run(os.getpid)
        ((_, light),) = ex.map([Unit("stage-map", "m", os.getpid, (), "light")])
        assert light != me
    with LocalExecutor(1) as one:  # one worker: everything in this process
        assert {pid for _, pid in one.map(units)} == {me}
    assert [pid for _, pid in InlineExecutor().map(units)] == [me] * 5


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
