"""crossling as a service, end to end: a real `prefect server start` (SQLite, and PostgreSQL with
CROSSLING_TEST_POSTGRES=1), `prefect deploy --all` of deployments/prefect.yaml, process workers.

The corpus deployment runs on the demo data; the automation from the `train` trigger starts
training with the new version's parameters (from the event payload); the checkpoint event
starts `evaluate`; each run's state and artifacts are read back through the Prefect client.
Then the UI (headless Chromium) lists the four deployments and shows a run's artifacts.
"""

from __future__ import annotations

import glob
import html
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from crossling.storage import DataRoot
from deployments import serve
from tests.e2e.conftest import (
    EVAL_OVERRIDES,
    REPO,
    TEST_OUTPUT,
    TRAIN_OVERRIDES,
    Service,
    chromium,
    chromium_binary,
)

pytestmark = pytest.mark.slow

DEPLOYMENTS = {
    "corpus": "corpus",
    "crawl": "crawl",
    "train": "crossling-train",
    "train-clm": "crossling-train",
    "evaluate": "crossling-evaluate",
    "pipeline": "crossling-pipeline",
    "backtranslate": "crossling-backtranslate",
}  # deployment name -> flow name
MODEL = "demo-mlm-tiny"


# --- reading the server back --------------------------------------------------------------------


def _client():
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def runs_of(deployment: str) -> list[Any]:
    """Runs of a deployment other than the ones its schedules created, oldest first."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with _client() as c:
        runs = c.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )
    return [r for r in runs if "auto-scheduled" not in r.tags]


def artifacts_of(flow_run_id) -> dict[str, Any]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with _client() as c:
        arts = c.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key or f"{a.type}-{a.id}": a for a in arts}


def run_logs(flow_run_id, n: int = 30) -> str:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with _client() as c:
        logs = c.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return "\n".join(f"{lg.level} {lg.message}" for lg in logs[-n:])


def wait_for_final_runs(svc: Service, deployment: str, n: int, timeout: float) -> list[Any]:
    """Wait until `deployment` has at least n runs, all of them finished; return them."""
    deadline = time.monotonic() + timeout
    runs: list[Any] = []
    while time.monotonic() < deadline:
        runs = runs_of(deployment)
        if len(runs) >= n and all(r.state and r.state.is_final() for r in runs):
            return runs
        time.sleep(2)
    states = [(r.name, r.state_type, r.parameters) for r in runs]
    logs = "\n".join(run_logs(r.id) for r in runs)
    raise AssertionError(
        f"{deployment}: wanted {n} finished runs in {timeout:.0f}s, have "
        f"{states}\n{logs}\n{svc.logs()}"
    )


def assert_completed(svc: Service, run) -> None:
    assert run.state.is_completed(), (
        f"{run.name}: {run.state.type} {run.state.message}\n{run_logs(run.id)}\n{svc.logs()}"
    )


def link_target(artifact) -> str:
    """The URL of a link artifact (stored as markdown: [text](url))."""
    m = re.fullmatch(r"\[.*\]\((.+)\)", artifact.data.strip(), flags=re.S)
    return m.group(1) if m else artifact.data


def table_rows(artifact) -> list[dict[str, Any]]:
    data = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    if isinstance(data, dict) and "rows" in data:  # list-of-lists form
        return [dict(zip(data["headers"], r, strict=False)) for r in data["rows"]]
    return data


# --- the event chain ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain(service: Service) -> dict[str, Any]:
    """Run `corpus` through the cpu worker; the triggers then run `train` and `evaluate`."""
    from prefect.deployments import run_deployment

    timings: dict[str, float] = {}
    with service.client_settings():
        t0 = time.monotonic()
        corpus_run = run_deployment("corpus/corpus", timeout=600, poll_interval=2)
        timings["corpus"] = time.monotonic() - t0
        assert_completed(service, corpus_run)
        train_runs = wait_for_final_runs(service, "train", 1, timeout=900)
        timings["train"] = time.monotonic() - t0
        eval_runs = wait_for_final_runs(service, "evaluate", 1, timeout=900)
        timings["evaluate"] = time.monotonic() - t0
        time.sleep(3)  # room for any further (wrong) trigger to fire before counting runs
        train_runs, eval_runs = runs_of("train"), runs_of("evaluate")
    print(
        f"[{service.backend}] chain timings (s from the corpus run's start): "
        + ", ".join(f"{k} {v:.0f}" for k, v in timings.items())
    )
    return {"corpus": corpus_run, "train": train_runs, "evaluate": eval_runs, "timings": timings}


def test_deployments_pools_and_automations(service: Service) -> None:
    with service.client_settings(), _client() as c:
        deps = {d.name: d for d in c.read_deployments()}
        assert set(deps) == set(DEPLOYMENTS)
        flows = {f.id: f.name for f in c.read_flows()}
        assert {n: flows[d.flow_id] for n, d in deps.items()} == DEPLOYMENTS
        pools = {p.name: p for p in c.read_work_pools()}
        assert pools["cpu"].type == pools["gpu"].type == "process"
        assert pools["gpu"].concurrency_limit == 1
        assert deps["corpus"].work_pool_name == "cpu" and deps["train"].work_pool_name == "gpu"
        assert [s.schedule.cron for s in deps["corpus"].schedules] == ["0 2 * * *"]
        assert [s.schedule.cron for s in deps["evaluate"].schedules] == ["0 5 * * *"]
        assert not deps["train"].schedules and not deps["pipeline"].schedules
        # Deploy-time templating: the service's root is the deployments' default root.
        assert deps["corpus"].parameters["params"]["root"] == service.root
        assert deps["evaluate"].parameters["root"] == service.root
        # Run-time templating: each worker resolves its own checkout.
        assert deps["train"].pull_steps == [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": "{{ $CROSSLING_REPO }}"
                }
            }
        ]
        autos = {a.name: a for a in c.read_automations()}
    retrain, evaluate = autos["retrain-on-new-corpus"], autos["evaluate-new-checkpoint"]
    assert retrain.trigger.expect == {"crossling.corpus.published"}
    assert retrain.trigger.match.root == {
        "prefect.resource.id": "crossling.corpus.*",
        "crossling.corpus.origin": "inputs",  # back-translated versions do not retrain
    }
    assert retrain.actions[0].deployment_id == deps["train"].id
    assert retrain.actions[0].parameters["params"]["version"] == "{{ event.payload.version }}"
    assert evaluate.trigger.expect == {"crossling.checkpoint.saved"}
    assert evaluate.actions[0].deployment_id == deps["evaluate"].id


def test_corpus_run_triggers_train_then_evaluate(service: Service, chain: dict[str, Any]) -> None:
    corpus_run = chain["corpus"]
    dr = DataRoot(service.root)
    version = dr.latest_version("demo")
    assert version and dr.read_manifest("demo", version)["conservation"]["balanced"]
    with service.client_settings():
        arts = artifacts_of(corpus_run.id)
        assert {
            "corpus-demo-languages",
            "corpus-demo-drops",
            "corpus-demo-manifest",
            "corpus-demo-summary",
            "corpus-demo-progress",
        } <= set(arts)
        langs = {row["lang"] for row in table_rows(arts["corpus-demo-languages"])}
        assert {"en", "de", "zh", "ja", "ar", "ru"} <= langs
        # The manifest link goes to the service's file server, and opens the manifest.
        manifest_url = link_target(arts["corpus-demo-manifest"])
        assert manifest_url == f"{service.files_url}/corpora/demo/{version}/manifest.json"
        with urllib.request.urlopen(manifest_url, timeout=30) as r:
            assert json.load(r) == dr.read_manifest("demo", version)

        # Exactly one training run, started by the automation, with the event's parameters.
        assert len(chain["train"]) == 1, [(r.name, r.parameters) for r in chain["train"]]
        train = chain["train"][0]
        assert_completed(service, train)
        p = train.parameters["params"]
        assert (p["data_root"], p["corpus"], p["version"]) == (service.root, "demo", version)
        assert p["max_steps"] == TRAIN_OVERRIDES["max_steps"]
        assert train.created_by and train.created_by.type == "AUTOMATION"
        tarts = artifacts_of(train.id)
        assert {f"train-{MODEL}-loss", f"train-{MODEL}-curve", f"train-{MODEL}-checkpoint"} <= set(
            tarts
        )
        losses = table_rows(tarts[f"train-{MODEL}-loss"])
        assert losses and losses[-1]["step"] == TRAIN_OVERRIDES["max_steps"]
        ckpt_link = link_target(tarts[f"train-{MODEL}-checkpoint"])
        assert ckpt_link.startswith(f"{service.files_url}/models/{MODEL}/")
        assert ckpt_link.endswith(f"checkpoint-{TRAIN_OVERRIDES['max_steps']}/")
        assert re.search(r"data:image/png;base64,|loss\.png", tarts[f"train-{MODEL}-curve"].data)

        # One evaluation per saved checkpoint, started by the checkpoint event.
        assert len(chain["evaluate"]) == 1, [(r.name, r.parameters) for r in chain["evaluate"]]
        ev = chain["evaluate"][0]
        assert_completed(service, ev)
        assert ev.created_by and ev.created_by.type == "AUTOMATION"
        assert ev.parameters["root"] == service.root
        assert len(ev.parameters["checkpoints"]) == 1
        assert ckpt_link.rstrip("/").endswith(
            os.path.relpath(ev.parameters["checkpoints"][0], service.root)
        )
        assert ev.parameters["config"] == EVAL_OVERRIDES
        earts = artifacts_of(ev.id)
        assert {f"eval-{MODEL}", f"eval-{MODEL}-report"} <= set(earts)
        # Plots (when the checkpoint has metrics to plot) inline as data: URIs, and linked on
        # the file server.
        report_md = earts[f"eval-{MODEL}-report"].data
        if "## Over checkpoints" in report_md:
            assert "](data:image/png;base64," in report_md
            assert f"]({service.files_url}/eval/{MODEL}/" in report_md
        board = table_rows(earts[f"eval-{MODEL}"])
        assert len(board) == 1 and str(board[0]["step"]) == str(TRAIN_OVERRIDES["max_steps"])
    assert glob.glob(f"{service.root}/eval/{MODEL}/*/{TRAIN_OVERRIDES['max_steps']}/results.json")


@pytest.mark.parametrize("service", ["sqlite"], indirect=True)  # once is enough
def test_pipeline_runs_children_without_waking_the_triggers(
    service: Service, chain: dict[str, Any]
) -> None:
    """The manual pipeline on a new corpus: three pipeline-* child runs, no extra train or
    evaluate deployment runs (the triggers skip pipeline-* runs)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
    from prefect.deployments import run_deployment

    with service.client_settings():
        # A partial parameter object, as `prefect deployment run ... --param params={...}`
        # sends it: the server replaces the deployment's whole `params` with it, and the flow
        # fills the rest (the served root, the lean training settings) from the deployment.
        params = {
            "params": {
                "corpus": {
                    "name": "pipe",
                    "sources": [
                        "crossling/data/demo/docs.jsonl",
                        "crossling/data/demo/parallel.jsonl",
                    ],
                }
            }
        }
        t0 = time.monotonic()
        run = run_deployment(
            "crossling-pipeline/pipeline", parameters=params, timeout=900, poll_interval=2
        )
        print(f"[{service.backend}] pipeline run {time.monotonic() - t0:.0f}s")
        assert_completed(service, run)
        time.sleep(3)
        with _client() as c:
            children = c.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id])
                )
            )
        names = sorted(r.name for r in children)
        assert names == sorted(f"pipeline-{run.name}-{s}" for s in ("corpus", "train", "evaluate"))
        assert all(r.state.is_completed() for r in children)
        assert len(runs_of("train")) == len(chain["train"])
        assert len(runs_of("evaluate")) == len(chain["evaluate"])
        with _client() as c:
            used = c.read_flow_run(run.id).parameters["params"]
        assert used["corpus"]["root"] == service.root
        assert used["train"]["max_steps"] == TRAIN_OVERRIDES["max_steps"]
        assert used["evaluate"] == EVAL_OVERRIDES
        train_child = next(r for r in children if r.name.endswith("-train"))
        assert train_child.parameters["params"]["max_steps"] == TRAIN_OVERRIDES["max_steps"]
        arts = artifacts_of(run.id)
        assert "pipeline-pipe" in arts
        summary = arts["pipeline-pipe"].data
        assert "pipe-mlm-tiny" in summary
        assert f"]({service.files_url}/corpora/pipe/" in summary
        assert f"]({service.files_url}/models/pipe-mlm-tiny/" in summary
    assert DataRoot(service.root).latest_version("pipe")
    assert not (REPO / "data" / "corpora" / "pipe").exists()  # not ./data of the worker's checkout


# --- the UI -------------------------------------------------------------------------------------


def _text(dom: str) -> str:
    dom = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def _dom_until(url: str, want: list[str], tries: int = 3) -> str:
    """The DOM once every string of `want` shows (data can load late on a first visit)."""
    dom = ""
    for _ in range(tries):
        dom = chromium(url)
        if all(w in dom for w in want):
            return dom
        time.sleep(2)
    missing = [w for w in want if w not in dom]
    raise AssertionError(f"{url}: missing {missing}; page text: {_text(dom)[:3000]}")


@pytest.mark.parametrize("service", ["sqlite"], indirect=True)  # once is enough
def test_ui_lists_deployments_and_shows_run_artifacts(
    service: Service, chain: dict[str, Any]
) -> None:
    if chromium_binary() is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    with service.client_settings(), _client() as c:
        deps = {d.name: d for d in c.read_deployments()}
    base = service.ui_url

    url = f"{base}/v2/deployments"
    dom = _dom_until(url, [f"deployment/{d.id}" for d in deps.values()])
    text = _text(dom)
    for name in DEPLOYMENTS:
        assert re.search(rf"\b{name}\b", text), (name, text[:2000])
    chromium(url, screenshot=TEST_OUTPUT / "deployments.png")

    run = chain["corpus"]
    url = f"{base}/v2/runs/flow-run/{run.id}?tab=Artifacts"
    keys = ["corpus-demo-languages", "corpus-demo-drops", "corpus-demo-summary"]
    _dom_until(url, [run.name, *keys])
    chromium(url, screenshot=TEST_OUTPUT / "corpus-run-artifacts.png")

    ev = chain["evaluate"][0]
    url = f"{base}/v2/runs/flow-run/{ev.id}?tab=Artifacts"
    _dom_until(url, [ev.name, f"eval-{MODEL}-report"])
    chromium(url, screenshot=TEST_OUTPUT / "evaluate-run-artifacts.png")
    # The manifest's link artifact, as the UI shows it, opens the manifest from the service.
    with service.client_settings():
        arts = artifacts_of(run.id)
        tarts = artifacts_of(chain["train"][0].id)
    art = arts["corpus-demo-manifest"]
    dom = _dom_until(f"{base}/v2/artifacts/artifact/{art.id}", [service.files_url])
    href = html.unescape(re.search(rf'href="({re.escape(service.files_url)}/[^"]+)"', dom)[1])
    assert href == link_target(art)
    page = chromium(href)
    shown = json.loads(html.unescape(re.search(r"<pre[^>]*>(.*?)</pre>", page, re.S)[1]))
    version = DataRoot(service.root).latest_version("demo")
    assert shown == DataRoot(service.root).read_manifest("demo", version)
    chromium(href, screenshot=TEST_OUTPUT / "manifest-from-artifact-link.png")
    # The checkpoint link opens a listing of the checkpoint's files.
    listing = chromium(link_target(tarts[f"train-{MODEL}-checkpoint"]))
    assert "config.json" in listing and ".prefect" not in listing
    # The loss curve is drawn in the artifact itself.
    curve = tarts[f"train-{MODEL}-curve"]
    url = f"{base}/v2/artifacts/artifact/{curve.id}"
    _dom_until(url, ['<img alt="loss curve" src="data:image/png;base64,'])
    chromium(url, screenshot=TEST_OUTPUT / "train-curve-artifact.png")
    for png in (
        "deployments.png",
        "corpus-run-artifacts.png",
        "evaluate-run-artifacts.png",
        "manifest-from-artifact-link.png",
        "train-curve-artifact.png",
    ):
        assert (TEST_OUTPUT / png).stat().st_size > 10_000, png


@pytest.mark.parametrize("service", ["sqlite"], indirect=True)  # once is enough
def test_cli_runs_go_to_the_service_of_their_root(service: Service, tmp_path) -> None:
    """A command on a served root (here `crossling langid`, whose root is $CROSSLING_ROOT) runs
    against that service, without PREFECT_API_URL: no temporary server, the run in the UI."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    src = tmp_path / "one.jsonl"
    src.write_text('{"id": 1, "text": "Das ist ein kurzer deutscher Satz über das Wetter."}\n')
    env = {**os.environ, "CROSSLING_ROOT": service.root, "PYTHONPATH": str(REPO)}
    env.pop("PREFECT_API_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "flows.cli",
        "langid",
        str(src),
        "--out",
        str(tmp_path / "o.jsonl"),
    ]
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    print(
        f"[{service.backend}] crossling langid on one line, served root: {time.monotonic() - t0:.1f}s"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "temporary server" not in r.stdout + r.stderr and "note:" not in r.stderr
    with service.client_settings():
        with _client() as c:
            runs = c.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["langid"])))
        assert len(runs) == 1 and runs[0].state.is_completed(), runs
        assert "langid-one-jsonl" in artifacts_of(runs[0].id)


def test_launcher_refuses_a_second_start_on_the_same_root(service: Service) -> None:
    with pytest.raises(serve.ServeError, match="already serving"):
        serve.start(serve.ServeOptions(root=service.root, port=serve.free_port()))
    st = serve.status(service.root)
    assert st and all(p["alive"] for p in st["processes"])
    assert {p["name"] for p in st["processes"]} == {"server", "files", "worker-cpu", "worker-gpu"}


def test_crawl_deployment_builds_a_version_that_starts_training(service: Service) -> None:
    """The `crawl` deployment on the demo website (served here on loopback): its corpus version
    starts training through the same `retrain-on-new-corpus` automation as a corpus run."""
    if service.backend != "sqlite":
        pytest.skip("the trigger is the corpus one, tested on both backends; one crawl suffices")
    from prefect.deployments import run_deployment

    from crossling.sources.site import LoopbackSite, pages_from_folder
    from flows.demo import site_dir

    with LoopbackSite(pages_from_folder(site_dir())) as site, service.client_settings():
        params = {
            "seeds": [site.url + "/"],
            "root": service.root,
            "name": "site",
            "allow_hosts": [f"127.0.0.1:{site.port}"],
            "delay": 0.0,
            "max_depth": 2,
            "workers": 1,
            # Enough held-out pairs per direction that the split stage tops up none (it moves
            # single rows, which would split the groups of pairs sharing an English sentence).
            "corpus_config": {"heldout_fraction": 0.15},
        }
        run = run_deployment(
            "crawl/crawl", parameters={"params": params}, timeout=600, poll_interval=2
        )
        assert_completed(service, run)
        assert site.counts["/en/weather.html"] == 1
        keys = set(artifacts_of(run.id))
        assert {"crawl-site-outcomes", "crawl-site-hosts", "crawl-site-summary"} <= keys
        deadline = time.monotonic() + 900
        trained = []
        while time.monotonic() < deadline and not trained:
            trained = [
                r
                for r in runs_of("train")
                if r.parameters["params"]["corpus"] == "site" and r.state and r.state.is_final()
            ]
            time.sleep(2)
    assert trained, f"no training run on the crawl's version\n{service.logs()}"
    assert_completed(service, trained[0])
