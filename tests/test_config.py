"""One config merge: defaults, the file, the flow's dict (the UI), then command-line flags."""

import json

import pytest
from pydantic import ValidationError

from crossling.run.config import CorpusConfig, load_config, merge_config
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


def test_the_config_is_composed_from_the_sections_the_steps_own(tmp_path):
    from crossling.run.registry import GLOBAL_STAGES, STEPS
    from crossling.stages.base import section_of

    # the keys users write in their files, each a section some registered class owns
    cfg = CorpusConfig()
    for cls in [*STEPS, *GLOBAL_STAGES]:
        if cls.config_model is None:
            continue
        section = section_of(cls, cfg)
        assert isinstance(section, cls.config_model), cls.__name__
        if cls.config_key is not None:  # a named section: a field of that model
            assert CorpusConfig.model_fields[cls.config_key].annotation is cls.config_model
    # a file written for the config before it was composed still loads, field for field
    path = tmp_path / "corpus.yaml"
    path.write_text(
        "langs: [de, fr]\nheldout_fraction: 0.05\nheldout_min: 3\nlangid: {min_score: 0.6}\n"
        "urls: {block_domains: [spam.example]}\npairs: {check_lang: false}\n"
        "dedup: {exact: false, near: {threshold: 0.7}}\nfineweb: {enabled: true}\n"
    )
    c = load_config(str(path))
    assert c.langs == ["de", "fr"] and c.heldout_min == 3 and c.langid.min_score == 0.6
    assert c.urls.block_domains == ["spam.example"] and not c.pairs.check_lang
    assert not c.dedup.exact and c.dedup.near.threshold == 0.7 and c.fineweb.enabled
    with pytest.raises(ValidationError):  # a section's own validation still applies
        load_config(None, {"heldout_fraction": 2.0})
