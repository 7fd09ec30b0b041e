"""Word segmentation per language: real segmenters for zh/ja/th, the rule elsewhere."""

from __future__ import annotations

from crossling.documents import Document, Reason
from crossling.segment_words import WordSegmentConfig, rule_words, word_signals, words
from crossling.stages.words import WordSignals


def test_segmenters_split_spaceless_languages_into_words():
    zh = words("我们在北京大学学习自然语言处理。", "zh")
    assert "北京大学" in zh and "。" not in zh and len(zh) < 8
    ja = words("東京大学で自然言語処理を勉強しています。", "ja")
    assert "東京" in ja and "勉強" in ja and "。" not in ja
    th = words("ผมกำลังเรียนภาษาไทยที่มหาวิทยาลัย", "th")
    assert "มหาวิทยาลัย" in th and len(th) >= 5
    # The rule counts every letter of a spaceless text; the segmenters give fewer, longer words.
    assert len(rule_words("我们在北京大学学习自然语言处理。")) == 15


def test_other_languages_and_overrides_use_the_rule():
    text = "Hello, world -- 42 times!"
    assert words(text, "en") == ["Hello,", "world", "42", "times!"] == rule_words(text)
    cfg = WordSegmentConfig(segmenters={"zh": "rule"})
    assert words("北京大学", "zh", cfg) == list("北京大学")


def test_word_signals_and_step():
    s = word_signals("我爱北京。我爱北京。我爱北京。", "zh")
    assert s["n_words"] == 9 and s["top_2gram_frac"] == 0.5 and s["unique_word_frac"] < 0.5
    step = WordSignals({"words": {"min_words": {"zh": 5}}})
    docs = [
        Document(id="1", text="我们在北京大学学习自然语言处理。", source="t", lang="zh"),
        Document(id="2", text="北京大学", source="t", lang="zh"),
        Document(id="3", text="one two", source="t", lang="en"),
    ]
    step.measure(docs)
    assert docs[1].signals["w_n_words"] == 1 and docs[2].signals["w_n_words"] is None
    every = WordSignals({"only_segmented": False})
    every.measure(docs[2:])
    assert docs[2].signals["w_n_words"] == 2
    assert [step.decide(d) for d in docs] == [None, (Reason.TOO_SHORT, "w_n_words=1 < 5"), None]
    assert step.measure_config()["segmenters"]["ja"] == "fugashi"
