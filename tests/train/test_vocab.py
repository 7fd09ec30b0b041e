"""Tokenizer fertility and parity, vocabulary extension and embedding resizing, from the CLI."""

from __future__ import annotations

import json
import os

import pytest
import torch

from crossling import vocab
from crossling.corpus import CorpusVersion
from crossling.tokenizer import (
    SPM_FILE,
    TokenizerConfig,
    build_hf_tokenizer,
    load_tokenizer,
    train_sentencepiece,
)


def test_words_split_spaced_scripts_by_runs_and_han_by_character():
    assert vocab.words("The cat, the dog.") == 4
    assert vocab.words("河水缓缓流过") == 6
    assert vocab.words("Привет мир 2026") == 3


@pytest.fixture(scope="module")
def base_tokenizer(corpus_root, tmp_path_factory) -> str:
    """A tokenizer that never saw Chinese: trained on the English and German DOCS only."""
    texts, _ = vocab.corpus_texts([CorpusVersion.open(corpus_root, "fixture")], "train")
    lines = [line for lang in ("en", "de") for t in texts[lang] for line in t.split("\n")]
    model = train_sentencepiece(
        lines, ["en", "de"], TokenizerConfig(vocab_size=400, chars_per_piece=1)
    )
    d = str(tmp_path_factory.mktemp("base-tok"))
    with open(os.path.join(d, SPM_FILE), "wb") as f:
        f.write(model)
    build_hf_tokenizer(os.path.join(d, SPM_FILE), ["en", "de"]).save_pretrained(d)
    return d


def test_extend_for_chinese_then_continue_training(corpus_root, base_tokenizer, tmp_path, capsys):
    from crossling.train.config import TrainConfig
    from crossling.train.models import build_decoder, tiny
    from crossling.train.run import run_training
    from flows.cli import main

    old = load_tokenizer(base_tokenizer)
    model_dir = str(tmp_path / "clm")
    torch.manual_seed(0)
    build_decoder(tiny().decoder, old, 64).save_pretrained(model_dir)
    old.save_pretrained(model_dir)
    out, resized = str(tmp_path / "tok-zh"), str(tmp_path / "clm-zh")
    common = ["--data", corpus_root, "--corpus", "fixture"]
    rc = main(
        ["tokenizer", "extend", *common, "--tokenizer", base_tokenizer, "--lang", "zh",
         "--out", out, "--pieces", "150", "--model", model_dir, "--model-out", resized]
    )  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "zh pieces added" in printed and "before" in printed and "after" in printed
    new = load_tokenizer(out)
    assert len(old) < len(new) <= len(old) + 150
    # Old pieces keep their ids; Chinese text round-trips and costs far fewer tokens.
    assert all(
        old.convert_ids_to_tokens(i) == new.convert_ids_to_tokens(i) for i in range(len(old))
    )
    with open(os.path.join(out, "fertility.json")) as f:
        fert = json.load(f)
    assert fert["after"]["zh"]["tokens_per_char"] < 0.5 * fert["before"]["zh"]["tokens_per_char"]
    assert fert["after"]["zh"]["parity"] < fert["before"]["zh"]["parity"]
    assert fert["after"]["en"] == fert["before"]["en"]  # English is served as before
    text = "朋友在花园里拜访鸟。"
    assert new.decode(new(text)["input_ids"], skip_special_tokens=True) == text

    # New embedding rows are the mean of the rows of their old sub-pieces.
    from transformers import AutoModelForCausalLM

    before = AutoModelForCausalLM.from_pretrained(model_dir).get_input_embeddings().weight
    after = AutoModelForCausalLM.from_pretrained(resized).get_input_embeddings().weight
    assert after.shape[0] == len(new) and torch.equal(after[: len(old)], before)
    i = len(new) - 1
    piece = new.convert_ids_to_tokens(i)
    sub = old(piece.replace("\u2581", " ").lstrip(), add_special_tokens=False)["input_ids"]
    sub = [x for x in sub if old.convert_ids_to_tokens(x) != "\u2581"] or sub
    assert torch.allclose(after[i], before[sub].mean(0), atol=1e-6)

    # Continued pretraining from the resized model takes its tokenizer along.
    s = run_training(
        TrainConfig(
            data_root=corpus_root, corpus="fixture", out_root=str(tmp_path / "runs"),
            objective="clm", init_from=resized, max_steps=2, save_every=2, seq_len=64,
            batch_size=2,
        )
    )  # fmt: skip
    assert s["step"] == 2
    with open(os.path.join(s["checkpoint"], "metadata.json")) as f:
        assert json.load(f)["tokenizer"]["path"] == resized

    rc = main(
        ["tokenizer", "fertility", *common, "--tokenizer", base_tokenizer, "--tokenizer", out]
    )
    assert rc == 0 and "tok/word" in capsys.readouterr().out


def test_extend_errors_are_one_line(corpus_root, base_tokenizer, tmp_path, capsys):
    from flows.cli import main

    common = ["tokenizer", "extend", "--data", corpus_root, "--corpus", "fixture"]
    assert (
        main([*common, "--tokenizer", base_tokenizer, "--lang", "xx", "--out", str(tmp_path / "o")])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'xx'" in err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    assert (
        main([*common, "--tokenizer", str(foreign), "--lang", "zh", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "sentencepiece.bpe.model" in capsys.readouterr().err
