"""The quality classifier: trained by crossling with real fastText on files the test writes,
scored as a signal, cut per language; bad inputs named in one line."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from crossling.documents import Document, Reason
from crossling.quality_model import (
    QualityModel,
    QualityModelConfig,
    QualityModelError,
    train_quality_model,
)
from crossling.stages.quality_model import QualityScore
from crossling.textsources import SourceError
from tests.texts import paragraphs

LANGS = ["en", "de", "fr", "es", "ru"]


def _junk(text: str, rng: random.Random) -> str:
    """Menu lines and link lists made of a real text's words."""
    words = text.split()
    lines = [" | ".join(rng.sample(words, 3)) for _ in range(12)]
    return "\n".join(lines + [f"» {'-'.join(rng.sample(words, 3)).lower()}" for _ in range(8)])


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return str(path)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("qm")
    rng = random.Random(0)
    pos, neg = [], []
    for lang in LANGS:
        for i in range(40):
            text = paragraphs(lang, 2 + i % 3)
            pos.append({"text": text, "lang": lang})
            neg.append({"text": _junk(text, rng), "lang": lang})
    cfg = QualityModelConfig(
        epoch=10, heldout_fraction=0.2, per_language=True, min_docs_per_lang=20
    )
    meta = train_quality_model(
        [_write(d / "pos.jsonl", pos)], [_write(d / "neg.jsonl", neg)], str(d / "model"), cfg
    )
    return str(d / "model"), meta


def test_training_writes_models_and_heldout_figures(model_dir):
    path, meta = model_dir
    assert set(meta["models"]) == {"*", *LANGS}  # multilingual + one per language
    assert sum(meta["trained_on"]["positive"].values()) == 160  # 200 less 20% held out
    assert sum(meta["trained_on"]["negative"].values()) == 160
    assert meta["heldout"]["documents"] == 80
    assert meta["heldout"]["precision"] >= 0.9 and meta["heldout"]["recall"] >= 0.9
    assert QualityModel(path).meta == json.loads(json.dumps(meta))


def test_step_scores_and_decides_per_language(model_dir):
    path, _ = model_dir
    rng = random.Random(1)
    good = paragraphs("de", 3)
    docs = [
        Document(id="1", text=good, source="t", lang="de"),
        Document(id="2", text=_junk(good, rng), source="t", lang="de"),
        Document(id="3", text=paragraphs("el", 3), source="t", lang="el"),  # no model: "*"
    ]
    step = QualityScore({"model_dir": path, "min_score": 0.5, "min_score_per_lang": {"el": 0.0}})
    step.measure(docs)
    s = [d.signals["qm_score"] for d in docs]
    assert s[0] > 0.5 > s[1] and 0.0 <= s[2] <= 1.0
    assert step.decide(docs[0]) is None and step.decide(docs[2]) is None
    assert step.decide(docs[1])[0] == Reason.QUALITY_SCORE_LOW
    assert step.measure_config()["model"]["*"][0] == "all.bin"
    off = QualityScore({})
    off.measure(docs[:1])
    assert off.measure_config() == {} and off.decide(docs[0]) is None
    scores = QualityModel(path).score([good, good], ["de", "xx"])
    assert np.all((scores >= 0) & (scores <= 1))


def test_bad_inputs_and_bad_model_folders(tmp_path):
    good = _write(tmp_path / "g.jsonl", [{"text": paragraphs("en", 2), "lang": "en"}])
    (tmp_path / "empty.jsonl").write_text("", "utf-8")
    with pytest.raises(SourceError, match="nope.jsonl: no such file"):
        train_quality_model([str(tmp_path / "nope.jsonl")], [good], str(tmp_path / "m"))
    with pytest.raises(SourceError, match="empty.jsonl: empty file"):
        train_quality_model([good], [str(tmp_path / "empty.jsonl")], str(tmp_path / "m"))
    with pytest.raises(QualityModelError, match="no negative inputs"):
        train_quality_model([good], [], str(tmp_path / "m"))
    with pytest.raises(QualityModelError, match="not a quality model folder"):
        QualityModel(str(tmp_path))
    (tmp_path / "quality-model.json").write_text("{broken", "utf-8")
    with pytest.raises(QualityModelError, match="quality-model.json: unreadable"):
        QualityScore({"model_dir": str(tmp_path)}).measure_config()
