"""Streaming, sampling, packing and masking: what training reads, and that it can resume exactly."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch

from crossling.tokenizer import BT_TAG, lang_tag
from crossling.train.corpus import temperature_probs
from crossling.train.data import (
    IGNORE_INDEX,
    DataConfig,
    MLMBatches,
    RowStream,
    TranslationBatches,
    labeled_train_rows,
)

SMALL = DataConfig(seq_len=64, read_rows=16, tokenize_rows=8)


def _ids_by_split(corpus, kind="docs"):
    out = {"train": set(), "heldout": set()}
    for r in corpus.head.table(kind, columns=["id", "split"]).to_pylist():
        out[r["split"]].add(r["id"])
    return out


def test_row_stream_reads_every_train_row_once_per_epoch_and_no_heldout(corpus):
    want = _ids_by_split(corpus)
    stream = RowStream(corpus.docs_shards(), ["id"], key="all", read_rows=16)
    seen = [next(stream)["id"] for _ in range(len(want["train"]))]
    assert sorted(seen) == sorted(want["train"])
    assert not set(seen) & want["heldout"]
    assert stream.pos["epoch"] == 0
    # The next epoch starts over, in another order.
    again = [next(stream)["id"] for _ in range(len(want["train"]))]
    assert sorted(again) == sorted(seen) and again != seen


def test_row_stream_ranks_see_disjoint_rows(corpus):
    shards = corpus.docs_shards()
    n = len(_ids_by_split(corpus)["train"])
    r0 = RowStream(shards, ["id"], key="x", read_rows=16, rank=0, world_size=2)
    r1 = RowStream(shards, ["id"], key="x", read_rows=16, rank=1, world_size=2)
    a = {next(r0)["id"] for _ in range(n // 2)}
    b = {next(r1)["id"] for _ in range(n // 2)}
    assert not a & b


def test_row_stream_resumes_mid_batch(corpus):
    shards = corpus.docs_shards("en")
    s = RowStream(shards, ["id"], key="en", read_rows=16)
    for _ in range(37):
        next(s)
    state = json.loads(json.dumps(s.state_dict()))
    ref = [next(s)["id"] for _ in range(50)]
    t = RowStream(shards, ["id"], key="en", read_rows=16)
    t.load_state_dict(state)
    assert [next(t)["id"] for _ in range(50)] == ref


def test_mlm_sequences_are_packed_full_and_start_with_bos(corpus, tokenizer):
    b = MLMBatches(corpus, tokenizer, SMALL, 8)
    for _ in range(5):
        batch = b.next_batch()
        ids = batch.inputs["input_ids"]
        assert ids.shape == (8, 64)
        assert (ids[:, 0] == tokenizer.bos_token_id).all()
        assert "attention_mask" not in batch.inputs  # no padding anywhere
        assert batch.tokens == batch.slots
    assert b.packing_efficiency == 1.0


def test_masking_follows_15_percent_and_80_10_10(corpus, tokenizer):
    b = MLMBatches(corpus, tokenizer, DataConfig(seq_len=128), 32)
    selected = mask = same = 0
    special = set(tokenizer.all_special_ids)
    for _ in range(8):
        batch = b.next_batch()
        inp, labels = batch.inputs["input_ids"], batch.inputs["labels"]
        sel = labels != IGNORE_INDEX
        # Specials (<s>, </s>, tags) are never selected.
        assert not any(int(t) in special for t in labels[sel])
        selected += int(sel.sum())
        mask += int((inp[sel] == tokenizer.mask_token_id).sum())
        same += int((inp[sel] == labels[sel]).sum())
    total = 8 * 32 * 128
    assert 0.12 < selected / total < 0.16  # 15% of the non-special tokens
    assert 0.77 < mask / selected < 0.83
    assert 0.07 < same / selected < 0.13


def test_languages_are_mixed_with_temperature_sampling(corpus, tokenizer):
    b = MLMBatches(corpus, tokenizer, SMALL, 4)
    draws = Counter(b.docs.next_key() for _ in range(20_000))
    want = temperature_probs(corpus.docs_sizes(), 0.3)
    for lang, p in want.items():
        assert draws[f"docs:{lang}"] / 20_000 == pytest.approx(p, abs=0.015)


@pytest.mark.parametrize("objective", ["mlm", "tlm"])
def test_batches_resume_exactly_from_a_state_dict(corpus, tokenizer, objective):
    a = MLMBatches(corpus, tokenizer, SMALL, 4, objective=objective)
    for _ in range(23):
        a.next_batch()
    state = json.loads(json.dumps(a.state_dict()))  # survives JSON, as in a checkpoint
    ref = [a.next_batch() for _ in range(15)]
    b = MLMBatches(corpus, tokenizer, SMALL, 4, objective=objective)
    b.load_state_dict(state)
    for x, y in zip(ref, [b.next_batch() for _ in range(15)], strict=True):
        assert torch.equal(x.inputs["input_ids"], y.inputs["input_ids"])
        assert torch.equal(x.inputs["labels"], y.inputs["labels"])


def test_tlm_sequences_hold_whole_pairs_with_both_language_tags(corpus, tokenizer):
    b = MLMBatches(corpus, tokenizer, DataConfig(seq_len=64, tlm_share=1.0), 8, objective="tlm")
    tags = {tokenizer.convert_tokens_to_ids(lang_tag(x)) for x in corpus.languages()}
    batch = b.next_batch()
    labels, inp = batch.inputs["labels"], batch.inputs["input_ids"]
    original = torch.where(labels == IGNORE_INDEX, inp, labels)
    for row in original.tolist():
        real = [t for t in row if t != tokenizer.pad_token_id]
        assert real[0] == tokenizer.bos_token_id
        # Every pair is "<lang:a> src </s> <lang:b> tgt </s>": tags come in twos, never cut.
        assert sum(t in tags for t in real) % 2 == 0 and sum(t in tags for t in real) >= 2
        assert real[-1] == tokenizer.eos_token_id
    assert 0.5 < b.packing_efficiency <= 1.0


def test_translation_batches_tag_target_language_and_back_translations(corpus, tokenizer):
    b = TranslationBatches(corpus, tokenizer, SMALL, 16)
    assert {"en-de", "de-en", "zh-en"} <= set(b.directions)
    bt = tokenizer.convert_tokens_to_ids(BT_TAG)
    tag_ids = {tokenizer.convert_tokens_to_ids(lang_tag(x)): x for x in corpus.languages()}
    seen_bt = False
    for _ in range(20):
        batch = b.next_batch()
        for src, tgt in zip(
            batch.inputs["input_ids"].tolist(), batch.inputs["labels"].tolist(), strict=True
        ):
            assert src[0] == tokenizer.bos_token_id and src[1] in tag_ids
            seen_bt |= src[2] == bt
            assert [t for t in tgt if t != IGNORE_INDEX][-1] == tokenizer.eos_token_id
    assert seen_bt  # the fixture's back-translated de-en rows carry <BT>
    no_synth = TranslationBatches(corpus, tokenizer, SMALL, 16, use_synthetic=False)
    for _ in range(10):
        assert not (no_synth.next_batch().inputs["input_ids"] == bt).any()


def test_translation_reads_only_train_pairs(corpus, tokenizer):
    texts = {}
    for r in corpus.head.table("pairs", columns=["tgt_text", "split"]).to_pylist():
        texts.setdefault(r["split"], set()).add(r["tgt_text"])
    only_heldout = texts["heldout"] - texts["train"]
    b = TranslationBatches(corpus, tokenizer, SMALL, 32, both_directions=False)
    produced = set()
    for _ in range(40):
        for row in b.next_batch().inputs["labels"].tolist():
            produced.add(
                tokenizer.decode([t for t in row if t != IGNORE_INDEX], skip_special_tokens=True)
            )
    assert produced and not produced & only_heldout


def test_labeled_rows_train_only_on_train_languages_and_split():
    rows = [
        {"id": str(i), "text": f"t{i}", "label": "a", "lang": lang}
        for i, lang in enumerate(["en"] * 50 + ["de"] * 50)
    ]
    train = labeled_train_rows(rows, ["en"])
    assert train and {r["lang"] for r in train} == {"en"} and len(train) < 50  # some held out
    rows[0]["split"] = "heldout"
    assert rows[0] not in labeled_train_rows(rows, ["en"])
