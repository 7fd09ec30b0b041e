"""Fast checks of deployments/ (no server): prefect.yaml against Prefect's own schema and the
flows it names, and the launcher's bind rule and process bookkeeping."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from deployments import serve
from flows.deployment_flow import DeploymentFlow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prefect_yaml() -> dict:
    return yaml.safe_load(serve.PREFECT_FILE.read_text())


def test_prefect_yaml_is_valid_for_prefect_deploy(prefect_yaml, monkeypatch) -> None:
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers
    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.templating import apply_values

    model = PrefectYamlModel.model_validate(prefect_yaml)
    names = {d.name: d for d in model.deployments}
    assert set(names) == {
        "corpus",
        "crawl",
        "train",
        "evaluate",
        "pipeline",
        "backtranslate",
        "train-clm",
    }
    assert model.pull == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $CROSSLING_REPO }}"}}
    ]
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("CROSSLING_ROOT", "/srv/crossling")
    for name, d in names.items():
        flow = load_flow_from_entrypoint(d.entrypoint)
        # Partial parameter objects keep the deployment's defaults (this one and any added later).
        assert isinstance(flow, DeploymentFlow), (name, type(flow))
        # Deploy-time templating as `prefect deploy` does it, then the flow's own validation.
        params = apply_values(d.parameters, dict(__import__("os").environ), remove_notset=False)
        flow.validate_parameters(params)
        if d.triggers:
            triggers = _initialize_deployment_triggers(name, json.loads(json.dumps(d.triggers)))
            for t in triggers:
                assert t.match.root["prefect.resource.id"].startswith("crossling.")  # never bare
                related = (
                    t.match_related if isinstance(t.match_related, list) else [t.match_related]
                )
                # Every trigger skips pipeline runs (they train and evaluate themselves).
                assert related[0].root == {
                    "prefect.resource.role": "flow-run",
                    "prefect.resource.name": "!pipeline-*",
                }
                # The causal LM retrains only on corpus runs tagged for it (opt-in).
                assert [r.root for r in related[1:]] == (
                    [
                        {
                            "prefect.resource.role": "tag",
                            "prefect.resource.id": "prefect.tag.train-clm",
                        }
                    ]
                    if name == "train-clm"
                    else []
                )
    assert names["corpus"].parameters["params"]["root"] == "{{ $CROSSLING_ROOT }}"
    for d in ("corpus", "evaluate", "crawl"):
        assert names[d].schedules and names[d].schedules[0].cron
    crawl = names["crawl"]
    assert crawl.work_pool.name == "cpu" and crawl.parameters["params"]["root"] == (
        "{{ $CROSSLING_ROOT }}"
    )
    assert crawl.schedules[0].cron == "0 3 * * 1"  # weekly; off until seeds are set
    trig = names["train"].triggers[0]
    assert trig["expect"] == ["crossling.corpus.published"]
    assert trig["parameters"]["params"]["version"] == "{{ event.payload.version }}"
    trig = names["evaluate"].triggers[0]
    assert trig["expect"] == ["crossling.checkpoint.saved"]
    assert trig["parameters"]["checkpoints"] == ["{{ event.payload.checkpoint }}"]


def test_trigger_parameters_render_from_an_event_payload(prefect_yaml) -> None:
    """The server's own templating of run-deployment parameters, applied to a corpus event."""
    from uuid import uuid4

    from prefect.server.events.actions import RunDeployment
    from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

    trig = next(d for d in prefect_yaml["deployments"] if d["name"] == "train")["triggers"][0]
    action = RunDeployment(
        source="selected",
        deployment_id=uuid4(),  # validates the templates
        parameters=trig["parameters"],
    )
    params = json.loads(json.dumps(action.parameters))
    RunDeployment._upgrade_v1_templates(params)  # what render_parameters does first
    event = {"payload": {"root": "/data", "name": "news", "version": "20260101T000000Z-abc"}}
    params = hydrate(
        params,
        HydrationContext(render_jinja=True, raise_on_error=True, jinja_context={"event": event}),
    )
    assert params["params"] == {
        "data_root": "/data",
        "corpus": "news",
        "version": "20260101T000000Z-abc",
        "objective": "mlm",
        "preset": "tiny",
        "mode": "continue",
    }


def test_work_pools_from_prefect_yaml() -> None:
    pools = {p["name"]: p for p in serve.work_pools(serve.PREFECT_FILE)}
    assert set(pools) == {"cpu", "gpu"}
    assert pools["gpu"]["concurrency_limit"] == 1 and pools["cpu"]["concurrency_limit"] is None
    assert {p["type"] for p in pools.values()} == {"process"}


def test_bind_beyond_loopback_needs_basic_auth(monkeypatch) -> None:
    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        serve.check_bind(host)
    for host in ("0.0.0.0", "::", "10.1.2.3", "myhost.example.org"):
        with pytest.raises(serve.ServeError, match="PREFECT_SERVER_API_AUTH_STRING"):
            serve.check_bind(host)
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", "admin:s3cret")
    serve.check_bind("0.0.0.0")


def test_service_env_auth_and_database(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", "admin:s3cret")
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    monkeypatch.delenv("PREFECT_SERVER_DATABASE_CONNECTION_URL", raising=False)
    opts = serve.ServeOptions(root=str(tmp_path), port=4321)
    env = serve.service_env(opts, "http://127.0.0.1:4321/api", "http://127.0.0.1:4321/api")
    assert env["PREFECT_API_AUTH_STRING"] == "admin:s3cret"
    assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] == (
        f"sqlite+aiosqlite:///{tmp_path}/.prefect/prefect.db"
    )
    assert env["PREFECT_HOME"] == f"{tmp_path}/.prefect" and env["CROSSLING_ROOT"] == str(tmp_path)
    pg = "postgresql+asyncpg://crossling:pw@db:5432/prefect"
    monkeypatch.setenv("PREFECT_SERVER_DATABASE_CONNECTION_URL", pg)
    env = serve.service_env(opts, "http://x/api", "http://x/api")
    assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] == pg
    assert serve.redacted_db(pg) == "postgresql+asyncpg://crossling:***@db:5432/prefect"


def test_stop_ends_recorded_process_groups_and_spares_reused_pids(tmp_path) -> None:
    sdir = serve.state_dir(str(tmp_path))
    sdir.mkdir(parents=True)
    entry = serve._spawn(
        "worker-cpu",
        [
            sys.executable,
            "-c",
            "import subprocess,time; subprocess.Popen(['sleep','60']); time.sleep(60)",
        ],
        dict(__import__("os").environ),
        tmp_path,
        sdir / "logs" / "w.log",
    )
    popen = entry.pop("_popen")
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    stale = {"name": "server", "pid": bystander.pid, "create_time": time.time() - 3600, "log": "-"}
    (sdir / serve.STATE_FILE).write_text(json.dumps({"processes": [stale, entry]}))
    time.sleep(0.5)
    import psutil

    children = psutil.Process(entry["pid"]).children(recursive=True)
    assert serve.status(str(tmp_path))["processes"][1]["alive"]
    result = serve.stop(str(tmp_path), quiet=True)
    assert result == {"worker-cpu": "stopped", "server": "not running"}
    assert popen.wait(timeout=10) is not None
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    assert bystander.poll() is None  # a reused PID is not ours: left alone
    bystander.kill()
    bystander.wait()
    assert serve.read_state(str(tmp_path)) is None


def test_cli_serve_refuses_public_bind_without_auth(monkeypatch, tmp_path, capsys) -> None:
    from flows.cli import main

    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    assert main(["serve", "--root", str(tmp_path), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0" in err and len(err.strip().splitlines()) == 1
    assert main(["stop", "--root", str(tmp_path)]) == 0
    assert "nothing was served" in capsys.readouterr().out


def test_files_port_is_the_next_one_or_the_one_asked_for(tmp_path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(serve.ServeError, match="--files-port"):
            serve.files_port_for(serve.ServeOptions(root=str(tmp_path), files_port=busy))
        # The server's port + 1 when free; any free port when it is not.
        port = busy - 1
        got = serve.files_port_for(serve.ServeOptions(root=str(tmp_path), port=port))
        assert got != busy and not serve.port_in_use("127.0.0.1", got)
    free = serve.free_port()
    opts = serve.ServeOptions(root=str(tmp_path), port=free - 1)
    assert serve.files_port_for(opts) == free
