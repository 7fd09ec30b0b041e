"""The tokenizer: language-balanced sample, byte fallback, CJK round trips, special pieces."""

from __future__ import annotations

import os

import pytest
import sentencepiece as spm

from crossling.tokenizer import (
    BT_TAG,
    MASK,
    SPM_FILE,
    TokenizerConfig,
    ensure_tokenizer,
    lang_tag,
    load_tokenizer,
    sample_text,
)
from crossling.train.corpus import temperature_probs

ROUND_TRIP = [
    "The cat sees the dog in the garden.",
    "猫在花园里看见狗。",  # Han, in the corpus
    "東京は日本の首都です。「こんにちは」！",  # Japanese, never seen: byte fallback
    "서울은 한국의 수도입니다.",  # Hangul, never seen
    "Кошка видит собаку в саду, 1984 год.",
    "القط يرى الكلب في الحديقة.",
    "बिल्ली बगीचे में कुत्ता को देखता है।",
    "Emoji 😀 and ümlauts, tabs\tand\nnew lines.",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_encode_decode_round_trips_every_script(tokenizer, tokenizer_info, text):
    ids = tokenizer(text)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.unk_token_id not in ids  # byte fallback, never <unk>
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
    # The transformers tokenizer gives sentencepiece's own ids.
    sp = spm.SentencePieceProcessor(model_file=os.path.join(tokenizer_info.path, SPM_FILE))
    assert ids[1:-1] == sp.encode(text)


def test_unseen_cjk_falls_back_to_bytes_not_unk(tokenizer):
    pieces = tokenizer.convert_ids_to_tokens(tokenizer("首都です")["input_ids"])
    assert any(p.startswith("<0x") for p in pieces)
    assert "<unk>" not in pieces


def test_language_tags_and_bt_are_single_special_tokens(tokenizer, corpus):
    for lang in corpus.languages():
        assert len(tokenizer(lang_tag(lang), add_special_tokens=False)["input_ids"]) == 1
    assert len(tokenizer(BT_TAG, add_special_tokens=False)["input_ids"]) == 1
    assert tokenizer.mask_token == MASK
    # A target-language prefix encodes as the tag followed by exactly the text's own pieces.
    text = "Der Hund sieht die Katze."
    tag = tokenizer.convert_tokens_to_ids(lang_tag("de"))
    body = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer(lang_tag("de") + text)["input_ids"] == [
        tokenizer.bos_token_id,
        tag,
        *body,
        tokenizer.eos_token_id,
    ]
    assert (
        tokenizer.decode(tokenizer(lang_tag("de") + text)["input_ids"], skip_special_tokens=True)
        == text
    )


def test_saved_tokenizer_loads_with_auto_tokenizer_and_keeps_byte_fallback(tokenizer_info):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_info.path, local_files_only=True)
    text = "東京は日本の首都です。"
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text


def test_sample_upsamples_small_languages(corpus):
    cfg = TokenizerConfig(sample_chars=60_000)
    lines, taken = sample_text(corpus, cfg)
    assert lines and set(taken) == set(corpus.languages())
    sizes = corpus.docs_sizes()
    natural = {k: v / sum(sizes.values()) for k, v in sizes.items()}
    sampled = {k: taken[k] / sum(taken.values()) for k in sizes}
    # The smallest DOCS language gets more than its natural share, the largest less.
    small, large = min(sizes, key=sizes.get), max(sizes, key=sizes.get)
    assert sampled[small] > natural[small]
    assert sampled[large] < natural[large]
    # alpha = 0 is uniform, alpha = 1 proportional.
    assert temperature_probs({"a": 1.0, "b": 99.0}, 0.0) == {"a": 0.5, "b": 0.5}
    assert temperature_probs({"a": 1.0, "b": 99.0}, 1.0)["a"] == pytest.approx(0.01)


def test_sample_never_reads_heldout_rows(corpus):
    docs = corpus.head.table("docs", columns=["text", "split"]).to_pylist()
    heldout = {r["text"] for r in docs if r["split"] == "heldout"}
    train = {r["text"] for r in docs if r["split"] == "train"}
    # A short document may equal one side of a train pair.
    pairs = corpus.head.table("pairs", columns=["src_text", "tgt_text", "split"]).to_pylist()
    train |= {r[k] for r in pairs if r["split"] == "train" for k in ("src_text", "tgt_text")}
    only_heldout = heldout - train
    assert only_heldout
    lines, _ = sample_text(corpus, TokenizerConfig())
    assert not (set(lines) & only_heldout)


def test_ensure_tokenizer_reuses_a_finished_one(corpus, tokenizer_info, tmp_path):
    import shutil

    from crossling.storage import DataRoot

    dest = DataRoot(str(tmp_path)).tokenizer_dir(corpus.name, corpus.version)
    shutil.copytree(tokenizer_info.path, dest)
    mtime = os.path.getmtime(os.path.join(dest, SPM_FILE))
    again = ensure_tokenizer(str(tmp_path), corpus)
    assert again.sha256 == tokenizer_info.sha256
    assert os.path.getmtime(os.path.join(dest, SPM_FILE)) == mtime
    assert load_tokenizer(again.path).get_vocab() == load_tokenizer(tokenizer_info.path).get_vocab()
