"""Evaluating causal LMs: bits per byte per language with paired tests across checkpoints, and
prompted translation fine-tuning scored with BLEU/chrF like the seq2seq models."""

from __future__ import annotations

import math
import shutil

import pytest

from crossling import registry
from crossling.evaluate import metrics as M
from crossling.evaluate.significance import paired_test
from crossling.evaluate.suite import EvalConfig, evaluate_checkpoint
from crossling.storage import DataRoot
from crossling.train.config import TrainConfig
from crossling.train.run import run_training


@pytest.fixture(scope="module")
def clm_root(corpus_root, tokenizer_info, corpus, tmp_path_factory):
    """A data root (corpus + tokenizer) with a tiny clm run: untrained and trained checkpoints."""
    root = str(tmp_path_factory.mktemp("clm-eval") / "root")
    shutil.copytree(corpus_root, root)
    shutil.copytree(tokenizer_info.path, DataRoot(root).tokenizer_dir(corpus.name, corpus.version))
    base = {"data_root": root, "corpus": "fixture", "preset": "tiny", "batch_size": 8}
    run_training(
        TrainConfig(
            **base,
            objective="clm",
            max_steps=40,
            save_every=40,
            save_initial=True,
            seq_len=64,
            log_every=10,
        )
    )
    return root, base


EVAL = EvalConfig(max_rows_per_lang=12, max_new_tokens=12, batch_size=16)


def test_bits_per_byte_counts_every_byte_whatever_the_window(tokenizer):
    import torch

    from crossling.train.models import build_decoder, tiny

    torch.manual_seed(0)
    model = build_decoder(tiny().decoder, tokenizer, 64).eval()
    texts = ["Der Fluss fliesst langsam durch die Altstadt.", "河水缓缓流过老城。" * 5]
    wide = M.bits_per_byte(model, tokenizer, texts, max_length=512)
    narrow = M.bits_per_byte(model, tokenizer, texts, max_length=8)
    assert wide.bytes == narrow.bytes == sum(len(t.encode()) for t in texts)
    assert wide.tokens == narrow.tokens  # every token scored once in either case
    # An untrained model is about uniform over the vocabulary: log2(V) bits per token.
    per_token = wide.nll / math.log(2) / wide.tokens
    assert abs(per_token - math.log2(len(tokenizer))) < 1.0


def test_trained_clm_has_fewer_bits_per_byte_with_a_paired_test(clm_root):
    root, _ = clm_root
    refs = registry.find_checkpoints(root, "fixture-clm-tiny")
    assert [r.step for r in refs] == [0, 40]
    before, after = (evaluate_checkpoint(r, EVAL) for r in refs)
    assert after["model_kind"] == "causal"
    langs = {m.split("/")[1] for m in after["metrics"] if m.startswith("bits_per_byte/")}
    assert {"en", "de", "zh"} <= langs and "avg" in langs
    assert after["coverage"]["status"] in ("ok", "partial")
    assert after["metrics"]["bits_per_byte/avg"] < before["metrics"]["bits_per_byte/avg"]
    assert after["contamination"]["overlap"] == 0
    # Every evaluation reports its tokenizer's fertility per language (same tokenizer: same).
    fert = after["tokenizer"]["fertility"]
    assert fert["zh"]["tokens_per_char"] > 0 and fert["de"]["tokens_per_word"] >= 1
    assert fert == before["tokenizer"]["fertility"]
    test = paired_test("bits_per_byte/avg", before, after, higher_is_better=False)
    assert test is not None and test.delta < 0 and test.ci_high < 0
    de = paired_test("bits_per_byte/de", before, after, higher_is_better=False)
    assert de.method == "sign test" and de.better > de.worse and de.p > 0.5


def test_prompted_translation_fine_tuning_is_scored_with_bleu_and_chrf(tmp_path):
    from tests.evaluate.evalfixtures import write_corpus

    # The evaluation fixture: parallel sentences that never repeat between train and held-out
    # (the training fixture's generated sentences do, and the contamination guard says so).
    root = str(tmp_path)
    write_corpus(root)
    s = run_training(
        TrainConfig(
            data_root=root,
            corpus="fixture",
            preset="tiny",
            batch_size=8,
            objective="clm-translation",
            directions=["en-de", "de-en"],
            max_steps=80,
            save_every=80,
            save_initial=True,
            seq_len=128,
            log_every=20,
        )
    )
    assert s["model_kind"] == "causal" and s["packing_efficiency"] > 0.5
    untrained, ref = registry.find_checkpoints(root, "fixture-clm-translation-tiny")
    before, res = evaluate_checkpoint(untrained, EVAL), evaluate_checkpoint(ref, EVAL)
    for d in ("en-de", "de-en"):
        assert 0 <= res["metrics"][f"bleu/{d}"] <= 100
        assert res["details"][f"translation/{d}"]["prompt"].startswith("Translate")
        assert res["examples"][f"translation/{d}"]["bleu_stats"]  # per held-out pair
    assert res["metrics"]["chrf/avg"] > before["metrics"]["chrf/avg"]
    assert not any(m.startswith("bits_per_byte") for m in res["metrics"])
    assert paired_test("chrf/avg", before, res) is not None


def test_answer_only_loss_in_prompted_batches(corpus, tokenizer):
    from crossling.train.causal import PromptedTranslationBatches, format_prompt
    from crossling.train.config import DEFAULT_PROMPT
    from crossling.train.data import IGNORE_INDEX, DataConfig

    src = PromptedTranslationBatches(
        corpus, tokenizer, DataConfig(seq_len=128), 2, template=DEFAULT_PROMPT
    )
    b = src.next_batch()
    ids, labels, pos = (b.inputs[k][0].tolist() for k in ("input_ids", "labels", "position_ids"))
    # Each example: prompt tokens unlabeled, then the answer ending in </s> labeled.
    first_end = next(i for i, p in enumerate(pos[1:], 1) if p == 0) if 0 in pos[1:] else len(pos)
    example_labels = labels[:first_end]
    labeled = [i for i, x in enumerate(example_labels) if x != IGNORE_INDEX]
    assert labeled and labeled == list(range(labeled[0], labeled[-1] + 1))  # one answer span
    assert ids[labeled[-1]] == tokenizer.eos_token_id
    prompt = tokenizer.decode(ids[: labeled[0]], skip_special_tokens=True)
    assert prompt.startswith("Translate") and prompt.rstrip().endswith(":")
    assert len(prompt.splitlines()) == 3 and prompt.splitlines()[1].split(": ", 1)[1]
    assert "German" in format_prompt(DEFAULT_PROMPT, "en", "de", "x")


def test_int8_causal_lm_is_a_registered_checkpoint_the_evaluation_scores(clm_root):
    """`crossling compress` on a clm checkpoint: a registered int8 checkpoint, scored in bits per
    byte per language on the same held-out rows, with its size and tokens/s (the compression
    table covers the causal LM)."""
    from crossling.compress import CompressConfig, compare, compress

    root, _ = clm_root
    teacher = registry.find_checkpoints(root, "fixture-clm-tiny")[-1]
    out = compress(teacher.path, root, CompressConfig(method="int8"))
    ref = registry.resolve_checkpoint(out["checkpoint"], root)
    assert ref in registry.find_checkpoints(root)  # found like any trained checkpoint
    assert (ref.model_name, ref.run_version, ref.step) == (
        "fixture-clm-tiny-int8",
        teacher.run_version,
        teacher.step,
    )
    meta = ref.metadata()
    assert meta["model_kind"] == "causal" and meta["corpus"] == teacher.metadata()["corpus"]
    assert meta["teacher"]["model_name"] == "fixture-clm-tiny"
    assert meta["teacher"]["checkpoint"].endswith(teacher.path)
    assert meta["compression"]["format"] == "torch-dynamic"
    assert compress(teacher.path, root, CompressConfig(method="int8")) == out  # found, not redone
    with pytest.raises(ValueError, match="int8 only"):
        compress(teacher.path, root, CompressConfig(method="distill"))

    a, b = evaluate_checkpoint(teacher, EVAL), evaluate_checkpoint(ref, EVAL)
    assert b["lineage"]["compression"]["method"] == "int8"
    assert b["data"]["sha256"] == a["data"]["sha256"]  # the same held-out rows
    assert b["details"]["speed"]["tokens_per_s"] > 0
    c = compare(a, b)
    assert c["speed_unit"] == "tokens_per_s" and c["speed_x"] is not None
    # Linear layers int8; the embeddings (a large share of a tiny model) stay float
    assert c["size_x"] > 1.3, c["weights_bytes"]
    langs = {m.split("/")[1] for m in c["metrics"]}
    assert {"en", "de", "zh"} <= langs
    for m, v in c["metrics"].items():
        assert m.startswith("bits_per_byte/")
        # int8 rounding moves bits per byte a little, not the model
        assert abs(v["change"]) < 0.05 * v["teacher"], (m, v)
        assert v["ci"] is None or v["ci"][0] <= v["change"] <= v["ci"][1]


@pytest.mark.slow
def test_cli_compresses_a_clm_checkpoint_and_prints_the_table(clm_root, prefect_server, capsys):
    from flows.cli import main

    root, _ = clm_root
    teacher = registry.find_checkpoints(root, "fixture-clm-tiny")[-1]
    rc = main(["compress", teacher.path, "--data", root, "--method", "distill"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "int8 only" in err, err
    rc = main(["compress", teacher.path, "--data", root])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "smaller" in out and "tokens/s" in out and "bits_per_byte/de" in out, out
    ref = registry.find_checkpoints(root, "fixture-clm-tiny-int8")[0]
    assert ref.has_results() and ref.results()["details"]["speed"]["tokens_per_s"] > 0
