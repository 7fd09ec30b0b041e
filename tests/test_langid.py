from crossling.langid import LanguageIdentifier, canonical, default_model_path
from tests.texts import PARAGRAPHS


def test_default_model_is_the_real_lid176_from_the_wheel():
    path = default_model_path()
    assert path.endswith("lid.176.ftz")
    ident = LanguageIdentifier()
    assert len(ident.model.get_labels()) == 176


def test_doc_mode_labels_paragraphs_in_six_scripts():
    ident = LanguageIdentifier()
    langs = list(PARAGRAPHS)
    preds = ident.predict([PARAGRAPHS[lang] for lang in langs])
    assert [p.lang for p in preds] == langs
    scripts = {lang: p.script for lang, p in zip(langs, preds, strict=True)}
    assert scripts == {
        "en": "Latn",
        "de": "Latn",
        "fr": "Latn",
        "es": "Latn",
        "ru": "Cyrl",
        "zh": "Hans",
        "ja": "Jpan",
        "ar": "Arab",
        "hi": "Deva",
        "el": "Grek",
    }
    assert all(0.5 < p.score <= 1.0 for p in preds)


def test_canonical_codes_fold_aliases():
    assert canonical("__label__no")[0] == canonical("__label__nb")[0] == "nb"
    assert canonical("__label__iw")[0] == "he"
    assert canonical("__label__cmn")[0] == "zh"
    assert canonical("__label__deu_Latn") == ("de", "Latn")  # GlotLID labels carry the script


def test_script_read_off_the_text_for_multiscript_languages():
    ident = LanguageIdentifier()
    cyr, lat = ident.predict(
        [
            "Ово је текст на српском језику о времену у Београду данас.",
            "Ovo je tekst na srpskom jeziku o vremenu u Beogradu danas.",
        ]
    )
    assert (cyr.lang, cyr.script) == ("sr", "Cyrl")
    assert lat.script == "Latn"


def test_uppercase_text_is_still_recognized():
    ident = LanguageIdentifier()
    (p,) = ident.predict([PARAGRAPHS["de"].upper()])
    assert p.lang == "de"


def test_line_mode_finds_both_languages_of_a_mixed_page():
    ident = LanguageIdentifier(mode="line")
    mixed = PARAGRAPHS["en"] + "\n" + PARAGRAPHS["de"] + "\n" + PARAGRAPHS["de"] + " Ende."
    junk_lines = "\n12345 67890 ### ;;; {}\nfunction(x) { return x; }"
    (p,) = ident.predict([mixed + junk_lines])
    assert p.lang == "de" and p.lang2 == "en" and p.mixed
    assert 0.2 < p.lang2_share < 0.5
    (mono,) = ident.predict([PARAGRAPHS["fr"] + "\n" + PARAGRAPHS["fr"]])
    assert mono.lang == "fr" and mono.mixed is False and mono.lang2 is None


def test_line_mode_falls_back_to_doc_mode_without_eligible_lines():
    ident = LanguageIdentifier(mode="line")
    (p,) = ident.predict(["Bonjour à tous"])  # shorter than min_line_chars
    assert p.lang == "fr"
