"""Prefect tasks of training: the tokenizer of a corpus version, and one training run.

The unit of work is a whole run. Arguments are configs and paths, never models or rows. A run
resumes from its newest checkpoint, so a retry after a crash (or a killed worker) continues where
it stopped instead of starting over; errors that a retry cannot fix (bad config, missing corpus)
are not retried. With several GPUs the run is launched under ``torchrun`` in a subprocess.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from prefect import Task, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.events import emit_event
from prefect.states import State

from crossling.corpus import CorpusNotFound
from crossling.tokenizer import TokenizerConfig, ensure_tokenizer
from crossling.train.checkpoint import list_checkpoints
from crossling.train.config import TrainConfig
from crossling.train.corpus import TrainCorpus
from crossling.train.run import RunPlan, execute, prepare_run
from tasks.events import CHECKPOINT_SAVED, model_resource

_PERMANENT = (CorpusNotFound, ValueError, KeyError, FileNotFoundError)


def _retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, _PERMANENT)


def checkpoint_event_payload(plan: RunPlan, path: str, step: int) -> dict[str, Any]:
    """The payload of ``crossling.checkpoint.saved`` (docs/CONTRACTS.md)."""
    return {
        "root": plan.config["out_root"],
        "model_name": plan.model_name,
        "run_version": plan.run_version,
        "step": step,
        "checkpoint": path,
        "objective": plan.config["objective"],
        "corpus": plan.corpus["name"],
        "corpus_version": plan.corpus["version"],
    }


def emit_checkpoint_saved(plan: RunPlan, path: str, step: int) -> None:
    emit_event(
        event=CHECKPOINT_SAVED,
        resource={
            "prefect.resource.id": model_resource(plan.model_name),
            "prefect.resource.name": plan.model_name,
        },
        payload=checkpoint_event_payload(plan, path, step),
    )


@task(
    name="train-tokenizer",
    task_run_name="tokenizer-{corpus}",
    tags=["crossling", "train"],
    cache_policy=NO_CACHE,
    retries=0,
)
def train_tokenizer_task(
    data_root: str,
    out_root: str,
    corpus: str,
    version: str,
    vocab_size: int = 32_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Train (or reuse) the sentencepiece tokenizer of a corpus version; returns its lineage."""
    c = TrainCorpus.open(data_root, corpus, version)
    info = ensure_tokenizer(out_root, c, TokenizerConfig(vocab_size=vocab_size, seed=seed))
    get_run_logger().info(
        "tokenizer %s: %d pieces, languages %s", info.path, info.vocab_size, info.languages
    )
    return {
        "path": info.path,
        "sha256": info.sha256,
        "vocab_size": info.vocab_size,
        "languages": info.languages,
    }


@task(
    name="prepare-training",
    task_run_name="prepare-{config[corpus]}-{config[objective]}",
    tags=["crossling", "train"],
    cache_policy=NO_CACHE,
    retries=0,
)
def prepare_training_task(config: dict[str, Any], flow_run_id: str | None = None) -> dict[str, Any]:
    """Resolve a run (corpus, tokenizer, run version, training ids); returns the plan as a dict."""
    plan = prepare_run(TrainConfig(**config), flow_run_id=flow_run_id)
    return dataclasses.asdict(plan)


def _gpus_to_use(devices: int | None) -> int:
    import torch

    available = torch.cuda.device_count()
    return min(devices or available, available) if available else 0


@task(
    name="train-model",
    task_run_name="train-{plan[model_name]}",
    tags=["crossling", "train", "gpu"],
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=30,
    retry_condition_fn=_retry_transient,
    timeout_seconds=7 * 24 * 3600,
)
def train_model_task(plan: dict[str, Any]) -> dict[str, Any]:
    """Train a prepared run to its last step; emits ``crossling.checkpoint.saved`` per checkpoint.

    One process on a CPU or one GPU (progress and events as it goes); ``torchrun`` over every
    requested GPU otherwise (events once it returns).
    """
    logger = get_run_logger()
    run = RunPlan(**plan)
    max_steps = int(run.config["max_steps"])
    nproc = _gpus_to_use(run.config.get("devices"))
    before = {p for _, p in list_checkpoints(run.run_dir)}
    if nproc > 1:
        from crossling.train.launch import launch_torchrun

        logger.info("launching torchrun on %d GPUs (%s)", nproc, run.config.get("distributed"))
        summary = launch_torchrun(run, nproc)
        for step, path in list_checkpoints(run.run_dir):
            if path not in before:
                emit_checkpoint_saved(run, path, step)
        return summary

    progress = create_progress_artifact(
        progress=0.0, description=f"Optimizer steps of {run.model_name} {run.run_version}"
    )

    def on_log(record: dict[str, Any]) -> None:
        update_progress_artifact(progress, progress=100.0 * record["step"] / max_steps)
        logger.info(
            "step %d/%d loss %.4f tokens/s %.0f%s",
            record["step"],
            max_steps,
            record["loss"],
            record["tokens_per_s"],
            f" MFU {record['mfu']:.1%}" if "mfu" in record else "",
        )

    def on_checkpoint(path: str, step: int) -> None:
        emit_checkpoint_saved(run, path, step)
        logger.info("checkpoint %s", path)

    # The library logs through `logging`; the Prefect logger already shows the same lines.
    logging.getLogger("crossling.train.loop").setLevel(logging.WARNING)
    summary = execute(run, on_log=on_log, on_checkpoint=on_checkpoint)
    update_progress_artifact(progress, progress=100.0)
    return summary
