"""Word-based signals from each language's segmenter (crossling/segment_words.py), measured in the
tag pass; an optional minimum of words per language decided.

The segmenters load lazily in each worker process on the first document of their language.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pydantic import Field

from crossling.documents import Document, Reason, Stage
from crossling.segment_words import DEFAULT_SEGMENTERS, WordSegmentConfig, word_signals
from crossling.stages.base import Step, Verdict
from crossling.stages.sections import section

WORD_SIGNALS_VERSION = 1


class WordSignalsConfig(WordSegmentConfig):
    """Segmenters per language, and what is decided from the words they give."""

    enabled: bool = Field(True, description="Measure the word signals (off: no segmenter loads).")

    only_segmented: bool = Field(
        True,
        description="Measure only languages with a segmenter (zh, ja, th by default); for the "
        "others the rule's words are the quality step's units already (signals left null).",
    )
    min_words: dict[str, int] = Field(
        default_factory=dict,
        description="Drop documents with fewer words than this per language code, e.g. "
        "{'zh': 50, 'th': 40}; '*' for every language. Empty: decide nothing.",
    )


class WordsSectionConfig(WordSignalsConfig):
    """The corpus config's ``words`` section: off unless ``words.enabled`` is set (no segmenter
    is loaded and nothing is measured or decided)."""

    enabled: bool = Field(
        False, description="Measure word signals in the corpus run (off by default; true: on)."
    )


class WordSignals(Step):
    """``w_n_words``, ``w_mean_word_len``, ``w_unique_word_frac``, ``w_top_2gram_frac`` and
    ``w_top_3gram_frac`` from the language's segmenter (measure); ``min_words`` (decide)."""

    name = "words"
    stage = Stage.QUALITY
    signals = [
        pa.field("w_n_words", pa.int32()),
        pa.field("w_mean_word_len", pa.float32()),
        pa.field("w_unique_word_frac", pa.float32()),
        pa.field("w_top_2gram_frac", pa.float32()),
        pa.field("w_top_3gram_frac", pa.float32()),
    ]
    decide_columns = ["lang"]
    config_key = "words"  # the section of the corpus config this step owns
    config_model = WordsSectionConfig

    def __init__(self, config: Any = None):
        super().__init__(config)
        self.cfg = section(config, self.config_key, WordSignalsConfig)

    def measure_config(self) -> dict[str, Any]:
        if not self.cfg.enabled:
            return {"enabled": False}
        table = {**DEFAULT_SEGMENTERS, **self.cfg.segmenters}
        return {
            "version": WORD_SIGNALS_VERSION,
            "segmenters": dict(sorted(table.items())),
            "only_segmented": self.cfg.only_segmented,
        }

    def measure(self, docs: list[Document]) -> None:
        for doc in docs:
            if (
                not self.cfg.enabled
                or self.cfg.only_segmented
                and self.cfg.segmenter_name(doc.lang) == "rule"
            ):
                for f in self.signals:
                    doc.signals[f.name] = None
                continue
            for k, v in word_signals(doc.text, doc.lang, self.cfg).items():
                doc.signals[f"w_{k}"] = v

    def decide(self, doc: Document) -> Verdict:
        if not self.cfg.enabled:
            return None
        limit = self.cfg.min_words.get(doc.lang or "", self.cfg.min_words.get("*"))
        n = doc.signals.get("w_n_words")
        if limit is not None and n is not None and n < limit:
            return Reason.TOO_SHORT, f"w_n_words={n} < {limit}"
        return None
