"""The per-document steps of every corpus run: normalization, language identification, quality.

Each measures in the tag pass and decides in the decide pass (crossling/stages/base.py).
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from crossling.clean import QUALITY_SIGNALS, SIGNALS_VERSION, normalize_text, quality_signals_batch
from crossling.documents import TEXT_PREFIX_CHARS, Document, Reason, Stage
from crossling.langid import LanguageIdentifier, default_model_path
from crossling.stages.base import Step, Verdict


class Normalize(Step):
    """NFC, control characters and lone surrogates out, whitespace folded; empty texts drop."""

    name = "normalize"
    stage = Stage.NORMALIZE
    signals = [pa.field("normalized_empty", pa.bool_())]

    def measure(self, docs: list[Document]) -> None:
        for doc in docs:
            text = normalize_text(doc.text)
            if text:
                doc.text = text
                doc.signals["normalized_empty"] = False
            else:  # keep what was there, so the REJECTS row shows it
                doc.text = normalize_text(doc.text, fold=False)[:TEXT_PREFIX_CHARS]
                doc.signals["normalized_empty"] = True

    def decide(self, doc: Document) -> Verdict:
        if doc.signals.get("normalized_empty"):
            return Reason.EMPTY, "no text after normalization"
        return None


class LanguageID(Step):
    """fastText language ID (document or line mode) measured; score threshold and wanted set
    decided."""

    name = "langid"
    stage = Stage.LANGID
    decide_columns = ["lang", "lang_score"]

    def __init__(self, config):
        super().__init__(config)
        lid = config.langid
        self.identifier = LanguageIdentifier(
            lid.model_path,
            mode=lid.mode,
            mixed_min_share=lid.mixed_min_share,
            max_chars=lid.max_chars,
        )
        self.langs = set(config.langs) if config.langs else None

    def measure_config(self) -> dict[str, Any]:
        lid = self.config.langid
        path = lid.model_path or default_model_path()
        st = os.stat(path)
        return {
            "mode": lid.mode,
            "mixed_min_share": lid.mixed_min_share,
            "max_chars": lid.max_chars,
            "model": [os.path.basename(path), st.st_size, st.st_mtime_ns],
        }

    def measure(self, docs: list[Document]) -> None:
        self.identifier.annotate_batch(docs)

    def decide(self, doc: Document) -> Verdict:
        if self.langs is not None and doc.lang not in self.langs:
            return Reason.LANG_NOT_WANTED, f"lang={doc.lang} not in {sorted(self.langs)}"
        lid = self.config.langid
        limit = lid.min_score_per_lang.get(doc.lang or "", lid.min_score)
        if doc.lang_score < limit:
            return Reason.LANG_SCORE_LOW, f"{doc.lang} score {doc.lang_score:.3f} < {limit}"
        return None


class Quality(Step):
    """Gopher/C4-style signals measured once (crossling/clean.py); thresholds per script and
    language decided."""

    name = "quality"
    stage = Stage.QUALITY
    signals = QUALITY_SIGNALS
    decide_columns = ["lang", "script"]

    def measure_config(self) -> dict[str, Any]:
        return {"signals": SIGNALS_VERSION}

    def measure(self, docs: list[Document]) -> None:
        for doc, row in zip(docs, quality_signals_batch([d.text for d in docs]), strict=True):
            for k, v in row.items():
                doc.signals[f"q_{k}"] = v

    def decide(self, doc: Document) -> Verdict:
        return self.config.quality.decide(doc.signals, doc.lang, doc.script, prefix="q_")
