"""The corpus flow and the CLI against a real (temporary) Prefect server."""

import json
import os

import pyarrow.parquet as pq
import pytest

from flows.cli import main
from flows.corpus import CorpusParams, corpus_flow
from flows.demo import demo_sources
from tests.prefect_reads import artifacts, events
from tests.texts import PARAGRAPHS


@pytest.mark.usefixtures("prefect_server")
def test_demo_corpus_flow_publishes_artifacts_and_is_idempotent(data_root):
    params = CorpusParams(
        sources=demo_sources(),
        root=data_root,
        name="demo",
        workers=1,
        config={"heldout_fraction": 0.15},
    )
    s1 = corpus_flow(params)
    assert s1["new"] and s1["balanced"]
    assert len(s1["languages"]) >= 12 and s1["counts"]["pairs"] >= 900
    arts = {a.key: a for a in artifacts("corpus-demo-%", like=True)}
    assert {
        "corpus-demo-languages",
        "corpus-demo-drops",
        "corpus-demo-manifest",
        "corpus-demo-summary",
        "corpus-demo-progress",
    } <= set(arts)
    langs = (
        json.loads(arts["corpus-demo-languages"].data)
        if isinstance(arts["corpus-demo-languages"].data, str)
        else arts["corpus-demo-languages"].data
    )
    assert {row["lang"] for row in langs} >= {"zh", "ja", "ar", "ru", "hi", "en"}
    assert all(row["docs"] > 0 and 0 < row["mean_lang_score"] <= 1 for row in langs)
    link = arts["corpus-demo-manifest"].data  # a markdown link: [text](file:///.../manifest.json)
    path = link[link.index("(file://") + 8 : -1]
    assert json.load(open(path))["version"] == s1["version"]
    assert arts["corpus-demo-progress"].data == 100.0
    (event,) = events("crossling.corpus.published", os.path.abspath(data_root), 1)
    assert event.resource.id == "crossling.corpus.demo"
    assert event.payload["version"] == s1["version"]
    assert event.payload["counts"]["docs"] == s1["counts"]["docs"]
    s2 = corpus_flow(params)
    assert not s2["new"] and s2["version"] == s1["version"]


@pytest.mark.usefixtures("prefect_server")
def test_cli_usage_errors_exit_2_with_one_line(tmp_path, capsys):
    assert (
        main(["corpus", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path), "--name", "x"])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.jsonl: no such file or directory" in err[0]
    assert main(["corpus", str(tmp_path), "--out", str(tmp_path), "--name", "bad name!"]) == 2
    assert "name" in capsys.readouterr().err
    assert main(["langid", str(tmp_path / "x.txt"), "--out", str(tmp_path / "o.parquet")]) == 2


@pytest.mark.usefixtures("prefect_server")
def test_langid_cli_writes_parquet_and_jsonl(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    rows = [{"id": f"r{i}", "text": PARAGRAPHS[lang]} for i, lang in enumerate(PARAGRAPHS)]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{oops\n")
    out = tmp_path / "out.parquet"
    assert main(["langid", str(src), "--out", str(out)]) == 0
    t = pq.read_table(out).to_pylist()
    labelled = {r["input_id"]: r["lang"] for r in t if r["error"] is None}
    assert labelled == {f"r{i}": lang for i, lang in enumerate(PARAGRAPHS)}
    assert sum(1 for r in t if r["error"]) == 1
    out2 = tmp_path / "out.jsonl"
    assert main(["langid", str(src), "--out", str(out2), "--mode", "line"]) == 0
    first = json.loads(out2.read_text().splitlines()[0])
    assert first["input_id"] == "r0" and first["lang"] == "en" and first["script"] == "Latn"
    assert os.path.exists(out2)
