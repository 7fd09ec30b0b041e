"""A corpus version, built by the pipeline, opens in the tools people use, and through one API."""

import json
import os

import pytest

from crossling.corpus import CorpusCorrupt, CorpusNotFound, CorpusVersion
from crossling.pipeline import CorpusConfig, run_local
from tests.texts import PARAGRAPHS, distinct

LANGS = ["de", "fr", "ru", "zh"]


def _inputs(d, tag=""):
    d.mkdir(exist_ok=True)
    with open(d / f"docs{tag}.jsonl", "w", encoding="utf-8") as f:
        for lang in LANGS:
            for i in range(12):
                text = distinct(lang, f"{tag}{i}")
                f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    with open(d / f"pairs{tag}.jsonl", "w", encoding="utf-8") as f:
        for i in range(30):
            row = {
                "src_lang": "en",
                "tgt_lang": "de",
                "src_text": f"The library opens at nine, said the note number {tag}{i}.",
                "tgt_text": f"Die Bibliothek öffnet um neun, sagte die Notiz Nummer {tag}{i}.",
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return d


@pytest.fixture(scope="module")
def version(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus")
    src = _inputs(base / "in")
    m = run_local([str(src)], str(base / "root"), "c", CorpusConfig(heldout_fraction=0.1))
    assert m["conservation"]["balanced"]
    return CorpusVersion.open(str(base / "root"), "c", m["version"])


def test_every_tool_reads_docs_with_their_lang_column(version):
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    docs = os.path.join(version.path, "docs")
    n = version.counts["docs"]
    assert n == 48
    df = pd.read_parquet(docs)
    assert len(df) == n and sorted(df["lang"].unique()) == LANGS
    assert sorted(set(pq.read_table(docs).column("lang").to_pylist())) == LANGS
    assert pads.dataset(docs).to_table().num_rows == n
    rows = duckdb.sql(
        f"select lang, count(*) from read_parquet('{docs}/*/*.parquet') group by lang order by 1"
    ).fetchall()
    assert [r[0] for r in rows] == LANGS and sum(r[1] for r in rows) == n
    assert sorted(pl.read_parquet(docs)["lang"].unique().to_list()) == LANGS


def test_hugging_face_datasets_loads_configs_and_splits(version):
    import datasets

    de = datasets.load_dataset(version.path, "de")
    assert set(de) == {"train", "heldout"}
    assert set(de["train"]["lang"]) == {"de"} and set(de["train"]["split"]) == {"train"}
    assert len(de["train"]) + len(de["heldout"]) == 12
    everything = datasets.load_dataset(version.path)  # the default config: all languages
    assert len(everything["train"]) + len(everything["heldout"]) == 48
    pairs = datasets.load_dataset(version.path, "pairs-en-de")
    assert len(pairs["train"]) + len(pairs["heldout"]) == 30


def test_held_out_rows_exist_for_small_languages(version):
    # 10% of 12 documents is 1; the minimum gives each language 2 (20% of 12, rounded down).
    for lang, c in version.counts["by_lang"].items():
        assert c["heldout"] == 2, lang
    held = version.table("docs", split="heldout", columns=["lang", "split"])
    assert held.num_rows == 8 and set(held["split"].to_pylist()) == {"heldout"}
    assert version.manifest["counts"]["pairs_by_direction"] == {"en-de": 30}
    assert version.table("pairs", split="heldout", columns=["id"]).num_rows >= 3


def test_api_filters_by_language_split_and_direction(version):
    t = version.table("docs", langs=["zh"], split="train", columns=["lang", "split", "text"])
    assert t.num_rows == 10 and set(t["lang"].to_pylist()) == {"zh"}
    assert all(PARAGRAPHS["zh"][:5] in x for x in t["text"].to_pylist())
    assert version.table("pairs", directions=["de-en"], columns=["id"]).num_rows == 0
    sources = set(version.table("pairs", columns=["source"])["source"].to_pylist())
    assert sources == {"file:pairs.jsonl"}
    assert version.languages() == LANGS and version.directions() == ["en-de"]


def test_open_names_what_is_missing_and_verify_finds_tampering(version, tmp_path):
    with pytest.raises(CorpusNotFound, match="no complete version of corpus 'nope'"):
        CorpusVersion.open(version.root.url, "nope")
    with pytest.raises(CorpusNotFound, match="no complete version 'v1'"):
        CorpusVersion.open(version.root.url, "c", "v1")
    assert version.verify(checksums=True) == []
    f = version.files("docs")[0]
    path = version.abspath(f)
    data = open(path, "rb").read()
    try:
        with open(path, "r+b") as fh:
            fh.seek(len(data) // 2)
            fh.write(b"\x00" * 4)
        assert "sha256" in version.verify(checksums=True)[0]
        with open(path, "ab") as fh:
            fh.write(b"more")
        with pytest.raises(CorpusCorrupt, match="bytes"):
            version.check()
    finally:
        with open(path, "wb") as fh:
            fh.write(data)


def test_chain_reads_the_corpus_as_it_stands(tmp_path):
    src = _inputs(tmp_path / "in")
    root = str(tmp_path / "root")
    v1 = run_local([str(src)], root, "c")
    _inputs(src, tag="b")  # a new file next to the first: v2 holds only what it adds
    v2 = run_local([str(src)], root, "c")
    latest = CorpusVersion.open(root, "c")
    assert latest.version == v2["version"] and latest.parent_version == v1["version"]
    assert [v.version for v in latest.chain()] == [v2["version"], v1["version"]]
    assert v2["counts"]["docs"] == 48  # the 48 new ones; v1's 48 are not read again
    total = sum(v.counts["docs"] for v in latest.chain())
    assert total == 96


def test_a_partition_of_many_languages_is_written_in_bounded_memory(tmp_path):
    # Past the writer's buffer budget the fullest file is flushed as a smaller row group: every
    # row still arrives, in order, and no file keeps a partition's rows in memory until it ends.
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crossling.corpus import PartWriter, VersionWriter
    from crossling.documents import DOCS_SCHEMA
    from tests.train.corpus_fixture import doc_row

    langs = ["en", "de", "fr", "es", "ru", "zh"]
    writer = VersionWriter(str(tmp_path), "many", "v1")
    part = PartWriter(writer, 0, buffer_bytes=1 << 20)
    sent = {lang: [] for lang in langs}
    for b in range(30):
        rows = []
        for lang in langs:
            for i in range(20):
                doc_id = f"{lang}-{b}-{i}"
                rows.append(doc_row(lang, doc_id, distinct(lang, b * 20 + i) * 20, "s", 0.0))
                sent[lang].append(doc_id)
        part.docs(pa.Table.from_pylist(rows, schema=DOCS_SCHEMA))
    written = part.close()
    groups = 0
    for lang in langs:
        path = tmp_path / "corpora" / "many" / "v1" / "docs" / lang / "train-00000.parquet"
        f = pq.ParquetFile(path)
        groups += f.metadata.num_row_groups
        assert f.read(columns=["id"]).column("id").to_pylist() == sent[lang]
    assert groups > len(langs)  # some files were flushed before the end
    assert sum(f["rows"] for f in written["files"]) == 30 * 20 * len(langs)
