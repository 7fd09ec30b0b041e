"""A back-translated version: derived from its source, every row traceable, every drop a reason."""

from __future__ import annotations

import re

import pytest

from crossling.augment.backtranslate import (
    DERIVED_KIND,
    METHOD_BEAM,
    METHOD_TAGGED,
    BacktranslateConfig,
    backtranslate,
)
from crossling.augment.filters import STAGE, BTReason
from crossling.augment.translate import Decoding, ModelNotFound, model_sha256
from crossling.corpus import CorpusVersion
from tests.augment.conftest import CORPUS, HOSTILE_MARKER

# The demo grammar ends every sentence with "." or "?"; the hostile documents add "1984." and
# ordinary sentences. Counting the marks is a segmentation independent of the code under test.
_SENTENCE_END = re.compile(r"[.?](?= |$)")


def _cfg(root: dict, **kw) -> BacktranslateConfig:
    base = {
        "lang": "en",
        "to": "zh",
        "model": root["checkpoint"],
        "decoding": Decoding(beam=1),
        "cache_dir": f"{root['root']}/ct2",
    }
    return BacktranslateConfig(**{**base, **kw})


def _train_docs(v: CorpusVersion) -> dict[str, str]:
    return {r["id"]: r["text"] for r in v.table("docs", split="train", langs=["en"]).to_pylist()}


def test_pairs_trace_to_source_documents_and_model(bt_root):
    s = backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, budget_ratio=None))
    assert s["new"] and s["parent"] == bt_root["version"]

    v = CorpusVersion.open(bt_root["root"], CORPUS, s["version"]).check(checksums=True)
    parent = CorpusVersion.open(bt_root["root"], CORPUS, bt_root["version"])
    assert v.parent_version == bt_root["version"] and v.parent().version == parent.version
    assert v.manifest["derived"] == {"kind": DERIVED_KIND, "from": bt_root["version"]}
    assert [c.version for c in v.chain()] == [v.version, parent.version]
    assert v.files("docs") == []  # a derived version adds pairs; its documents are the parent's

    docs = _train_docs(parent)
    sha = model_sha256(bt_root["checkpoint"])
    pairs = v.table("pairs").to_pylist()
    assert pairs and len(pairs) == s["kept"] == v.counts["pairs"]
    for p in pairs:
        assert p["synthetic"] and p["method"] == METHOD_TAGGED and p["split"] == "train"
        assert (p["src_lang"], p["tgt_lang"]) == ("zh", "en")
        assert p["origin_id"] in docs and p["tgt_text"] in docs[p["origin_id"]]
        assert p["model"].endswith(f"@sha256:{sha}") and p["model"].startswith("zhen-mt/")
        assert p["source"] == f"bt:{p['model'].split('@')[0]}"
        assert p["score"] is not None and p["score"] <= 0  # a mean log-probability
    assert len({p["id"] for p in pairs}) == len(pairs)
    lineage = v.manifest["backtranslation"]["model"]
    assert lineage["sha256"] == sha
    assert lineage["checkpoint"]["corpus"]["version"] == bt_root["version"]


def test_conservation_against_an_independent_count(bt_root):
    s = backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, budget_ratio=None))
    parent = CorpusVersion.open(bt_root["root"], CORPUS, bt_root["version"])
    sentences = sum(len(_SENTENCE_END.findall(t)) for t in _train_docs(parent).values())
    v = CorpusVersion.open(bt_root["root"], CORPUS, s["version"])
    c = v.manifest["conservation"]
    assert c["balanced"] and c["inputs"] == sentences == c["pairs"] + c["rejects"]
    assert c["docs"] == 0
    assert list(c["by_source"].values()) == [{"inputs": sentences, "outputs": sentences}]


def test_rejects_carry_reasons_and_hostile_sentences_are_not_translated(bt_root):
    s = backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, budget_ratio=None))
    v = CorpusVersion.open(bt_root["root"], CORPUS, s["version"])
    rejects = v.table("rejects").to_pylist()
    assert {r["stage"] for r in rejects} == {STAGE}
    assert {r["reason"] for r in rejects} <= {str(x) for x in BTReason}
    short = [r for r in rejects if r["text_prefix"] == "1984."]
    assert len(short) == 1 and short[0]["reason"] == BTReason.TOO_SHORT
    # The marker sentence is in two documents: the second is a duplicate of the first's pair id.
    dup = [r for r in rejects if r["detail"] == "same sentence as an earlier one"]
    assert len(dup) == 1 and dup[0]["text_prefix"] == HOSTILE_MARKER
    assert dup[0]["reason"] == BTReason.EXACT_DUPLICATE and dup[0]["duplicate_of"]
    real = [r for r in rejects if r["detail"] == "same text as a real pair"]
    assert len(real) == 1 and real[0]["reason"] == BTReason.EXACT_DUPLICATE
    # Every reason counted in the summary is a REJECTS row, and the other way round.
    counted = {}
    for r in rejects:
        counted[r["reason"]] = counted.get(r["reason"], 0) + 1
    assert counted == s["dropped"]
    assert v.counts["by_reason"] == {f"{STAGE}/{k}": n for k, n in sorted(counted.items())}


def test_budget_caps_synthetic_pairs_per_direction(bt_root):
    everything = backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, budget_ratio=None))
    s = backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, budget_ratio=0.02, chunk_segments=32))
    real = s["budget"]["real_pairs"]
    assert 500 < real < 600  # the train split of the 600 pairs
    assert s["kept"] == int(0.02 * real) == s["budget"]["limit"]
    assert s["budget_reached"] and s["dropped"].get(BTReason.OVER_BUDGET, 0) > 0
    # Reading stopped once the budget was full: fewer sentences than the documents hold.
    assert s["inputs"] < everything["inputs"]
    assert s["sentences_translated"] < everything["sentences_translated"]


def test_same_config_finds_the_version_again_and_method_follows_the_tag(bt_root):
    cfg = _cfg(bt_root, budget_ratio=0.05)
    first = backtranslate(bt_root["root"], CORPUS, cfg)
    again = backtranslate(bt_root["root"], CORPUS, cfg)
    assert again["version"] == first["version"] and not again["new"]
    untagged = backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, budget_ratio=0.05, tag=False))
    assert untagged["version"] != first["version"] and untagged["method"] == METHOD_BEAM
    v = CorpusVersion.open(bt_root["root"], CORPUS, untagged["version"])
    assert {p["method"] for p in v.table("pairs").to_pylist()} == {METHOD_BEAM}


def test_latest_model_and_errors_name_the_problem(bt_root):
    s = backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, model="latest", budget_ratio=0.05))
    assert s["model"]["path"] == bt_root["checkpoint"]
    with pytest.raises(ValueError, match="no train documents in de"):
        backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, lang="de"))
    with pytest.raises(ValueError, match="same language"):
        backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, to="en"))
    with pytest.raises(ModelNotFound, match="no translation checkpoint .* covers en->fr"):
        backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, to="fr", model="latest"))
    with pytest.raises(ModelNotFound, match="not a directory"):
        backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, model="/nonexistent/model"))


def test_round_trip_filter_scores_each_kept_pair(bt_root):
    from crossling.augment.filters import FilterConfig

    filters = FilterConfig(round_trip=True, min_round_trip_chrf=30.0)
    s = backtranslate(bt_root["root"], CORPUS, _cfg(bt_root, budget_ratio=None, filters=filters))
    assert s["score"] == "round_trip_chrf"
    v = CorpusVersion.open(bt_root["root"], CORPUS, s["version"])
    pairs = v.table("pairs").to_pylist()
    assert pairs and all(0.3 <= p["score"] <= 1.0 for p in pairs)
    low = [r for r in v.table("rejects").to_pylist() if r["reason"] == BTReason.ROUND_TRIP_LOW]
    assert low and all(r["detail"].startswith("round-trip chrF") for r in low)
