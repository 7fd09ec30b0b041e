"""The causal LM: packing without cross-document attention, rehydration, runs, exact resume,
transfer from a Hugging Face directory, and the errors bad directories give."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file

from crossling.storage import DataRoot
from crossling.train.checkpoint import read_metadata
from crossling.train.config import TrainConfig
from crossling.train.data import (
    IGNORE_INDEX,
    REHYDRATION_UP_TO_5,
    CLMBatches,
    DataConfig,
    rehydration_weight,
)
from crossling.train.models import (
    PackedCausalLM,
    build_decoder,
    decoder_config,
    flops_per_token,
    model_dir_kind,
    tiny,
)
from crossling.train.run import run_training


def cfg(corpus_root, out_root, **kw) -> TrainConfig:
    base = {
        "data_root": corpus_root,
        "corpus": "fixture",
        "out_root": out_root,
        "preset": "tiny",
        "objective": "clm",
        "max_steps": 12,
        "save_every": 6,
        "log_every": 3,
        "batch_size": 4,
        "seq_len": 64,
    }
    return TrainConfig(**(base | kw))


def test_packed_rows_reset_positions_and_never_predict_across_documents(corpus, tokenizer):
    src = CLMBatches(corpus, tokenizer, DataConfig(seq_len=64), 4)
    b = src.next_batch()
    ids, labels, pos = b.inputs["input_ids"], b.inputs["labels"], b.inputs["position_ids"]
    assert ids.shape == labels.shape == pos.shape == (4, 64)
    assert "attention_mask" not in b.inputs  # packed: every position is a real token
    assert b.tokens == b.slots == 4 * 64
    starts = pos == 0
    assert starts.sum() > 4  # several documents per row
    assert (labels[starts] == IGNORE_INDEX).all()  # a segment's first token has no label
    # Elsewhere every token is its own label (transformers shifts them inside the loss).
    assert torch.equal(labels[~starts], ids[~starts])
    # A document begins with <s>; every </s> is followed by a new segment (or the row's end).
    eos = (ids == tokenizer.eos_token_id).nonzero().tolist()
    for r, c in eos:
        assert c == 63 or pos[r, c + 1] == 0
    assert src.packing_efficiency == 1.0


def test_packed_attention_equals_each_document_alone(tokenizer):
    torch.manual_seed(0)
    model = build_decoder(tiny().decoder, tokenizer, 64).eval()
    a = torch.randint(5, len(tokenizer), (1, 9))
    b = torch.randint(5, len(tokenizer), (1, 6))
    packed = torch.cat([a, b], 1)
    pos = torch.cat([torch.arange(9), torch.arange(6)]).unsqueeze(0)
    with torch.no_grad():
        together = PackedCausalLM(model).lm(input_ids=packed, position_ids=pos, use_cache=False)
        alone = model(input_ids=b, use_cache=False)
    assert torch.allclose(together.logits[:, 9:], alone.logits, atol=1e-5)
    # Untied heads are counted once in the FLOPs estimate.
    assert flops_per_token(model, 64) > 0


def test_rehydration_weights_follow_the_table(corpus, tokenizer):
    assert [rehydration_weight(REHYDRATION_UP_TO_5, n) for n in (1, 2, 5, 7, 99, 100, 5000)] == [
        1,
        2,
        5,
        5,
        5,
        1,
        1,
    ]
    assert rehydration_weight(None, 50) == 1.0
    src = CLMBatches(corpus, tokenizer, DataConfig(seq_len=64), 2, rehydration=REHYDRATION_UP_TO_5)
    src.next_batch()
    # The fixture's documents all stand for themselves: weight 1 of at most 5.
    assert set(src.describe()["rehydration_mean_weight"].values()) == {1.0}


def test_clm_run_learns_checkpoints_and_resumes_exactly(
    corpus_root, out_root, tmp_path, corpus, tokenizer_info
):
    class Crash(Exception):
        pass

    def crash(path, step):
        if step == 6:
            raise Crash

    c = cfg(corpus_root, out_root, rehydration="up-to-5")
    with pytest.raises(Crash):
        run_training(c, on_checkpoint=crash)
    resumed = run_training(c)
    assert resumed["resumed_from"].endswith("checkpoint-6")
    other = str(tmp_path / "straight")
    shutil.copytree(tokenizer_info.path, DataRoot(other).tokenizer_dir(corpus.name, corpus.version))
    straight = run_training(cfg(corpus_root, other, rehydration="up-to-5"))
    assert [r["loss"] for r in resumed["losses"]] == [r["loss"] for r in straight["losses"]]
    a = load_file(os.path.join(resumed["checkpoint"], "model.safetensors"))
    b = load_file(os.path.join(straight["checkpoint"], "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    losses = [r["loss"] for r in straight["losses"]]
    assert losses[-1] < losses[0]
    assert straight["packing_efficiency"] == 1.0
    meta = read_metadata(straight["checkpoint"])
    assert meta["model_kind"] == "causal" and meta["objective"] == "clm"
    assert meta["sampling"]["rehydration"] == "up-to-5" and meta["sampling"]["alpha"] == 0.3
    # Loadable the way evaluation and users load it: Auto class, safetensors, no remote code.
    from transformers import AutoModelForCausalLM

    m = AutoModelForCausalLM.from_pretrained(straight["checkpoint"], use_safetensors=True)
    assert m.config.model_type == "llama"


def _hf_dir(path, tokenizer, arch="llama", save_tokenizer=True):
    from transformers import AutoModelForCausalLM

    shape = tiny().decoder
    if arch != "llama":
        import dataclasses

        shape = dataclasses.replace(shape, arch=arch)
    torch.manual_seed(3)
    model = AutoModelForCausalLM.from_config(decoder_config(shape, tokenizer, 64))
    model.save_pretrained(path)  # what a user's downloaded model directory looks like
    if save_tokenizer:
        tokenizer.save_pretrained(path)
    return model


def test_init_from_a_hugging_face_causal_lm_directory(corpus_root, out_root, tmp_path, tokenizer):
    hf = str(tmp_path / "qwen-like")
    original = _hf_dir(hf, tokenizer, arch="qwen2")
    assert model_dir_kind(hf) == "causal"
    s = run_training(
        cfg(corpus_root, out_root, init_from=hf, max_steps=3, save_every=3, save_initial=True)
    )
    first = load_file(
        os.path.join(os.path.dirname(s["checkpoint"]), "checkpoint-0", "model.safetensors")
    )
    want = original.state_dict()
    assert all(torch.equal(first[k], want[k]) for k in first)  # started from those weights
    meta = read_metadata(s["checkpoint"])
    assert meta["config"]["init_from"] == hf and meta["tokenizer"]["path"] == hf
    assert meta["corpus"]["name"] == "fixture"
    with open(os.path.join(s["checkpoint"], "config.json")) as f:
        assert json.load(f)["model_type"] == "qwen2"


def test_bad_init_from_directories_are_named_in_one_line(
    corpus_root, out_root, tmp_path, tokenizer
):
    from crossling.train.models import build_encoder

    def fails(path, match, **kw):
        with pytest.raises(ValueError, match=match) as e:
            run_training(cfg(corpus_root, out_root, init_from=str(path), **kw))
        assert str(path) in str(e.value) and "\n" not in str(e.value)

    empty = tmp_path / "empty"
    empty.mkdir()
    fails(empty, "no config.json")
    bad_json = tmp_path / "badjson"
    bad_json.mkdir()
    (bad_json / "config.json").write_text("{not json")
    fails(bad_json, "not readable JSON")
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "config.json").write_text(json.dumps({"model_type": "my-own-arch"}))
    fails(remote, "trust_remote_code")
    pickled = tmp_path / "pickled"
    _hf_dir(str(pickled), tokenizer)
    os.replace(pickled / "model.safetensors", pickled / "pytorch_model.bin")
    fails(pickled, "safetensors only")
    encoder = tmp_path / "encoder"
    build_encoder(tiny().encoder, tokenizer, 64).save_pretrained(encoder)
    fails(encoder, "holds an encoder model")
    fails(tmp_path / "missing", "not a local directory")


def test_rehydration_samples_a_document_by_its_cluster_size(tmp_path, tokenizer):
    """Documents that stood for 5 near-duplicates come out about 5 times as often as unique ones;
    the language's size grows by the mean weight."""
    from crossling.documents import make_id
    from crossling.storage import new_version
    from crossling.train.corpus import TrainCorpus
    from tests.train.corpus_fixture import doc_row, write_version

    docs = []
    for i in range(200):
        heavy = i % 2 == 0
        row = doc_row("en", make_id("t", str(i)), f"{'heavy' if heavy else 'light'} {i}", "t", 0.0)
        row["dup_cluster_size"] = 5 if heavy else 1
        docs.append(row)
    write_version(str(tmp_path), "rh", new_version("abcd0000"), docs=docs)
    corpus = TrainCorpus.open(str(tmp_path), "rh")
    src = CLMBatches(
        corpus, tokenizer, DataConfig(seq_len=64, read_rows=64), 4, rehydration=REHYDRATION_UP_TO_5
    )
    seen = {"heavy": 0, "light": 0}
    for _ in range(100):
        b = src.next_batch().inputs
        for ids, pos in zip(b["input_ids"].tolist(), b["position_ids"].tolist(), strict=True):
            starts = [i for i, p in enumerate(pos) if p == 0] + [len(pos)]
            for a, z in zip(starts, starts[1:], strict=False):
                text = tokenizer.decode(ids[a:z], skip_special_tokens=True).split()
                if ids[a] == tokenizer.bos_token_id and text:  # a document's start
                    seen["heavy" if text[0].startswith("h") else "light"] += 1
    assert 3.5 < seen["heavy"] / max(1, seen["light"]) < 7
    assert src.describe()["rehydration_mean_weight"] == {"en": 3.0}


def test_init_from_hugging_face_encoder_and_seq2seq_directories(
    corpus_root, out_root, tmp_path, tokenizer
):
    """The other kinds a user brings (XLM-R-like encoder, Marian-like seq2seq) go through the
    same checks and continue training on the corpus."""
    from crossling.train.models import build_encoder, build_seq2seq

    enc, s2s = tmp_path / "xlmr-like", tmp_path / "marian-like"
    build_encoder(tiny().encoder, tokenizer, 64).save_pretrained(enc)
    build_seq2seq(tiny().seq2seq, tokenizer).save_pretrained(s2s)
    for d in (enc, s2s):
        tokenizer.save_pretrained(d)
    assert (model_dir_kind(str(enc)), model_dir_kind(str(s2s))) == ("encoder", "seq2seq")
    for objective, d in (("mlm", enc), ("translation", s2s)):
        s = run_training(
            cfg(corpus_root, out_root, objective=objective, init_from=str(d), max_steps=2,
                save_every=2, seq_len=None)
        )  # fmt: skip
        assert s["step"] == 2 and read_metadata(s["checkpoint"])["config"]["init_from"] == str(d)
    with pytest.raises(ValueError, match="holds a seq2seq model; objective clm"):
        run_training(cfg(corpus_root, out_root, init_from=str(s2s)))
