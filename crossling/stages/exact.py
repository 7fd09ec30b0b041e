"""Exact deduplication as a global stage: within the run and against every earlier version.

map: each partition's kept (id, content_hash, dup_cluster_size); reduce: the first copy of each
hash is kept, unless a published version already has it (crossling/dedup/exact.py, vectorized);
filter: the copies become REJECTS rows ``exact_duplicate`` naming the kept copy, and the kept
copy's ``dup_cluster_size`` counts them. The version's (content_hash, id) index is written as its
shards are, for the next versions to deduplicate against.
"""

from __future__ import annotations

import posixpath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from crossling.dedup import exact
from crossling.dedup.minhash import NearDedupConfig
from crossling.documents import Reason, Stage
from crossling.shards import write_shard
from crossling.stages.base import DECISIONS_SCHEMA, GlobalStage

_MAP_SCHEMA = pa.schema(
    [("id", pa.string()), ("content_hash", pa.string()), ("dup_cluster_size", pa.int32())]
)


class DedupConfig(BaseModel):
    """The ``dedup`` section of a corpus config, shared by the exact and near-dedup stages."""

    exact: bool = Field(True, description="Drop exact duplicates (same normalized text).")
    near: NearDedupConfig = Field(
        default_factory=NearDedupConfig,
        description="MinHash LSH near-duplicate removal (script-aware shingles; "
        "crossling/dedup/minhash/ documents the threshold's S-curve).",
    )
    against_previous: bool = Field(
        True,
        description="Also drop documents already published in an earlier version (versions "
        "built from the same inputs, i.e. the same inputs filtered anew, excepted).",
    )


class ExactDedup(GlobalStage):
    name = "exact"
    stage = Stage.DEDUP
    kinds = ("docs", "pairs")
    columns = {"docs": ["content_hash"], "pairs": ["content_hash"]}
    config_key = "dedup"
    config_model = DedupConfig

    def enabled(self) -> bool:
        return self.config.exact

    def _map_path(self, kind: str, part: int) -> str:
        return posixpath.join(self.dir, f"map-{kind}-{part:05d}.parquet")

    def _decisions_path(self, kind: str, part: int) -> str:
        return posixpath.join(self.dir, f"decisions-{kind}-{part:05d}.parquet")

    def map(self, part: int, kind: str, rows: pa.Table) -> dict[str, Any]:
        write_shard(
            self.fs, self._map_path(kind, part), rows.select(_MAP_SCHEMA.names), _MAP_SCHEMA
        )
        return {"part": part, "kind": kind, "rows": rows.num_rows}

    def reduce(self, maps: list[dict[str, Any]]) -> dict[str, Any]:
        prior = exact.PriorIndex.load(self.ctx.data, self.ctx.name, self.ctx.prior_versions)
        stats: dict[str, Any] = {"prior_hashes": len(prior)}
        for kind in self.kinds:
            parts = sorted(m["part"] for m in maps if m["kind"] == kind)
            tables = []
            for p in parts:
                with self.fs.open(self._map_path(kind, p), "rb") as f:
                    tables.append(pq.read_table(f))
            if not tables:
                continue
            t = pa.concat_tables(tables)
            owner = np.repeat(np.array(parts), [tb.num_rows for tb in tables])
            sizes = t.column("dup_cluster_size").to_numpy(zero_copy_only=False)
            d = exact.decide(exact.hash_keys(t.column("content_hash")), sizes, prior)
            ids = t.column("id").combine_chunks()
            dropped = d.dup_of != -1
            grown = ~dropped & (d.cluster_size != sizes)
            stats[f"{kind}_dropped_in_run"] = int((d.dup_of >= 0).sum())
            stats[f"{kind}_dropped_prior"] = int((d.dup_of <= -2).sum())
            dup_ids = np.where(d.dup_of >= 0, d.dup_of, 0)
            prior_pos = np.where(d.dup_of <= -2, -2 - d.dup_of, 0)
            for p in parts:
                sel = np.flatnonzero((owner == p) & (dropped | grown))
                if not len(sel):
                    continue
                is_drop = dropped[sel]
                of_run = ids.take(pa.array(dup_ids[sel])).to_pylist()
                of_prior = (
                    prior.ids.take(pa.array(prior_pos[sel])).to_pylist() if len(prior) else None
                )
                dup_of = [
                    (of_run[i] if d.dup_of[j] >= 0 else of_prior[i]) if is_drop[i] else None
                    for i, j in enumerate(sel)
                ]
                detail = [
                    (
                        "same normalized text as an earlier row of this run"
                        if d.dup_of[j] >= 0
                        else "same normalized text as a row of an earlier version"
                    )
                    if is_drop[i]
                    else None
                    for i, j in enumerate(sel)
                ]
                table = pa.table(
                    {
                        "id": ids.take(pa.array(sel)),
                        "reason": [str(Reason.EXACT_DUPLICATE) if x else None for x in is_drop],
                        "detail": detail,
                        "duplicate_of": dup_of,
                        "dup_cluster_size": [
                            None if x else int(d.cluster_size[j])
                            for x, j in zip(is_drop, sel, strict=True)
                        ],
                        "split": pa.nulls(len(sel), pa.string()),
                    },
                    schema=DECISIONS_SCHEMA,
                )
                write_shard(self.fs, self._decisions_path(kind, p), table, DECISIONS_SCHEMA)
        return stats

    def decisions(self, part: int, kind: str) -> pa.Table | None:
        path = self._decisions_path(kind, part)
        if not self.fs.exists(path):
            return None
        with self.fs.open(path, "rb") as f:
            return pq.read_table(f)

    def index(self, part: int, kind: str, kept: pa.Table) -> None:
        exact.write_index_part(self.ctx.data, self.ctx.name, self.ctx.version, kind, part, kept)
