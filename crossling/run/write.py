"""The write pass: every decision applied, DOCS / PAIRS / REJECTS shards written per share of
the partitions through the one writer (crossling.corpus.VersionWriter), counted as written."""

from __future__ import annotations

import posixpath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossling.corpus import VersionWriter
from crossling.documents import DOCS_SCHEMA, PAIRS_SCHEMA, REJECTS_SCHEMA, TEXT_PREFIX_CHARS
from crossling.run.plan import RunContext, read_table, work_path
from crossling.run.reduce import apply_values, merged_decisions, value_fields, with_decisions
from crossling.run.registry import STEPS
from crossling.storage import read_json, write_json


def write_partition(ctx: RunContext, tag_dir: str, index: int) -> dict[str, Any]:
    """Write one partition's rows into the version (see :func:`write_partitions`)."""
    return write_partitions(ctx, [(index, tag_dir)])


def write_partitions(ctx: RunContext, items: list[tuple[int, str]]) -> dict[str, Any]:
    """Write a share of the partitions (``(index, tag_dir)`` pairs) into the version through one
    part writer, with every decision applied: one file per language and split for the whole
    share, not one per partition (fewer, larger files; each costs a writer and a footer).

    The share is the unit of resume: its marker records its partitions, and a share that does
    not find its own marker first deletes whatever earlier attempts wrote for any of its
    partitions (files are named by a share's first partition; the commit also removes any file
    no share reported). Returns what the writer counted.
    """
    fs = ctx.data.fs
    indices = sorted(i for i, _ in items)
    marker = work_path(ctx, "write", indices[0], "json")
    if fs.exists(marker):
        done = read_json(fs, marker)
        if done.get("partitions", [indices[0]]) == indices:
            return done
    writer = VersionWriter(ctx.root, ctx.name, ctx.version)
    writer.remove_parts(indices)  # what an interrupted attempt left
    stages = ctx.stages()
    signal_columns = {f.name for step in STEPS for f in step.signals}
    part = writer.part(indices[0])
    with part:
        for index, tag_dir in sorted(items):
            _write_one(ctx, part, stages, signal_columns, tag_dir, index)
        result = part.close()
    result["partitions"] = indices
    write_json(fs, marker, result)
    return result


def _write_one(
    ctx: RunContext, part: Any, stages: list, signal_columns: set[str], tag_dir: str, index: int
) -> None:
    fs = ctx.data.fs
    part.rejects(read_table(fs, posixpath.join(tag_dir, "rejects.parquet")))
    values = value_fields(stages)
    for kind in ("docs", "pairs"):
        decided = merged_decisions(ctx, index, kind, None, stages)
        dec = read_table(fs, work_path(ctx, f"decide-{kind}", index))
        kept_keys: list[pa.Table] = []
        offset = 0
        with fs.open(posixpath.join(tag_dir, f"{kind}.parquet"), "rb") as f:
            pf = pq.ParquetFile(f)
            # the record's own columns: the steps' signals (MinHash signatures among them) are
            # for deciding, not for the shards
            columns = [c for c in pf.schema_arrow.names if c not in signal_columns]
            for batch in pf.iter_batches(batch_size=4096, columns=columns):
                t = pa.Table.from_batches([batch])
                d = dec.slice(offset, t.num_rows)
                offset += t.num_rows
                for c in ("stage", "reason", "detail", "split"):
                    t = t.append_column(f"x_{c}", d.column(c))
                t = with_decisions(t, decided, values)
                kept, rejected = _split_rows(t, kind, values)
                if rejected.num_rows:
                    part.rejects(rejected)
                if kept.num_rows:
                    kept_keys.append(kept.select(["id", "content_hash"]))
                    if kind == "docs":
                        part.docs(kept.select(DOCS_SCHEMA.names))
                    else:
                        part.pairs(_pairs_rows(kept))
        keys = (
            pa.concat_tables(kept_keys)
            if kept_keys
            else pa.table(
                {"id": pa.array([], pa.string()), "content_hash": pa.array([], pa.string())}
            )
        )
        for s in stages:
            if kind in s.kinds:
                s.index(index, kind, keys)


def _split_rows(t: pa.Table, kind: str, values: list[pa.Field]) -> tuple[pa.Table, pa.Table]:
    """Kept rows (with every value column set: split, dup_cluster_size, ...) and REJECTS rows of
    a decided batch."""
    dropped_early = pc.is_valid(t.column("x_reason"))
    dropped_late = pc.is_valid(t.column("d_reason"))
    dropped = pc.or_(dropped_early, dropped_late)
    kept = apply_values(t.filter(pc.invert(dropped)), values, base="x_")
    r = t.filter(dropped)
    early = pc.is_valid(r.column("x_reason"))
    if kind == "docs":
        prefix = pc.utf8_slice_codeunits(r.column("text"), 0, TEXT_PREFIX_CHARS)
        lang = r.column("lang")
    else:
        prefix = pc.utf8_slice_codeunits(
            pc.binary_join_element_wise(r.column("src_text"), r.column("tgt_text"), " ||| "),
            0,
            TEXT_PREFIX_CHARS,
        )
        lang = r.column("src_lang")
    rejects = pa.table(
        {
            "id": r.column("id"),
            "source": r.column("source"),
            "url": r.column("url"),
            "stage": pc.if_else(early, r.column("x_stage"), r.column("d_stage")),
            "reason": pc.if_else(early, r.column("x_reason"), r.column("d_reason")),
            "detail": pc.if_else(early, r.column("x_detail"), r.column("d_detail")),
            "duplicate_of": pc.if_else(
                early, pa.scalar(None, pa.string()), r.column("d_duplicate_of")
            ),
            "text_prefix": prefix,
            "lang": lang,
        },
        schema=REJECTS_SCHEMA,
    )
    return kept, rejects


def _pairs_rows(kept: pa.Table) -> pa.Table:
    return kept.select(PAIRS_SCHEMA.names).cast(PAIRS_SCHEMA)
