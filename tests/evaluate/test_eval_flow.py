"""The evaluation flow and CLI against a real Prefect server."""

from __future__ import annotations

import json
import os

import pytest

from crossling import registry
from crossling.documents import make_id
from tests.evaluate.evalfixtures import make_encoder, make_seq2seq, write_train_ids
from tests.prefect_reads import PNG_SIGNATURE, artifacts
from tests.prefect_reads import events as read_events


def test_flow_evaluates_publishes_and_reruns_as_noop(prefect_server, corpus_root, capsys):
    from flows.cli import main
    from flows.evaluate import evaluate_flow

    v = "20261101T000000Z-e0c0de01"
    make_encoder(corpus_root, run_version=v, step=1, seed=1)
    make_encoder(corpus_root, run_version=v, step=2, seed=2)
    make_seq2seq(corpus_root)

    summary = evaluate_flow(root=corpus_root)
    assert len(summary["evaluated"]) == 3 and summary["failed"] == {}
    assert registry.pending_checkpoints(corpus_root) == []
    assert set(summary["models"]) == {"tiny-mlm", "tiny-mt"}

    # Leaderboard table artifact, one row per checkpoint, readable through the API.
    (table,) = artifacts("eval-tiny-mlm")
    rows = json.loads(table.data)
    assert [r["step"] for r in rows] == [1, 2]
    assert {"mlm_accuracy", "pseudo_perplexity", "retrieval_top1", "regressions"} <= set(rows[0])
    (md,) = artifacts("eval-tiny-mlm-report")
    assert md.type == "markdown" and "| metric | value | previous |" in md.data
    assert "data:image/png;base64," in md.data
    (mt,) = artifacts("eval-tiny-mt")
    assert {"bleu", "chrf"} <= set(json.loads(mt.data)[0])

    # Plots next to the newest checkpoint's results, as PNG files a person can open.
    plots = summary["models"]["tiny-mlm"]["plots"]
    assert set(plots) == {"mlm_accuracy", "pseudo_perplexity", "retrieval_top1"}
    for uri in plots.values():
        path = uri.removeprefix("file://")
        assert f"/eval/tiny-mlm/{v}/2/plots/" in path
        with open(path, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE and os.path.getsize(path) > 5000

    events = read_events("crossling.eval.completed", corpus_root, 3)
    assert len(events) == 3
    by_step = {(e.payload["model_name"], e.payload["step"]): e for e in events}
    e2 = by_step[("tiny-mlm", 2)]
    assert e2.resource.id == "crossling.model.tiny-mlm"
    assert e2.payload["run_version"] == v and e2.payload["root"] == corpus_root
    assert e2.payload["results"].endswith(f"/eval/tiny-mlm/{v}/2/results.json")
    assert isinstance(e2.payload["regressions"], list)
    assert set(e2.payload["headline"]) == {
        "mlm_accuracy/avg",
        "pseudo_perplexity/avg",
        "retrieval_top1/avg",
    }

    # A rerun evaluates nothing, publishes nothing and leaves the results untouched.
    mtimes = {
        c.results_path: os.path.getmtime(c.results_path)
        for c in registry.find_checkpoints(corpus_root)
    }
    again = evaluate_flow(root=corpus_root)
    assert again == {"evaluated": [], "failed": {}, "models": {}}
    assert len(artifacts("eval-tiny-mlm")) == 1
    assert {p: os.path.getmtime(p) for p in mtimes} == mtimes

    # The CLI: nothing new, the leaderboard printed; bad input is a usage error (exit 2).
    capsys.readouterr()
    assert main(["evaluate", "--data", corpus_root]) == 0
    out = capsys.readouterr().out
    assert "nothing new to evaluate" in out and "== tiny-mlm" in out and "== tiny-mt" in out
    assert main(["evaluate", "no-such/checkpoint-1", "--data", corpus_root]) == 2
    assert "not a complete checkpoint" in capsys.readouterr().err
    assert len(read_events("crossling.eval.completed", corpus_root, 4, timeout=2)) == 3


def test_flow_refuses_contaminated_checkpoint_and_scores_the_rest(prefect_server, corpus_root):
    from flows.evaluate import EvaluationFailed, evaluate_flow, run_demo_evaluation

    clean = make_encoder(corpus_root, model_name="clean-mlm")
    dirty = make_encoder(corpus_root, model_name="leaky-mlm")
    write_train_ids(corpus_root, dirty, extra=[(make_id("file:fixture", "zh:1"), None)])
    with pytest.raises(EvaluationFailed, match=r"leaky-mlm/.*1 of 18 rows of eval set"):
        evaluate_flow(root=corpus_root)
    assert [c.model_name for c in registry.evaluated_checkpoints(corpus_root)] == ["clean-mlm"]
    assert clean.name == "checkpoint-1" and artifacts("eval-clean-mlm")
    assert not artifacts("eval-leaky-mlm")

    # The demo entry point re-raises (the leaky checkpoint is still pending); once fixed it prints.
    write_train_ids(corpus_root, dirty)
    text = run_demo_evaluation(corpus_root)["text"]
    assert "== clean-mlm" in text and "== leaky-mlm" in text


def test_flow_warns_and_publishes_what_had_nothing_to_evaluate(prefect_server, data_root):
    """A corpus whose documents all landed in the train split: the checkpoint is evaluated,
    nothing is scored, the run says so (warning, leaderboard status, report, event)."""
    from flows.evaluate import evaluate_flow
    from tests.evaluate import evalfixtures
    from tests.train.corpus_fixture import write_version

    rows = [
        evalfixtures.doc_row(lang, i, t, "train")
        for lang in evalfixtures.LANGS
        for i, t in enumerate(evalfixtures.TEXTS[lang])
    ]
    write_version(data_root, evalfixtures.CORPUS, evalfixtures.CORPUS_VERSION, docs=rows)
    make_encoder(data_root, model_name="empty-mlm")
    summary = evaluate_flow(root=data_root)
    info = summary["models"]["empty-mlm"]
    assert len(info["warnings"]) == 1 and "nothing to evaluate" in info["warnings"][0]
    (table,) = artifacts("eval-empty-mlm")
    (row,) = json.loads(table.data)
    assert row["status"] == "nothing_to_evaluate" and row["regressions"] == 0
    (md,) = artifacts("eval-empty-mlm-report")
    assert "**NOTHING TO EVALUATE:**" in md.data
    (event,) = read_events("crossling.eval.completed", data_root, 1)
    assert event.payload["status"] == "nothing_to_evaluate" and event.payload["headline"] == {}
