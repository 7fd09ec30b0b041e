"""Personal data replaced by placeholders in the tag pass (crossling/pii.py finds it).

Runs after language identification (the language chooses the phone-number regions) and before
the quality signals, the content hash and MinHash, so that everything measured, deduplicated,
written or shown (DOCS, REJECTS ``text_prefix``, artifacts) sees the anonymized text. It never
drops a document: it writes how many spans of each kind it replaced as signals (``pii_email``,
``pii_ip``, ...), which the decide pass, the stats and the manifest can sum per language.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
from pydantic import Field

from crossling.documents import Document, Stage
from crossling.pii import KINDS, PiiConfig, anonymize
from crossling.stages.base import Step
from crossling.stages.sections import section

# Bumped when what is found changes: tags measured before are measured again.
PII_VERSION = 1

# Country-code top-level domains that are not the country's ISO 3166 code.
_TLD_COUNTRY = {"uk": "GB", "su": "RU"}


def country_hint(url: str | None) -> str | None:
    """The country a URL's country-code top-level domain names (``.de`` -> ``DE``), if any."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").rstrip(".")
    tld = host.rsplit(".", 1)[-1].lower() if "." in host else ""
    if len(tld) != 2 or not tld.isalpha():
        return None
    return _TLD_COUNTRY.get(tld, tld.upper())


class PiiSectionConfig(PiiConfig):
    """The corpus config's ``pii`` section: off unless ``pii.enabled`` is set (a default run
    keeps the rows it wrote before PII handling existed). Used alone, PiiConfig is on."""

    enabled: bool = Field(
        False, description="Replace personal data in the corpus run (off by default; true: on)."
    )


class PiiAnonymize(Step):
    """E-mails, public IPs, phone numbers, IBANs and card numbers replaced (measure only).

    ``counts`` holds ``pii/replaced:<kind>`` and ``pii/replaced:<kind>:<lang>`` over the documents
    this instance measured (mergeable counters, like the steps' decide counters).
    """

    name = "pii"
    stage = Stage.NORMALIZE
    signals = [pa.field(f"pii_{k}", pa.int32()) for k in KINDS]
    config_key = "pii"  # the section of the corpus config this step owns
    config_model = PiiSectionConfig

    def __init__(self, config: Any = None):
        super().__init__(config)
        self.pii = section(config, self.config_key, PiiConfig)
        self.counts: Counter[str] = Counter()

    def measure_config(self) -> dict[str, Any]:
        cfg = self.pii
        if not cfg.enabled:
            return {"enabled": False}
        return {"version": PII_VERSION, **cfg.model_dump(mode="json")}

    def measure(self, docs: list[Document]) -> None:
        cfg = self.pii
        if not cfg.enabled:
            for doc in docs:
                for kind in KINDS:
                    doc.signals[f"pii_{kind}"] = None  # not measured
            return
        for doc in docs:
            text, found = anonymize(
                doc.text, lang=doc.lang, country=country_hint(doc.url), config=cfg
            )
            doc.text = text
            for kind in KINDS:
                n = found.get(kind, 0)
                doc.signals[f"pii_{kind}"] = n
                if n:
                    self.counts[f"pii/replaced:{kind}"] += n
                    self.counts[f"pii/replaced:{kind}:{doc.lang or 'und'}"] += n
            self.counts["pii/documents"] += 1
            if found:
                self.counts["pii/documents_changed"] += 1
