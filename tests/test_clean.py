import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossling.clean import QualityConfig, normalize_text, quality_signals
from crossling.documents import Reason
from tests.texts import PARAGRAPHS


def test_normalize_nfc_controls_whitespace():
    raw = unicodedata.normalize("NFD", "Café\u200b  au\tlait\x07\r\n\n\n  second   line  ")
    assert normalize_text(raw) == "Café au lait\nsecond line"
    assert normalize_text(" \n\t ") == ""


def _decide(text, lang="en", script="Latn", cfg=None):
    return (cfg or QualityConfig()).decide(quality_signals(normalize_text(text)), lang, script)


def test_good_paragraphs_pass_in_every_script():
    scripts = {
        "en": "Latn",
        "de": "Latn",
        "ru": "Cyrl",
        "zh": "Hans",
        "ja": "Jpan",
        "ar": "Arab",
        "hi": "Deva",
    }
    for lang, script in scripts.items():
        assert _decide(PARAGRAPHS[lang], lang, script) is None, lang


def test_each_junk_kind_gets_its_reason():
    assert _decide("ok")[0] == Reason.TOO_SHORT
    assert _decide("Buy cheap watches now\n" * 30)[0] == Reason.REPETITION
    symbols = " ".join(f"#{i} word{i} ... {{x{i}}} |" for i in range(40))
    assert _decide(symbols + "\n" + PARAGRAPHS["en"])[0] == Reason.SYMBOL_RATIO
    assert _decide(" ".join(str(i * 7919) for i in range(200)))[0] == Reason.ALPHA_RATIO
    lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " + PARAGRAPHS["en"]
    assert _decide(lorem)[0] == Reason.BAD_LINES
    cookies = (
        "We use cookies to improve your experience on our website and to show you "
        "relevant offers. By continuing to browse you agree.\nAccept all | Reject all"
    )
    assert _decide(cookies)[0] == Reason.BAD_LINES
    mojibake = (
        "Meine GroÃŸmutter gibt immer eine Prise Salz in den Teig, bevor sie ihn ruhen "
        "lÃ¤sst. Die Zwiebeln fein hacken und langsam braten, bis sie weich und gÃ¼ldi sind."
    )
    assert _decide(mojibake, "de")[0] == Reason.MOJIBAKE


def test_spaceless_scripts_are_measured_in_characters():
    s = quality_signals(PARAGRAPHS["zh"])
    assert s["spaceless"] and s["n_units"] > 40
    assert not quality_signals(PARAGRAPHS["en"])["spaceless"]


def test_overrides_per_script_and_language():
    cfg = QualityConfig(per_lang={"de": {"min_chars": 10_000}})
    text = PARAGRAPHS["de"] * 3
    assert _decide(text, "de", "Latn", cfg)[0] == Reason.TOO_SHORT
    assert _decide(PARAGRAPHS["en"] * 3, "en", "Latn", cfg) is None
    assert QualityConfig(enabled=False).decide(quality_signals("x"), "en", "Latn") is None


def test_alpha_units_count_each_word_without_a_letter():
    # Gopher: the share of words with a letter. Adjacent letterless words count one by one,
    # and the ASCII fast path agrees with the general one (a non-ASCII word added).
    ascii_ = quality_signals("12 34 -- abc x1 ___ 7z")
    assert ascii_["alpha_unit_frac"] == 3 / 7
    uni = quality_signals("12 34 -- abc x1 ___ 7z é")
    assert uni["alpha_unit_frac"] == 4 / 8
    assert quality_signals("Grüße 42")["alpha_unit_frac"] == 1 / 2


def test_ascii_fast_paths_count_what_the_general_path_counts():
    from crossling.clean import quality_signals_batch

    texts = [normalize_text(t) for t in (PARAGRAPHS["en"], "a1 #2 ... [x] {y}\n- b\n* c ...")]
    marked = [t + " é" for t in texts]  # one non-ASCII word: the general path
    for fast, slow in zip(quality_signals_batch(texts), quality_signals_batch(marked), strict=True):
        assert fast["letter_frac"] > 0
        assert (
            abs(
                fast["alpha_unit_frac"] * fast["n_units"]
                + 1
                - slow["alpha_unit_frac"] * slow["n_units"]
            )
            < 1e-9
        )
        assert fast["mojibake_per_unit"] == slow["mojibake_per_unit"] == 0
    assert quality_signals("GroÃŸmutter sagt")["mojibake_per_unit"] > 0


# --- the compiled counting (crossling/_signals.c) against the Python definition ----------------

# Texts built from the pieces the signals look for, in every script, plus any code point at all.
_pieces = st.sampled_from(
    [
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "\u3000",
        "\x1c",
        "\u2028",
        "...",
        "…",
        "#",
        "_",
        "\\",
        "{}",
        "- ",
        "* ",
        "• ",
        "· ",
        "▪",
        "abc",
        "Abc",
        "x1",
        "42",
        "²",
        "½",
        "é",
        "Grüße",
        "ÃŸ",
        "â€™",
        "图书馆",
        "としょかん",
        "도서관",
        "ห้องสมุด",
        "مكتبة",
        "библиотека",
        "lorem ipsum",
        "privacy policy",
        "\ud800",
        "\U0001f600",
        "\U00020000",
        "a a a a",
        "the cat the cat",
    ]
)
_texts = st.one_of(
    st.lists(_pieces, max_size=60).map("".join),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=200),
)


def _compiled_and_python(texts):
    from crossling import clean

    assert clean._signals is not None, "crossling._signals was not built (pip install -e .)"
    return clean.quality_signals_batch(texts), clean._quality_signals_py(texts)


@settings(max_examples=400, deadline=None)
@given(st.lists(_texts, min_size=1, max_size=8))
def test_compiled_signals_equal_the_python_definition(texts):
    compiled, python = _compiled_and_python(texts)
    for text, c, p in zip(texts, compiled, python, strict=True):
        assert c.keys() == p.keys()
        for k in c:
            assert c[k] == pytest.approx(p[k], rel=1e-12, abs=0), (k, text)
            assert type(c[k]) is type(p[k]), k


def test_compiled_signals_on_real_text_of_every_script():
    texts = [normalize_text(t) for t in PARAGRAPHS.values()]
    texts += [normalize_text(" ".join([t] * 3)) for t in PARAGRAPHS.values()]  # repeated n-grams
    texts += ["\n".join(["same line", "other", "same line", " same line "]), "", "x"]
    compiled, python = _compiled_and_python(texts)
    assert compiled == python
    assert any(r["top_2gram_frac"] > 0 for r in compiled)
    assert any(r["dup_line_frac"] > 0 for r in compiled)
    assert any(r["spaceless"] for r in compiled)


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_compiled_folding_equals_the_python_definition(text):
    from crossling import clean

    assert clean._signals is not None, "crossling._signals was not built (pip install -e .)"
    for t in (text, text.replace(" ", "\r\n"), "\r" + text + "\x00\r\n\x85\u2028 "):
        t = clean.strip_surrogates(t)
        assert clean.normalize_text(t) == clean._fold_py(
            unicodedata.normalize("NFC", t) if not t.isascii() else t
        )
