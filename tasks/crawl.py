"""Prefect tasks of the crawl flow: the crawl itself (resumable) and the run's finishing step."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from crossling.sources import crawl


@task(name="crawl", task_run_name="crawl-{name}", cache_policy=NO_CACHE, tags=["crawl"])
def crawl_run(
    root: str, name: str, seeds: list[str], config: dict[str, Any], progress_key: str
) -> dict[str, Any]:
    """Crawl (or resume the crawl killed before); a progress artifact follows it."""
    cfg = crawl.CrawlConfig.model_validate(config)
    progress_id = create_progress_artifact(
        progress=0.0, key=progress_key, description=f"Crawl {name}: share of the frontier done"
    )

    def on_progress(p: dict[str, Any]) -> None:
        update_progress_artifact(progress_id, progress=p["progress"])

    summary = asyncio.run(crawl.Crawler(root, name, seeds, cfg, on_progress=on_progress).run())
    update_progress_artifact(progress_id, progress=100.0)
    return summary


@task(name="finish-crawl-run", cache_policy=NO_CACHE, tags=["crawl"])
def finish_run(root: str, name: str, config: dict[str, Any]) -> dict[str, Any]:
    """The run's REJECTS file (every URL that gave no page, with why) and aligned pairs."""
    return crawl.finish_run(root, name, crawl.CrawlConfig.model_validate(config))
