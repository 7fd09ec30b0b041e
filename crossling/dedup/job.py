"""The standalone ``crossling dedup`` job: near-duplicate (and line) removal over files.

Input: JSONL (``id``, ``text`` and any other fields) or Parquet (a ``text`` column), cut into
partitions (byte ranges, row groups). Output, under ``OUT``::

    OUT/kept/part-<NNNNN>.parquet      id, the input's other columns, dup_cluster_size
    OUT/rejects/part-<NNNNN>.parquet   id, duplicate_of, reason, detail
    OUT/dedup.json                     counts, settings, timings (written last)

Every record ends in exactly one of ``kept`` or ``rejects``. A record without a usable id gets
``<file>:<byte offset>`` (JSONL) or ``<file>:<row>`` (Parquet). The steps below take and return
JSON-able values (paths, dicts), so that any executor of crossling/run/executors.py (inline,
local worker processes, Dask) runs them; :func:`run` writes their order once.

    [line counts  ->  frequent lines]          only with lines.enabled
    map (signatures -> band file) per partition
    reduce: candidate pairs per band group -> [shingle sets per partition] -> clusters
    filter per partition -> kept, rejects
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import shutil
import time
from collections import Counter
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem
from pydantic import BaseModel, ConfigDict, Field

from crossling.dedup import lines as linededup
from crossling.dedup import minhash
from crossling.run.executors import Executor, InlineExecutor, Unit
from crossling.shards import write_shard
from crossling.sources.files import Partition, plan_partitions

# the one JSONL line reader of crossling/sources/ (byte ranges, gzip, over-long lines skipped)
from crossling.sources.files import _iter_lines as iter_lines
from crossling.storage import write_json

READ_ERROR = "read_error"  # the record could not be read (invalid JSON, no text, not UTF-8)
TOO_LONG = "too_long"  # a record larger than max_doc_bytes
SUMMARY = "dedup.json"
KINDS = {"jsonl", "jsonl_gz", "parallel", "parquet"}


class DedupInputError(ValueError):
    """An input the job cannot read at all (wrong type, a Parquet file without ``text``)."""


class DedupJobConfig(BaseModel):
    """Settings of a ``crossling dedup`` run."""

    model_config = ConfigDict(extra="forbid")

    near: minhash.NearDedupConfig = Field(
        default_factory=minhash.NearDedupConfig, description="MinHash near-duplicate removal."
    )
    lines: linededup.LineDedupConfig = Field(
        default_factory=linededup.LineDedupConfig,
        description="Line/paragraph dedup, applied before near-dedup when enabled.",
    )
    partition_bytes: int = Field(
        64 << 20, ge=1 << 10, description="Inputs are cut into partitions of about this size."
    )
    max_doc_bytes: int = Field(
        8 << 20, ge=1, description="A record larger than this is rejected (too_long)."
    )
    keep_work: bool = Field(
        False, description="Keep OUT/.work (band files, pairs, decisions) for inspection."
    )


# The columns of OUT/rejects: a subset of the one REJECTS schema (crossling/documents.py).
REJECT_COLUMNS = minhash.REJECT_COLUMNS


# --- planning -------------------------------------------------------------------------------------


def plan(inputs: list[str], out: str, config: DedupJobConfig) -> dict[str, Any]:
    """Partitions of the inputs (in a fixed order) and the paths of the run.

    Raises:
        DedupInputError: an input of another type, or a Parquet file without a ``text`` column.
        crossling.sources.files.InputNotFound: an input that does not exist.
    """
    parts, errors = plan_partitions(inputs, partition_bytes=config.partition_bytes)
    for p in parts:
        if p.kind not in KINDS:
            what = p.files[0] if p.files else p.uri
            raise DedupInputError(f"{what}: expected JSONL (.jsonl, .jsonl.gz) or Parquet")
    bad = {e.input for e in errors}
    for p in parts:
        if p.kind == "parquet" and p.uri not in bad:
            names = pq.ParquetFile(p.uri).schema_arrow.names
            if "text" not in names:
                raise DedupInputError(f"{p.uri}: no `text` column (found {names[:20]})")
    parts = [p for p in parts if not (p.kind == "parquet" and p.uri in bad)]
    out = os.path.abspath(out)
    work = os.path.join(out, ".work")
    return {
        "out": out,
        "work": work,
        "partitions": [
            Partition(index=i, **_part_fields(p)).to_dict() for i, p in enumerate(parts)
        ],
        "errors": [{"input": e.input, "error": e.error} for e in errors],
        "config": config.model_dump(mode="json"),
    }


def _part_fields(p: Partition) -> dict[str, Any]:
    d = p.to_dict()
    d.pop("index")
    return d


def prepare(job: dict[str, Any]) -> None:
    """Clear the outputs of an earlier run into the same folder (only files this job writes)."""
    for sub in ("kept", "rejects"):
        d = os.path.join(job["out"], sub)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if re.fullmatch(r"part-\d{5}\.parquet", f):
                    os.remove(os.path.join(d, f))
    shutil.rmtree(job["work"], ignore_errors=True)
    summary = os.path.join(job["out"], SUMMARY)
    if os.path.exists(summary):
        os.remove(summary)
    os.makedirs(job["work"], exist_ok=True)


def _config(job: dict[str, Any]) -> DedupJobConfig:
    return DedupJobConfig.model_validate(job["config"])


def _path(job: dict[str, Any], kind: str, index: int | str) -> str:
    name = f"part-{index:05d}.parquet" if isinstance(index, int) else f"{index}.parquet"
    return os.path.join(job["work"], kind, name)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (VmHWM: ru_maxrss would also count
    what a forked parent had)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# --- reading --------------------------------------------------------------------------------------

_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: Any) -> Any:
    """Lone surrogates (valid JSON, not valid UTF-8) become U+FFFD, everywhere in a value."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _loads(line: bytes) -> Any:
    """orjson (fast); the standard library where orjson refuses what JSON allows (lone
    surrogates such as "\\ud800", common in dumps of JavaScript strings)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


class _Rows:
    """Columns gathered record by record, in order of first appearance."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.cols: dict[str, list[Any]] = {}
        self.n = 0
        self.rejects: list[dict[str, Any]] = []

    def add(self, rid: str, record: dict[str, Any]) -> None:
        for k, v in record.items():
            if k == "id":
                continue
            col = self.cols.get(k)
            if col is None:
                col = self.cols[k] = [None] * self.n
            col.append(v)
        self.n += 1
        for col in self.cols.values():
            if len(col) < self.n:
                col.append(None)
        self.ids.append(rid)

    def reject(self, rid: str, reason: str, detail: str) -> None:
        self.rejects.append(
            {"id": rid, "duplicate_of": None, "reason": reason, "detail": detail[:1000]}
        )

    def tables(self) -> tuple[pa.Table, pa.Table]:
        cols: dict[str, pa.Array] = {"id": pa.array(self.ids, pa.string())}
        for k, values in self.cols.items():
            cols[k] = _column(values) if k != "text" else pa.array(values, pa.string())
        rejects = pa.Table.from_pylist(self.rejects, schema=REJECT_COLUMNS)
        return pa.table(cols), rejects


def _column(values: list[Any]) -> pa.Array:
    """An Arrow column from JSON values; values of mixed types become their JSON text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_json_text(v) for v in values], pa.string())


def _json_text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def _id_text(v: Any) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else _json_text(v)


def read_partition(part: dict[str, Any], max_doc_bytes: int = 8 << 20) -> tuple[pa.Table, pa.Table]:
    """One partition as ``(rows, rejects)``: rows have ``id``, ``text`` and the other columns."""
    if part["kind"] == "parquet":
        return _read_parquet(part)
    name = os.path.basename(part["uri"])
    rows = _Rows()
    for offset, line in iter_lines(Partition.from_dict(part), max_doc_bytes):
        key = f"{name}:{offset}"
        where = f"{part['uri']} at byte {offset}"
        if line is None:
            rows.reject(key, TOO_LONG, f"{where}: a record longer than {max_doc_bytes} bytes")
            continue
        if not line.strip():
            continue
        try:
            obj = _loads(line)
        except UnicodeDecodeError:
            rows.reject(key, READ_ERROR, f"{where}: not UTF-8")
            continue
        except ValueError as e:
            rows.reject(key, READ_ERROR, f"{where}: invalid JSON ({e})")
            continue
        if not isinstance(obj, dict):
            rows.reject(key, READ_ERROR, f"{where}: a JSON {type(obj).__name__}, not an object")
            continue
        if _SURROGATE_ESCAPE.search(line):
            obj = _clean(obj)
        rid = _id_text(obj.get("id")) or key
        if not isinstance(obj.get("text"), str):
            rows.reject(rid, READ_ERROR, f"{where}: no string field `text`")
            continue
        rows.add(rid, obj)
    return rows.tables()


def _read_parquet(part: dict[str, Any]) -> tuple[pa.Table, pa.Table]:
    name = os.path.basename(part["uri"])
    pf = pq.ParquetFile(part["uri"])
    first = sum(pf.metadata.row_group(i).num_rows for i in range(part["start"]))
    groups = list(range(part["start"], part["end"]))
    table = pf.read_row_groups(groups) if groups else pf.schema_arrow.empty_table()
    keys = [f"{name}:{first + i}" for i in range(table.num_rows)]
    if "id" in table.column_names:
        given = table.column("id").to_pylist()
        ids = [_id_text(g) or k for g, k in zip(given, keys, strict=True)]
        table = table.drop_columns(["id"])
    else:
        ids = keys
    text = table.column("text")
    if not pa.types.is_string(text.type):
        try:
            text = text.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise DedupInputError(
                f"{part['uri']}: column `text` is {text.type}, not text ({e})"
            ) from None
        table = table.set_column(table.column_names.index("text"), "text", text)
    valid = text.is_valid().to_numpy(zero_copy_only=False) if table.num_rows else np.zeros(0, bool)
    rejects = [
        {
            "id": ids[i],
            "duplicate_of": None,
            "reason": READ_ERROR,
            "detail": f"{part['uri']} row {first + i}: text is null",
        }
        for i in np.flatnonzero(~valid)
    ]
    table = table.filter(pa.array(valid))
    kept_ids = [i for i, v in zip(ids, valid, strict=True) if v]
    table = pa.table(
        {
            "id": pa.array(kept_ids, pa.string()),
            **dict(zip(table.column_names, table.columns, strict=True)),
        }
    )
    return table, pa.Table.from_pylist(rejects, schema=REJECT_COLUMNS)


# --- schemas of the kept files --------------------------------------------------------------------


def schema_to_text(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def schema_from_text(text: str) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def unify_schemas(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema for every kept file: types promoted where Arrow can, else JSON text."""
    fields: dict[str, list[pa.DataType]] = {}
    for s in schemas:
        for f in s:
            fields.setdefault(f.name, []).append(f.type)
    out = []
    for name, types in fields.items():
        if name in ("id", "text"):
            out.append(pa.field(name, pa.string()))
            continue
        try:
            t = (
                pa.unify_schemas(
                    [pa.schema([(name, t)]) for t in types], promote_options="permissive"
                )
                .field(name)
                .type
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            t = pa.string()
        out.append(pa.field(name, pa.string() if pa.types.is_null(t) else t))
    out = [f for f in out if f.name != "dup_cluster_size"]
    return pa.schema([*out, pa.field("dup_cluster_size", pa.int32(), nullable=False)])


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns: missing ones null, others cast or as JSON."""
    cols = []
    for f in schema:
        if f.name not in table.column_names:
            cols.append(pa.nulls(table.num_rows, f.type))
            continue
        col = table.column(f.name)
        if col.type == f.type:
            cols.append(col)
            continue
        try:
            cols.append(col.cast(f.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            cols.append(pa.array([_json_text(v) for v in col.to_pylist()], pa.string()))
    return pa.Table.from_arrays(cols, schema=schema)


# --- the steps ------------------------------------------------------------------------------------


def _texts(
    job: dict[str, Any], rows: pa.Table, frequent: np.ndarray | None
) -> tuple[list, Counter]:
    texts = rows.column("text").to_pylist()
    if frequent is None:
        return texts, Counter()
    stripped, _, counts = linededup.strip_units(texts, frequent, _config(job).lines)
    return stripped, counts


def _frequent(job: dict[str, Any]) -> np.ndarray | None:
    if not _config(job).lines.enabled:
        return None
    d = os.path.join(job["work"], "lines")
    files = sorted(f for f in os.listdir(d) if f.startswith("frequent-"))
    parts = [linededup.read_frequent(os.path.join(d, f)) for f in files]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)


def map_lines(job: dict[str, Any], index: int) -> dict[str, Any]:
    """Line dedup, map: count each unit's documents in one partition."""
    t0 = time.perf_counter()
    cfg = _config(job)
    rows, _ = read_partition(job["partitions"][index], cfg.max_doc_bytes)
    table = linededup.count_table(rows.column("text").to_pylist(), cfg.lines)
    linededup.write_counts(table, _path(job, "lines", index))
    return {
        "units": table.num_rows,
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
    }


def reduce_lines(job: dict[str, Any], shard: int) -> dict[str, Any]:
    """Line dedup, reduce: the units of one hash range seen in more than ``min_count`` documents."""
    t0 = time.perf_counter()
    cfg = _config(job)
    files = [_path(job, "lines", i) for i in range(len(job["partitions"]))]
    table = linededup.frequent_hashes(files, cfg.lines, shard, cfg.lines.hash_shards)
    linededup.write_frequent([table], _path(job, "lines", f"frequent-{shard:05d}"))
    return {
        "frequent": table.num_rows,
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
    }


def map_partition(job: dict[str, Any], index: int) -> dict[str, Any]:
    """Near dedup, map: signatures and band keys of one partition's documents."""
    t0 = time.perf_counter()
    cfg = _config(job)
    rows, rejects = read_partition(job["partitions"][index], cfg.max_doc_bytes)
    texts, _ = _texts(job, rows, _frequent(job))
    sigs = minhash.signatures(texts, cfg.near)
    table = minhash.band_table(rows.column("id"), sigs, cfg.near)
    minhash.write_band_file(table, _path(job, "bands", index))
    return {
        "records": rows.num_rows + rejects.num_rows,
        "hashed": len(texts),
        "banded": table.num_rows,
        "schema": schema_to_text(rows.schema),
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
    }


def plan_reduce(job: dict[str, Any], index_files: list[tuple[str, str]] = ()) -> dict[str, Any]:
    """The global numbering (earlier versions' indexes first, then the band files)."""
    files = [_path(job, "bands", i) for i in range(len(job["partitions"]))]
    return minhash.plan_reduce(files, _config(job).near, list(index_files)).to_dict()


def reduce_band_group(job: dict[str, Any], plan_d: dict[str, Any], group: int) -> dict[str, Any]:
    """Near dedup, reduce: candidate pairs of one group of bands (independent of the others)."""
    t0 = time.perf_counter()
    cfg = _config(job).near
    bands = minhash.band_group_list(cfg)[group]
    edges = minhash.candidate_edges(minhash.ReducePlan.from_dict(plan_d), bands, cfg)
    path = os.path.join(job["work"], "edges", f"group-{group:03d}.npy")
    _save_npy(path, edges)
    return {
        "path": path,
        "pairs": len(edges),
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
    }


def merge_edges(job: dict[str, Any], plan_d: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """All groups' pairs, once each; with exact verification, which documents need shingles."""
    edges = minhash.unique_edges(np.load(p) for p in paths)
    path = os.path.join(job["work"], "edges", "all.npy")
    _save_npy(path, edges)
    need: dict[str, list[int]] = {}
    if _config(job).near.verify == "exact" and len(edges):
        plan_ = minhash.ReducePlan.from_dict(plan_d)
        need = {str(p): n.tolist() for p, n in minhash.needed_nodes(plan_, edges).items()}
    return {"path": path, "pairs": len(edges), "need": need}


def shingle_partition(
    job: dict[str, Any], plan_d: dict[str, Any], index: int, nodes: list[int]
) -> dict[str, Any]:
    """Exact verification: the shingle sets of one partition's documents that are in pairs."""
    t0 = time.perf_counter()
    cfg = _config(job)
    plan_ = minhash.ReducePlan.from_dict(plan_d)
    nodes_a = np.asarray(nodes, dtype=np.int64)
    rows = minhash.rows_of(plan_, nodes_a)
    table, _ = read_partition(job["partitions"][index], cfg.max_doc_bytes)
    texts, _ = _texts(job, table.take(pa.array(rows)), _frequent(job))
    sets = minhash.shingle_sets(texts, cfg.near)
    out = pa.table(
        {
            "node": pa.array(nodes_a, pa.int64()),
            "shingles": minhash.set_column(sets),
        }
    )
    path = _path(job, "sets", index)
    write_shard(LocalFileSystem(), path, out)
    return {
        "path": path,
        "docs": len(nodes),
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
    }


def finish_reduce(
    job: dict[str, Any], plan_d: dict[str, Any], edges_path: str, set_paths: list[str]
) -> dict[str, Any]:
    """Near dedup, reduce: verify the pairs, find clusters, write the decisions."""
    t0 = time.perf_counter()
    cfg = _config(job).near
    plan_ = minhash.ReducePlan.from_dict(plan_d)
    edges = np.load(edges_path)
    sets: dict[int, np.ndarray] | None = None
    if cfg.verify == "exact":
        sets = {}
        for p in set_paths:
            t = pq.read_table(p)
            col = t.column("shingles").combine_chunks()
            values = col.values.to_numpy()
            offsets = col.offsets.to_numpy()
            for k, node in enumerate(t.column("node").to_numpy().tolist()):
                sets[node] = values[offsets[k] : offsets[k + 1]]
    kept_edges, sim = minhash.verify_edges(plan_, edges, cfg, exact_sets=sets)
    decisions = minhash.cluster(plan_, kept_edges, sim)
    path = os.path.join(job["work"], "decisions.parquet")
    write_shard(LocalFileSystem(), path, decisions, minhash.CLUSTERS_SCHEMA)
    dropped = decisions.column("duplicate_of").is_valid().to_numpy(zero_copy_only=False)
    return {
        "path": path,
        "candidate_pairs": len(edges),
        "verified_pairs": len(kept_edges),
        "dropped": int(dropped.sum()),
        "clusters": int((~dropped).sum()),
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
    }


def filter_partition(job: dict[str, Any], index: int, schema_text: str) -> dict[str, Any]:
    """Near dedup, filter: one partition's kept rows and rejects, written under OUT."""
    t0 = time.perf_counter()
    cfg = _config(job)
    rows, rejects = read_partition(job["partitions"][index], cfg.max_doc_bytes)
    frequent = _frequent(job)
    counts: Counter[str] = Counter()
    emptied = None
    if frequent is not None:
        before = rows.column("text").to_pylist()
        texts, counts = _texts(job, rows, frequent)
        emptied = np.array([bool(b) and not t for b, t in zip(before, texts, strict=True)], bool)
        rows = rows.set_column(
            rows.column_names.index("text"), "text", pa.array(texts, pa.string())
        )
        if emptied.any():
            gone = rows.filter(pa.array(emptied))
            n = gone.num_rows
            emptied_rejects = pa.table(
                {
                    "id": gone.column("id"),
                    "duplicate_of": pa.nulls(n, pa.string()),
                    "reason": pa.array([linededup.ONLY_DUPLICATE_LINES] * n, pa.string()),
                    "detail": pa.array(
                        ["every line is a unit repeated across the corpus"] * n, pa.string()
                    ),
                },
                schema=REJECT_COLUMNS,
            )
            rejects = pa.concat_tables([rejects, emptied_rejects])
    decisions = pq.read_table(
        os.path.join(job["work"], "decisions.parquet"), filters=[("partition", "=", index)]
    )
    kept, near = minhash.filter_partition(rows, decisions, also_drop=emptied)
    rejects = pa.concat_tables([rejects, near])
    schema = schema_from_text(schema_text)
    kept = conform(kept, schema)
    name = f"part-{index:05d}.parquet"
    fs = LocalFileSystem()
    write_shard(fs, os.path.join(job["out"], "kept", name), kept, schema)
    write_shard(fs, os.path.join(job["out"], "rejects", name), rejects, REJECT_COLUMNS)
    return {
        "kept": kept.num_rows,
        "rejects": rejects.num_rows,
        "by_reason": dict(Counter(rejects.column("reason").to_pylist())),
        "units_removed": dict(counts),
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
    }


def summarize(
    job: dict[str, Any], stages: dict[str, list[dict[str, Any]]], seconds: float
) -> dict[str, Any]:
    """Counts, settings and timings of the run; written to OUT/dedup.json (last)."""
    maps = stages.get("map", [])
    filters = stages.get("filter", [])
    by_reason: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for f in filters:
        by_reason.update(f["by_reason"])
        units.update(f["units_removed"])
    records = sum(m["records"] for m in maps)
    kept = sum(f["kept"] for f in filters)
    rejects = sum(f["rejects"] for f in filters)
    cfg = _config(job)
    bands, rows = cfg.near.lsh_params()
    finish = (stages.get("finish") or [{}])[0]
    summary = {
        "out": job["out"],
        "kept_dir": os.path.join(job["out"], "kept"),
        "rejects_dir": os.path.join(job["out"], "rejects"),
        "partitions": len(job["partitions"]),
        "records": records,
        "kept": kept,
        "rejects": rejects,
        "balanced": records == kept + rejects,
        "by_reason": dict(by_reason),
        "units_removed": dict(units),
        "hashed": sum(m["hashed"] for m in maps),
        "candidate_pairs": finish.get("candidate_pairs", 0),
        "verified_pairs": finish.get("verified_pairs", 0),
        "clusters": finish.get("clusters", 0),
        "near": {**cfg.near.model_dump(mode="json"), "bands": bands, "rows": rows},
        "lines": cfg.lines.model_dump(mode="json"),
        "errors": job["errors"],
        "seconds": round(seconds, 3),
        "stages": {
            name: {
                "tasks": len(rs),
                "seconds": round(sum(r.get("seconds", 0.0) for r in rs), 3),
                "peak_rss_mb": round(max((r.get("peak_rss_mb", 0.0) for r in rs), default=0.0), 1),
            }
            for name, rs in stages.items()
        },
    }
    if not job["partitions"]:  # nothing to read: still two folders that readers can open
        fs = LocalFileSystem()
        empty = schema_from_text(kept_schema([]))
        write_shard(fs, os.path.join(job["out"], "kept", "part-00000.parquet"), empty.empty_table())
        write_shard(
            fs,
            os.path.join(job["out"], "rejects", "part-00000.parquet"),
            REJECT_COLUMNS.empty_table(),
        )
    write_json(LocalFileSystem(), os.path.join(job["out"], SUMMARY), summary)
    if not cfg.keep_work:
        shutil.rmtree(job["work"], ignore_errors=True)
    return summary


def _save_npy(path: str, array: np.ndarray) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}.npy"
    np.save(tmp, array)
    os.replace(tmp, path)


def run(job: dict[str, Any], executor: Executor | None = None) -> dict[str, Any]:
    """The job's passes, in order, on ``executor`` (inline by default): the one place their
    order is written (the ``crossling dedup`` flow runs this with a task per unit). ``job`` comes
    from :func:`plan` (and :func:`prepare`). Returns the summary, also written to OUT/dedup.json.
    """
    t0 = time.perf_counter()
    executor = executor or InlineExecutor()
    config = _config(job)
    n = len(job["partitions"])
    stages: dict[str, list[dict[str, Any]]] = {}

    def each(name: str, label: str, fn: Any, calls: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        units = [
            Unit(name, label.format(*args[1:]) if "{" in label else label, fn, args, "light")
            for args in calls
        ]
        done = {u.label: r for u, r in executor.map(units)}
        return [done[u.label] for u in units]

    if config.lines.enabled:
        stages["line-map"] = each(
            "dedup-line-counts", "line-counts-{}", map_lines, [(job, i) for i in range(n)]
        )
        stages["line-reduce"] = each(
            "dedup-frequent-lines",
            "frequent-lines-{}",
            reduce_lines,
            [(job, s) for s in range(config.lines.hash_shards)],
        )
    stages["map"] = each(
        "dedup-signatures", "signatures-{}", map_partition, [(job, i) for i in range(n)]
    )
    plan_d = plan_reduce(job)
    groups = range(len(minhash.band_group_list(config.near)))
    stages["reduce"] = each(
        "dedup-buckets",
        "buckets-group-{1}",
        reduce_band_group,
        [(job, plan_d, g) for g in groups],
    )
    merged = merge_edges(job, plan_d, [r["path"] for r in stages["reduce"]])
    stages["shingle"] = each(
        "dedup-shingles",
        "shingles-{1}",
        shingle_partition,
        [(job, plan_d, int(p), nodes) for p, nodes in merged["need"].items()],
    )
    set_paths = [r["path"] for r in stages["shingle"]]
    stages["finish"] = each(
        "dedup-clusters", "clusters", finish_reduce, [(job, plan_d, merged["path"], set_paths)]
    )
    schema = kept_schema(stages["map"])
    stages["filter"] = each(
        "dedup-filter", "filter-{}", filter_partition, [(job, i, schema) for i in range(n)]
    )
    executor.release("light")
    return summarize(job, stages, time.perf_counter() - t0)


def run_local(
    inputs: list[str],
    out: str,
    config: DedupJobConfig | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Plan, prepare and run the whole job in this process (or on ``executor``)."""
    job = plan(inputs, out, config or DedupJobConfig())
    prepare(job)
    return run(job, executor)


def kept_schema(map_results: list[dict[str, Any]]) -> str:
    """The one schema of every kept file (from the maps' partition schemas)."""
    schemas = [schema_from_text(m["schema"]) for m in map_results]
    if not schemas:
        schemas = [pa.schema([("id", pa.string()), ("text", pa.string())])]
    return schema_to_text(unify_schemas(schemas))
