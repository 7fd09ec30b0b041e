"""The causal LM as a service: the `train-clm` deployment's parameters, retraining on a new corpus
version through the training flow, and the evaluation flow scoring its checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from crossling.train.config import TrainConfig
from tests.prefect_reads import artifacts
from tests.train.corpus_fixture import make_corpus

REPO = Path(__file__).resolve().parents[2]


def _deployment(name: str) -> dict:
    with open(REPO / "deployments" / "prefect.yaml", encoding="utf-8") as f:
        return next(d for d in yaml.safe_load(f)["deployments"] if d["name"] == name)


def test_train_clm_deployment_parameters_are_a_valid_clm_config():
    d = _deployment("train-clm")
    assert d["entrypoint"] == "flows/train.py:train_flow" and d["work_pool"]["name"] == "gpu"
    fill = {"{{ $CROSSLING_ROOT }}": "/data", "{{ event.payload.root }}": "/data"}
    for params in (d["parameters"]["params"], d["triggers"][0]["parameters"]["params"]):
        params = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
        cfg = TrainConfig(**params)
        assert cfg.objective == "clm" and cfg.mode == "continue"
    trigger = d["triggers"][0]
    assert trigger["expect"] == ["crossling.corpus.published"]
    assert trigger["match"]["crossling.corpus.origin"] == "inputs"
    assert trigger["parameters"]["params"]["version"] == "{{ event.payload.version }}"


@pytest.mark.slow
def test_clm_retrains_on_a_new_version_and_is_evaluated(prefect_server, tmp_path):
    from flows.evaluate import evaluate_flow
    from flows.train import train_flow

    root = str(tmp_path / "root")
    small = {"en": 40, "de": 30, "zh": 30}
    v1 = make_corpus(root, docs_per_lang=small, pairs_per_direction=10, synthetic_pairs=0)
    base = {
        "data_root": root,
        "corpus": "fixture",
        "objective": "clm",
        "preset": "tiny",
        "max_steps": 10,
        "save_every": 10,
        "log_every": 5,
        "seq_len": 64,
        "batch_size": 4,
        "rehydration": "up-to-5",
    }
    first = train_flow(TrainConfig(**base, version=v1))
    # What the trigger does when the next version is published: the same flow, that version.
    v2 = make_corpus(
        root,
        docs_per_lang={"en": 20, "fr": 30},
        pairs_per_direction=10,
        synthetic_pairs=0,
        seed=1,
        parent=v1,
    )
    second = train_flow(TrainConfig(**base, version=v2))
    assert second["parent_checkpoint"] == first["checkpoint"]
    assert [v["version"] for v in second["trained_on"]] == [v2]
    assert artifacts("train-fixture-clm-tiny-curve")

    # The nightly evaluation: every checkpoint without results, whatever its kind.
    out = evaluate_flow(root=root)
    assert len(out["evaluated"]) == 2 and not out["failed"]
    model = out["models"]["fixture-clm-tiny"]
    results = sorted(Path(root, "eval", "fixture-clm-tiny").rglob("results.json"))
    assert len(results) == 2
    last = json.loads(results[-1].read_text())
    assert "bits_per_byte/fr" in last["metrics"]  # the new version's language, held out
    assert os.path.exists(model["report"].removeprefix("file://"))


@pytest.mark.slow
def test_clm_trigger_fires_only_for_corpus_runs_tagged_train_clm(prefect_server, tmp_path):
    """The `train-clm` trigger is on, but opt-in: the server's own matching (on the events a real
    flow run emitted, with the related resources Prefect attached) covers a corpus event of a run
    tagged `train-clm` and not an untagged one, which `train` alone covers."""
    from prefect import flow, tags
    from prefect.server.events.schemas.automations import EventTrigger
    from prefect.server.events.schemas.events import ReceivedEvent

    from flows.events import emit
    from tasks.events import CORPUS_ORIGIN, CORPUS_PUBLISHED, corpus_resource
    from tests.prefect_reads import events

    @flow(name="corpus-publish-probe")
    def publish(root: str) -> None:
        emit(
            CORPUS_PUBLISHED,
            corpus_resource("demo"),
            {"root": root, "name": "demo", "version": "v1"},
            name="demo",
            labels={CORPUS_ORIGIN: "inputs"},
        )

    plain, tagged = str(tmp_path / "plain"), str(tmp_path / "tagged")
    publish(plain)
    with tags("train-clm"):
        publish(tagged)
    (a,), (b,) = events(CORPUS_PUBLISHED, plain, 1), events(CORPUS_PUBLISHED, tagged, 1)

    def covers(deployment: str, event) -> bool:
        t = _deployment(deployment)["triggers"][0]
        keys = ("expect", "match", "match_related", "posture", "threshold", "within")
        trigger = EventTrigger.model_validate({k: t[k] for k in keys if k in t})
        return trigger.covers(ReceivedEvent.model_validate(event.model_dump()))

    assert _deployment("train-clm")["triggers"][0]["enabled"] is True
    assert not covers("train-clm", a) and covers("train-clm", b)
    assert covers("train", a) and covers("train", b)  # the encoder retrains on both
