"""``crossling trace``: corpus versions that hold a document, checkpoints that trained on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from crossling.corpus import CorpusVersion
from crossling.trace import Query, trace
from crossling.train.config import TrainConfig
from crossling.train.run import run_training
from tests.train.corpus_fixture import make_corpus

REPO = os.path.join(os.path.dirname(__file__), "..", "..")


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """Two versions; an MLM run on v1, continued on v2; a translation run on v2."""
    root = str(tmp_path_factory.mktemp("trace"))
    docs = {"en": 30, "de": 20, "zh": 20}
    v1 = make_corpus(root, docs_per_lang=docs, pairs_per_direction=30, synthetic_pairs=5)
    v2 = make_corpus(
        root, docs_per_lang={"en": 20, "fr": 20}, pairs_per_direction=20, seed=2, parent=v1
    )
    base = {"data_root": root, "corpus": "fixture", "preset": "tiny", "max_steps": 2}
    mlm1 = run_training(TrainConfig(**base, version=v1, save_every=1))
    mlm2 = run_training(TrainConfig(**base, version=v2, save_every=2))
    mt = run_training(TrainConfig(**base, version=v2, objective="translation", save_every=2))
    return root, v1, v2, mlm1, mlm2, mt


def _row(root: str, version: str, kind: str, split: str) -> dict:
    v = CorpusVersion.open(root, "fixture", version)
    return next(r for r in v.table(kind, split=split).to_pylist() if kind == "pairs" or r["url"])


def test_a_train_document_of_v1_by_url(traced):
    root, v1, v2, mlm1, mlm2, mt = traced
    doc = _row(root, v1, "docs", "train")
    t = trace(root, Query.parse(doc["url"]))
    assert [(h.version, h.kind, h.split, h.id, h.matched_by) for h in t.holdings] == [
        (v1, "docs", "train", doc["id"], "url")
    ]
    # Both MLM runs: the continued one inherited v1's rows. Not the translation run (PAIRS only).
    runs = {r.model_name + "/" + r.run_version: r for r in t.trained_on}
    assert set(runs) == {
        f"fixture-mlm-tiny/{mlm1['run_version']}",
        f"fixture-mlm-tiny/{mlm2['run_version']}",
    }
    first = runs[f"fixture-mlm-tiny/{mlm1['run_version']}"]
    assert first.checkpoints == mlm1["checkpoints"] and first.versions == [v1]
    assert t.searched == {"corpus_versions": 2, "training_runs": 3}


def test_a_heldout_document_is_held_but_never_trained_on(traced):
    root, v1, v2, *_ = traced
    doc = _row(root, v2, "docs", "heldout")
    t = trace(root, Query.parse(doc["id"]))
    assert [(h.version, h.split) for h in t.holdings] == [(v2, "heldout")]
    assert t.trained_on == []


def test_text_of_a_pair_side_finds_the_pair_and_the_translation_run(traced, tmp_path):
    root, v1, v2, mlm1, mlm2, mt = traced
    pair = _row(root, v2, "pairs", "train")
    path = tmp_path / "text.txt"
    path.write_text("  " + pair["tgt_text"] + "\n\n", encoding="utf-8")  # normalized before hashing
    from flows.cli import main

    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "trace", "--text", str(path), "--data", root, "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.path.abspath(REPO)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert any(h["id"] == pair["id"] and h["kind"] == "pairs" for h in got["holdings"])
    assert [r["model_name"] for r in got["trained_on"]] == ["fixture-translation-tiny"]
    assert main(["trace", "--data", root]) == 2  # nothing to look for: one-line usage error
    assert main(["trace", "x", "--text", str(path), "--data", root]) == 2
    assert main(["trace", "--text", str(tmp_path / "missing.txt"), "--data", root]) == 2


def test_an_unknown_document_is_found_nowhere_and_prefect_is_not_imported(traced):
    root = traced[0]
    code = (
        "import sys; from flows.cli import main; "
        f"rc = main(['trace', 'https://nowhere.example.org/x', '--data', {root!r}]); "
        "assert 'prefect' not in sys.modules, 'prefect imported'; sys.exit(rc)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.path.abspath(REPO)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "no corpus version holds it (2 searched)" in out.stdout
    assert "no checkpoint trained on it (3 run(s) searched)" in out.stdout


def test_a_checkpoint_0_baseline_did_not_train_on_anything(tmp_path):
    root = str(tmp_path)
    v = make_corpus(root, docs_per_lang={"en": 20}, pairs_per_direction=10, synthetic_pairs=0)
    run_training(
        TrainConfig(
            data_root=root,
            corpus="fixture",
            version=v,
            preset="tiny",
            max_steps=2,
            save_every=2,
            save_initial=True,
        )
    )
    doc = _row(root, v, "docs", "train")
    (run,) = trace(root, Query.parse(doc["id"])).trained_on
    assert [os.path.basename(p) for p in run.checkpoints] == ["checkpoint-2"]
