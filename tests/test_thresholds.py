"""Derived per-language thresholds: the rule on real-format reference files, the file's checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crossling.clean import QualityConfig, quality_signals_batch
from crossling.signal_stats import kept_dropped_by_reason, signal_stats
from crossling.thresholds import (
    DeriveConfig,
    ThresholdsError,
    apply_to_quality,
    derive_thresholds,
    langid_overrides,
    load_thresholds,
    measure_reference,
)
from tests.texts import distinct, paragraphs

LANGS = {"en": "Latn", "de": "Latn", "ru": "Cyrl", "zh": "Hans"}


def _reference(path, n=60):
    rows = []
    for lang in LANGS:
        for i in range(n):
            text = paragraphs(lang, 2 + i % 5) if i % 2 else distinct(lang, i, words=30 + i)
            rows.append({"text": text, "lang": lang})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return str(path), rows


def test_derived_thresholds_keep_the_reference_and_drop_junk(tmp_path):
    ref, rows = _reference(tmp_path / "ref.jsonl")
    out = tmp_path / "thresholds.json"
    tf = derive_thresholds([ref], str(out), DeriveConfig(min_docs=20))
    assert set(tf.groups) == {f"{lang}/{s}" for lang, s in LANGS.items()}
    assert all(g.kept_share >= 0.95 and g.docs == 60 for g in tf.groups.values())
    assert load_thresholds(str(out)) == tf
    quality = apply_to_quality(QualityConfig(per_lang={"de": {"min_chars": 10}}), tf)
    assert quality.per_lang["de"]["min_chars"] == 10  # the user's own override wins
    assert isinstance(quality.per_lang["en"]["min_chars"], int)
    for lang, script in LANGS.items():
        texts = [r["text"] for r in rows if r["lang"] == lang]
        kept = [quality.decide(s, lang, script) is None for s in quality_signals_batch(texts)]
        assert np.mean(kept) >= 0.95, lang
        junk = "\n".join([paragraphs(lang, 1).split("\n")[0]] * 12)  # one line, repeated
        assert quality.decide(quality_signals_batch([junk])[0], lang, script) is not None
    assert langid_overrides(tf) == {}  # declared languages carry no fastText scores


def test_stats_per_group(tmp_path):
    ref, _ = _reference(tmp_path / "ref.jsonl", n=10)
    stats = signal_stats(measure_reference([ref]), bins=5)
    g = stats["groups"]["zh/Hans"]["n_chars"]
    assert g["count"] == 10 and len(g["histogram"]["counts"]) == 5
    assert sum(g["histogram"]["counts"]) + g["histogram"]["below"] + g["histogram"]["above"] >= 10
    assert g["quantiles"]["0.0"] <= g["quantiles"]["0.5"] <= g["quantiles"]["1.0"]
    shares = kept_dropped_by_reason([("de", None), ("de", "too_short"), ("de", None), (None, "x")])
    assert shares["de"] == {"total": 3, "dropped:too_short": 0.333333, "kept": 0.666667}


def test_too_little_reference_is_named(tmp_path):
    ref, _ = _reference(tmp_path / "ref.jsonl", n=3)
    with pytest.raises(ThresholdsError, match="no language has 50 reference documents"):
        derive_thresholds([ref], None)


GOOD = {
    "format": "crossling-thresholds/1",
    "rule": "quantile-tail/1",
    "params": {},
    "reference": ["x"],
    "groups": {"de/Latn": {"docs": 60, "tail": 0.01, "kept_share": 0.96,
                           "thresholds": {"min_chars": 100, "max_dup_line_frac": 0.3}}},
}  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("{not json", "not JSON (line 1, column 2"),
        ("[1, 2]", "not a thresholds file"),
        (json.dumps({**GOOD, "format": "other/9"}), "format 'other/9'"),
        (json.dumps({**GOOD, "rule": "magic"}), "rule 'magic' is not known"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "groups"}), "groups: Field required"),
        (
            json.dumps({**GOOD, "groups": {"de/Latn": {**GOOD["groups"]["de/Latn"],
                                                       "thresholds": {"max_foo": 1}}}}),
            "groups.de/Latn: thresholds.max_foo: not a threshold",
        ),
        (
            json.dumps({**GOOD, "groups": {"de/Latn": {**GOOD["groups"]["de/Latn"],
                                                       "thresholds": {"min_chars": -5}}}}),
            "thresholds.min_chars: -5.0 is not a non-negative number",
        ),
        (json.dumps({**GOOD, "groups": {"de": GOOD["groups"]["de/Latn"]}}), "groups.de: not a"),
    ],
)  # fmt: skip
def test_malformed_thresholds_files_name_the_file_in_one_line(tmp_path, content, message):
    path = tmp_path / "t.json"
    path.write_text(content, "utf-8")
    with pytest.raises(ThresholdsError) as e:
        load_thresholds(str(path))
    assert str(e.value).startswith(f"{path}: ") and message in str(e.value), str(e.value)
    assert "\n" not in str(e.value)
    with pytest.raises(ThresholdsError, match="cannot be read"):
        load_thresholds(str(tmp_path / "missing.json"))
