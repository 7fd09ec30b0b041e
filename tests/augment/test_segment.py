"""Sentence segmentation before translation: Chinese, Japanese and Latin text."""

from __future__ import annotations

from crossling.augment.segment import is_translatable, split_sentences


def test_chinese_full_width_marks_without_spaces():
    text = "他说：“我们走吧。”然后走了。今天很冷！你好吗？"
    assert split_sentences(text, "zh") == [
        "他说：“我们走吧。”",
        "然后走了。",
        "今天很冷！",
        "你好吗？",
    ]


def test_japanese_quote_followed_by_a_particle_stays_one_sentence():
    text = (
        "彼は「はい！」と言った。それから帰った。\n「行こう」って言ったのに。明日は雨でしょうか？"
    )
    assert split_sentences(text, "ja") == [
        "彼は「はい！」と言った。",
        "それから帰った。",
        "「行こう」って言ったのに。",
        "明日は雨でしょうか？",
    ]


def test_latin_abbreviations_and_lines():
    text = "Dr. Smith went to Washington on Monday. He was tired!\nA new line without a stop"
    assert split_sentences(text, "en") == [
        "Dr. Smith went to Washington on Monday.",
        "He was tired!",
        "A new line without a stop",
    ]
    assert split_sentences("Am 3. Mai ging er nach Hause. Das war gut.", "de") == [
        "Am 3. Mai ging er nach Hause.",
        "Das war gut.",
    ]


def test_long_pieces_are_cut_at_a_comma_or_space_and_never_lost():
    words = " ".join(f"word{i}," for i in range(60))
    pieces = split_sentences(words, "en", max_chars=80)
    assert all(len(p) <= 80 for p in pieces) and len(pieces) > 3
    assert " ".join(pieces).split() == words.split()
    han = "一" * 50  # no break at all: cut at the limit
    assert split_sentences(han, "zh", max_chars=20) == ["一" * 20, "一" * 20, "一" * 10]


def test_blank_input_and_what_is_worth_translating():
    assert split_sentences("  \n\n \t", "en") == []
    assert not is_translatable("1984.", 2)
    assert not is_translatable("!!", 2)
    assert not is_translatable("a", 2)
    assert is_translatable("好", 1) and is_translatable("Hi.", 2)
