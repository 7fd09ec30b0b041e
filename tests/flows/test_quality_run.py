"""The issue-18 quality steps through `crossling corpus`: every one on (configs/quality-all.yaml
plus lists, a model and a thresholds file this test makes), against a real Prefect server."""

from __future__ import annotations

import glob
import json
import os
import random
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml

from crossling.corpus import CorpusVersion
from crossling.run.config import CorpusConfig, load_config
from crossling.run.schedule import run_local
from crossling.thresholds import DeriveConfig, derive_thresholds, file_digest
from flows.cli import main
from tests.prefect_reads import artifacts
from tests.texts import distinct, paragraphs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LANGS = ["en", "de", "fr"]


def _jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return str(path)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Inputs with PII, a bad word, a blocked host; the lists; a tiny model; a thresholds file."""
    d = tmp_path_factory.mktemp("q18")
    rows = [
        {"id": f"{lang}-{i}", "text": distinct(lang, i), "url": f"https://ok.example.org/{i}"}
        for lang in LANGS
        for i in range(12)
    ]
    rows[0]["text"] = "Write to jane.doe@example.org or call +44 20 7946 0958.\n" + rows[0]["text"]
    rows[1]["text"] += "\nWhat a damn shame, damn it, damn."
    rows[2]["url"] = "https://spam.blocked-host.test/page"
    inputs = _jsonl(d / "in.jsonl", rows)
    (d / "bad").mkdir()
    (d / "bad" / "en").write_text("# C4-style list\ndamn\n", "utf-8")
    (d / "domains.txt").write_text("blocked-host.test\n", "utf-8")
    rng = random.Random(0)
    pos = [{"text": paragraphs(lang, 3 + i % 3), "lang": lang} for lang in LANGS for i in range(20)]
    neg = [
        {"text": " | ".join(rng.sample(r["text"].split(), 4)) * 3, "lang": r["lang"]} for r in pos
    ]
    # trained by the command a user runs, in its own process
    cmd = [sys.executable, "-m", "flows.cli", "quality-model", "train", "--out", str(d / "qm")]
    cmd += ["--positive", _jsonl(d / "pos.jsonl", pos), "--negative", _jsonl(d / "neg.jsonl", neg)]
    subprocess.run([*cmd, "--epoch", "5"], check=True, capture_output=True, cwd=REPO)
    ref = [{"text": distinct(lang, 100 + i), "lang": lang} for lang in LANGS for i in range(10)]
    derive_thresholds([_jsonl(d / "ref.jsonl", ref)], str(d / "thr.json"), DeriveConfig(min_docs=5))
    cfg = yaml.safe_load(open(os.path.join(REPO, "configs", "quality-all.yaml")))
    cfg["blocklists"].update(
        builtin=[], domain_files=[str(d / "domains.txt")], bad_words_dir=str(d / "bad")
    )
    cfg["quality_model"] = {"model_dir": str(d / "qm"), "min_score": 0.0}
    (d / "cfg.yaml").write_text(yaml.safe_dump(cfg), "utf-8")
    return {"dir": d, "inputs": inputs, "config": str(d / "cfg.yaml"), "thr": str(d / "thr.json")}


def test_default_config_has_every_new_step_off():
    cfg = CorpusConfig()
    assert not (cfg.pii.enabled or cfg.lines.enabled or cfg.words.enabled)
    assert cfg.quality_model.model_dir is None and cfg.thresholds_file is None
    assert not (
        cfg.blocklists.builtin or cfg.blocklists.domain_files or cfg.blocklists.bad_word_files
    )
    assert load_config(os.path.join(REPO, "configs", "quality-all.yaml")).pii.enabled


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_every_step_on_through_the_cli(setup, data_root, capsys):
    argv = ["corpus", setup["inputs"], "--out", data_root, "--name", "q", "--workers", "1"]
    assert main([*argv, "--config", setup["config"], "--thresholds", setup["thr"], "--json"]) == 0
    cv = CorpusVersion.open(data_root, "q")
    m = cv.manifest
    assert m["conservation"]["balanced"]
    # PII replaced, counted per kind and language, never shown
    assert m["stats"]["pii/replaced:email:en"] == 1 and m["stats"]["pii/replaced:phone:en"] == 1
    rejects = [r for b in cv.rejects() for r in b.to_pylist()]
    texts = [t for b in cv.docs(columns=["text"]) for t in b.column("text").to_pylist()]
    texts += [r["text_prefix"] for r in rejects]  # kept or dropped, the text is anonymized
    assert any(t.startswith("Write to <EMAIL> or call <PHONE>.") for t in texts)
    assert "jane.doe" not in json.dumps(m) + json.dumps(rejects) + "".join(texts)
    by_reason = {r["reason"]: r for r in rejects}
    assert by_reason["bad_words"]["detail"] == "bad_words=3 > 2"
    assert by_reason["url_blocked"]["url"] == "https://spam.blocked-host.test/page"
    # the thresholds file applied and recorded
    t = m["thresholds"]
    assert t["file"] == setup["thr"] and t["sha256"] == file_digest(setup["thr"])
    assert t["rule"] == "quantile-tail/1" and set(t["languages"]) == set(LANGS)
    assert set(LANGS) <= set(m["config"]["quality"]["per_lang"])
    # stats/ in the version, listed in the manifest, read by pyarrow
    paths = {f["path"] for f in m["stats_files"]}
    assert paths == {"stats/signals.parquet", "stats/outcomes.parquet"}
    sig = pq.read_table(os.path.join(cv.path, "stats", "signals.parquet")).to_pylist()
    by = {(r["lang"], r["signal"]): r for r in sig}
    assert by[("en", "qm_score")]["count"] == 12 and by[("en", "pii_email")]["max"] == 1
    assert sum(by[("de", "n_chars")]["hist_counts"]) == 12
    out = pq.read_table(os.path.join(cv.path, "stats", "outcomes.parquet")).to_pylist()
    en = {r["outcome"]: r for r in out if r["lang"] == "en"}
    assert en["read/url_blocked"]["rows"] == 1 and en["quality/bad_words"]["rows"] == 1
    arts = {a.key for a in artifacts("corpus-q-%", like=True)}
    assert {"corpus-q-signal-stats", "corpus-q-outcomes", "corpus-q-pii"} <= arts


@pytest.mark.usefixtures("prefect_server")
def test_bad_thresholds_lists_and_models_are_one_line_exit_2(setup, data_root, capsys):
    bad = setup["dir"] / "broken.json"
    bad.write_text('{"format": "crossling-thresholds/1", "rule": ', "utf-8")
    argv = ["corpus", setup["inputs"], "--out", data_root, "--name", "q", "--thresholds", str(bad)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "not JSON" in err[0]
    assert not glob.glob(os.path.join(data_root, "corpora", "q", "2*"))
    # a missing list file and an empty model folder: one line each, naming them
    missing = setup["dir"] / "no-such-domains.txt"
    (setup["dir"] / "cfg-bad.yaml").write_text(
        yaml.safe_dump({"blocklists": {"domain_files": [str(missing)]}}), "utf-8"
    )
    (setup["dir"] / "empty-model").mkdir(exist_ok=True)
    (setup["dir"] / "cfg-bad2.yaml").write_text(
        yaml.safe_dump({"quality_model": {"model_dir": str(setup["dir"] / "empty-model")}}), "utf-8"
    )
    for cfg, named in (("cfg-bad.yaml", missing), ("cfg-bad2.yaml", "empty-model")):
        argv[-2:] = ["--config", str(setup["dir"] / cfg)]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(named) in err[0], err


@pytest.mark.slow
def test_a_thresholds_file_alone_reuses_the_tags(setup, data_root):
    cfg = load_config(setup["config"])
    m1 = run_local([setup["inputs"]], data_root, "t", cfg)
    m2 = run_local(
        [setup["inputs"]],
        data_root,
        "t",
        load_config(setup["config"], None, thresholds_file=setup["thr"]),
    )
    assert m2["version"] != m1["version"] and m2["tags_reused"] == m2["partitions"]
    assert m1["thresholds"] is None and m2["thresholds"]["sha256"] == file_digest(setup["thr"])
