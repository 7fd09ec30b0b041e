"""Incremental near-dedup: the band index of published versions (built by the corpus pipeline)."""

from __future__ import annotations

import json
import random

import numpy as np
import pyarrow as pa
import pytest

from crossling import pipeline
from crossling.corpus import CorpusVersion
from crossling.dedup import index as mindex
from crossling.dedup import minhash as mh
from crossling.storage import DataRoot
from tests.dedup.texts import ARTICLES, edit

WIDE = {"threshold": 0.7, "bands": 32, "rows": 4}


def publish(tmp_path, root: str, records: list[tuple[str, str]], tag: str) -> str:
    """A corpus version of ``(url, text)`` records, built by the corpus pipeline (without its own
    near dedup: these tests run the near-dedup parts by hand on the published documents)."""
    src = tmp_path / f"{tag}.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for url, text in records:
            f.write(json.dumps({"text": text, "url": url}, ensure_ascii=False) + "\n")
    cfg = pipeline.CorpusConfig(dedup={"near": {"enabled": False}})
    return pipeline.run_local([str(src)], root, "news", cfg)["version"]


def version_docs(root: str, version: str) -> tuple[list[str], list[str], list[str]]:
    ids, texts, urls = [], [], []
    for b in CorpusVersion.open(root, "news", version).docs(columns=["id", "text", "url"]):
        ids += b.column("id").to_pylist()
        texts += b.column("text").to_pylist()
        urls += b.column("url").to_pylist()
    return ids, texts, urls


def near_dedup(
    tmp_path, root: str, ids: list[str], texts: list[str], cfg: mh.NearDedupConfig, tag: str
) -> tuple[pa.Table, str]:
    """This run's documents against the indexes of every published version."""
    band = mh.write_band_file(
        mh.band_table(ids, mh.signatures(texts, cfg), cfg), str(tmp_path / f"{tag}.bands.parquet")
    )
    plan = mh.plan_reduce([band], cfg, mindex.load_indexes(DataRoot(root), "news"))
    edges = mh.unique_edges(mh.candidate_edges(plan, g, cfg) for g in mh.band_group_list(cfg))
    sets = {}
    for _, nodes in mh.needed_nodes(plan, edges).items():
        rows = mh.rows_of(plan, nodes)
        sets.update(
            zip(nodes.tolist(), mh.shingle_sets([texts[r] for r in rows], cfg), strict=True)
        )
    kept, sim = mh.verify_edges(plan, edges, cfg, exact_sets=sets)
    return mh.cluster(plan, kept, sim), band


def test_incremental_runs_remove_new_duplicates_of_old_documents_only(tmp_path, monkeypatch):
    rng = random.Random(8)
    root = str(tmp_path / "root")
    dr = DataRoot(root)
    cfg = mh.NearDedupConfig(**WIDE)
    old = [(f"{lang}/{k}", t) for lang in ("zh", "ja", "en") for k, t in enumerate(ARTICLES[lang])]
    v1 = publish(tmp_path, root, old, "v1")
    ids1, texts1, urls1 = version_docs(root, v1)
    assert mindex.build_index(dr, "news", v1, [(ids1, texts1)], cfg) == {"docs": 12}
    id_of = dict(zip(urls1, ids1, strict=True))

    # v2: near-copies of three v1 documents, four new articles, and a copy of one of them
    new = [(f"copy-of-{u}", edit(dict(old)[u], 2, rng)) for u in ("zh/0", "ja/1", "en/2")]
    new += [(f"ko/{k}", t) for k, t in enumerate(ARTICLES["ko"])]
    new.append(("copy-of-ko/0", edit(ARTICLES["ko"][0], 2, rng)))
    v2 = publish(tmp_path, root, new, "v2")
    ids2, texts2, urls2 = version_docs(root, v2)
    hashed: list[str] = []
    real = mh.shingle_hashes

    def spy(texts, config=None):
        hashed.extend(texts)
        return real(texts, config)

    monkeypatch.setattr(mh, "shingle_hashes", spy)
    decisions, band2 = near_dedup(tmp_path, root, ids2, texts2, cfg, "v2")
    monkeypatch.undo()
    assert set(hashed) <= set(texts2) and not set(hashed) & set(texts1)  # only new ones hashed
    by_url = {urls2[ids2.index(r["id"])]: r for r in decisions.to_pylist()}
    for u in ("zh/0", "ja/1", "en/2"):
        r = by_url[f"copy-of-{u}"]
        assert r["duplicate_of"] == id_of[u] and r["duplicate_of_version"] == v1
    assert by_url["copy-of-ko/0"]["duplicate_of"] == ids2[urls2.index("ko/0")]
    assert by_url["copy-of-ko/0"]["duplicate_of_version"] is None
    assert by_url["ko/0"]["dup_cluster_size"] == 2 and by_url["ko/0"]["duplicate_of"] is None
    assert not set(decisions.column("id").to_pylist()) & set(ids1)  # old ones never touched
    assert mindex.write_index(dr, "news", v2, [band2], decisions) == {"docs": 4, "dropped": 4}

    # A crashed run's index (no manifest) does not count; versions come oldest first.
    mindex.write_index(dr, "news", "20991231T000000Z-deadbeef", [band2], decisions[:0])
    assert [v for v, _ in mindex.load_indexes(dr, "news")] == [v1, v2]

    # v3 (not published yet) against both: a copy of a v2 article and one of a v1 article.
    texts3 = [edit(ARTICLES["ko"][1], 2, rng), edit(ARTICLES["en"][0], 1, rng), ARTICLES["ru"][0]]
    ids3 = ["n0", "n1", "n2"]
    for c in (cfg, mh.NearDedupConfig(threshold=0.7, bands=25, rows=5)):  # other bands: rebanded
        d3, _ = near_dedup(tmp_path, root, ids3, texts3, c, "v3")
        got = {r["id"]: (r["duplicate_of"], r["duplicate_of_version"]) for r in d3.to_pylist()}
        assert got == {"n0": (ids2[urls2.index("ko/1")], v2), "n1": (id_of["en/0"], v1)}


def test_an_index_with_other_shingles_is_refused_by_name(tmp_path):
    root = str(tmp_path / "root")
    dr = DataRoot(root)
    v1 = publish(tmp_path, root, [("en/0", ARTICLES["en"][0])], "v1")
    ids, texts, _ = version_docs(root, v1)
    mindex.build_index(dr, "news", v1, [(ids, texts)], mh.NearDedupConfig())
    other = mh.NearDedupConfig(char_ngram=3)
    band = mh.write_band_file(
        mh.band_table(["x"], mh.signatures(["some new text"], other), other),
        str(tmp_path / "b.parquet"),
    )
    with pytest.raises(
        mh.IncompatibleSignatures, match=rf"{v1}/docs-00000\.parquet: made with char_ngram=5"
    ):
        mh.plan_reduce([band], other, mindex.load_indexes(dr, "news"))


def test_an_empty_version_still_gets_an_index(tmp_path):
    root = str(tmp_path / "root")
    dr = DataRoot(root)
    v1 = publish(tmp_path, root, [("en/0", ARTICLES["en"][0])], "v1")
    cfg = mh.NearDedupConfig()
    assert mindex.build_index(dr, "news", v1, [], cfg) == {"docs": 0}
    plan = mh.plan_reduce([], cfg, mindex.load_indexes(dr, "news"))
    assert plan.n_total == 0 and mh.reduce(plan, cfg).num_rows == 0
    assert np.array_equal(mh.unique_edges([]), np.zeros((0, 2), dtype=np.int64))
