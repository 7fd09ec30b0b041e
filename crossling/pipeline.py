"""Former home of the corpus run, kept so that older imports keep working.

The corpus run lives in :mod:`crossling.run` (one module per pass; the order of the passes in
crossling/run/schedule.py). New code imports from there; "pipeline" names the corpus → train →
evaluate chain of flows (flows/pipeline.py).
"""

from __future__ import annotations

from typing import Any

from crossling.run.commit import commit
from crossling.run.config import CorpusConfig, load_config, merge_config, read_config_file
from crossling.run.decide import decide_partition
from crossling.run.plan import (
    DONE,
    TAG_FORMAT,
    TAGS,
    WORK,
    CorpusPlan,
    RunContext,
    measure_key,
    plan_run,
    tag_schema,
)
from crossling.run.reduce import enabled_stages, stage_map, stage_maps, stage_reduce
from crossling.run.registry import GLOBAL_STAGES, STEPS
from crossling.run.schedule import process_partition, process_partitions
from crossling.run.tag import tag_partition
from crossling.run.write import write_partition, write_partitions
from crossling.stages.document import LangIDConfig
from crossling.stages.exact import DedupConfig

RunPlan = CorpusPlan

__all__ = [
    "DONE",
    "GLOBAL_STAGES",
    "STEPS",
    "TAGS",
    "TAG_FORMAT",
    "WORK",
    "CorpusConfig",
    "CorpusPlan",
    "DedupConfig",
    "LangIDConfig",
    "RunContext",
    "RunPlan",
    "commit",
    "decide_partition",
    "enabled_stages",
    "load_config",
    "manifest_sha256",
    "measure_key",
    "merge_config",
    "plan_run",
    "process_partition",
    "process_partitions",
    "read_config_file",
    "run_local",
    "stage_map",
    "stage_maps",
    "stage_reduce",
    "tag_partition",
    "tag_schema",
    "write_partition",
    "write_partitions",
]


def manifest_sha256(root: str, name: str, version: str) -> str:
    from crossling.corpus import CorpusVersion

    return CorpusVersion.open(root, name, version).manifest_sha256


def run_local(sources: list[str], root: str, name: str, config: Any = None) -> dict[str, Any]:
    """The whole run in this process, without orchestration (see :func:`crossling.run.run_local`)."""
    from crossling.run.schedule import run_local as _run_local

    return _run_local(sources, root, name, config)
