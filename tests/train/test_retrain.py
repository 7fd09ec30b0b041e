"""Retraining on a new corpus version: continue from the newest checkpoint, or the whole corpus."""

from __future__ import annotations

import json
import os

import pyarrow.parquet as pq
import pytest

from crossling.corpus import CorpusVersion
from crossling.train.checkpoint import METADATA
from crossling.train.config import TrainConfig
from crossling.train.corpus import TrainCorpus
from crossling.train.run import prepare_run, run_training
from tests.train.corpus_fixture import make_corpus

SMALL = {"en": 40, "de": 30, "ru": 30, "zh": 30}


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """A corpus with two incremental versions: v2 holds only documents new since v1."""
    root = str(tmp_path_factory.mktemp("retrain"))
    v1 = make_corpus(root, docs_per_lang=SMALL, pairs_per_direction=40, synthetic_pairs=0)
    v2 = make_corpus(
        root,
        docs_per_lang={"en": 30, "de": 20, "fr": 30},
        pairs_per_direction=40,
        synthetic_pairs=0,
        seed=1,
        parent=v1,
    )
    return root, v1, v2


def _cfg(root: str, version: str, **kw) -> TrainConfig:
    base = {
        "data_root": root,
        "corpus": "fixture",
        "version": version,
        "preset": "tiny",
        "objective": "mlm",
        "max_steps": 6,
        "save_every": 3,
        "log_every": 3,
    }
    return TrainConfig(**(base | kw))


def _meta(checkpoint: str) -> dict:
    with open(os.path.join(checkpoint, METADATA), encoding="utf-8") as f:
        return json.load(f)


def _ids(version: CorpusVersion, split: str = "train") -> set[str]:
    return set(version.table("docs", split=split, columns=["id"]).column("id").to_pylist())


def test_a_version_reads_as_the_corpus_as_it_stands(two_versions):
    root, v1, v2 = two_versions
    c = TrainCorpus.open(root, "fixture", v2)
    assert [v.version for v in c.versions] == [v1, v2]
    assert set(c.docs_sizes()) == {"en", "de", "ru", "zh", "fr"}
    only_new = TrainCorpus.open(root, "fixture", v2, exclude=[v1])
    assert [v.version for v in only_new.versions] == [v2]
    assert set(only_new.docs_sizes()) == {"en", "de", "fr"}
    with pytest.raises(ValueError, match="already seen"):
        TrainCorpus.open(root, "fixture", v2, exclude=[v1, v2])


def test_continue_then_full(two_versions):
    root, v1, v2 = two_versions
    first = run_training(_cfg(root, v1))
    m1 = _meta(first["checkpoint"])
    assert m1["parent_checkpoint"] is None and m1["mode"] == "continue"
    assert [v["version"] for v in m1["corpus_versions"]] == [v1]

    # continue (the default): from the newest checkpoint of the model, on what it has not seen.
    cont = run_training(_cfg(root, v2))
    m2 = _meta(cont["checkpoint"])
    assert m2["parent_checkpoint"] == first["checkpoint"]
    assert m2["config"]["init_from"] == first["checkpoint"]
    assert [v["version"] for v in m2["trained_on"]] == [v2]
    assert [v["version"] for v in m2["corpus_versions"]] == [v1, v2]
    assert m2["corpus"]["version"] == v2
    assert m2["tokenizer"]["sha256"] == m1["tokenizer"]["sha256"]  # the model keeps its vocabulary
    assert set(m2["languages"]) == {"en", "de", "ru", "zh", "fr"}
    assert cont["losses"][0]["loss"] < first["losses"][0]["loss"]  # it starts trained
    # Its train ids: every row its weights have seen, v1's (inherited) and v2's.
    ids = pq.read_table(m2["train_ids_path"].removeprefix("file://")).to_pylist()
    by_version = {r["version"] for r in ids}
    assert by_version == {v1, v2}
    a, b = CorpusVersion.open(root, "fixture", v1), CorpusVersion.open(root, "fixture", v2)
    got = {r["id"] for r in ids}
    assert _ids(a) | _ids(b) <= got and not (_ids(a, "heldout") | _ids(b, "heldout")) & got

    # The same command again finds the finished run (it does not continue from itself).
    again = run_training(_cfg(root, v2))
    assert not again["trained"] and again["run_version"] == cont["run_version"]

    # full: a new model on the corpus as it stands, with the tokenizer of the whole chain.
    full = run_training(_cfg(root, v2, mode="full", model_name="fixture-mlm-full"))
    m3 = _meta(full["checkpoint"])
    assert m3["parent_checkpoint"] is None and m3["config"]["init_from"] is None
    assert [v["version"] for v in m3["trained_on"]] == [v1, v2]
    assert [v["version"] for v in m3["corpus_versions"]] == [v1, v2]
    with open(os.path.join(m3["tokenizer"]["path"], "metadata.json"), encoding="utf-8") as f:
        tok = json.load(f)
    assert [v["version"] for v in tok["corpus_versions"]] == [v1, v2]
    assert "fr" in tok["languages"] and "ru" in tok["languages"]

    # Evaluation reads the held-out rows of every version a checkpoint has seen.
    from crossling import registry
    from crossling.evaluate.suite import EvalConfig, evaluate_checkpoint

    ref = registry.resolve_checkpoint(cont["checkpoint"], root)
    res = evaluate_checkpoint(ref, EvalConfig(max_rows_per_lang=2, mlm_max_positions=4))
    assert [v["version"] for v in res["data"]["versions"]] == [v1, v2]
    assert {"ru", "fr"} <= set(res["data"]["sets"]["docs"]["by_group"])


def test_continue_starts_only_from_a_checkpoint_of_older_data(two_versions, tmp_path):
    """A checkpoint that has seen the version (or a newer one) is never the starting point."""
    root, v1, v2 = two_versions
    out = str(tmp_path / "out")
    late = run_training(_cfg(root, v2, out_root=out, model_name="m"))
    assert _meta(late["checkpoint"])["parent_checkpoint"] is None
    early = prepare_run(_cfg(root, v1, out_root=out, model_name="m"))
    assert early.parent_checkpoint is None  # the v2 model is newer data: not a start for v1
    assert [v["version"] for v in early.trained_on] == [v1]
