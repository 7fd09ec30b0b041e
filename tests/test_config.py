"""One config merge: defaults, the file, the flow's dict (the UI), then command-line flags."""

import json

import pytest
from pydantic import ValidationError

from crossling.pipeline import load_config, merge_config
from flows.corpus import CorpusParams


def test_merge_is_deep_and_keeps_sibling_keys():
    base = {"langid": {"mode": "doc", "min_score": 0.5}, "quality": {"defaults": {"min_chars": 1}}}
    over = {"langid": {"min_score": 0.8}, "quality": {"defaults": {"max_dup_line_frac": 0.1}}}
    assert merge_config(base, over) == {
        "langid": {"mode": "doc", "min_score": 0.8},
        "quality": {"defaults": {"min_chars": 1, "max_dup_line_frac": 0.1}},
    }
    assert base["langid"]["min_score"] == 0.5  # inputs are not modified
    assert merge_config(base, {"langid": None}) == base  # None skips, it does not erase


def test_file_then_ui_dict_then_flags(tmp_path):
    path = tmp_path / "corpus.yaml"
    path.write_text(
        "langid: {mode: line, min_score_per_lang: {hr: 0.3}}\n"
        "quality:\n  defaults: {min_chars: 200, max_dup_line_frac: 0.2}\n"
        "  per_lang: {de: {min_units: 30}}\n"
    )
    ui = {"langid": {"min_score": 0.7}, "quality": {"defaults": {"min_chars": 150}}}
    cfg = load_config(str(path), ui, **{"langid.mode": "doc", "langs": ["de"]})
    assert cfg.langid.mode == "doc"  # the flag wins over the file
    assert cfg.langid.min_score == 0.7  # the UI's key
    assert cfg.langid.min_score_per_lang == {"hr": 0.3}  # the file's sibling key survives
    assert cfg.quality.defaults.min_chars == 150
    assert cfg.quality.defaults.max_dup_line_frac == 0.2
    assert cfg.quality.per_lang == {"de": {"min_units": 30}}
    assert cfg.langs == ["de"]


def test_flow_params_use_the_same_merge(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"dedup": {"exact": False, "against_previous": False}}))
    p = CorpusParams(
        sources=["x"], config_file=str(path), config={"dedup": {"exact": True}}, langid_mode="line"
    )
    cfg = p.resolve_config()
    assert cfg.dedup.exact is True and cfg.dedup.against_previous is False
    assert cfg.langid.mode == "line"


def test_bad_values_name_the_field(tmp_path):
    with pytest.raises(ValidationError, match="heldout_fraction"):
        load_config(None, {"heldout_fraction": 2})
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="a config must be a mapping"):
        load_config(str(path))
