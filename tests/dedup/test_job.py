"""The standalone dedup job (what ``crossling dedup`` runs), in one process."""

from __future__ import annotations

import json
import random

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crossling.dedup import job as dj
from crossling.dedup.lines import LineDedupConfig
from crossling.dedup.minhash import NearDedupConfig
from crossling.sources.files import InputNotFound
from tests.dedup.texts import ARTICLES, corpus

WIDE = NearDedupConfig(threshold=0.7, bands=32, rows=4)
HOSTILE = [
    "not json at all",
    "[1, 2, 3]",
    '{"id": "no-text", "title": "a record without text"}',
    '{"id": 99, "text": 42}',
]


def write_inputs(tmp_path) -> tuple[list[str], dict[str, str]]:
    """A JSONL file and a Parquet file of articles and near-copies; -> paths, id -> original."""
    rows = corpus(random.Random(21))
    orig = {rid: o for rid, _, o in rows}
    half = len(rows) // 2
    jl = tmp_path / "a.jsonl"
    with open(jl, "w", encoding="utf-8") as f:
        for k, (rid, text, _) in enumerate(rows[:half]):
            rec = {"id": rid, "text": text, "lang": rid.split("-")[0], "score": k / 10}
            rec["tags"] = ["news", str(k)] if k % 2 else 7  # a field of mixed types
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        f.write("\n".join(HOSTILE) + "\n")
        f.write('{"id": "surrogate", "text": "\\ud800 broken surrogate in a short text"}\n')
        f.write('{"text": ""}\n{"text": "!!!"}\n')
    pq.write_table(
        pa.table(
            {
                "id": [r[0] for r in rows[half:]],
                "text": [r[1] for r in rows[half:]],
                "lang": [r[0].split("-")[0] for r in rows[half:]],
                "year": list(range(len(rows) - half)),
            }
        ),
        tmp_path / "b.parquet",
        row_group_size=5,
    )
    return [str(jl), str(tmp_path / "b.parquet")], orig


def test_jsonl_and_parquet_in_kept_and_rejects_out(tmp_path):
    inputs, orig = write_inputs(tmp_path)
    out = tmp_path / "out"
    s = dj.run_local(inputs, str(out), dj.DedupJobConfig(near=WIDE))
    kept = pd.read_parquet(out / "kept")
    rejects = pd.read_parquet(out / "rejects")
    assert list(kept.columns[:2]) == ["id", "text"] and kept.columns[-1] == "dup_cluster_size"
    assert {"lang", "score", "tags", "year"} <= set(kept.columns)
    assert {"id", "duplicate_of", "reason"} <= set(rejects.columns)
    assert s["balanced"] and s["records"] == len(orig) + len(HOSTILE) + 3
    assert len(kept) + len(rejects) == s["records"]
    near = rejects[rejects.reason == "near_duplicate"]
    assert dict(zip(near.id, near.duplicate_of, strict=True)) == {
        k: v for k, v in orig.items() if k != v
    }
    originals = kept[kept.id.isin(set(orig.values()))]
    assert set(originals.id) == set(orig.values()) and set(originals.dup_cluster_size) == {3}
    assert set(kept[~kept.id.isin(set(orig.values()))].dup_cluster_size) == {1}
    bad = rejects[rejects.reason == dj.READ_ERROR]
    assert len(bad) == len(HOSTILE)
    assert any("a.jsonl at byte" in d and "invalid JSON" in d for d in bad.detail)
    assert {"no-text", "99"} <= set(bad.id)
    surrogate = kept[kept.id == "surrogate"].text.item()
    assert surrogate.startswith("\ufffd broken")
    assert s["hashed"] == s["records"] - len(HOSTILE)
    row = kept.set_index("id").loc
    assert row["en-0", "year"] >= 0 and pd.isna(row["en-0", "score"])  # from the Parquet file
    assert row["zh-0", "lang"] == "zh" and row["zh-0", "score"] == 0.0  # from the JSONL file
    assert row["zh-0", "tags"] == "7" and json.loads(row["zh-1", "tags"]) == ["news", "3"]


def test_partitioning_and_workers_order_do_not_change_the_result(tmp_path):
    inputs, _ = write_inputs(tmp_path)
    one = dj.run_local(inputs, str(tmp_path / "one"), dj.DedupJobConfig(near=WIDE))
    many = dj.run_local(
        inputs, str(tmp_path / "many"), dj.DedupJobConfig(near=WIDE, partition_bytes=2048)
    )
    assert many["partitions"] > one["partitions"] + 3
    for sub in ("kept", "rejects"):
        a = pd.read_parquet(tmp_path / "one" / sub).sort_values("id").reset_index(drop=True)
        b = pd.read_parquet(tmp_path / "many" / sub).sort_values("id").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)


def test_line_dedup_runs_before_near_dedup(tmp_path):
    menu = "Home | World | Business | Sport | Contact us"
    cookie = "This site uses cookies. By continuing you accept our cookie policy."
    texts = [f"{menu}\n{t}\n{cookie}" for arts in ARTICLES.values() for t in arts]
    texts.append(f"{menu}\n{cookie}")
    path = tmp_path / "pages.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    cfg = dj.DedupJobConfig(lines=LineDedupConfig(enabled=True, min_count=5, hash_shards=3))
    s = dj.run_local([str(path)], str(tmp_path / "out"), cfg)
    kept = pd.read_parquet(tmp_path / "out" / "kept")
    assert len(kept) == len(texts) - 1
    assert not kept.text.str.contains("cookie").any() and not kept.text.str.contains("Home").any()
    assert s["units_removed"] == {"duplicate_line": 2 * len(texts), "only_duplicate_lines": 1}
    assert s["by_reason"] == {"only_duplicate_lines": 1}


def test_inputs_it_cannot_read_are_named(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(dj.DedupInputError, match="notes.txt: expected JSONL"):
        dj.run_local([str(tmp_path / "notes.txt")], str(tmp_path / "o"))
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "nobody.parquet")
    with pytest.raises(dj.DedupInputError, match=r"nobody.parquet: no `text` column"):
        dj.run_local([str(tmp_path / "nobody.parquet")], str(tmp_path / "o"))
    with pytest.raises(InputNotFound):
        dj.run_local([str(tmp_path / "missing.jsonl")], str(tmp_path / "o"))
    (tmp_path / "empty.jsonl").write_text("")
    s = dj.run_local([str(tmp_path / "empty.jsonl")], str(tmp_path / "o"))
    assert s["records"] == 0 and s["errors"][0]["error"].startswith("empty file")
    assert pd.read_parquet(tmp_path / "o" / "kept").empty
    assert pd.read_parquet(tmp_path / "o" / "rejects").empty
