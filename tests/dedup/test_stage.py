"""Near-dedup plugged into the corpus run: the tag step and the global stage, through run_local."""

from __future__ import annotations

import json
import random

import pytest

from crossling import pipeline
from crossling.corpus import CorpusVersion
from crossling.dedup import index as mindex
from crossling.dedup.minhash import NearDedupConfig
from crossling.stages import near as stage
from crossling.storage import DataRoot
from tests.dedup.texts import ARTICLES, corpus, edit


@pytest.fixture
def with_near_dedup(monkeypatch):
    """The corpus run with the test's near-dedup settings."""
    wide = NearDedupConfig(threshold=0.7, bands=32, rows=4)
    monkeypatch.setattr(stage, "near_config", lambda config: wide)


def write(tmp_path, name: str, rows: list[tuple[str, str]]) -> str:
    path = tmp_path / f"{name}.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for url, text in rows:
            f.write(json.dumps({"text": text, "url": url}, ensure_ascii=False) + "\n")
    return str(path)


def test_a_corpus_run_drops_near_duplicates_within_and_across_versions(tmp_path, with_near_dedup):
    root = str(tmp_path / "root")
    rows = [(f"http://x/{rid}", text) for rid, text, _ in corpus(random.Random(3), copies=2)]
    rows.append(("http://x/exact-copy", rows[0][1]))  # exact dedup sees this one first
    m1 = pipeline.run_local([write(tmp_path, "v1", rows)], root, "news")
    v1 = CorpusVersion.open(root, "news", m1["version"])
    docs = v1.table("docs", columns=["url", "id", "dup_cluster_size"]).to_pylist()
    urls = {d["url"] for d in docs}
    originals = {u for u, _ in rows if "copy" not in u}
    assert urls == originals  # every edited copy and the exact copy are gone
    size = {d["url"]: d["dup_cluster_size"] for d in docs}
    assert size[rows[0][0]] == 4  # 2 near-copies + 1 exact copy + itself
    assert all(v == 3 for u, v in size.items() if u != rows[0][0])
    rej = v1.table("rejects", columns=["url", "reason", "duplicate_of"]).to_pylist()
    near = [r for r in rej if r["reason"] == "near_duplicate"]
    id_of = {d["url"]: d["id"] for d in docs}
    reasons = {r["url"]: r["reason"] for r in rej}
    assert {reasons[u] for u, _ in rows if u not in originals} == {
        "near_duplicate",
        "exact_duplicate",
    }
    assert len(near) >= len(rows) - len(originals) - 3  # an edit may leave a copy unchanged
    for r in near:
        assert r["duplicate_of"] == id_of[r["url"].rsplit("-copy", 1)[0]]
    assert [v for v, _ in mindex.load_indexes(DataRoot(root), "news")] == [m1["version"]]

    # v2: new articles and near-copies of v1 articles; v1 stays as it is
    new = [("http://y/ru-new", edit(ARTICLES["ru"][0][::-1], 1, random.Random(1)))]
    new += [(f"http://y/copy-{k}", edit(ARTICLES["zh"][k], 2, random.Random(k))) for k in range(2)]
    m2 = pipeline.run_local([write(tmp_path, "v2", new)], root, "news")
    v2 = CorpusVersion.open(root, "news", m2["version"])
    assert [d["url"] for d in v2.table("docs", columns=["url"]).to_pylist()] == ["http://y/ru-new"]
    rej2 = {r["url"]: r for r in v2.table("rejects").to_pylist()}
    for k in range(2):
        r = rej2[f"http://y/copy-{k}"]
        assert r["reason"] == "near_duplicate" and r["duplicate_of"] == id_of[f"http://x/zh-{k}"]
        assert m1["version"] in r["detail"]
    assert CorpusVersion.open(root, "news", m1["version"]).counts["docs"] == len(originals)


def _as_written_by_v1(path: str) -> None:
    """Rewrite an index file's settings as the previous release (shingle definition minhash_v1,
    word 5-grams, no `shingles` key) wrote them: its signatures are not comparable with ours."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"crossling.minhash"])
    meta.pop("shingles")
    meta.update(shingling="minhash_v1", ngram=5)
    table = table.replace_schema_metadata({"crossling.minhash": json.dumps(meta)})
    pq.write_table(table, path)


def test_an_index_of_the_old_shingle_definition_is_refused_then_rebuilt(tmp_path):
    from crossling.dedup import minhash as mh

    root = str(tmp_path / "root")
    rows = [(f"http://x/{lang}", ARTICLES[lang][0]) for lang in ("en", "zh", "ru")]
    m1 = pipeline.run_local([write(tmp_path, "v1", rows)], root, "news")
    dr = DataRoot(root)
    old = mindex.load_indexes(dr, "news")
    assert len(old) == 1
    _as_written_by_v1(old[0][1])
    cfg = NearDedupConfig()
    # never mixed: the reduce refuses the old index by name and setting
    with pytest.raises(
        mh.IncompatibleSignatures, match=r"shingling=minhash_v1 \(this run: minhash_v2\)"
    ):
        mh.plan_reduce([], cfg, mindex.load_indexes(dr, "news"))
    assert mindex.stale_files(dr, "news", cfg) == {m1["version"]: [old[0][1]]}

    # the next corpus run re-indexes v1 from its published documents, then dedups against it
    copy = edit(ARTICLES["zh"][0], 2, random.Random(5))
    m2 = pipeline.run_local([write(tmp_path, "v2", [("http://y/zh-copy", copy)])], root, "news")
    v1_ids = {
        d["url"]: d["id"]
        for d in CorpusVersion.open(root, "news", m1["version"]).table("docs").to_pylist()
    }
    rej = CorpusVersion.open(root, "news", m2["version"]).table("rejects").to_pylist()
    assert [(r["url"], r["reason"], r["duplicate_of"]) for r in rej] == [
        ("http://y/zh-copy", "near_duplicate", v1_ids["http://x/zh"])
    ]
    files = [p for v, p in mindex.load_indexes(dr, "news") if v == m1["version"]]
    assert [mh.read_minhash_meta(p)["shingling"] for p in files] == ["minhash_v2"]
    assert mindex.stale_files(dr, "news", cfg) == {}
