"""Near-dedup as parts of a corpus run: a tag step that stores signatures, and a global stage.

- :class:`MinHashSignatures` (a :class:`~crossling.stages.base.Step`) measures, in the tag pass,
  each document's MinHash signature into the tag column ``minhash`` (``list<uint32>``,
  ``num_perm`` values). It is measured once per document and shingle setting: a rerun with another
  threshold or other bands reuses it.
- :class:`NearDedup` (a :class:`~crossling.stages.base.GlobalStage`): ``map`` writes each
  partition's band file (and, for exact verification, its texts); ``reduce`` buckets the bands in
  independent groups (threads: numpy sorts without the GIL), verifies the candidate pairs,
  clusters them against the band index of the earlier versions and writes each partition's
  decisions; ``index`` writes the version's band index as its shards are written.

Both own the ``dedup`` section of a corpus config (:class:`~crossling.stages.exact.DedupConfig`);
their settings are its ``near`` (:class:`~crossling.dedup.minhash.NearDedupConfig`).
"""

from __future__ import annotations

import os
import posixpath
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crossling.dedup import index as mindex
from crossling.dedup import minhash as mh
from crossling.documents import Document, Reason, Stage
from crossling.shards import write_shard
from crossling.stages.base import DECISIONS_SCHEMA, GlobalStage, StageContext, Step
from crossling.stages.exact import DedupConfig

SIGNATURE_COLUMN = "minhash"


def near_config(config: DedupConfig) -> mh.NearDedupConfig:
    """The near-dedup settings of a ``dedup`` section."""
    return config.near


class MinHashSignatures(Step):
    """Tag pass: the MinHash signature of each document's (normalized) text. Never drops."""

    name = "minhash"
    stage = Stage.DEDUP
    signals: ClassVar[list[pa.Field]] = [pa.field(SIGNATURE_COLUMN, pa.list_(pa.uint32()))]
    config_key = "dedup"
    config_model = DedupConfig

    def __init__(self, config: DedupConfig | None = None):
        super().__init__(config or DedupConfig())
        config = self.config
        self.near = near_config(config)

    def measure_config(self) -> dict[str, Any]:
        return self.near.fingerprint() if self.near.enabled else {}

    def measure(self, docs: list[Document]) -> None:
        if not self.near.enabled or not docs:
            return
        sigs = mh.signatures([d.text for d in docs], self.near)
        for d, s in zip(docs, sigs, strict=True):
            d.signals[SIGNATURE_COLUMN] = s


class NearDedup(GlobalStage):
    """MinHash LSH near-duplicates, within the run and against every earlier version."""

    name = "near"
    stage = Stage.DEDUP
    kinds = ("docs",)
    config_key = "dedup"
    config_model = DedupConfig

    def __init__(self, config: DedupConfig, ctx: StageContext):
        super().__init__(config, ctx)
        self.near = near_config(config)
        self.columns = {"docs": [SIGNATURE_COLUMN]}

    def enabled(self) -> bool:
        return self.near.enabled

    def _path(self, what: str, part: int) -> str:
        return posixpath.join(self.dir, f"{what}-{part:05d}.parquet")

    def map(self, part: int, kind: str, rows: pa.Table) -> dict[str, Any]:
        sigs = mh.signatures_from_arrow(rows.column(SIGNATURE_COLUMN))
        if sigs.shape[0] and sigs.shape[1] != self.near.num_perm:
            raise ValueError(
                f"tagged signatures have {sigs.shape[1]} min-hashes, dedup.near.num_perm is "
                f"{self.near.num_perm}: the tag pass must run again"
            )
        if not sigs.shape[0]:
            sigs = np.zeros((0, self.near.num_perm), dtype=np.uint32)
        weights = rows.column("dup_cluster_size").to_numpy(zero_copy_only=False)
        table = mh.band_table(rows.column("id"), sigs, self.near, weights=weights)
        mh.write_band_file(table, self._path("bands", part), self.fs)
        return {"part": part, "kind": kind, "rows": rows.num_rows, "banded": table.num_rows}

    def reduce(self, maps: list[dict[str, Any]]) -> dict[str, Any]:
        cfg, fs = self.near, self.fs
        parts = sorted(m["part"] for m in maps if m["kind"] == "docs")
        # an earlier version indexed with other shingles (an older release) is re-indexed first
        rebuilt = mindex.rebuild_stale(self.ctx.data, self.ctx.name, cfg, self.ctx.prior_versions)
        prior = mindex.load_indexes(self.ctx.data, self.ctx.name, self.ctx.prior_versions)
        plan = mh.plan_reduce(
            [self._path("bands", p) for p in parts], cfg, prior, fs=fs, partitions=parts
        )
        groups = mh.band_group_list(cfg)
        threads = min(len(groups), os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            edges = mh.unique_edges(
                pool.map(lambda g: mh.candidate_edges(plan, g, cfg, fs), groups)
            )
            sets = None
            if cfg.verify == "exact":  # the candidates' texts, read from the tagged work files
                tag_dirs = {m["part"]: m["tag_dir"] for m in maps}

                def shingles_of(item: tuple[int, np.ndarray]) -> dict[int, np.ndarray]:
                    p, nodes = item
                    ids = mh.ids_of(plan, nodes, fs)
                    with fs.open(posixpath.join(tag_dirs[p], "docs.parquet"), "rb") as f:
                        t = pq.read_table(  # pyarrow reads and filters without the GIL
                            f, columns=["id", "text"], filters=[("id", "in", sorted(set(ids)))]
                        )
                    text_of = dict(
                        zip(t.column("id").to_pylist(), t.column("text").to_pylist(), strict=True)
                    )
                    texts = [text_of[i] for i in ids]
                    return dict(zip(nodes.tolist(), mh.shingle_sets(texts, cfg), strict=True))

                sets = {}
                for part_sets in pool.map(shingles_of, mh.needed_nodes(plan, edges).items()):
                    sets.update(part_sets)
        kept, sim = mh.verify_edges(plan, edges, cfg, fs, sets)
        decisions = mh.cluster(plan, kept, sim, fs)
        dropped = decisions.column("duplicate_of").is_valid().to_numpy(zero_copy_only=False)
        for p in parts:
            d = mh.decisions_for(decisions, p)
            if d.num_rows:
                write_shard(fs, self._path("decisions", p), _stage_decisions(d), DECISIONS_SCHEMA)
        b, r = cfg.lsh_params()
        return {
            "bands": b,
            "rows": r,
            "prior_docs": plan.n_old,
            "reindexed_versions": rebuilt,
            "candidate_pairs": len(edges),
            "verified_pairs": len(kept),
            "dropped": int(dropped.sum()),
            "dropped_prior": int(
                decisions.column("duplicate_of_version")
                .is_valid()
                .to_numpy(zero_copy_only=False)
                .sum()
            ),
            "clusters": int((~dropped).sum()),
        }

    def decisions(self, part: int, kind: str) -> pa.Table | None:
        path = self._path("decisions", part)
        if kind != "docs" or not self.fs.exists(path):
            return None
        with self.fs.open(path, "rb") as f:
            return pq.read_table(f)

    def index(self, part: int, kind: str, kept: pa.Table) -> None:
        band_file = self._path("bands", part)
        if kind == "docs" and self.fs.exists(band_file):
            mindex.write_index_part(
                self.ctx.data, self.ctx.name, self.ctx.version, part, band_file, kept.column("id")
            )


def _stage_decisions(d: pa.Table) -> pa.Table:
    """A partition's reduce decisions in the corpus run's DECISIONS_SCHEMA (by id)."""
    pd_ = mh.partition_decisions(d, int(d.column("row").to_numpy().max()) + 1)
    rows = d.column("row").to_numpy()
    drop = pd_.drop[rows]
    return pa.table(
        {
            "id": d.column("id"),
            "reason": [str(Reason.NEAR_DUPLICATE) if x else None for x in drop],
            "detail": [pd_.detail[r] for r in rows],
            "duplicate_of": [pd_.duplicate_of[r] for r in rows],
            "dup_cluster_size": pa.array(
                [
                    None if x else int(pd_.dup_cluster_size[r])
                    for x, r in zip(drop, rows, strict=True)
                ],
                pa.int32(),
            ),
            "split": pa.nulls(d.num_rows, pa.string()),
        },
        schema=DECISIONS_SCHEMA,
    )
