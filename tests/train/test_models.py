"""Presets, builders, the masked-positions MLM head and weight loading."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from crossling.train.data import DataConfig, MLMBatches
from crossling.train.models import (
    PRESETS,
    MaskedPositionsMLM,
    base,
    build_classifier,
    build_encoder,
    build_seq2seq,
    flops_per_token,
    get_preset,
    load_pretrained,
    load_weights,
    tiny,
)


def test_presets_are_typed_and_base_has_xlmr_base_shape():
    for name, fn in PRESETS.items():
        p = fn()
        assert p.name == name and dataclasses.is_dataclass(p)
        assert p.encoder.hidden_size % p.encoder.num_heads == 0
        assert p.seq_len <= p.encoder.max_positions
    b = base().encoder
    assert (b.hidden_size, b.num_layers, b.num_heads, b.intermediate_size) == (768, 12, 12, 3072)
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("huge")


def test_tiny_models_build_and_run(tokenizer):
    enc = build_encoder(tiny().encoder, tokenizer, 128)
    assert enc.config.vocab_size == len(tokenizer)
    assert sum(p.numel() for p in enc.parameters()) < 2_000_000
    s2s = build_seq2seq(tiny().seq2seq, tokenizer)
    src = tokenizer(["The cat sees the dog."], return_tensors="pt")
    out = s2s(
        **src,
        labels=tokenizer(["Der Hund."], add_special_tokens=False, return_tensors="pt")["input_ids"],
    )
    assert torch.isfinite(out.loss)
    clf = build_classifier(tokenizer, ["a", "b"], shape=tiny().encoder)
    assert clf.config.id2label == {0: "a", 1: "b"}


def test_masked_positions_head_gives_the_same_loss_as_the_full_head(corpus, tokenizer):
    torch.manual_seed(0)
    enc = build_encoder(tiny().encoder, tokenizer, 64).eval()
    batch = MLMBatches(corpus, tokenizer, DataConfig(seq_len=64), 4).next_batch()
    full = enc(**batch.inputs).loss
    sparse = MaskedPositionsMLM(enc)(**batch.inputs).loss
    assert sparse.item() == pytest.approx(full.item(), rel=1e-5)
    # FLOPs count the vocabulary projection at the masked share only.
    assert flops_per_token(enc, 64, 0.15) < flops_per_token(enc, 64)


def test_save_and_load_weights_round_trip(tmp_path, tokenizer):
    torch.manual_seed(1)
    s2s = build_seq2seq(tiny().seq2seq, tokenizer)
    s2s.save_pretrained(tmp_path)
    fresh = build_seq2seq(tiny().seq2seq, tokenizer)
    load_weights(fresh, str(tmp_path))
    for (n, a), (_, b) in zip(s2s.state_dict().items(), fresh.state_dict().items(), strict=True):
        assert torch.equal(a, b), n
    # Loadable the way evaluation loads it: Auto class, safetensors, local files only.
    loaded = load_pretrained(str(tmp_path), "seq2seq")
    assert loaded.config.model_type == "marian"
