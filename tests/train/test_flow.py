"""The training flow against a real Prefect server, and the ``crossling train`` command."""

from __future__ import annotations

import base64
import os

from tests.prefect_reads import PNG_SIGNATURE, artifacts
from tests.prefect_reads import events as read_events


def test_train_flow_publishes_curve_checkpoint_link_and_events(
    prefect_server, corpus_root, out_root
):
    from crossling.train.config import TrainConfig
    from flows.train import train_flow

    params = TrainConfig(
        data_root=corpus_root,
        corpus="fixture",
        out_root=out_root,
        objective="mlm",
        preset="tiny",
        max_steps=20,
        save_every=10,
        log_every=5,
    )
    s = train_flow(params)
    assert s["trained"] and s["step"] == 20

    (table,) = artifacts("train-fixture-mlm-tiny-loss")
    assert table.type == "table"
    (md,) = artifacts("train-fixture-mlm-tiny-curve")
    assert "data:image/png;base64," in md.data and "loss.png" in md.data
    png = os.path.join(s["run_dir"], "loss.png")
    with open(png, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    embedded = md.data.split("data:image/png;base64,", 1)[1].split(")", 1)[0]
    assert base64.b64decode(embedded)[:8] == PNG_SIGNATURE
    (link,) = artifacts("train-fixture-mlm-tiny-checkpoint")
    assert "checkpoint-20" in link.data  # link artifacts are stored as markdown links

    events = read_events("crossling.checkpoint.saved", out_root, 2)
    assert sorted(e.payload["step"] for e in events) == [10, 20]
    for e in events:
        assert e.resource.id == "crossling.model.fixture-mlm-tiny"
        assert set(e.payload) == {
            "root",
            "model_name",
            "run_version",
            "step",
            "checkpoint",
            "objective",
            "corpus",
            "corpus_version",
        }
        assert os.path.isdir(e.payload["checkpoint"]) and e.payload["objective"] == "mlm"

    again = train_flow(params)  # the same parameters find the finished run
    assert not again["trained"] and again["run_version"] == s["run_version"]
    assert len(read_events("crossling.checkpoint.saved", out_root, 3, timeout=2)) == 2


def test_cli_names_an_unknown_corpus_or_version_in_one_line(corpus_root, capsys):
    from flows.cli import main

    def train(*args: str) -> int:  # --local: no Prefect server needed to check the arguments
        return main(["train", "--data", corpus_root, "--local", *args])

    assert train("--corpus", "nope") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'nope'" in err
    assert train("--corpus", "fixture", "--version", "20990101T000000Z-deadbeef") == 2
    assert "20990101T000000Z-deadbeef" in capsys.readouterr().err
    assert train("--corpus", "fixture", "--objective", "classification") == 2
    assert "--labeled" in capsys.readouterr().err
    assert train("--corpus", "fixture", "--objective", "translation", "--directions", "xx-yy") == 2
    assert "xx-yy" in capsys.readouterr().err


def test_cli_local_run_prints_the_loss_and_checkpoint(corpus_root, out_root, capsys):
    from flows.cli import main

    rc = main(
        [
            "train",
            "--data",
            corpus_root,
            "--corpus",
            "fixture",
            "--out",
            out_root,
            "--preset",
            "tiny",
            "--max-steps",
            "10",
            "--save-every",
            "10",
            "--local",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "fixture-mlm-tiny" in out and "loss" in out and "checkpoint-10" in out
