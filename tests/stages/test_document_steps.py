"""The per-document steps: what each measures, and what each decides from the measurements."""

from crossling.documents import Document, Reason
from crossling.pipeline import STEPS, CorpusConfig, tag_schema
from crossling.stages.document import LanguageID, Normalize, Quality
from tests.texts import PARAGRAPHS, paragraphs


def _doc(text: str) -> Document:
    return Document(id="x", text=text, source="test")


def test_normalize_folds_and_keeps_what_was_there_when_empty():
    step = Normalize(CorpusConfig())
    docs = [_doc("  Cafe\u0301 \t ok \r\n\r\n next\u200b "), _doc("\x00\x01 \u200b \t")]
    step.measure(docs)
    assert docs[0].text == "Café ok\nnext" and step.decide(docs[0]) is None
    assert step.decide(docs[1])[0] == Reason.EMPTY
    assert docs[1].text  # the REJECTS row will show the raw prefix, not nothing


def test_lone_surrogates_are_replaced_not_fatal():
    docs = [_doc("\ud800 broken surrogate " + PARAGRAPHS["en"])]
    Normalize(CorpusConfig()).measure(docs)
    assert "\ud800" not in docs[0].text and "\ufffd" in docs[0].text
    LanguageID(CorpusConfig()).measure(docs)  # fastText raised TypeError on this before
    assert docs[0].lang == "en"


def test_langid_measures_then_thresholds_decide():
    docs = [_doc(PARAGRAPHS[k]) for k in ("de", "ru", "zh")]
    LanguageID(CorpusConfig()).measure(docs)
    assert [d.lang for d in docs] == ["de", "ru", "zh"]
    assert [d.script for d in docs] == ["Latn", "Cyrl", "Hans"]
    only_de = LanguageID(CorpusConfig(langs=["de"]))
    assert only_de.decide(docs[0]) is None
    assert only_de.decide(docs[1])[0] == Reason.LANG_NOT_WANTED
    strict = LanguageID(CorpusConfig(langid={"min_score": 1.01}))
    assert strict.decide(docs[0])[0] == Reason.LANG_SCORE_LOW
    per_lang = LanguageID(CorpusConfig(langid={"min_score": 1.01, "min_score_per_lang": {"de": 0}}))
    assert per_lang.decide(docs[0]) is None and per_lang.decide(docs[1]) is not None


def test_quality_signals_are_columns_and_thresholds_come_from_config():
    good, spam = _doc(paragraphs("en", 3)), _doc("buy now! " * 60)
    docs = [good, spam]
    for cls in STEPS:
        cls(CorpusConfig()).measure(docs)
    names = set(tag_schema().names)
    assert {k for k in good.signals} <= names  # every signal has a typed column
    q = Quality(CorpusConfig())
    assert q.decide(good) is None and q.decide(spam)[0] == Reason.REPETITION
    lax = Quality(CorpusConfig(quality={"enabled": False}))
    assert lax.decide(spam) is None
    longer = Quality(CorpusConfig(quality={"defaults": {"min_chars": 10_000}}))
    assert longer.decide(good)[0] == Reason.TOO_SHORT


def test_signal_columns_are_unique_across_steps():
    names = [f.name for s in STEPS for f in s.signals]
    assert len(names) == len(set(names))
