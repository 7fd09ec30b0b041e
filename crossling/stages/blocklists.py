"""Blocklists as steps: URLs from list files (decide only) and bad words per language (measured
once, thresholds decided). The lists and their file format: crossling/blocklists.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from crossling.blocklists import SPACELESS_LANGS, BlocklistConfig, Blocklists
from crossling.documents import Document, Reason, Stage
from crossling.stages.base import Step, TaggedRows, Verdict
from crossling.stages.sections import section

BAD_WORDS_VERSION = 1


class UrlBlocklist(Step):
    """Blocked hosts (and their subdomains), URL substrings and URL words, from list files.
    Decide only: changing a list never reads a document again. Documents without a URL stay."""

    name = "url_blocklist"
    stage = Stage.READ
    decide_columns = ["url"]
    config_key = "blocklists"  # the section of the corpus config this step owns
    config_model = BlocklistConfig

    def __init__(self, config: Any = None):
        super().__init__(config)
        self.lists = Blocklists(section(config, self.config_key, BlocklistConfig))

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        if not self.lists.blocks_urls:
            return {}
        return super().decide_rows(rows, idx)

    def decide(self, doc: Document) -> Verdict:
        why = self.lists.url_verdict(doc.url)
        return None if why is None else (Reason.URL_BLOCKED, why)


class BadWords(Step):
    """Bad-word matches per document in its language's list (measure), dropped above
    ``max_bad_words`` or ``max_bad_word_frac`` (decide). Runs after language identification."""

    name = "bad_words"
    stage = Stage.QUALITY
    signals = [pa.field("bad_words", pa.int32()), pa.field("bad_word_frac", pa.float32())]
    config_key = "blocklists"
    config_model = BlocklistConfig

    def __init__(self, config: Any = None):
        super().__init__(config)
        self.cfg = section(config, self.config_key, BlocklistConfig)
        self.lists = Blocklists(self.cfg)

    def measure_config(self) -> dict[str, Any]:
        if not self.lists.bad_word_paths:
            return {}
        return {"version": BAD_WORDS_VERSION, "lists": self.lists.lists_digest()}

    def measure(self, docs: list[Document]) -> None:
        if not self.lists.bad_word_paths:  # no lists: nothing to count (and no cost)
            for doc in docs:
                doc.signals["bad_words"], doc.signals["bad_word_frac"] = None, None
            return
        for doc in docs:
            n = self.lists.count_bad_words(doc.text, doc.lang)
            words = max(1, len(doc.text) if doc.lang in SPACELESS_LANGS else len(doc.text.split()))
            doc.signals["bad_words"] = n
            doc.signals["bad_word_frac"] = n / words

    def decide(self, doc: Document) -> Verdict:
        n = doc.signals.get("bad_words") or 0
        frac = doc.signals.get("bad_word_frac") or 0.0
        if n > self.cfg.max_bad_words:
            return Reason.BAD_WORDS, f"bad_words={n} > {self.cfg.max_bad_words}"
        if frac > self.cfg.max_bad_word_frac:
            return Reason.BAD_WORDS, f"bad_word_frac={frac:.4f} > {self.cfg.max_bad_word_frac}"
        return None

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        if not self.lists.bad_word_paths:
            return {}
        n, frac = rows.array("bad_words"), rows.array("bad_word_frac")
        if n is None or frac is None:
            return super().decide_rows(rows, idx)
        hit = idx[(n[idx] > self.cfg.max_bad_words) | (frac[idx] > self.cfg.max_bad_word_frac)]
        return {int(i): self.decide(rows.document(int(i))) for i in hit}
