"""FineWeb's line-level quality filter as a per-document step (off by default).

Four measurements over a document's non-blank lines, as FineWeb defined them (datatrove's
``FineWebQualityFilter`` is the reference for the semantics; this is crossling's own code):

- ``fw_line_punct_ratio``: share of lines that end in terminal punctuation (Latin, CJK, Arabic,
  Devanagari, Ethiopic and Armenian full stops, question and exclamation marks, closing quotes).
  Pages made of menus and headings end few lines in punctuation. Dropped below ``min_line_punct``.
- ``fw_short_line_ratio``: share of lines of at most ``short_line_chars`` characters. Dropped
  above ``max_short_lines``.
- ``fw_dup_line_char_ratio``: characters in lines that repeat an earlier line, over the
  document's characters without newlines. Dropped above ``max_dup_line_chars``.
- ``fw_newline_ratio``: newlines per word (per letter in scripts written without spaces, as the
  quality step counts them): lists and tables have a line every few words. Dropped above
  ``max_newline_ratio``.

Measured only when the step is enabled (the tag columns stay null otherwise, and the tag pass
costs nothing more); thresholds are decided in the decide pass, so changing one never measures
again. Drops reuse the quality reasons: ``bad_lines`` (punctuation, short lines, newlines) and
``repetition`` (duplicated lines); the detail names the FineWeb measurement.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from crossling.documents import Document, Reason, Stage
from crossling.stages.base import Step, TaggedRows, Verdict

MEASURE_VERSION = 1  # bump when what measure() writes changes

# Characters that end a sentence (or close a quoted one) in the scripts crossling sees.
TERMINAL = tuple(".!?'\"”’»。！？｡।॥؟۔።፧՜՞…")
# A character of a script written without spaces (counted as a word each, as in clean.py).
_SPACELESS = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
    r"\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff]"
)
_WORD = re.compile(r"\w+")

SIGNALS = (
    "fw_line_punct_ratio",
    "fw_short_line_ratio",
    "fw_dup_line_char_ratio",
    "fw_newline_ratio",
)


class FineWebConfig(BaseModel):
    """FineWeb's line-level quality thresholds (FineWeb's own values by default)."""

    enabled: bool = Field(
        False,
        description="Measure and apply the FineWeb line filters. Off by default: versions "
        "built without it are unchanged.",
    )
    short_line_chars: int = Field(
        30, ge=1, description="A line of at most this many characters is short (FineWeb: 30)."
    )
    min_line_punct: float = Field(
        0.12,
        ge=0.0,
        le=1.0,
        description="Drop when fewer than this share of lines end in punctuation (FineWeb: "
        "0.12; 0 turns it off).",
    )
    max_short_lines: float = Field(
        0.67,
        ge=0.0,
        le=1.0,
        description="Drop when more than this share of lines are short (FineWeb: 0.67).",
    )
    max_dup_line_chars: float = Field(
        0.01,
        ge=0.0,
        description="Drop when more than this share of characters sit in repeated lines "
        "(FineWeb: 0.01, strict; 0.1 keeps pages with a repeated footer).",
    )
    max_newline_ratio: float = Field(
        0.3, ge=0.0, description="Drop above this many newlines per word (FineWeb: 0.3)."
    )


def line_signals(text: str, short_line_chars: int = 30) -> dict[str, float]:
    """The four FineWeb measurements of one text (all 0.0 for a text without a non-blank line)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return dict.fromkeys(SIGNALS, 0.0)
    n = len(lines)
    punct = sum(1 for line in lines if line.rstrip().endswith(TERMINAL))
    short = sum(1 for line in lines if len(line) <= short_line_chars)
    seen: set[str] = set()
    dup_chars = 0
    for line in lines:
        if line in seen:
            dup_chars += len(line)
        else:
            seen.add(line)
    chars = len(text) - text.count("\n")
    spaceless = len(_SPACELESS.findall(text))
    words = len(_WORD.findall(_SPACELESS.sub(" ", text))) + spaceless
    return {
        "fw_line_punct_ratio": punct / n,
        "fw_short_line_ratio": short / n,
        "fw_dup_line_char_ratio": dup_chars / chars if chars else 0.0,
        "fw_newline_ratio": text.count("\n") / words if words else 0.0,
    }


class FineWebQuality(Step):
    """FineWeb's line punctuation, short lines, duplicated lines and newline checks."""

    name = "fineweb"
    stage = Stage.QUALITY
    signals: ClassVar[list[pa.Field]] = [pa.field(s, pa.float32()) for s in SIGNALS]
    config_key = "fineweb"
    config_model = FineWebConfig

    def __init__(self, config: FineWebConfig | None = None):
        super().__init__(config or FineWebConfig())

    def measure_config(self) -> dict[str, Any]:
        if not self.config.enabled:
            return {}
        return {"version": MEASURE_VERSION, "short_line_chars": self.config.short_line_chars}

    def measure(self, docs: list[Document]) -> None:
        if not self.config.enabled:
            return
        for doc in docs:
            doc.signals.update(line_signals(doc.text, self.config.short_line_chars))

    def decide(self, doc: Document) -> Verdict:
        if not self.config.enabled:
            return None
        values = [doc.signals.get(s) for s in SIGNALS]
        if any(v is None for v in values):
            return None  # measured by a run with the step off: nothing to decide on
        return self._verdict(*values)

    def _verdict(self, punct: float, short: float, dup: float, newline: float) -> Verdict:
        cfg = self.config
        if punct < cfg.min_line_punct:
            return Reason.BAD_LINES, f"fineweb line_punct_ratio {punct:.3f} < {cfg.min_line_punct}"
        if short > cfg.max_short_lines:
            return Reason.BAD_LINES, f"fineweb short_line_ratio {short:.3f} > {cfg.max_short_lines}"
        if dup > cfg.max_dup_line_chars:
            return (
                Reason.REPETITION,
                f"fineweb dup_line_char_ratio {dup:.3f} > {cfg.max_dup_line_chars}",
            )
        if newline > cfg.max_newline_ratio:
            return (
                Reason.BAD_LINES,
                f"fineweb newline_ratio {newline:.3f} > {cfg.max_newline_ratio}",
            )
        return None

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        if not self.config.enabled:
            return {}  # off: not a row is looked at
        return super().decide_rows(rows, idx)
