"""The crawl flow: seeds in, a crawl run archived as WARC, then a corpus version built from it.

``crawl`` (resumable) -> ``finish-crawl-run`` (the run's REJECTS file and aligned hreflang pairs)
-> the ``corpus`` flow as a subflow on the run's new files (pages WARC, REJECTS, pairs), so a
crawl becomes a corpus version like any other input and emits ``crossling.corpus.published``
(which starts training through the ``train`` deployment's trigger). Artifacts: pages by status
and reason, bytes, per-host counts, progress.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field, ValidationError

from crossling.sources import crawl as crawler
from crossling.sources.urls import ALLOWED_SCHEMES, parse_allow_host, scheme_of
from flows.cli_params import Opt, add_options, build
from flows.corpus import CorpusParams, run_corpus
from flows.deployment_flow import deployment_flow
from flows.links import artifact_key
from tasks.crawl import crawl_run, finish_run


class CrawlParams(BaseModel):
    """Parameters of a crawl run (rendered as a form in the Prefect UI)."""

    seeds: list[str] = Field(
        ..., min_length=1, description="Start URLs (http/https), or sitemap URLs."
    )
    root: str = Field("./data", description="Data root (a local folder): crawls/<name>/, corpora/.")
    name: str = Field(
        "crawl",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Crawl name: its state under crawls/<name>/; a later crawl of the same "
        "name resumes or recrawls (conditional requests).",
    )
    corpus: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Corpus the crawl's versions go to; default: the crawl name.",
    )
    max_pages: int | None = Field(None, ge=1, description="Requests for pages in this run.")
    max_depth: int | None = Field(None, ge=0, description="Links away from a seed.")
    allowed_hosts: list[str] | None = Field(
        None, description="Hosts in scope (default: the seeds' hosts)."
    )
    allowed_prefixes: list[str] | None = Field(None, description="URL prefixes also in scope.")
    allow_hosts: list[str] | None = Field(
        None, description="HOST:PORT allowed to resolve to private/loopback addresses."
    )
    delay: float | None = Field(None, ge=0, description="Seconds between requests to a host.")
    concurrency: int | None = Field(None, ge=1, description="Requests in flight, all hosts.")
    contact: str | None = Field(None, description="Contact URL or e-mail for the user agent.")
    config: dict[str, Any] | None = Field(
        None, description="Further CrawlConfig fields (crossling/sources/crawl.py)."
    )
    corpus_config: dict[str, Any] | None = Field(
        None, description="CorpusConfig fields for the version built from the crawl."
    )
    workers: int = Field(2, ge=1, le=256, description="Worker processes of the corpus build.")
    build: bool = Field(True, description="Build the crawl into a corpus version.")
    extra_sources: list[str] = Field(
        default_factory=list,
        description="Other inputs built into the same version (files, as for `corpus`).",
    )

    def crawl_config(self) -> crawler.CrawlConfig:
        data = dict(self.config or {})
        for key in (
            "max_pages",
            "max_depth",
            "allowed_hosts",
            "allowed_prefixes",
            "allow_hosts",
            "delay",
            "concurrency",
            "contact",
        ):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return crawler.CrawlConfig.model_validate(data)


@deployment_flow(name="crawl", log_prints=True, validate_parameters=True)
def crawl_flow(params: CrawlParams) -> dict[str, Any]:
    """Crawl (or resume), finish the run, build it into a corpus version."""
    cfg = params.crawl_config()
    key = artifact_key("crawl", params.name)
    corpus = params.corpus or params.name
    out: dict[str, Any] = {"crawl": params.name, "corpus": corpus, "builds": []}
    # A run that finished but was never built (the process died in between) is built first.
    for run in crawler.runs(params.root, params.name):
        if run["status"] == "finished" and not run["version"] and params.build:
            out["builds"].append(_build(params, corpus, run))
    summary = crawl_run(
        params.root, params.name, params.seeds, cfg.model_dump(mode="json"), f"{key}-progress"
    )
    print(
        f"crawl {params.name} run {summary['run']}: {summary['pages']} pages of "
        f"{summary['discovered']} URLs discovered, {summary['sent']} requests, "
        f"{summary['bytes']:,} bytes in {summary['seconds']}s; stopped: {summary['stopped_by']}"
    )
    run = finish_run(params.root, params.name, cfg.model_dump(mode="json"))
    _publish_artifacts(params.name, run)
    out["run"] = run
    if params.build:
        out["builds"].append(_build(params, corpus, run))
    out["version"] = out["builds"][-1]["version"] if out["builds"] else None
    return out


def _build(params: CrawlParams, corpus: str, run: dict[str, Any]) -> dict[str, Any]:
    files = list(run["files"]) + list(params.extra_sources)
    if not files:
        print(f"crawl run {run['run']}: nothing to build")
        return {"run": run["run"], "version": None}
    summary = run_corpus(
        CorpusParams(
            sources=files,
            root=params.root,
            name=corpus,
            config=params.corpus_config,
            workers=params.workers,
        )
    )
    crawler.record_version(params.root, params.name, run["run"], summary["version"])
    return {"run": run["run"], **summary}


def _publish_artifacts(name: str, run: dict[str, Any]) -> None:
    key = artifact_key("crawl", name)
    stats = run["stats"]
    rows = [{"outcome": k, "urls": v} for k, v in stats.get("outcomes", {}).items()]
    rows += [{"outcome": f"HTTP {k}", "urls": v} for k, v in stats.get("by_status", {}).items()]
    create_table_artifact(
        key=f"{key}-outcomes",
        table=rows or [{"outcome": "-", "urls": 0}],
        description=f"URLs by outcome (page or reason) and responses by HTTP status, run "
        f"{run['run']}",
    )
    host_rows = [{"host": h, **c} for h, c in stats.get("by_host", {}).items()]
    create_table_artifact(
        key=f"{key}-hosts",
        table=host_rows or [{"host": "-"}],
        description=f"URLs per host and outcome, run {run['run']}",
    )
    align = stats.get("align", {})
    create_markdown_artifact(
        key=f"{key}-summary",
        description=f"What crawl run {run['run']} of {name} did",
        markdown=(
            f"# Crawl {name}, run {run['run']}\n\n"
            f"- URLs discovered: {stats.get('discovered', 0)}; requests: {stats.get('sent', 0)}; "
            f"pages archived: **{stats.get('pages', 0)}**\n"
            f"- bytes received: {stats.get('bytes', 0):,}; retries: {stats.get('retries', 0)}\n"
            f"- stopped by: {stats.get('stopped_by')}; left queued for the next run: "
            f"{stats.get('deferred', 0)}\n"
            f"- hreflang page pairs aligned: {align.get('page_pairs', 0)}, sentence pairs kept: "
            f"{align.get('pairs', 0)}, rejected: {align.get('rejected', 0)}\n"
            f"- {stats.get('seconds', 0)}s, {stats.get('pages_per_second', 0)} pages/s\n"
            f"- files: " + ", ".join(f"`{os.path.basename(f)}`" for f in run["files"]) + "\n"
        ),
    )


def run_crawl(params: CrawlParams) -> dict[str, Any]:
    return crawl_flow(params)


def print_summary(out: dict[str, Any], stream=None) -> None:
    stream = stream or sys.stdout
    run = out["run"]
    stats = run["stats"]
    print(
        f"crawl {out['crawl']} run {run['run']}: {stats.get('pages', 0)} pages, "
        f"{stats.get('discovered', 0)} URLs, {stats.get('bytes', 0):,} bytes, "
        f"{stats.get('seconds', 0)}s; stopped: {stats.get('stopped_by')}",
        file=stream,
    )
    outcomes = ", ".join(f"{k} {v}" for k, v in stats.get("outcomes", {}).items())
    print(f"  outcomes: {outcomes}", file=stream)
    align = stats.get("align", {})
    print(
        f"  hreflang: {align.get('page_pairs', 0)} page pairs, {align.get('pairs', 0)} sentence "
        f"pairs kept, {align.get('rejected', 0)} rejected",
        file=stream,
    )
    for b in out["builds"]:
        if b.get("version"):
            state = "built" if b.get("new") else "unchanged"
            print(
                f"  corpus {out['corpus']} {b['version']} ({state}): docs {b['counts']['docs']}, "
                f"pairs {b['counts']['pairs']}, rejects {b['counts']['rejects']}; conservation "
                f"{'balanced' if b['balanced'] else 'FAILED'}",
                file=stream,
            )


# --- CLI ---------------------------------------------------------------------------------------


# How each parameter is spelled on the command line; help, types and defaults come from
# CrawlParams (the UI's form). --config (a file) and --json are the command's own.
CLI_OPTIONS = [
    Opt("seeds", positional=True, metavar="SEED"),
    Opt("root", flag="--out", metavar="ROOT", required=True),
    Opt("name", required=True),
    Opt("corpus"),
    Opt("max_pages", metavar="N"),
    Opt("max_depth", metavar="D"),
    Opt(
        "allow_hosts",
        flag="--allow-host",
        metavar="HOST:PORT",
        repeat=True,
        extra_help="(repeatable)",
    ),
    Opt("allowed_hosts", metavar="HOSTS", split=",", extra_help="Comma-separated."),
    Opt("allowed_prefixes", metavar="URLS", split=",", extra_help="Comma-separated."),
    Opt("delay", metavar="S"),
    Opt("concurrency", metavar="N"),
    Opt("contact"),
    Opt("workers", metavar="N"),
    Opt("build", invert="--no-build", extra_help="crawl only; build no corpus version"),
    Opt("extra_sources", flag="--source", metavar="PATH", repeat=True, extra_help="(repeatable)"),
]
UI_ONLY = {
    "config": "CrawlConfig fields as a dict; on the command line: --config FILE",
    "corpus_config": "CorpusConfig fields for the version built from the crawl",
}


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "crawl",
        help="crawl websites into a corpus version",
        description="Crawl from seed URLs (politely: robots.txt, per-host delay), archive every "
        "response as WARC under ROOT/crawls/NAME/, and build the crawl into a corpus version.",
    )
    add_options(p, CrawlParams, CLI_OPTIONS)
    p.add_argument("--config", metavar="FILE", help="CrawlConfig as JSON or YAML")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cli, check=_params)


def _params(args: argparse.Namespace) -> CrawlParams:
    from flows.cli import UsageError

    for seed in args.seeds:
        if scheme_of(seed) not in ALLOWED_SCHEMES:
            raise UsageError(f"{seed}: a seed must be an http or https URL")
    for spec in args.allow_hosts or []:
        try:
            parse_allow_host(spec)
        except ValueError as e:
            raise UsageError(f"--allow-host {e}") from None
    config: dict[str, Any] = {}
    if args.config:
        if not os.path.exists(args.config):
            raise UsageError(f"{args.config}: no such config file")
        with open(args.config, encoding="utf-8") as fh:
            text = fh.read()
        try:
            if args.config.endswith((".yaml", ".yml")):
                import yaml

                config = yaml.safe_load(text) or {}
            else:
                config = json.loads(text)
        except ValueError as e:
            raise UsageError(f"{args.config}: cannot read config: {e}") from None
    params = build(CrawlParams, CLI_OPTIONS, args, config=config or None)
    try:
        params.crawl_config()
    except ValidationError as e:
        err = e.errors()[0]
        raise UsageError(f"invalid {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    if "://" in params.root:
        raise UsageError(f"--out {params.root}: a crawl needs a local data root")
    return params


def _cli(args: argparse.Namespace) -> int:
    params = _params(args)
    out = run_crawl(params)
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        print_summary(out)
    return 0
