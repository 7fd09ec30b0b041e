"""The global stages of a run: each one's map per partition, its reduce once, and the merge of
every stage's decisions (DECISIONS_SCHEMA rows) that the later stages and the write pass read.

The merge is column-generic: after ``id``, ``reason``, ``detail`` and ``duplicate_of`` (the first
drop wins), every other column of DECISIONS_SCHEMA and every column a stage declares in
``decision_columns`` is a value that replaces the row's column of the same name (the last stage
that sets it wins). A stage that adds a column touches nothing here.
"""

from __future__ import annotations

import posixpath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from crossling.run.plan import RunContext, read_table, work_path
from crossling.stages.base import DECISIONS_SCHEMA, GlobalStage
from crossling.storage import read_json, write_json

# Decision columns that are not values: the drop (the first stage that drops a row wins).
_DROP_COLUMNS = ("id", "reason", "detail", "duplicate_of")
# What a row holds for a value column before any global stage sets it (the decide pass gives
# `split`; a document stands for itself alone).
VALUE_DEFAULTS: dict[str, Any] = {"dup_cluster_size": 1}


def value_fields(stages: list[GlobalStage]) -> list[pa.Field]:
    """The value columns of the decisions: DECISIONS_SCHEMA's beyond the drop, then every
    column a stage adds (``decision_columns``), in order, each once."""
    fields = {f.name: f for f in DECISIONS_SCHEMA if f.name not in _DROP_COLUMNS}
    for s in stages:
        for f in s.decision_columns:
            fields.setdefault(f.name, f)
    return list(fields.values())


def merged_decisions(
    ctx: RunContext,
    index: int,
    kind: str,
    upto: int | None,
    stages: list[GlobalStage] | None = None,
) -> pa.Table | None:
    """The decisions of the enabled global stages before ``upto`` (all when None) for one
    partition, one row per id: ``d_stage``, ``d_reason``, ``d_detail``, ``d_duplicate_of`` of
    the first drop, and ``d_<column>`` for each value column, as the last stage to set it left it."""
    every = stages if stages is not None else ctx.stages()
    values = value_fields(every)
    active = [s for s in every[:upto] if s.enabled() and kind in s.kinds]
    merged: dict[str, list[Any]] = {}
    for s in active:
        d = s.decisions(index, kind)
        if d is None:
            continue
        cols = {c: d.column(c).to_pylist() for c in d.column_names}
        none = [None] * d.num_rows
        vals = [cols.get(f.name, none) for f in values]
        for j, i in enumerate(cols["id"]):
            reason = cols["reason"][j]
            cur = merged.get(i)
            if cur is None:
                merged[i] = [
                    s.stage,
                    reason,
                    cols["detail"][j],
                    cols["duplicate_of"][j],
                    *(v[j] for v in vals),
                ]
                continue
            if cur[1] is None and reason is not None:
                cur[0:4] = [s.stage, reason, cols["detail"][j], cols["duplicate_of"][j]]
            for k, v in enumerate(vals):
                if v[j] is not None:
                    cur[4 + k] = v[j]
    if not merged:
        return None
    rows = list(zip(*merged.values(), strict=True))
    out = {
        "id": list(merged),
        "d_stage": [str(x) for x in rows[0]],
        "d_reason": list(rows[1]),
        "d_detail": list(rows[2]),
        "d_duplicate_of": list(rows[3]),
    }
    for k, f in enumerate(values):
        out[f"d_{f.name}"] = pa.array(rows[4 + k], f.type)
    return pa.table(out)


def with_decisions(t: pa.Table, decided: pa.Table | None, values: list[pa.Field]) -> pa.Table:
    """Add the global stages' decision columns (``d_*``) to rows, by id (null where none)."""
    names = [("d_stage", pa.string()), ("d_reason", pa.string()), ("d_detail", pa.string())]
    names += [("d_duplicate_of", pa.string())] + [(f"d_{f.name}", f.type) for f in values]
    if decided is None:
        for n, typ in names:
            t = t.append_column(n, pa.nulls(t.num_rows, typ))
        return t
    pos = pc.index_in(t.column("id"), value_set=decided.column("id"))
    for n, _ in names:
        t = t.append_column(n, pc.take(decided.column(n), pos))
    return t


def apply_values(t: pa.Table, values: list[pa.Field], base: str = "") -> pa.Table:
    """Set each value column from its decision (``d_<name>``) where a stage set one, else from
    the row's own column (``<base><name>`` when the table has it) or the column's default."""
    for f in values:
        d = t.column(f"d_{f.name}")
        own = base + f.name
        if own in t.column_names:
            value = pc.coalesce(d, t.column(own))
        elif f.name in VALUE_DEFAULTS:
            value = pc.coalesce(d, pa.scalar(VALUE_DEFAULTS[f.name], f.type))
        else:
            value = d
        value = value.cast(f.type)
        if f.name in t.column_names:
            t = t.set_column(t.schema.get_field_index(f.name), f.name, value)
        else:
            t = t.append_column(f.name, value)
    return t


def _current_rows(
    ctx: RunContext, tag_dir: str, index: int, kind: str, columns: list[str], upto: int
) -> pa.Table:
    """Rows still kept before global stage ``upto``, with ``columns`` plus ``id`` and every value
    column (``split``, ``dup_cluster_size``, ...) as they stand."""
    fs = ctx.data.fs
    stages = ctx.stages()
    values = value_fields(stages)
    cols = list(dict.fromkeys(["id", *columns]))
    t = read_table(fs, posixpath.join(tag_dir, f"{kind}.parquet"), cols)
    dec = read_table(fs, work_path(ctx, f"decide-{kind}", index), ["reason", "split"])
    t = t.append_column("split", dec.column("split"))
    t = t.filter(pc.is_null(dec.column("reason")))
    t = with_decisions(t, merged_decisions(ctx, index, kind, upto, stages), values)
    t = t.filter(pc.is_null(t.column("d_reason")))
    t = apply_values(t, values)
    first = ["split", "dup_cluster_size"]
    return t.select([*cols, *first, *(f.name for f in values if f.name not in first)])


def stage_map(ctx: RunContext, stage_name: str, tag_dir: str, index: int) -> list[dict[str, Any]]:
    """Run a global stage's map over one partition's kept rows (every kind it handles)."""
    fs = ctx.data.fs
    marker = posixpath.join(ctx.stage_context().stage_dir(stage_name), f"map-{index:05d}.json")
    if fs.exists(marker):
        return read_json(fs, marker)
    stages = ctx.stages()
    k = next(i for i, s in enumerate(stages) if s.name == stage_name)
    stage = stages[k]
    out = []
    for kind in stage.kinds:
        rows = _current_rows(ctx, tag_dir, index, kind, stage.columns.get(kind, []), k)
        # what the reduce gets: the map's result, with where its partition's tags are
        out.append(
            {"part": index, "kind": kind, **stage.map(index, kind, rows), "tag_dir": tag_dir}
        )
    write_json(fs, marker, out)
    return out


def stage_reduce(ctx: RunContext, stage_name: str, maps: list[dict[str, Any]]) -> dict[str, Any]:
    """Run a global stage's reduce once, over every partition's map results."""
    fs = ctx.data.fs
    marker = posixpath.join(ctx.stage_context().stage_dir(stage_name), "reduce.json")
    if fs.exists(marker):
        return read_json(fs, marker)
    result = ctx.stage(stage_name).reduce(maps)
    write_json(fs, marker, result)
    return result


def enabled_stages(ctx: RunContext) -> list[str]:
    return [s.name for s in ctx.stages() if s.enabled()]


def stage_maps(ctx: RunContext, stage_name: str, items: list[tuple[int, str]]) -> list[dict]:
    """A global stage's map over several partitions ``(index, tag_dir)``: maps are cheap, so a
    task takes a share of the partitions rather than one each."""
    return [m for index, tag_dir in items for m in stage_map(ctx, stage_name, tag_dir, index)]
