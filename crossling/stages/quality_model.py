"""The quality classifier's score as a signal (measure), cut per language (decide).

The model (crossling/quality_model.py, trained by ``crossling quality-model train``) loads
lazily in each worker process, once. Changing the thresholds only reruns the decide pass;
another model (a new file or folder) measures again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from crossling.documents import Document, Reason, Stage
from crossling.quality_model import QualityModel
from crossling.stages.base import Step, TaggedRows, Verdict
from crossling.stages.sections import section


class QualityScoreConfig(BaseModel):
    """Which quality model scores the documents, and where to cut."""

    model_dir: str | None = Field(
        None, description="A folder written by `crossling quality-model train` (None: off)."
    )
    min_score: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Drop documents scoring below this (0: measure only). Try 0.5, or a "
        "derived per-language threshold.",
    )
    min_score_per_lang: dict[str, float] = Field(
        default_factory=dict, description="Per-language thresholds, e.g. {'de': 0.4}."
    )

    def threshold(self, lang: str | None) -> float:
        return self.min_score_per_lang.get(lang or "", self.min_score)


class QualityScore(Step):
    """``qm_score``: the classifier's probability that a document is like the reference text."""

    name = "quality_model"
    stage = Stage.QUALITY
    signals = [pa.field("qm_score", pa.float32())]
    decide_columns = ["lang"]
    config_key = "quality_model"  # the section of the corpus config this step owns
    config_model = QualityScoreConfig

    def __init__(self, config: Any = None):
        super().__init__(config)
        self.cfg = section(config, self.config_key, QualityScoreConfig)
        self._model: QualityModel | None = None

    @property
    def model(self) -> QualityModel | None:
        if self._model is None and self.cfg.model_dir:
            self._model = QualityModel(self.cfg.model_dir)
        return self._model

    def measure_config(self) -> dict[str, Any]:
        return {"model": self.model.fingerprint()} if self.model is not None else {}

    def measure(self, docs: list[Document]) -> None:
        if self.model is None or not docs:
            for doc in docs:
                doc.signals["qm_score"] = None
            return
        scores = self.model.score([d.text for d in docs], [d.lang for d in docs])
        for doc, s in zip(docs, scores.tolist(), strict=True):
            doc.signals["qm_score"] = s

    def decide(self, doc: Document) -> Verdict:
        score = doc.signals.get("qm_score")
        limit = self.cfg.threshold(doc.lang)
        if score is not None and score < limit:
            return Reason.QUALITY_SCORE_LOW, f"qm_score={score:.3f} < {limit}"
        return None

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        if not self.cfg.min_score and not self.cfg.min_score_per_lang:
            return {}
        return super().decide_rows(rows, idx)
