"""The per-document steps: what each measures, and what each decides from the measurements."""

from crossling.documents import Document, Reason
from crossling.run.config import CorpusConfig
from crossling.run.plan import tag_schema
from crossling.run.registry import STEPS
from crossling.stages.document import LanguageID, Normalize, Quality
from tests.texts import PARAGRAPHS, paragraphs


def _doc(text: str) -> Document:
    return Document(id="x", text=text, source="test")


def test_normalize_folds_and_keeps_what_was_there_when_empty():
    step = Normalize.from_config(CorpusConfig())
    docs = [_doc("  Cafe\u0301 \t ok \r\n\r\n next\u200b "), _doc("\x00\x01 \u200b \t")]
    step.measure(docs)
    assert docs[0].text == "Café ok\nnext" and step.decide(docs[0]) is None
    assert step.decide(docs[1])[0] == Reason.EMPTY
    assert docs[1].text  # the REJECTS row will show the raw prefix, not nothing


def test_lone_surrogates_are_replaced_not_fatal():
    docs = [_doc("\ud800 broken surrogate " + PARAGRAPHS["en"])]
    Normalize.from_config(CorpusConfig()).measure(docs)
    assert "\ud800" not in docs[0].text and "\ufffd" in docs[0].text
    LanguageID.from_config(CorpusConfig()).measure(docs)  # fastText raised TypeError on this before
    assert docs[0].lang == "en"


def test_langid_measures_then_thresholds_decide():
    docs = [_doc(PARAGRAPHS[k]) for k in ("de", "ru", "zh")]
    LanguageID.from_config(CorpusConfig()).measure(docs)
    assert [d.lang for d in docs] == ["de", "ru", "zh"]
    assert [d.script for d in docs] == ["Latn", "Cyrl", "Hans"]
    only_de = LanguageID.from_config(CorpusConfig(langs=["de"]))
    assert only_de.decide(docs[0]) is None
    assert only_de.decide(docs[1])[0] == Reason.LANG_NOT_WANTED
    strict = LanguageID.from_config(CorpusConfig(langid={"min_score": 1.01}))
    assert strict.decide(docs[0])[0] == Reason.LANG_SCORE_LOW
    per_lang = LanguageID.from_config(
        CorpusConfig(langid={"min_score": 1.01, "min_score_per_lang": {"de": 0}})
    )
    assert per_lang.decide(docs[0]) is None and per_lang.decide(docs[1]) is not None


def test_quality_signals_are_columns_and_thresholds_come_from_config():
    good, spam = _doc(paragraphs("en", 3)), _doc("buy now! " * 60)
    docs = [good, spam]
    for cls in STEPS:
        cls.from_config(CorpusConfig()).measure(docs)
    names = set(tag_schema().names)
    assert {k for k in good.signals} <= names  # every signal has a typed column
    q = Quality.from_config(CorpusConfig())
    assert q.decide(good) is None and q.decide(spam)[0] == Reason.REPETITION
    lax = Quality.from_config(CorpusConfig(quality={"enabled": False}))
    assert lax.decide(spam) is None
    longer = Quality.from_config(CorpusConfig(quality={"defaults": {"min_chars": 10_000}}))
    assert longer.decide(good)[0] == Reason.TOO_SHORT


def test_signal_columns_are_unique_across_steps():
    names = [f.name for s in STEPS for f in s.signals]
    assert len(names) == len(set(names))


def test_column_wise_decide_gives_what_deciding_one_document_at_a_time_gives(tmp_path):
    # Tagged rows made by the tag pass from texts of every kind the thresholds look at; each
    # step's column-wise decide_rows against the base class's document-by-document path, under
    # several configs (thresholds by script and language, wanted languages, URL blocks).
    import json

    import numpy as np
    import pyarrow.parquet as pq

    from crossling.run.plan import plan_run
    from crossling.run.tag import tag_partition
    from crossling.stages.base import Step, TaggedRows

    texts = [*PARAGRAPHS.values(), *(paragraphs(k, 3) for k in PARAGRAPHS)]
    texts += ["short", "", "\x00 \u200b", "lorem ipsum dolor sit amet " * 20, "## {} [] ;; " * 30]
    texts += ["\n".join(["same line here"] * 12), "x " * 300, "... …\n" * 40, "GroÃŸmutter " * 30]
    texts += [PARAGRAPHS["en"] + "\nprivacy policy\ncookie policy\naccept all" * 5]
    texts += [" ".join(["word"] * 27 + ["#"] * 3)]  # symbol_per_unit exactly 0.1 (not in float32)
    src = tmp_path / "in.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for k, t in enumerate(texts):
            f.write(json.dumps({"text": t, "url": f"https://{'ads.' if k % 3 else ''}ex.org/{k}"}))
            f.write("\n")
    plan = plan_run([str(src)], str(tmp_path / "root"), "c", CorpusConfig())
    p = plan.partitions[0]
    tag_partition(plan.root, plan.tag_dirs[p.index], p.to_dict(), plan.ctx.config)
    table = pq.read_table(f"{plan.tag_dirs[p.index]}/docs.parquet")
    configs = [
        CorpusConfig(),
        CorpusConfig(langs=["en", "zh"], urls={"block_domains": ["ads.ex.org"]}),
        CorpusConfig(
            langid={"min_score": 0.9, "min_score_per_lang": {"de": 0.2}},
            quality={
                "defaults": {"min_chars": 300, "drop_lorem_ipsum": False},
                "per_lang": {"ru": {"min_units": 400}},
                "per_script": {"Hans": {"max_top_2gram_frac": 0.01}},
            },
        ),
        CorpusConfig(quality={"enabled": False}),
        # Thresholds on a measured value, where float32 and float64 disagree: 0.1, and a score
        # plus less than float32 can tell apart.
        CorpusConfig(
            quality={"defaults": {"max_symbol_per_unit": 0.1, "min_chars": 10, "min_units": 5}},
            langid={"min_score": float(table["lang_score"][0].as_py()) + 1e-12},
        ),
    ]
    checked = 0
    for cfg in configs:
        for cls in STEPS:
            step = cls.from_config(cfg)
            names = [f.name for s in STEPS for f in s.signals]
            rows = TaggedRows(table.to_batches()[0], names)
            idx = np.arange(rows.num_rows)
            fast, slow = step.decide_rows(rows, idx), Step.decide_rows(step, rows, idx)
            assert fast == slow, (cls.__name__, cfg)
            checked += len(slow)
    assert checked > 20  # the configs drop many documents, for many reasons
