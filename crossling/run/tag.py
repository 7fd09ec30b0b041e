"""The tag pass: read one partition and measure every record, the expensive and reusable half.

Every Step's ``measure`` runs here (normalization, fastText, quality signals, MinHash
signatures); nothing is dropped. The tagged work files are kept under ``corpora/<name>/_tags/``
and reused by any later run with the same partition and measuring config.
"""

from __future__ import annotations

import posixpath
import time
from collections import Counter
from typing import Any

import pyarrow as pa

from crossling.documents import REJECTS_SCHEMA, Document, Reject
from crossling.langid import LanguageIdentifier
from crossling.run.config import CorpusConfig
from crossling.run.plan import DONE, tag_schema
from crossling.run.registry import STEPS
from crossling.shards import ShardWriter
from crossling.sources.files import Partition, read_partition
from crossling.stages.pairs import TAG_PAIRS_SCHEMA, measure_pairs
from crossling.storage import DataRoot, clean_tmp, read_json, write_json


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
    steps = [cls.from_config(cfg) for cls in STEPS]
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
    for step in steps:  # measure-time counters (PII replaced per kind and language, lines removed)
        stats.update(getattr(step, "counts", None) or {})
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
