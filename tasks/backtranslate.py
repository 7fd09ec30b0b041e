"""The Prefect task of back-translation: one run over a corpus version, on the machine it lands on.

The unit of work is a whole run (the model loads once; batches are sorted by length inside it).
Arguments are paths and configs, never models or rows. Errors a retry cannot fix (no such corpus
or model, bad config) are not retried; a run that failed midway starts over (its version is only
visible once its manifest is written).
"""

from __future__ import annotations

from typing import Any

from prefect import Task, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from crossling.augment.backtranslate import BacktranslateConfig, backtranslate
from crossling.augment.translate import ModelNotFound
from crossling.corpus import CorpusNotFound

_PERMANENT = (CorpusNotFound, ModelNotFound, ValueError, KeyError, FileNotFoundError)


def _retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, _PERMANENT)


@task(
    name="backtranslate",
    task_run_name="backtranslate-{corpus}-{config[lang]}-{config[to]}",
    tags=["crossling", "backtranslate"],
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=10,
    retry_condition_fn=_retry_transient,
)
def backtranslate_task(
    root: str, corpus: str, version: str, config: dict[str, Any]
) -> dict[str, Any]:
    """Back-translate one language of ``corpus@version`` into a new derived version."""
    logger = get_run_logger()
    cfg = BacktranslateConfig.model_validate(config)
    progress = create_progress_artifact(
        progress=0.0,
        description=f"Back-translation of {corpus} {cfg.lang} -> {cfg.to}: budget filled (or "
        "sentences read, without a budget)",
    )

    def on_progress(p: dict[str, Any]) -> None:
        if p["limit"]:
            share = min(1.0, p["kept"] / p["limit"])
        elif cfg.max_segments:
            share = min(1.0, p["inputs"] / cfg.max_segments)
        else:
            share = 0.0
        update_progress_artifact(progress, progress=100.0 * share)
        logger.info(
            "%d sentences read, %d kept, %d dropped, %.0f sentences/s",
            p["inputs"],
            p["kept"],
            p["dropped"],
            p["sentences_per_s"],
        )

    summary = backtranslate(root, corpus, cfg, version=version, on_progress=on_progress)
    update_progress_artifact(progress, progress=100.0)
    return summary
