"""The evaluation suite on tiny real checkpoints and the fixture corpus."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crossling import registry
from crossling.documents import PAIRS_SCHEMA, make_id
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


def test_contamination_guard_matches_content_hash_without_train_ids(corpus_root):
    """Without train_ids_path the corpus train split is the reference; a held-out pair whose
    target side is the text of a training document is caught by content hash."""
    make_encoder(corpus_root, train_ids=False)
    ref = _only(corpus_root)
    assert "train_ids_path" not in ref.metadata()
    # Rewrite the pairs file so one held-out pair repeats a train document verbatim.
    pairs_path = os.path.join(
        corpus_root, "corpora", CORPUS, CORPUS_VERSION, "pairs", "part-00000.parquet"
    )
    table = pq.read_table(pairs_path).to_pylist()
    victim = next(
        r for r in table if r["split"] == "heldout" and r["tgt_lang"] == "hi" and not r["synthetic"]
    )
    victim["tgt_text"] = TEXTS["hi"][0]  # row 0 is a train document
    pq.write_table(pa.Table.from_pylist(table, schema=PAIRS_SCHEMA), pairs_path)
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
