"""``crossling backtranslate`` through the real Prefect server: usage errors, artifacts, event."""

from __future__ import annotations

import json

import pytest

from flows.cli import main
from tasks.events import CORPUS_PUBLISHED
from tests import prefect_reads
from tests.augment.conftest import CORPUS


def _run(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["backtranslate", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_usage_errors_are_one_line(bt_root, prefect_server, capsys):
    root = bt_root["root"]
    base = ["--data", root, "--corpus", CORPUS]
    cases = [
        (
            ["--data", root + "-missing", "--corpus", CORPUS, "--lang", "en", "--to", "zh"],
            "does not exist",
        ),
        (["--data", root, "--corpus", "nope", "--lang", "en", "--to", "zh"], "no complete version"),
        ([*base, "--lang", "de", "--to", "zh"], "no train documents in de"),
        ([*base, "--lang", "en", "--to", "fr"], "no translation checkpoint"),
        ([*base, "--lang", "en", "--to", "zh", "--model", "/no/such/dir"], "not a directory"),
        ([*base, "--lang", "en", "--to", "zh", "--budget", "lots"], "--budget lots"),
    ]
    for args, message in cases:
        rc, _, err = _run(capsys, *args)
        assert rc == 2, args
        assert err.count("\n") == 1 and message in err, err


@pytest.mark.slow
def test_flow_publishes_a_version_artifacts_and_an_event(bt_root, prefect_server, capsys):
    root = bt_root["root"]
    args = ["--data", root, "--corpus", CORPUS, "--lang", "en", "--to", "zh", "--beam", "2"]
    rc, out, _ = _run(capsys, *args, "--budget", "0.5", "--json")
    assert rc == 0
    s = json.loads(out)["rounds"][0]
    assert (
        s["new"]
        and s["parent"] == bt_root["version"]
        and s["model"]["path"] == bt_root["checkpoint"]
    )
    key = f"backtranslate-{CORPUS}"
    filters = prefect_reads.artifacts(f"{key}-filters")[-1].data
    table = json.loads(filters) if isinstance(filters, str) else filters
    assert table[0]["outcome"] == "kept" and table[0]["sentences"] == s["kept"]
    samples = prefect_reads.artifacts(f"{key}-samples")[-1].data
    rows = json.loads(samples) if isinstance(samples, str) else samples
    assert len(rows) == min(20, s["kept"]) and all(r["synthetic source"] for r in rows)
    summary = prefect_reads.artifacts(f"{key}-summary")[-1].data
    assert s["version"] in summary and "sentences/s" in summary
    events = prefect_reads.events(CORPUS_PUBLISHED, root, expected=1)
    assert [e.payload["version"] for e in events] == [s["version"]]
    assert events[0].payload["derived"] == "backtranslation"

    # The same command again finds the version: nothing new, no second event.
    rc, out, _ = _run(capsys, *args, "--budget", "0.5")
    assert rc == 0 and "already complete" in out


@pytest.mark.slow
def test_two_rounds_record_which_checkpoint_made_which_rows(bt_root, prefect_server):
    from crossling.corpus import CorpusVersion
    from flows.backtranslate import BacktranslateParams, backtranslate_flow

    root = bt_root["root"]
    params = BacktranslateParams(
        root=root,
        corpus=CORPUS,
        config={"lang": "en", "to": "zh", "model": bt_root["checkpoint"], "budget_ratio": 0.3},
        rounds=2,
        train={"preset": "tiny", "max_steps": 20, "batch_size": 16, "save_every": 20},
    )
    out = backtranslate_flow(params)
    first, second = out["rounds"]
    assert (first["round"], second["round"]) == (1, 2)
    assert first["parent"] == bt_root["version"] and second["parent"] == first["version"]
    # No Chinese documents to swap to: round 2 back-translates the English ones again, with the
    # model trained on round 1's version, and replaces round 1's rows in the chain.
    assert second["direction"] == "zh-en"
    ckpt = second["model"]["checkpoint"]
    assert ckpt["model_name"] == f"{CORPUS}-bt-round2"
    assert ckpt["corpus"]["version"] == first["version"]
    assert first["model"]["sha256"] != second["model"]["sha256"]
    v2 = CorpusVersion.open(root, CORPUS, second["version"])
    assert [v.version for v in v2.chain()] == [second["version"], bt_root["version"]]
    # Every row of round 2, kept or dropped (a 20-step model drops most), names its checkpoint.
    tag = f"{second['model']['id']}@sha256:{second['model']['sha256']}"
    assert {p["model"] for p in v2.table("pairs").to_pylist()} <= {tag}
    sources = {r["source"] for r in v2.table("rejects").to_pylist()}
    sources |= {p["source"] for p in v2.table("pairs").to_pylist()}
    assert sources == {f"bt:{second['model']['id']}"}
    assert v2.manifest["conservation"]["balanced"]


def test_pipeline_backtranslate_option_is_checked(prefect_server, capsys, tmp_path):
    from flows.corpus import CorpusParams
    from flows.pipeline import PipelineParams

    rc = main(
        ["pipeline", "x.jsonl", "--out", str(tmp_path), "--name", "n", "--backtranslate", "en"]
    )
    assert rc == 2 and "expected XX:YY" in capsys.readouterr().err
    p = PipelineParams(
        corpus=CorpusParams(sources=["x.jsonl"], root=str(tmp_path), name="n"),
        backtranslate={"lang": "en", "to": "zh"},
    )
    assert p.backtranslate.to == "zh" and p.backtranslate.model == "latest"


@pytest.mark.slow
def test_pipeline_backtranslates_before_training(prefect_server, tmp_path):
    from crossling.corpus import CorpusVersion
    from flows.corpus import CorpusParams
    from flows.demo import zh_en_sources
    from flows.pipeline import PipelineParams, pipeline_flow

    root = str(tmp_path / "root")
    params = PipelineParams(
        corpus=CorpusParams(sources=zh_en_sources(), root=root, name="zhen", workers=1),
        train={"objective": "translation", "preset": "tiny", "max_steps": 10, "save_every": 10},
        backtranslate={"lang": "en", "to": "zh", "max_segments": 200, "decoding": {"beam": 1}},
    )
    out = pipeline_flow(params)
    bt = out["backtranslate"]
    # No model covered en->zh: the pipeline trained one on the corpus first, then back-translated.
    assert bt["model"]["checkpoint"]["model_name"] == "zhen-bt-model"
    assert bt["parent"] == out["corpus"]["version"] and bt["inputs"] == 200
    assert out["train"]["corpus"]["version"] == bt["version"]
    assert CorpusVersion.open(root, "zhen", bt["version"]).manifest["conservation"]["balanced"]
