"""`crossling thresholds` and `crossling quality-model train` on a corpus version built by the
corpus flow, against a real (temporary) Prefect server."""

from __future__ import annotations

import json
import os
import random

import pytest

from crossling.quality_model import QualityModel
from crossling.signal_stats import plot_signal, version_stats
from crossling.textsources import SourceError, iter_texts
from crossling.thresholds import load_thresholds
from flows.cli import main
from flows.corpus import CorpusParams, corpus_flow
from tests.texts import distinct, paragraphs

LANGS = ["en", "de", "ru"]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_thresholds_and_quality_model_from_a_corpus_version(tmp_path, data_root, capsys):
    ref = tmp_path / "ref.jsonl"
    rows = [
        {"text": paragraphs(lang, 2 + i % 4) + f"\n({i})" if i % 2 else distinct(lang, i, 40)}
        for lang in LANGS
        for i in range(30)
    ]
    ref.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    summary = corpus_flow(CorpusParams(sources=[str(ref)], root=data_root, name="ref", workers=1))
    version = os.path.join(data_root, "corpora", "ref", summary["version"])

    stats = version_stats(version, str(tmp_path / "stats" / "signals.json"), bins=8)
    assert json.loads((tmp_path / "stats" / "signals.json").read_text()) == stats
    assert set(stats["outcomes"]) >= set(LANGS)
    assert all(abs(sum(v for k, v in o.items() if k != "total") - 1) < 1e-4
               for o in stats["outcomes"].values())  # fmt: skip
    assert stats["groups"]["de/Latn"]["n_chars"]["count"] == round(
        stats["outcomes"]["de"]["total"] * stats["outcomes"]["de"]["kept"]
    )
    corpus_dir = os.path.dirname(version)  # <root>/corpora/<name>: its newest version
    n_docs = sum(len(b) for b in iter_texts([corpus_dir]))
    assert n_docs == round(sum(o["total"] * o["kept"] for o in stats["outcomes"].values())) > 0
    with pytest.raises(SourceError, match="not a corpus version folder"):
        version_stats(str(tmp_path))
    png = plot_signal(stats, "n_units", str(tmp_path / "n_units.png"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    out = tmp_path / "thresholds.json"
    assert main(["thresholds", version, "--out", str(out), "--min-docs", "10"]) == 0
    tf = load_thresholds(str(out))
    assert {g.split("/")[0] for g in tf.groups} == set(LANGS)
    assert all(g.lang_min_score is not None for g in tf.groups.values())  # scores from the run
    assert "language groups" in capsys.readouterr().out

    rng = random.Random(0)
    junk = tmp_path / "junk.jsonl"
    with junk.open("w", encoding="utf-8") as f:
        for r in rows:
            w = r["text"].split()
            f.write(json.dumps({"text": "\n".join(" | ".join(rng.sample(w, 3)) for _ in range(9))},
                               ensure_ascii=False) + "\n")  # fmt: skip
    model = tmp_path / "model"
    args = ["quality-model", "train", "--positive", version, "--negative", str(junk)]
    assert main([*args, "--out", str(model), "--epoch", "10"]) == 0
    assert QualityModel(str(model)).meta["heldout"]["recall"] > 0.8
    assert "held-out precision" in capsys.readouterr().out

    # bad input: one line, exit status 2
    assert main(["thresholds", str(tmp_path / "nope"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope: no such file or directory" in err[0]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", "utf-8")
    assert main([*args[:3], str(empty), "--negative", str(junk), "--out", str(model)]) == 2
    assert "empty.jsonl: empty file" in capsys.readouterr().err
