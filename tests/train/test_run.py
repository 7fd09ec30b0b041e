"""Whole training runs in-process: loss, checkpoints, lineage, exact resume, fine-tuning paths."""

from __future__ import annotations

import os
import shutil

import pyarrow.parquet as pq
import pytest
import torch
from safetensors.torch import load_file

from crossling.corpus import CorpusNotFound
from crossling.storage import DataRoot, is_version
from crossling.train.checkpoint import METADATA, TRAIN_STATE, list_checkpoints
from crossling.train.config import TrainConfig
from crossling.train.run import prepare_run, run_training

CONTRACT_KEYS = {
    "model_name",
    "run_version",
    "step",
    "objective",
    "model_kind",
    "preset",
    "config",
    "corpus",
    "tokenizer",
    "tokens_seen",
    "losses",
    "code_version",
    "flow_run_id",
    "created_at",
    "train_ids_path",
    "languages",
}


def cfg(corpus_root, out_root, **kw) -> TrainConfig:
    base = {
        "data_root": corpus_root,
        "corpus": "fixture",
        "out_root": out_root,
        "preset": "tiny",
        "objective": "mlm",
        "max_steps": 40,
        "save_every": 20,
        "log_every": 5,
    }
    return TrainConfig(**(base | kw))


@pytest.fixture(scope="module")
def mlm_run(corpus_root, tokenizer_info, tmp_path_factory, corpus):
    """One finished tiny MLM run, shared by the tests that only read it."""
    out = str(tmp_path_factory.mktemp("mlm-run"))
    shutil.copytree(tokenizer_info.path, DataRoot(out).tokenizer_dir(corpus.name, corpus.version))
    summary = run_training(cfg(corpus_root, out, keep_train_state=1))
    return out, summary


def test_mlm_loss_falls_and_checkpoints_are_complete(mlm_run, corpus):
    out, s = mlm_run
    losses = [r["loss"] for r in s["losses"]]
    assert s["step"] == 40 and s["trained"]
    assert losses[-1] < losses[0] - 0.5
    assert s["packing_efficiency"] == 1.0
    assert s["tokens_seen"] == 40 * 16 * 128
    run_dir = s["run_dir"]
    assert is_version(s["run_version"])
    assert [os.path.basename(p) for p in s["checkpoints"]] == ["checkpoint-20", "checkpoint-40"]
    assert not [n for n in os.listdir(run_dir) if ".tmp" in n]
    for path in s["checkpoints"]:
        for name in ("model.safetensors", "config.json", "tokenizer.json", METADATA):
            assert os.path.exists(os.path.join(path, name)), name
    # keep_train_state=1: only the newest checkpoint can be resumed from, all stay loadable.
    assert not os.path.exists(os.path.join(s["checkpoints"][0], TRAIN_STATE))
    assert os.path.exists(os.path.join(s["checkpoints"][1], TRAIN_STATE, "optimizer.pt"))
    assert os.path.exists(os.path.join(run_dir, "train_ids.parquet"))


def test_metadata_has_the_contract_lineage(mlm_run, corpus, tokenizer_info):
    import json

    _, s = mlm_run
    with open(os.path.join(s["checkpoint"], METADATA)) as f:
        meta = json.load(f)
    assert CONTRACT_KEYS <= set(meta)
    assert meta["objective"] == "mlm" and meta["model_kind"] == "encoder" and meta["step"] == 40
    assert meta["corpus"]["name"] == "fixture" and meta["corpus"]["version"] == corpus.version
    assert meta["corpus"]["manifest_sha256"] == corpus.manifest_sha256
    assert meta["tokenizer"]["sha256"] == tokenizer_info.sha256
    assert meta["languages"] == corpus.languages()
    assert [r["step"] for r in meta["losses"]] == list(range(5, 41, 5))
    with open(os.path.join(s["run_dir"], METADATA)) as f:
        assert json.load(f) == meta  # the run-level copy is the newest checkpoint's


def test_train_ids_cover_every_train_row_and_no_heldout(mlm_run, corpus):
    _, s = mlm_run
    path = s["train_ids_path"].removeprefix("file://")
    ids = set(pq.read_table(path, columns=["id"]).column("id").to_pylist())
    rows = corpus.head.table("docs", columns=["id", "split"]).to_pylist()
    assert rows and {r["split"] for r in rows} == {"train", "heldout"}
    for r in rows:
        assert (r["id"] in ids) == (r["split"] == "train")


def test_checkpoints_load_the_way_evaluation_loads_them(mlm_run):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from crossling import registry

    out, s = mlm_run
    refs = registry.find_checkpoints(out)
    assert [r.step for r in refs] == [20, 40]
    model = AutoModelForMaskedLM.from_pretrained(
        s["checkpoint"], local_files_only=True, use_safetensors=True
    )
    tok = AutoTokenizer.from_pretrained(s["checkpoint"], local_files_only=True)
    enc = tok(["Der Hund sieht die <mask>."], return_tensors="pt")
    assert model(**enc).logits.shape[-1] == len(tok)


def test_rerun_of_a_finished_run_trains_nothing(mlm_run, corpus_root):
    out, s = mlm_run
    again = run_training(cfg(corpus_root, out, keep_train_state=1))
    assert not again["trained"]
    assert again["run_version"] == s["run_version"] and again["step"] == 40


def test_crash_then_rerun_resumes_exactly(corpus_root, out_root, tmp_path, corpus, tokenizer_info):
    class Crash(Exception):
        pass

    def crash(path, step):
        if step == 20:
            raise Crash

    c = cfg(corpus_root, out_root, max_steps=30, save_every=10)
    with pytest.raises(Crash):
        run_training(c, on_checkpoint=crash)
    resumed = run_training(c)
    assert resumed["resumed_from"].endswith("checkpoint-20")
    other = str(tmp_path / "uninterrupted")
    shutil.copytree(tokenizer_info.path, DataRoot(other).tokenizer_dir(corpus.name, corpus.version))
    straight = run_training(cfg(corpus_root, other, max_steps=30, save_every=10))
    assert [r["loss"] for r in resumed["losses"]] == [r["loss"] for r in straight["losses"]]
    a = load_file(os.path.join(resumed["checkpoint"], "model.safetensors"))
    b = load_file(os.path.join(straight["checkpoint"], "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_changed_config_is_a_new_run_and_an_unknown_corpus_is_named(corpus_root, out_root):
    p1 = prepare_run(cfg(corpus_root, out_root))
    p2 = prepare_run(cfg(corpus_root, out_root, lr=1e-4))
    assert p1.run_version != p2.run_version and p1.config_hash != p2.config_hash
    assert prepare_run(cfg(corpus_root, out_root)).run_version == p1.run_version
    with pytest.raises(CorpusNotFound, match="'nope'"):
        prepare_run(cfg(corpus_root, out_root, corpus="nope"))
    with pytest.raises(CorpusNotFound, match="19990101T000000Z-00000000"):
        prepare_run(cfg(corpus_root, out_root, version="19990101T000000Z-00000000"))


def test_tlm_run_with_gradient_accumulation(corpus_root, out_root):
    s = run_training(
        cfg(corpus_root, out_root, objective="tlm", max_steps=10, save_every=10, grad_accum=2)
    )
    assert s["step"] == 10 and s["model_kind"] == "encoder"
    # Two micro-batches per step; TLM sequences are padded after the last whole pair.
    assert 0.5 * 10 * 2 * 16 * 128 < s["tokens_seen"] <= 10 * 2 * 16 * 128
    kinds = set(
        pq.read_table(s["train_ids_path"].removeprefix("file://")).column("kind").to_pylist()
    )
    assert kinds == {"docs", "pairs-src", "pairs-tgt"}


def test_translation_from_scratch_and_warm_started_from_the_encoder(
    mlm_run, corpus_root, out_root, corpus
):
    from transformers import AutoModelForSeq2SeqLM

    from crossling.evaluate.metrics import translate
    from crossling.tokenizer import lang_tag, load_tokenizer

    s = run_training(
        cfg(corpus_root, out_root, objective="translation", max_steps=20, save_every=20)
    )
    assert s["model_kind"] == "seq2seq" and s["losses"][-1]["loss"] < s["losses"][0]["loss"]
    warm = run_training(
        cfg(
            corpus_root,
            out_root,
            objective="translation",
            max_steps=10,
            save_every=10,
            init_from=mlm_run[1]["checkpoint"],
            model_name="fixture-mt-warm",
        )
    )
    model = AutoModelForSeq2SeqLM.from_pretrained(warm["checkpoint"], local_files_only=True)
    assert model.config.model_type == "encoder-decoder"
    out = translate(
        model,
        load_tokenizer(warm["checkpoint"]),
        ["The cat sees the dog."],
        prefix=lang_tag("de"),
        max_new_tokens=8,
    )
    assert len(out) == 1 and isinstance(out[0], str)


def test_classification_from_the_encoder(mlm_run, corpus_root, out_root, labeled_path):
    import json

    s = run_training(
        cfg(
            corpus_root,
            out_root,
            objective="classification",
            max_steps=20,
            save_every=20,
            labeled_path=labeled_path,
            init_from=mlm_run[1]["checkpoint"],
        )
    )
    with open(os.path.join(s["checkpoint"], METADATA)) as f:
        meta = json.load(f)
    assert meta["model_kind"] == "classifier" and meta["labels"] == ["animal", "person"]
    assert meta["languages"] == ["en"] and meta["config"]["labeled_path"] == labeled_path
    ids = pq.read_table(meta["train_ids_path"].removeprefix("file://")).to_pylist()
    # The labeled rows trained on, after every row the encoder it starts from could read.
    assert {r["kind"] for r in ids} == {"labeled", "docs"}
    labeled = [r for r in ids if r["kind"] == "labeled"]
    assert labeled and all(r["version"] is None for r in labeled) and ids[-1] == labeled[-1]
    assert list_checkpoints(s["run_dir"])


def test_save_initial_keeps_the_untrained_weights_as_a_baseline(corpus_root, out_root):
    from transformers import AutoModelForMaskedLM

    from crossling import registry

    s = run_training(cfg(corpus_root, out_root, max_steps=4, save_every=2, save_initial=True))
    assert [os.path.basename(p) for p in s["checkpoints"]] == [
        "checkpoint-0",
        "checkpoint-2",
        "checkpoint-4",
    ]
    assert [r.step for r in registry.find_checkpoints(out_root)] == [0, 2, 4]
    a = load_file(os.path.join(s["checkpoints"][0], "model.safetensors"))
    b = load_file(os.path.join(s["checkpoints"][1], "model.safetensors"))
    assert any(not torch.equal(a[k], b[k]) for k in a)  # step 0 is before any update
    AutoModelForMaskedLM.from_pretrained(s["checkpoints"][0], local_files_only=True)
    # Not part of the run's identity: the same run without it is found finished.
    again = run_training(cfg(corpus_root, out_root, max_steps=4, save_every=2))
    assert not again["trained"] and again["run_version"] == s["run_version"]
