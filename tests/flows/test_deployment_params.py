"""Deployment runs started with a partial parameter object keep the deployment's own defaults.

`prefect deployment run corpus/corpus --param params='{"name": ...}'` (or `run_deployment` with
the same) makes the server replace the whole `params` object of the deployment. The run here is
executed as a process worker executes it (`python -m prefect.engine` with PREFECT__FLOW_RUN_ID),
against the session's real Prefect server, on the real corpus flow and the demo data.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crossling.storage import DataRoot
from flows.deployment_flow import deep_merge

REPO = Path(__file__).resolve().parents[2]
DEMO_DOCS = str(REPO / "crossling" / "data" / "demo" / "docs.jsonl")


def test_deep_merge_keeps_nested_defaults_and_replaces_the_rest() -> None:
    base = {"root": "/srv", "config": {"a": 1, "langid": {"mode": "doc", "min_score": 0.3}}}
    over = {"config": {"langid": {"mode": "line"}, "langs": ["de"]}, "sources": ["x"]}
    assert deep_merge(base, over) == {
        "root": "/srv",
        "sources": ["x"],
        "config": {"a": 1, "langs": ["de"], "langid": {"mode": "line", "min_score": 0.3}},
    }
    assert deep_merge(base, {"config": None}) == {"root": "/srv", "config": None}  # explicit
    assert deep_merge({"l": [1, 2]}, {"l": [3]}) == {"l": [3]}  # lists replace
    assert base["config"]["langid"]["mode"] == "doc"  # inputs untouched


def _imports(path: Path) -> set[str]:
    """Modules a file imports, at any depth (function-level imports included, and module names
    given as strings, as flows/cli.py imports its commands)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if path.name == "cli.py":
                out.add(node.value)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_no_import_cycle_between_the_cli_and_the_launcher() -> None:
    """deployments/ may import flows/, never the other way round; the launcher (and the file
    server) import no CLI module."""
    modules = {
        f"{p.parent.name}.{p.stem}": p
        for pkg in ("flows", "deployments", "tasks")
        for p in (REPO / pkg).glob("*.py")
        if p.stem != "__init__"
    }
    graph = {m: {i for i in _imports(p) if i in modules} for m, p in modules.items()}

    def reaches(a: str, b: str) -> bool:
        seen, todo = set(), [a]
        while todo:
            m = todo.pop()
            if m == b:
                return True
            if m not in seen:
                seen.add(m)
                todo += graph.get(m, ())
        return False

    # (The command modules and flows/cli.py import each other by design: the CLI finds them by
    # name, they raise its UsageError. No cycle may run through deployments/.)
    cycles = [
        (a, b)
        for a in graph
        for b in graph[a]
        if "deployments" in (a.split(".")[0], b.split(".")[0]) and reaches(b, a)
    ]
    assert not cycles, cycles
    # flows/ imports nothing of deployments/ (`crossling serve` runs the launcher as a program).
    upward = {m: sorted(i for i in graph[m] if i.startswith("deployments")) for m in graph}
    assert not any(v for m, v in upward.items() if m.startswith("flows.")), upward
    for m in ("deployments.serve", "deployments.files"):
        assert not any(i in ("flows.cli", "flows.serve") for i in graph[m]), (m, graph[m])


@pytest.mark.slow
def test_a_partial_params_object_keeps_the_deployment_defaults(prefect_server, tmp_path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    root = tmp_path / "served-root"
    root.mkdir()
    defaults = {
        "params": {
            "sources": [DEMO_DOCS],
            "root": str(root),
            "name": "demo",
            "config": {"heldout_fraction": 0.15, "langid": {"min_score": 0.4}},
            "workers": 1,
        }
    }
    partial = {"params": {"name": "partial", "config": {"langid": {"mode": "doc"}}}}
    with get_client(sync_client=True) as c:
        flow_id = c.create_flow_from_name("corpus")
        dep_id = c.create_deployment(
            flow_id=flow_id,
            name="fill-test",
            entrypoint="flows/corpus.py:corpus_flow",
            parameters=defaults,
            # As in prefect.yaml: the worker runs the flow from its checkout.
            pull_steps=[
                {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
            ],
        )
        run = c.create_flow_run_from_deployment(dep_id, parameters=partial)
    # What the server hands the worker: `params` replaced whole (root, sources, config lost).
    assert run.parameters == partial

    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT__FLOW_RUN_ID": str(run.id),
        "PYTHONPATH": str(REPO),
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    env.pop("CROSSLING_ROOT", None)
    r = subprocess.run(
        [sys.executable, "-m", "prefect.engine"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    with get_client(sync_client=True) as c:
        done = c.read_flow_run(run.id)
    assert done.state.is_completed(), (done.state, r.stdout[-3000:], r.stderr[-3000:])
    # The run's parameters now show what it used; the version landed in the deployment's root.
    p = done.parameters["params"]
    assert (p["root"], p["sources"], p["name"], p["workers"]) == (
        str(root),
        [DEMO_DOCS],
        "partial",
        1,
    )
    assert p["config"] == {"heldout_fraction": 0.15, "langid": {"min_score": 0.4, "mode": "doc"}}
    dr = DataRoot(str(root))
    version = dr.latest_version("partial")
    assert version, os.listdir(root)
    cfg = dr.read_manifest("partial", version)["config"]
    assert cfg["heldout_fraction"] == 0.15 and cfg["langid"]["min_score"] == 0.4
    assert not (REPO / "data" / "corpora" / "partial").exists()  # not the default ./data
    # The run's log says what was filled in.
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as c:
        logs = c.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    filled = [lg.message for lg in logs if "taken from deployment defaults" in lg.message]
    assert filled and filled[0].endswith(
        "params.sources, params.root, params.config.heldout_fraction, "
        "params.config.langid.min_score, params.workers"
    ), [lg.message for lg in logs]
