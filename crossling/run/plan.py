"""Planning a corpus run: partitions, the version's name, and which partitions are measured.

:func:`plan_run` cuts the inputs into partitions (crossling/sources/files.py), names the version
(a hash of the config and the inputs: the same inputs and config find the same version, finished
or to resume), and finds the tags an earlier run measured (``_tags/<key>``, where the key hashes a
partition's files and the *measuring* config, so runs that differ only in thresholds share them).
"""

from __future__ import annotations

import json
import os
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from crossling.documents import DOCS_SCHEMA
from crossling.run.config import CorpusConfig
from crossling.run.registry import GLOBAL_STAGES, STEPS
from crossling.sources.files import InputError, Partition, plan_partitions
from crossling.sources.remote import RemoteConfig, fingerprint, is_url, redact_url
from crossling.stages.base import GlobalStage, StageContext
from crossling.storage import DataRoot, config_hash, new_version

WORK = "_work"
TAGS = "_tags"
DONE = "done.json"
TAG_FORMAT = 2  # bump when what the tag pass writes changes: old tags are then not reused

# DOCS columns the tag pass writes (split and dup_cluster_size are decided later).
_TAG_BASE = [f for f in DOCS_SCHEMA if f.name not in ("split", "dup_cluster_size")]


def tag_schema() -> pa.Schema:
    """Tagged documents: the DOCS columns known after measuring, then every step's signals."""
    fields = list(_TAG_BASE)
    for step in STEPS:
        fields.extend(step.signals)
    return pa.schema(fields)


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
        return [cls.from_config(cfg, sctx) for cls in GLOBAL_STAGES]

    def stage(self, name: str) -> GlobalStage:
        return next(s for s in self.stages() if s.name == name)


@dataclass
class CorpusPlan:
    """What :func:`plan_run` found: the partitions, the version, what is measured already."""

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
        "steps": {s.name: s.from_config(cfg).measure_config() for s in STEPS},
        "schema": str(tag_schema()),
    }


def plan_run(sources: list[str], root: str, name: str, config: CorpusConfig) -> CorpusPlan:
    """Partition the inputs, find (or name) the version, and find the tags already measured."""
    from crossling.run.config import apply_thresholds_file

    config = apply_thresholds_file(config)  # idempotent: load_config applied it already
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
    plan = CorpusPlan(
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


def work_path(ctx: RunContext, what: str, index: int, ext: str = "parquet") -> str:
    """A per-partition work file of the run: ``<version>/_work/<what>-NNNNN.<ext>``."""
    return posixpath.join(ctx.work_dir, f"{what}-{index:05d}.{ext}")


def write_table(fs, path: str, table: pa.Table) -> None:
    from crossling.shards import write_shard

    write_shard(fs, path, table, table.schema)


def read_table(fs, path: str, columns: list[str] | None = None) -> pa.Table:
    with fs.open(path, "rb") as f:
        return pq.read_table(f, columns=columns)
