"""The new quality steps together, in the order docs/QUALITY.md gives, beside the corpus run's
own steps: unique tag columns, and one batch of real-format documents through all of them."""

from __future__ import annotations

import pyarrow as pa

from crossling.documents import Document
from crossling.run.config import CorpusConfig
from crossling.run.registry import STEPS
from crossling.stages.blocklists import BadWords, UrlBlocklist
from crossling.stages.document import LanguageID, Normalize, Quality
from crossling.stages.lines import LineFilter
from crossling.stages.pii import PiiAnonymize
from crossling.stages.quality_model import QualityScore
from crossling.stages.words import WordSignals
from tests.texts import paragraphs

NEW = [UrlBlocklist, LineFilter, PiiAnonymize, BadWords, WordSignals, QualityScore]


def test_tag_columns_are_unique_and_typed():
    assert all(step in STEPS for step in NEW)  # registered in the corpus run
    names = [f.name for step in STEPS for f in step.signals]
    assert len(names) == len(set(names))
    assert len({s.name for s in STEPS}) == len(STEPS)
    pa.schema([f for step in NEW for f in step.signals])  # a valid Arrow schema


def test_one_batch_through_the_chain(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "en").write_text("damn\n", "utf-8")
    cfg = CorpusConfig()
    texts = {
        "en": paragraphs("en", 3) + "\nMail jane.doe@example.org or call +44 20 7946 0958."
        "\nThis site uses cookies.",
        "zh": paragraphs("zh", 3) + "\n请致电 010-12345678 联系我们。",
        "de": paragraphs("de", 3) + "\nIBAN DE89 3704 0044 0532 0130 00, Version 1.2.3.4",
    }
    docs = [Document(id=k, text=v, source="t") for k, v in texts.items()]
    chain = [
        Normalize.from_config(cfg),
        LanguageID.from_config(cfg),
        LineFilter({"enabled": True}),
        PiiAnonymize({}),
        BadWords({"bad_words_dir": str(bad)}),
        WordSignals({}),
        Quality.from_config(cfg),
        QualityScore({}),
    ]
    for step in chain:
        step.measure(docs)
    by = {d.id: d for d in docs}
    assert [by[k].lang for k in ("en", "zh", "de")] == ["en", "zh", "de"]
    assert "<EMAIL>" in by["en"].text and "<PHONE>" in by["en"].text
    assert "cookies" not in by["en"].text and by["en"].signals["lf_boilerplate"] == 1
    assert (
        "<PHONE>" in by["zh"].text and by["zh"].signals["w_n_words"] < by["zh"].signals["q_n_units"]
    )
    assert "<IBAN>" in by["de"].text and "Version 1.2.3.4" in by["de"].text
    assert all(d.signals["qm_score"] is None for d in docs)
    verdicts = [s.decide(d) for s in chain for d in docs]
    assert verdicts.count(None) == len(verdicts)  # clean documents pass every step
