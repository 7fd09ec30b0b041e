"""Drop documents by where they come from: blocked domains (and their subdomains) and URL
substrings, as datatrove's URLFilter and C4's blocklists do. Decide only: nothing is measured,
so changing a list never reads or identifies anything again."""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
from pydantic import BaseModel, Field

from crossling.documents import Document, Reason, Stage
from crossling.stages.base import Step, TaggedRows, Verdict


class UrlFilterConfig(BaseModel):
    """Where documents may not come from."""

    block_domains: list[str] = Field(
        default_factory=list,
        description="Drop documents from these hosts and their subdomains, e.g. "
        "['spam.example', 'ads.example.org'].",
    )
    block_substrings: list[str] = Field(
        default_factory=list,
        description="Drop documents whose URL contains one of these (case-insensitive), "
        "e.g. ['/tag/', '?replytocom='].",
    )


class UrlFilter(Step):
    """Blocked domains and URL substrings; documents without a URL are kept."""

    name = "urls"
    stage = Stage.READ
    decide_columns = ["url"]
    config_key = "urls"
    config_model = UrlFilterConfig

    def __init__(self, config: UrlFilterConfig | None = None):
        super().__init__(config or UrlFilterConfig())
        cfg = self.config
        self.domains = {d.lower().strip(".") for d in cfg.block_domains}
        self.substrings = [s.lower() for s in cfg.block_substrings]

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        if not (self.domains or self.substrings):
            return {}  # nothing blocked: no document is looked at
        return super().decide_rows(rows, idx)

    def decide(self, doc: Document) -> Verdict:
        if not doc.url or not (self.domains or self.substrings):
            return None
        url = doc.url.lower()
        host = (urlsplit(url).hostname or "").strip(".")
        parts = host.split(".")
        for i in range(len(parts)):
            if ".".join(parts[i:]) in self.domains:
                return Reason.URL_BLOCKED, f"host {host} is blocked ({'.'.join(parts[i:])})"
        for sub in self.substrings:
            if sub in url:
                return Reason.URL_BLOCKED, f"URL contains {sub!r}"
        return None
