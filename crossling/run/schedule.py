"""The order of a corpus run's passes, written once: plan → tag+decide → global stages → write →
commit, on any executor (crossling/run/executors.py).

    process  ×P    per partition: tag (unless an earlier run measured it), decide, and the first
                   global stage's map; partitions measured before go in shares (light work)
    stage    ×S    per enabled global stage after the first: its map over shares of the
                   partitions; then, for every stage, its reduce once, here
    write    ×W    per share of the partitions (one per worker): decisions applied, shards written
    commit   ×1    dataset card and manifest, last

The largest partitions are measured first, so no worker is left with a big one at the end.
Every decision depends on partition order and row order only, never on which unit finished first,
and every unit leaves a marker, so a rerun resumes and ends with exactly the rows of an
uninterrupted run, whatever the executor.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossling.run.commit import commit
from crossling.run.decide import decide_partition
from crossling.run.executors import Executor, InlineExecutor, Unit
from crossling.run.plan import CorpusPlan, RunContext
from crossling.run.reduce import enabled_stages, stage_map, stage_maps, stage_reduce
from crossling.run.tag import tag_partition
from crossling.run.write import write_partitions


@dataclass(frozen=True)
class Progress:
    """What :func:`run` reports as units finish."""

    unit: Unit
    result: Any
    done: int  # units of progress finished so far
    total: int  # units of progress in the whole run


OnProgress = Callable[[Progress], None]


def process_partition(ctx: RunContext, tag_dir: str, part: dict[str, Any]) -> dict[str, Any]:
    """One partition's per-document work in one go: tag (unless an earlier run measured it),
    decide, and the first global stage's map (which needs nothing else)."""
    index = part["index"]
    tagged = tag_partition(ctx.root, tag_dir, part, ctx.config)
    decided = decide_partition(ctx, tag_dir, index)
    stages = enabled_stages(ctx)
    maps = stage_map(ctx, stages[0], tag_dir, index) if stages else []
    return {"partition": index, "tag": tagged, "decide": decided, "maps": maps}


def process_partitions(
    ctx: RunContext, items: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """:func:`process_partition` over a share of ``(tag_dir, partition)`` items."""
    return [process_partition(ctx, tag_dir, part) for tag_dir, part in items]


def shares(items: list, workers: int) -> list[list]:
    """``items`` dealt into one share per worker (round robin: sizes in the order given balance)."""
    k = max(1, workers)
    return [items[j::k] for j in range(k) if items[j::k]]


def share_label(indices: list[int]) -> str:
    return f"{len(indices)}-partitions-from-{min(indices)}"


def total_units(plan: CorpusPlan) -> int:
    """Units of progress of a run: per partition its processing, each stage's map and its write;
    each stage's reduce; the commit."""
    n, s = len(plan.partitions), len(enabled_stages(plan.ctx))
    return n * (2 + s) + s + 1


def run(
    plan: CorpusPlan, executor: Executor | None = None, on_progress: OnProgress | None = None
) -> dict[str, Any]:
    """Build the version ``plan`` names (resuming what an earlier attempt finished); returns its
    manifest. ``executor`` defaults to :class:`InlineExecutor`."""
    executor = executor or InlineExecutor()
    ctx, tag_dir = plan.ctx, plan.tag_dirs
    indices = [p.index for p in plan.partitions]
    total, done = total_units(plan), 0
    timings: dict[str, float] = {}

    def finished(unit: Unit, result: Any, weight: int) -> None:
        nonlocal done
        done += weight
        if on_progress is not None:
            on_progress(Progress(unit, result, done, total))

    # tag + decide + the first stage's map
    t0 = time.perf_counter()
    pending = {p.index for p in plan.pending}
    order = sorted(plan.partitions, key=lambda p: (-p.weight, p.index))
    units = [
        Unit(
            "process",
            f"process-{p.label}",
            process_partition,
            (ctx, tag_dir[p.index], p.to_dict()),
            "measure",
        )
        for p in order
        if p.index in pending
    ]
    reused = [p for p in order if p.index not in pending]
    units += [
        Unit(
            "process",
            f"process-{share_label([p.index for p in share])}",
            process_partitions,
            (ctx, [(tag_dir[p.index], p.to_dict()) for p in share]),
            "light",
            weight=len(share),
        )
        for share in shares(reused, executor.workers)
    ]
    processed: list[dict[str, Any]] = []
    for unit, result in executor.map(units):
        for r in result if isinstance(result, list) else [result]:
            processed.append(r)
            finished(unit, r, 1)
    executor.release("measure")  # measuring is over: its processes' memory goes back now
    processed.sort(key=lambda r: r["partition"])
    timings["tag+decide"] = time.perf_counter() - t0

    # global stages, in order: maps (the first stage's came with the processing), one reduce
    stage_results: dict[str, Any] = {}
    for k, stage in enumerate(enabled_stages(ctx)):
        t1 = time.perf_counter()
        if k == 0:
            maps = [m for r in processed for m in r["maps"]]
        else:
            units = [
                Unit(
                    "stage-map",
                    f"{stage}-map-{chunk[0]}",
                    stage_maps,
                    (ctx, stage, [(i, tag_dir[i]) for i in chunk]),
                    "light",
                )
                for chunk in shares(indices, executor.workers)
            ]
            by_label = dict((u.label, r) for u, r in executor.map(units))
            maps = [m for u in units for m in by_label[u.label]]
        finished(Unit("stage-map", f"{stage}-maps", stage_maps, ()), None, len(indices))
        reduce = Unit("stage-reduce", f"{stage}-reduce", stage_reduce, (ctx, stage, maps))
        ((_, stage_results[stage]),) = executor.map([reduce])
        finished(reduce, stage_results[stage], 1)
        timings[f"stage-{stage}"] = time.perf_counter() - t1
    executor.release("light")

    # write, per share of the partitions
    t1 = time.perf_counter()
    units = [
        Unit(
            "write",
            f"write-{share_label(share)}",
            write_partitions,
            (ctx, [(i, tag_dir[i]) for i in share]),
            weight=len(share),
        )
        for share in shares(indices, executor.workers)
    ]
    written_by = {}
    for unit, result in executor.map(units):
        written_by[unit.label] = result
        finished(unit, result, unit.weight)
    written = [written_by[u.label] for u in units]
    timings["write"] = time.perf_counter() - t1

    tags = [r["tag"] for r in processed]
    decided = [r["decide"] for r in processed]
    unit = Unit("commit", "commit", commit, (plan, tags, decided, stage_results, written, timings))
    ((_, manifest),) = executor.map([unit])
    finished(unit, manifest, 1)
    return manifest


def run_local(
    sources: list[str],
    root: str,
    name: str,
    config: Any = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Plan and run in this process (inline, or on ``executor``), without orchestration; a
    finished version for these inputs and config is returned as it is. Returns the manifest."""
    from crossling.run.config import CorpusConfig
    from crossling.run.plan import plan_run
    from crossling.storage import DataRoot

    plan = plan_run(sources, root, name, config or CorpusConfig())
    if plan.complete:
        return DataRoot(root).read_manifest(name, plan.version)
    return run(plan, executor)
