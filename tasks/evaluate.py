"""Prefect task wrapping the evaluation of one checkpoint (``crossling.evaluate.suite``).

The unit of work is one checkpoint: the task is given paths and a config, loads the model inside
the worker, and writes ``results.json``. That file is the cache: a checkpoint with results is never
evaluated again unless ``overwrite`` is set, so Prefect's own result caching is off.
"""

from __future__ import annotations

from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from crossling import registry
from crossling.evaluate.suite import ContaminationError, EvalConfig, evaluate_checkpoint

# Errors that a retry cannot fix: contaminated eval data, a missing corpus, a bad checkpoint.
_PERMANENT = (ContaminationError, FileNotFoundError, ValueError, KeyError)


def _retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, _PERMANENT)


@task(
    name="evaluate-checkpoint",
    task_run_name="evaluate-{model_name}-{run_version}-{step}",
    tags=["crossling", "evaluate"],
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=10,
    retry_condition_fn=_retry_transient,
    timeout_seconds=6 * 3600,
)
def evaluate_checkpoint_task(
    root: str,
    checkpoint_path: str,
    model_name: str,
    run_version: str,
    step: int,
    config: dict[str, Any],
    overwrite: bool = False,
) -> dict[str, Any]:
    """Evaluate one checkpoint; returns a summary (its results.json path and headline metrics).

    ``model_name``, ``run_version`` and ``step`` name the task run; the checkpoint is
    ``checkpoint_path`` under the data root ``root``.
    """
    ref = registry.CheckpointRef(model_name, run_version, step, root, checkpoint_path)
    existed = ref.has_results()
    results = evaluate_checkpoint(ref, EvalConfig.model_validate(config), overwrite=overwrite)
    return {
        "checkpoint": ref.name,
        "model_name": model_name,
        "run_version": run_version,
        "step": step,
        "results_path": ref.results_path,
        "results_uri": ref.data_root.uri(ref.results_path),
        "reused": existed and not overwrite,
        "headline": {k: v for k, v in results["metrics"].items() if k.endswith("/avg")},
        "status": (results.get("coverage") or {}).get("status"),
        "missing": (results.get("coverage") or {}).get("missing", []),
    }
