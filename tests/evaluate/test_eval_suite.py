"""The evaluation suite on tiny real checkpoints and the fixture corpus."""

from __future__ import annotations

import json

import pytest

from crossling import registry
from crossling.documents import make_id
from crossling.evaluate.suite import ContaminationError, EvalConfig, evaluate_checkpoint
from tests.evaluate.evalfixtures import (
    CORPUS,
    CORPUS_VERSION,
    HELDOUT_INDEXES,
    LANGS,
    TEXTS,
    make_classifier,
    make_encoder,
    make_seq2seq,
    write_labeled,
    write_train_ids,
)


def _only(root: str) -> registry.CheckpointRef:
    (ref,) = registry.find_checkpoints(root)
    return ref


def test_encoder_results_cover_every_language_and_pair(corpus_root):
    make_encoder(corpus_root)
    ref = _only(corpus_root)
    assert registry.pending_checkpoints(corpus_root) == [ref]
    res = evaluate_checkpoint(ref)

    m = res["metrics"]
    for lang in LANGS:
        assert 0.0 <= m[f"mlm_accuracy/{lang}"] <= 1.0
        assert m[f"pseudo_perplexity/{lang}"] > 1.0
    for lang in LANGS[1:]:
        assert 0.0 <= m[f"retrieval_top1/en-{lang}"] <= 1.0
        assert 0.0 <= m[f"retrieval_top1/{lang}-en"] <= 1.0
    assert {"mlm_accuracy/avg", "pseudo_perplexity/avg", "retrieval_top1/avg"} <= set(m)

    # Only held-out rows, and never the synthetic pairs.
    sets = res["data"]["sets"]
    assert sets["docs"]["by_group"] == {lang: len(HELDOUT_INDEXES) for lang in LANGS}
    assert sets["pairs"]["by_group"] == {f"en-{x}": len(HELDOUT_INDEXES) for x in LANGS[1:]}
    assert res["data"]["corpus"] == {
        "name": CORPUS,
        "version": CORPUS_VERSION,
        "manifest_sha256": res["lineage"]["corpus"]["manifest_sha256"],
    }
    assert res["contamination"]["overlap"] == 0
    assert "model.safetensors" in res["lineage"]["checkpoint_files_sha256"]

    # Written atomically where the registry looks, and the checkpoint is no longer pending.
    on_disk = json.loads(open(ref.results_path, encoding="utf-8").read())
    assert on_disk["metrics"] == m
    assert registry.pending_checkpoints(corpus_root) == []
    # Evaluating again returns the stored results untouched (same timestamp).
    assert evaluate_checkpoint(ref)["evaluated_at"] == res["evaluated_at"]


def test_same_checkpoint_same_numbers_and_row_cap(corpus_root):
    make_encoder(corpus_root)
    ref = _only(corpus_root)
    a = evaluate_checkpoint(ref, EvalConfig(max_rows_per_lang=2))
    b = evaluate_checkpoint(ref, EvalConfig(max_rows_per_lang=2), overwrite=True)
    assert a["metrics"] == pytest.approx(b["metrics"])
    assert a["data"]["sha256"] == b["data"]["sha256"]
    assert set(a["data"]["sets"]["docs"]["by_group"].values()) == {2}
    c = evaluate_checkpoint(ref, EvalConfig(max_rows_per_lang=3), overwrite=True)
    assert c["data"]["sha256"] != a["data"]["sha256"]
    assert c["eval_config_hash"] != a["eval_config_hash"]


def test_contamination_guard_fires_on_train_ids(corpus_root):
    """A held-out document whose id is in the checkpoint's training ids: evaluation refuses."""
    ckpt = make_encoder(corpus_root)
    leaked = make_id("file:fixture", "ru:4")  # held-out row 4 of Russian
    write_train_ids(corpus_root, ckpt, extra=[(leaked, None)])
    ref = _only(corpus_root)
    with pytest.raises(ContaminationError) as err:
        evaluate_checkpoint(ref)
    e = err.value
    assert e.checkpoint == ref.name and e.overlap == 1
    assert e.eval_set == f"{CORPUS}@{CORPUS_VERSION}:docs/heldout"
    assert ref.name in str(e) and "1 of 18 rows" in str(e) and leaked in str(e)
    assert not ref.has_results()  # nothing scored, nothing written


def test_contamination_guard_matches_content_hash_without_train_ids(data_root, monkeypatch):
    """Without train_ids_path the corpus train split is the reference; a held-out pair whose
    target side is the text of a training document is caught by content hash."""
    from tests.evaluate import evalfixtures

    real = evalfixtures.pair_rows

    def leaky_pairs():
        rows = real()
        victim = next(
            r
            for r in rows
            if r["split"] == "heldout" and r["tgt_lang"] == "hi" and not r["synthetic"]
        )
        victim["tgt_text"] = TEXTS["hi"][0]  # row 0 is a train document
        return rows

    monkeypatch.setattr(evalfixtures, "pair_rows", leaky_pairs)
    evalfixtures.write_corpus(data_root)
    make_encoder(data_root, train_ids=False)
    ref = _only(data_root)
    assert "train_ids_path" not in ref.metadata()
    with pytest.raises(ContaminationError, match=r"1 of 15 rows of eval set .*pairs/heldout/real"):
        evaluate_checkpoint(ref)


def test_seq2seq_scores_real_directions_with_signatures(corpus_root):
    make_seq2seq(corpus_root)
    res = evaluate_checkpoint(_only(corpus_root), EvalConfig(max_new_tokens=8))
    directions = [f"en-{x}" for x in LANGS[1:]] + [f"{x}-en" for x in LANGS[1:]]
    for d in directions:
        assert 0.0 <= res["metrics"][f"bleu/{d}"] <= 100.0
        assert 0.0 <= res["metrics"][f"chrf/{d}"] <= 100.0
        assert "version:" in res["signatures"][f"bleu/{d}"]
        assert res["details"][f"translation/{d}"]["segments"] == len(HELDOUT_INDEXES)
        assert res["details"][f"translation/{d}"]["prefix"] == f"<lang:{d.split('-')[1]}>"
    assert "tok:zh" in res["signatures"]["bleu/en-zh"]
    # 3 real held-out en-de pairs; the 3 synthetic held-out ones are not scored.
    assert res["data"]["sets"]["pairs"]["by_group"]["en-de"] == len(HELDOUT_INDEXES)


def test_classifier_zero_shot_accuracy_per_language(corpus_root, tmp_path):
    labeled = write_labeled(tmp_path / "labeled.jsonl")
    make_classifier(corpus_root, str(labeled))
    res = evaluate_checkpoint(_only(corpus_root))
    # Fine-tuned on English train rows: English held-out rows are supervised, the rest zero-shot.
    assert {k for k in res["metrics"] if not k.endswith("/avg")} == {
        f"zeroshot_accuracy/{x}" for x in LANGS[1:]
    } | {"supervised_accuracy/en"}
    assert all(0.0 <= v <= 1.0 for v in res["metrics"].values())
    assert res["data"]["sets"]["labeled"]["by_group"] == {x: 2 if x == "en" else 10 for x in LANGS}
    assert res["details"]["classification/de"]["zero_shot"] is True


def test_results_keep_the_per_example_values_of_every_metric(corpus_root):
    import math

    make_encoder(corpus_root)
    res = evaluate_checkpoint(_only(corpus_root))
    ex, m = res["examples"], res["metrics"]
    heldout_ids = {
        make_id("file:fixture", f"{lang}:{i}") for lang in LANGS for i in HELDOUT_INDEXES
    }
    for lang in LANGS:
        e = ex[f"mlm/{lang}"]
        assert len(e["ids"]) == len(HELDOUT_INDEXES) and set(e["ids"]) <= heldout_ids
        assert len(e["tokens"]) == len(e["correct"]) == len(e["nll"]) == len(e["ids"])
        # The metric is the pooled value of its examples.
        assert m[f"mlm_accuracy/{lang}"] == pytest.approx(sum(e["correct"]) / sum(e["tokens"]))
        ppl = math.exp(sum(e["nll"]) / sum(e["tokens"]))
        assert m[f"pseudo_perplexity/{lang}"] == pytest.approx(ppl, rel=1e-4)
    for lang in LANGS[1:]:
        for d in (f"en-{lang}", f"{lang}-en"):
            e = ex[f"retrieval/{d}"]
            assert len(e["hit"]) == len(HELDOUT_INDEXES)
            assert m[f"retrieval_top1/{d}"] == pytest.approx(sum(e["hit"]) / len(e["hit"]))
    assert res["coverage"]["status"] == "ok" and res["coverage"]["missing"] == []
    assert res["coverage"]["languages"]["hi"] == {"rows": len(HELDOUT_INDEXES), "status": "ok"}


def test_seq2seq_keeps_sacrebleu_statistics_per_segment(corpus_root):
    from crossling.evaluate.metrics import bleu_from_stats, chrf_from_stats

    make_seq2seq(corpus_root)
    res = evaluate_checkpoint(_only(corpus_root), EvalConfig(max_new_tokens=8))
    e = res["examples"]["translation/de-en"]
    assert len(e["ids"]) == len(e["bleu_stats"]) == len(e["chrf_stats"]) == len(HELDOUT_INDEXES)
    summed = [sum(col) for col in zip(*e["bleu_stats"], strict=True)]
    assert bleu_from_stats(summed) == pytest.approx(res["metrics"]["bleu/de-en"])
    summed = [sum(col) for col in zip(*e["chrf_stats"], strict=True)]
    assert chrf_from_stats(summed) == pytest.approx(res["metrics"]["chrf/de-en"])


def test_a_language_without_heldout_rows_is_reported_and_warned(data_root, caplog):
    """Japanese documents all landed in the train split: nothing to evaluate for ja."""
    from tests.evaluate import evalfixtures
    from tests.train.corpus_fixture import write_version

    rows = [
        evalfixtures.doc_row(lang, i, t, "heldout" if i in HELDOUT_INDEXES else "train")
        for lang in LANGS
        for i, t in enumerate(TEXTS[lang])
    ]
    rows += [evalfixtures.doc_row("ja", i, f"日本語の文 {i} です。", "train") for i in range(5)]
    write_version(data_root, CORPUS, CORPUS_VERSION, docs=rows, pairs=evalfixtures.pair_rows())
    make_encoder(data_root, languages=[*LANGS, "ja"])
    with caplog.at_level("WARNING", logger="crossling.evaluate.suite"):
        res = evaluate_checkpoint(_only(data_root))
    cov = res["coverage"]
    assert cov["status"] == "partial" and cov["missing"] == ["ja"]
    assert cov["languages"]["ja"] == {"rows": 0, "status": "no_heldout_rows"}
    assert cov["languages"]["de"]["status"] == "ok" and "mlm_accuracy/de" in res["metrics"]
    assert not any(k.endswith("/ja") for k in res["metrics"])
    assert "nothing to evaluate for ja" in caplog.text
    assert any("nothing to evaluate for ja" in n for n in res["notes"])


def test_a_checkpoint_with_nothing_to_evaluate_says_so(data_root, caplog):
    """A corpus of a few documents a language: the held-out share rounds to zero everywhere."""
    from tests.evaluate import evalfixtures
    from tests.train.corpus_fixture import write_version

    rows = [
        evalfixtures.doc_row(lang, i, t, "train")
        for lang in LANGS
        for i, t in enumerate(TEXTS[lang])
    ]
    write_version(data_root, CORPUS, CORPUS_VERSION, docs=rows)
    make_encoder(data_root)
    with caplog.at_level("WARNING", logger="crossling.evaluate.suite"):
        res = evaluate_checkpoint(_only(data_root))
    assert res["metrics"] == {} and res["examples"] == {}
    assert res["coverage"]["status"] == "nothing_to_evaluate"
    assert res["coverage"]["missing"] == sorted(LANGS)
    assert "nothing to evaluate" in caplog.text
    assert _only(data_root).has_results()  # recorded, so the next run does not retry it


def test_heldout_rows_come_from_every_version_the_checkpoint_has_seen(corpus_root):
    """A checkpoint continued on a second version is evaluated on both versions' held-out rows."""
    from crossling.corpus import CorpusVersion
    from crossling.storage import new_version
    from tests.evaluate import evalfixtures
    from tests.train.corpus_fixture import write_version

    v2 = new_version("c0ffee02")
    new = [
        evalfixtures.doc_row("de", 100 + i, f"Ein neuer Satz Nummer {i}.", "heldout")
        for i in range(4)
    ]
    write_version(corpus_root, CORPUS, v2, docs=new, parent=CORPUS_VERSION)
    seen = [
        {
            "name": CORPUS,
            "version": v,
            "manifest_sha256": CorpusVersion.open(corpus_root, CORPUS, v).manifest_sha256,
        }
        for v in (CORPUS_VERSION, v2)
    ]
    make_encoder(corpus_root, corpus_versions=seen)
    res = evaluate_checkpoint(_only(corpus_root))
    assert res["data"]["sets"]["docs"]["by_group"]["de"] == len(HELDOUT_INDEXES) + 4
    assert [v["version"] for v in res["data"]["versions"]] == [CORPUS_VERSION, v2]
    assert res["lineage"]["corpus_versions"] == seen
    # A version of its lineage that is gone is named in one line.
    make_encoder(
        corpus_root,
        model_name="gone",
        corpus_versions=[
            {"name": CORPUS, "version": "20200101T000000Z-00000000", "manifest_sha256": "x"}
        ],
    )
    gone = next(r for r in registry.find_checkpoints(corpus_root) if r.model_name == "gone")
    with pytest.raises(FileNotFoundError, match="20200101T000000Z-00000000 is not under"):
        evaluate_checkpoint(gone)
