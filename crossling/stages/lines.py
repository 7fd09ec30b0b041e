"""Line-level boilerplate removal as a step: lines that are boilerplate are removed from the text
in the tag pass (C4's line rules, made language-aware), each removal counted by rule.

Rules, each on or off in :class:`LineFilterConfig`:

- ``boilerplate``: a line mentioning one of C4's markers (cookies, privacy policy, terms of use,
  javascript, "all rights reserved", ...) or one of ``extra_markers`` (lower case);
- ``min_words``: a line with fewer words (for spaceless scripts: fewer than ``min_chars_cjk``
  characters) than this; 0 is off (C4 used 3, which also removes headings);
- ``terminal_punct``: a line that does not end in sentence punctuation of any script
  (``. ! ? 。 ！ ？ । ؟ ።`` and closing quotes after them); off by default, and never applied
  to languages that do not end sentences with punctuation (Thai, Lao, Khmer, Myanmar).

The step never drops a document by itself unless every line was removed (reason ``empty``).
Its signals: ``lf_lines_removed``, ``lf_chars_removed`` and one count per rule
(``lf_boilerplate``, ``lf_short``, ``lf_no_punct``). Runs after Normalize (lines are already
folded) and before the quality signals, the content hash and MinHash.

Cross-document line dedup (crossling/dedup/lines.py) needs a corpus-wide count first; it is a
global stage that rewrites texts, which the decisions of a GlobalStage cannot express yet: it
stays the ``crossling dedup --lines`` job until the stage API can carry rewritten text.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from crossling.clean import _BOILERPLATE
from crossling.documents import Document, Reason, Stage
from crossling.stages.base import Step, Verdict
from crossling.stages.sections import section

LINE_FILTER_VERSION = 1
_NO_PUNCT_LANGS = frozenset({"th", "lo", "km", "my"})
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")
_TERMINAL = re.compile(r"[.!?。！？।॥؟۔።…][\"'»”’）)\]]*\s*$")


class LineFilterConfig(BaseModel):
    """Which lines are removed as boilerplate."""

    enabled: bool = Field(False, description="Remove boilerplate lines (off: text untouched).")
    boilerplate: bool = Field(True, description="Remove lines with C4's boilerplate markers.")
    extra_markers: list[str] = Field(
        default_factory=list,
        description="More markers (lower case), e.g. ['cookie-einstellungen', 'mentions légales'].",
    )
    min_words: int = Field(0, ge=0, description="Remove lines with fewer words (0: off; C4: 3).")
    min_chars_cjk: int = Field(
        6, ge=0, description="With min_words: the minimum characters of a spaceless-script line."
    )
    terminal_punct: bool = Field(
        False, description="Remove lines not ending in sentence punctuation (C4; drops headings)."
    )


class LineFilter(Step):
    """Boilerplate lines removed in the tag pass, counted by rule."""

    name = "lines"
    stage = Stage.NORMALIZE
    signals = [
        pa.field("lf_lines_removed", pa.int32()),
        pa.field("lf_chars_removed", pa.int32()),
        pa.field("lf_boilerplate", pa.int32()),
        pa.field("lf_short", pa.int32()),
        pa.field("lf_no_punct", pa.int32()),
        pa.field("lf_empty", pa.bool_()),
    ]
    config_key = "lines"  # the section of the corpus config this step owns
    config_model = LineFilterConfig

    def __init__(self, config: Any = None):
        super().__init__(config)
        self.cfg = section(config, self.config_key, LineFilterConfig)
        self.markers = tuple(_BOILERPLATE) + tuple(m.lower() for m in self.cfg.extra_markers)
        # Mergeable counters over the documents this instance measured: lines/removed:<rule>.
        self.counts: Counter[str] = Counter()

    def measure_config(self) -> dict[str, Any]:
        if not self.cfg.enabled:
            return {}
        return {"version": LINE_FILTER_VERSION, **self.cfg.model_dump(mode="json")}

    def _rule(self, line: str, lang: str | None) -> str | None:
        cfg = self.cfg
        if cfg.boilerplate:
            low = line.lower()
            if any(m in low for m in self.markers):
                return "lf_boilerplate"
        if cfg.min_words:
            if len(_SPACELESS.findall(line)) > len(line) // 3:
                if len(line.strip()) < cfg.min_chars_cjk:
                    return "lf_short"
            elif len(line.split()) < cfg.min_words:
                return "lf_short"
        if cfg.terminal_punct and lang not in _NO_PUNCT_LANGS and not _TERMINAL.search(line):
            return "lf_no_punct"
        return None

    def measure(self, docs: list[Document]) -> None:
        if not self.cfg.enabled:  # off: text untouched, nothing measured
            for doc in docs:
                for f in self.signals:
                    doc.signals[f.name] = None
            return
        for doc in docs:
            counts = {"lf_boilerplate": 0, "lf_short": 0, "lf_no_punct": 0}
            removed_chars = 0
            if self.cfg.enabled and doc.text:
                kept = []
                for line in doc.text.split("\n"):
                    rule = self._rule(line, doc.lang) if line.strip() else None
                    if rule is None:
                        kept.append(line)
                    else:
                        counts[rule] += 1
                        removed_chars += len(line) + 1
                if removed_chars:
                    text = "\n".join(kept).strip("\n")
                    empty = not text.strip()
                    # an emptied document keeps its text, so its REJECTS row shows what it was
                    doc.text = doc.text if empty else text
                    doc.signals["lf_empty"] = empty
            doc.signals.setdefault("lf_empty", False)
            doc.signals["lf_lines_removed"] = sum(counts.values())
            doc.signals["lf_chars_removed"] = removed_chars
            doc.signals.update(counts)
            for rule, n in counts.items():
                if n:
                    self.counts[f"lines/removed:{rule[3:]}"] += n

    def decide(self, doc: Document) -> Verdict:
        if doc.signals.get("lf_empty"):
            n = doc.signals.get("lf_lines_removed")
            return Reason.EMPTY, f"all {n} lines removed as boilerplate"
        return None
