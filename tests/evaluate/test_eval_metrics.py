"""Metric functions on hand-made inputs and a tiny real masked LM."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crossling.evaluate import metrics as M


def test_retrieval_top1_counts_exact_and_duplicate_text_hits():
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.5]], dtype=np.float32)
    c = np.array([[1.0, 0.1], [0.1, 1.0], [-1.0, 0.0]], dtype=np.float32)
    # Queries 0 and 1 find their own candidate; query 2 finds candidate 0.
    assert M.retrieval_top1(q, c) == pytest.approx(2 / 3)
    # Candidate 0 has the same text as candidate 2: retrieving it is as good as the gold one.
    assert M.retrieval_top1(q, c, ["a", "b", "a"]) == pytest.approx(1.0)
    assert math.isnan(M.retrieval_top1(np.zeros((0, 2)), np.zeros((0, 2))))


def test_translation_score_has_sacrebleu_signatures_and_script_tokenizers():
    s = M.translation_score(["the cat sat on the mat"], ["the cat sat on the mat"], "en")
    assert s.bleu == pytest.approx(100.0) and s.chrf == pytest.approx(100.0)
    assert "tok:13a" in s.bleu_signature and "version:" in s.bleu_signature
    assert s.chrf_signature.startswith("nrefs:1") and "nc:6" in s.chrf_signature
    zh = M.translation_score(["河水慢慢地流过老城"], ["河水慢慢地流过老城"], "zh")
    assert "tok:zh" in zh.bleu_signature and zh.bleu == pytest.approx(100.0)
    assert M.bleu_tokenizer_for("ja") == "char"


def test_masked_lm_score_on_tiny_model(tmp_path, corpus_root):
    from crossling.evaluate.suite import load_model
    from tests.evaluate.evalfixtures import TEXTS, make_encoder

    ckpt = make_encoder(corpus_root)
    model, tok = load_model("encoder", str(ckpt))
    texts = TEXTS["ru"][:3]
    s = M.masked_lm_score(model, tok, texts, max_length=16, batch_size=7)
    n_tokens = sum(min(len(tok(t)["input_ids"]), 16) - 2 for t in texts)  # minus <s> and </s>
    assert s.tokens == n_tokens and s.texts == 3
    assert 0.0 <= s.accuracy <= 1.0
    # Random weights over a ~400-token vocabulary: near-uniform predictions.
    assert 50 < s.pseudo_perplexity < 2000
    # The same call gives the same numbers (no random masking), whatever the batch size.
    again = M.masked_lm_score(model, tok, texts, max_length=16, batch_size=64)
    assert again.correct == s.correct and again.nll == pytest.approx(s.nll, rel=1e-4)
    # At most max_positions scored per text, the same ones every time.
    capped = M.masked_lm_score(model, tok, texts, max_length=16, max_positions=4)
    assert capped.tokens == 3 * 4
    assert M.masked_lm_score(model, tok, texts, max_length=16, max_positions=4).nll == capped.nll
    emb = M.mean_pooled_embeddings(model, tok, texts, batch_size=2)
    assert emb.shape == (3, 32) and emb.dtype == np.float32
