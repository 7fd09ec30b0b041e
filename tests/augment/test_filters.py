"""The back-translation filters, each with its reason; language checks use the real fastText LID."""

from __future__ import annotations

import pytest

from crossling.augment.filters import (
    BTReason,
    FilterConfig,
    check,
    check_languages,
    copied,
    default_char_ratio,
    length_ratio,
    repeated_run,
    round_trip_chrf,
)
from crossling.augment.translate import Translation

CFG = FilterConfig()
ZH_PER_EN = 0.35  # characters of Chinese per character of English, as measured on real pairs


def out(text: str, ids: list[int] | None = None, src_tokens: int = 8) -> Translation:
    return Translation(text, src_tokens, ids if ids is not None else list(range(len(text))), -0.5)


def reason(src: str, t: Translation, expected: float = ZH_PER_EN) -> BTReason | None:
    v = check(src, t, CFG, expected)
    return None if v is None else v[0]


def test_a_good_translation_passes():
    assert reason("My friend goes to the market by bus.", out("我的朋友坐公共汽车去市场。")) is None


def test_empty_output():
    assert reason("The dog is big.", out("", [])) == BTReason.EMPTY_OUTPUT
    assert reason("The dog is big.", out("   ", [5])) == BTReason.EMPTY_OUTPUT


def test_copied_output():
    src = "The tired man drinks cold coffee."
    assert reason(src, out(src)) == BTReason.COPIED_OUTPUT
    assert reason(src, out("the tired man drinks cold coffee")) == BTReason.COPIED_OUTPUT
    assert reason(src, out("The tired men drink cold coffee.")) == BTReason.COPIED_OUTPUT
    assert not copied(src, "那个很累的男人喝冷咖啡。", CFG.copy_similarity)


def test_length_ratio_against_the_expected_ratio():
    src = "Every morning the young teacher reads a new book in the library."
    assert reason(src, out("读。")) == BTReason.LENGTH_RATIO  # truncated
    assert (
        reason(src, out("每天早上那位年轻的老师在图书馆读一本新书。" * 3)) == BTReason.LENGTH_RATIO
    )
    # The same lengths between two Latin languages are fine: the expectation is per pair.
    assert reason(src, out("Jeden Morgen liest der junge Lehrer ein neues Buch."), 1.0) is None
    assert length_ratio(0, 0) == 1.0  # smoothed, never a division by zero
    assert default_char_ratio("en", "zh") == pytest.approx(0.3)
    assert default_char_ratio("zh", "en") == pytest.approx(1 / 0.3)


def test_repetition_loops():
    src = "The boy draws a big car in the park."
    loop = out("那个男孩在公园里画一辆大大大大车。", [7, 8, 9, 4, 4, 4, 4, 10, 11])
    assert reason(src, loop) == BTReason.REPETITION
    assert repeated_run([1, 2, 1, 2, 1, 2, 9]) == (2, 3)
    few_distinct = out("那个那个那个那个那个那个", [3, 5, 6, 3, 6, 5, 3, 5, 6, 3, 6, 5])
    assert reason("The dog is happy and the cat is sad.", few_distinct, 0.3) == BTReason.REPETITION


def test_wrong_language_uses_fasttext_and_the_script_for_han():
    texts = [
        "我们坐火车去学校。",  # Mandarin: lid.176 may say ja or yue on short text
        "今日は学校に行きます。",  # Japanese
        "The man walks to the station.",  # English
        "那个孩子喝热茶。",
    ]
    verdicts = check_languages(texts, "zh", CFG)
    assert verdicts[0] is None and verdicts[3] is None
    assert verdicts[1] is not None and verdicts[1][0] == BTReason.WRONG_LANGUAGE
    assert verdicts[2] is not None and "detected en" in verdicts[2][1]
    ja = check_languages(texts[:2], "ja", CFG)
    assert ja[0] is not None and ja[1] is None
    assert check_languages([], "zh", CFG) == []


def test_round_trip_chrf():
    orig = ["The dog is big.", "The cat drinks milk."]
    scores = round_trip_chrf(orig, ["The dog is big.", "Where is my red bag?"])
    assert scores[0] == pytest.approx(100.0) and scores[1] < 30
