"""The corpus pipeline without Prefect: inputs of every kind, hostile ones, conservation, resume."""

import gzip
import io
import json
import os
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crossling.corpus import CorpusVersion
from crossling.pipeline import CorpusConfig, plan_run, run_local, tag_partition
from crossling.sources.files import InputNotFound, plan_partitions, read_partition
from tests.texts import PARAGRAPHS, distinct, paragraphs


def _jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")


def _rejects(root, name, version):
    return CorpusVersion.open(root, name, version).table("rejects").to_pylist()


def _doc_ids(root, name, version):
    docs = CorpusVersion.open(root, name, version).table("docs", columns=["id"])
    return sorted(docs.column("id").to_pylist())


def _warc(path, pages):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for url, status, ctype, body in pages:
            headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            w.write_record(
                w.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=headers
                )
            )


def _html(title, text):
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n"))
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home | About</nav>"
        f"<article><h1>{title}</h1>{paras}</article><footer>(c) 2026</footer></body></html>"
    )


@pytest.fixture
def inputs(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    rows = [
        {"id": f"{lang}-{i}", "text": distinct(lang, i)}
        for lang in ("en", "de", "ru", "zh", "ar", "hi")
        for i in range(3)
    ]
    rows.append({"id": "copy", "text": rows[0]["text"] + "   "})  # exact duplicate after folding
    _jsonl(src / "docs.jsonl", rows)
    _warc(
        src / "pages.warc.gz",
        [
            (
                "https://ru.example.org/a",
                "200 OK",
                "text/html",
                _html("Новости", paragraphs("ru", 1))
                .encode("cp1251")
                .replace(b"<head>", b'<head><meta charset="windows-1251">'),
            ),
            (
                "https://fr.example.org/b",
                "200 OK",
                "text/html; charset=utf-8",
                _html("Bonjour", paragraphs("fr", 1)).encode(),
            ),
            ("https://example.org/missing", "404 Not Found", "text/html", b"<html>nope</html>"),
            ("https://example.org/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n\x00\x00"),
        ],
    )
    return src


def test_corpus_from_jsonl_and_warc_balances_and_labels(inputs, data_root):
    m = run_local([str(inputs)], data_root, "c")
    cons = m["conservation"]
    assert cons["balanced"] and cons["inputs"] == 19 + 4
    assert set(m["counts"]["by_lang"]) == {"en", "de", "ru", "zh", "ar", "hi", "fr"}
    assert m["counts"]["by_reason"] == {
        "dedup/exact_duplicate": 1,
        "read/http_error": 1,
        "read/not_html": 1,
    }
    dup = [r for r in _rejects(data_root, "c", m["version"]) if r["reason"] == "exact_duplicate"]
    kept_ids = _doc_ids(data_root, "c", m["version"])
    assert dup[0]["duplicate_of"] in kept_ids
    version = CorpusVersion.open(data_root, "c", m["version"])
    t = version.table("docs", columns=["id", "dup_cluster_size"])
    sizes = dict(zip(t["id"].to_pylist(), t["dup_cluster_size"].to_pylist(), strict=True))
    assert sizes[dup[0]["duplicate_of"]] == 2 and sorted(sizes.values())[-2] == 1
    # The windows-1251 page was decoded from its <meta> charset and reduced to its main text.
    texts = version.table("docs", langs=["ru"], columns=["text"])["text"].to_pylist()
    assert any("Библиотека" in t and "Home | About" not in t for t in texts)
    for f in m["files"]:  # every file in the manifest is there with its rows
        path = os.path.join(data_root, "corpora", "c", m["version"], f["path"])
        assert pq.read_metadata(path).num_rows == f["rows"]


def test_rerun_is_a_noop_and_new_version_dedups_against_old(inputs, data_root):
    m1 = run_local([str(inputs)], data_root, "c")
    mtime = os.path.getmtime(
        os.path.join(data_root, "corpora", "c", m1["version"], "manifest.json")
    )
    m2 = run_local([str(inputs)], data_root, "c")
    assert m2["version"] == m1["version"]
    assert (
        os.path.getmtime(os.path.join(data_root, "corpora", "c", m1["version"], "manifest.json"))
        == mtime
    )
    _jsonl(
        inputs / "more.jsonl",
        [{"text": paragraphs("el", 1)}, {"text": distinct("en", 0)}],
    )  # the second was seen in v1
    m3 = run_local([str(inputs)], data_root, "c")
    assert m3["version"] != m1["version"] and m3["parent"] == m1["version"]
    assert m3["counts"]["docs"] == 1 and "el" in m3["counts"]["by_lang"]
    assert m3["conservation"]["balanced"]


def test_langs_and_thresholds_from_config(inputs, data_root):
    cfg = CorpusConfig(langs=["de", "fr"])
    m = run_local([str(inputs)], data_root, "c", cfg)
    assert set(m["counts"]["by_lang"]) == {"de", "fr"}
    assert m["counts"]["by_reason"]["langid/lang_not_wanted"] > 10
    assert m["conservation"]["balanced"]


def test_hostile_inputs_become_rejects_or_input_errors(tmp_path, data_root):
    src = tmp_path / "bad"
    src.mkdir()
    good = {"text": paragraphs("de", 1)}
    raw = gzip.compress(
        "".join(
            json.dumps({"text": paragraphs("en", 1) + f" {i}"}) + "\n" for i in range(100)
        ).encode()
    )
    (src / "truncated.jsonl.gz").write_bytes(raw[: len(raw) // 2])
    (src / "invalid_utf8.jsonl").write_bytes(
        b'{"text": "\xff\xfe\xfa\xfb\xfc\xfd\xff\xfe\xfa\xfb"}\n'
        + json.dumps(good).encode()
        + b"\n"
    )
    (src / "binary.jsonl").write_bytes(bytes(range(256)) * 4)
    (src / "empty.jsonl").write_bytes(b"")
    (src / "huge_line.jsonl").write_text(
        json.dumps({"text": "a " * (25 << 20)})
        + "\n"
        + json.dumps({"text": paragraphs("fr", 1)})
        + "\n"
    )
    pq.write_table(pa.table({"body": ["x", "y"]}), src / "wrong_columns.parquet")
    (src / "not_really.parquet").write_bytes(b"PAR1 this is not parquet")
    warc = tmp_path / "w.warc.gz"
    _warc(
        warc,
        [("https://a.example/1", "200 OK", "text/html", _html("A", paragraphs("en", 1)).encode())]
        * 3,
    )
    data = warc.read_bytes()
    (src / "broken.warc.gz").write_bytes(data[: len(data) - 200])
    cfg = CorpusConfig()  # default max_doc_bytes: 8 MB; the huge line is 50 MB
    m = run_local([str(src)], data_root, "bad", cfg)
    assert m["conservation"]["balanced"], m["conservation"]
    reasons = m["counts"]["by_reason"]
    assert reasons.get("read/too_long") == 1
    assert reasons.get("read/binary", 0) + reasons.get("read/read_error", 0) >= 3
    assert m["counts"]["by_lang"].keys() >= {"de", "fr", "en"}
    errors = {os.path.basename(e["input"]): e["error"] for e in m["errors"]}
    assert "empty" in errors["empty.jsonl"]
    assert "not a readable Parquet" in errors["not_really.parquet"]
    details = " ".join(r["detail"] or "" for r in _rejects(data_root, "bad", m["version"]))
    assert "wrong_columns.parquet: no text column" in details
    assert "truncated.jsonl.gz: compressed stream ends early" in details
    assert "broken.warc.gz" in details


def test_missing_source_is_an_error_naming_it(tmp_path):
    with pytest.raises(InputNotFound, match="nope.jsonl"):
        plan_partitions([str(tmp_path / "nope.jsonl")])


def test_large_jsonl_is_split_into_byte_ranges_without_losing_lines(tmp_path):
    path = tmp_path / "big.jsonl"
    _jsonl(path, [{"text": f"{PARAGRAPHS['en']} {i}"} for i in range(500)])
    parts, _ = plan_partitions([str(path)], partition_bytes=7_000)
    assert len(parts) > 5
    seen = [d.text for p in parts for d in read_partition(p)]
    assert len(seen) == 500 and len(set(seen)) == 500


def _four_files(tmp_path):
    """Four JSONL files (four partitions) of en/de/ru paragraphs, one duplicate in every file."""
    src = tmp_path / "in"
    src.mkdir()
    for k in range(4):
        _jsonl(
            src / f"f{k}.jsonl",
            [
                {"text": paragraphs(lang, 1) + f" {k}-{i}"}
                for lang in ("en", "de", "ru")
                for i in range(5)
            ]
            + [{"text": paragraphs("en", 1) + " 0-0"}],
        )
    return src


def test_resume_after_crash_gives_the_same_docs(tmp_path, data_root):
    src = _four_files(tmp_path)
    cfg = CorpusConfig()
    full = run_local([str(src)], os.path.join(data_root, "a"), "c", cfg)

    root_b = os.path.join(data_root, "b")
    plan = plan_run([str(src)], root_b, "c", cfg)
    for p in plan.partitions[:2]:  # "crash" after measuring two partitions
        tag_partition(root_b, plan.tag_dirs[p.index], p.to_dict(), plan.ctx.config)
    plan2 = plan_run([str(src)], root_b, "c", cfg)
    # Same config and inputs: the same version hash (the name's time part is set when the
    # version folder is first written, which measuring alone does not do).
    assert plan2.version.split("-")[1] == plan.version.split("-")[1] and plan2.tags_reused == 2
    assert [p.index for p in plan2.pending] == [2, 3]
    resumed = run_local([str(src)], root_b, "c", cfg)
    assert _doc_ids(root_b, "c", resumed["version"]) == _doc_ids(
        os.path.join(data_root, "a"), "c", full["version"]
    )
    assert resumed["counts"] == {**full["counts"]}


def test_writes_resumed_under_other_shares_leave_exactly_the_manifest_files(tmp_path, data_root):
    # Shares of partitions are the unit of writing: an attempt that wrote some shares, then a
    # resumed run that deals the partitions into other shares (another worker count), must end
    # with the rows of a clean run and no file the manifest does not list.
    from crossling import pipeline

    src = _four_files(tmp_path)
    cfg = CorpusConfig()
    full = run_local([str(src)], os.path.join(data_root, "a"), "c", cfg)
    root = os.path.join(data_root, "b")
    plan = plan_run([str(src)], root, "c", cfg)
    ctx, tag_dir = plan.ctx, plan.tag_dirs
    done = [pipeline.process_partition(ctx, tag_dir[p.index], p.to_dict()) for p in plan.partitions]
    results = {}
    for k, name in enumerate(pipeline.enabled_stages(ctx)):
        items = [(p.index, tag_dir[p.index]) for p in plan.partitions]
        maps = (
            [m for d in done for m in d["maps"]]
            if k == 0
            else pipeline.stage_maps(ctx, name, items)
        )
        results[name] = pipeline.stage_reduce(ctx, name, maps)
    share = lambda ix: [(i, tag_dir[i]) for i in ix]  # noqa: E731
    pipeline.write_partitions(ctx, share([0, 1]))  # the first attempt stops after one share
    written = [pipeline.write_partitions(ctx, share(ix)) for ix in ([0, 2], [1, 3])]
    tags, decided = [d["tag"] for d in done], [d["decide"] for d in done]
    m = pipeline.commit(plan, tags, decided, results, written)
    on_disk = {
        os.path.relpath(os.path.join(d, f), plan.version_dir)
        for d, _, fs in os.walk(plan.version_dir)
        for f in fs
        if f.endswith(".parquet")
    }
    assert on_disk == {f["path"] for f in m["files"]} | {f["path"] for f in m["stats_files"]}
    assert len([f for f in on_disk if f.startswith("rejects/")]) == 2  # a file per share
    assert _doc_ids(root, "c", m["version"]) == _doc_ids(
        os.path.join(data_root, "a"), "c", full["version"]
    )
    assert m["counts"] == full["counts"]


def test_heldout_split_is_deterministic(inputs, data_root):
    cfg = CorpusConfig(heldout_fraction=0.3, heldout_min=0)
    m = run_local([str(inputs)], data_root, "c", cfg)
    t = CorpusVersion.open(data_root, "c", m["version"]).table("docs", columns=["id", "split"])
    splits = dict(zip(t["id"].to_pylist(), t["split"].to_pylist(), strict=True))
    assert set(splits.values()) == {"train", "heldout"}
    from crossling.documents import split_of

    assert all(split_of(i, 0.3) == s for i, s in splits.items())


def test_parallel_pairs_become_pairs_rows(tmp_path, data_root):
    src = tmp_path / "p.jsonl"
    _jsonl(
        src,
        [
            {
                "src_lang": "en",
                "tgt_lang": "de",
                "src_text": f"The house {i}.",
                "tgt_text": f"Das Haus {i}.",
            }
            for i in range(20)
        ]
        + [
            {
                "src_lang": "en",
                "tgt_lang": "de",
                "src_text": "The house 1.",
                "tgt_text": "Das Haus 1.",
            },
            {"src_lang": "en", "src_text": "no target"},
        ],
    )
    m = run_local([str(src)], data_root, "p")
    assert m["counts"]["pairs"] == 20 and m["counts"]["pairs_by_direction"] == {"en-de": 20}
    assert m["conservation"]["balanced"] and m["conservation"]["inputs"] == 22


def test_text_folder_and_saved_hf_dataset(tmp_path, data_root):
    import datasets

    txt = tmp_path / "txt"
    (txt / "sub").mkdir(parents=True)
    (txt / "a.txt").write_text(paragraphs("de", 1), encoding="utf-8")
    (txt / "sub" / "b.txt").write_bytes(paragraphs("ru", 1).encode("cp1251"))  # not UTF-8
    (txt / "c.txt").write_bytes(b"\x00\x01binary\x00")
    hf = tmp_path / "hf"
    datasets.Dataset.from_dict(
        {"text": [paragraphs("fr", 1), paragraphs("el", 1), None]}
    ).save_to_disk(str(hf))
    m = run_local([str(txt), str(hf)], data_root, "t")
    assert m["conservation"]["balanced"]
    assert set(m["counts"]["by_lang"]) == {"de", "ru", "fr", "el"}
    assert m["counts"]["by_reason"] == {"read/binary": 1, "read/read_error": 1}
    sources = set(m["conservation"]["by_source"])
    assert sources == {"file:txt", "hf:hf"}


def test_a_corrupt_warc_record_costs_only_itself(tmp_path):
    from crossling.sources.warc import read_warc

    pages = [
        (
            f"https://x.example/{i}",
            "200 OK",
            "text/html",
            _html(f"T{i}", paragraphs(lang, 1)).encode(),
        )
        for i, lang in enumerate(["en", "de", "fr", "es", "el"])
    ]
    good = tmp_path / "good.warc.gz"
    _warc(good, pages)
    data = bytearray(good.read_bytes())
    # Find the third gzip member (third record) and break its deflate stream: the first block
    # header after the 10-byte gzip header gets the reserved block type (always invalid).
    # (Members found by decompressing them in turn: the magic bytes may also occur inside one.)
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        member = zlib.decompressobj(31)
        member.decompress(bytes(data[pos:]))
        pos = len(data) - len(member.unused_data)
    assert len(starts) == 5
    data[starts[2] + 10] = 0x07
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(bytes(data))
    out = list(read_warc(str(bad), max_doc_bytes=1 << 20))
    docs = [o for o in out if hasattr(o, "text") and o.text]
    rejects = [o for o in out if not hasattr(o, "text") or not o.text]
    assert [d.url for d in docs] == [p[0] for i, p in enumerate(pages) if i != 2]
    assert len(rejects) == 1 and rejects[0].reason == "read_error"
    assert "reading goes on after it" in rejects[0].detail


def test_pairs_published_before_are_not_published_again(tmp_path, data_root):
    def pairs(path, rng):
        _jsonl(
            path,
            [
                {
                    "src_lang": "en",
                    "tgt_lang": "de",
                    "src_text": f"The house {i}.",
                    "tgt_text": f"Das Haus {i}.",
                }
                for i in rng
            ],
        )

    pairs(tmp_path / "p1.jsonl", range(10))
    m1 = run_local([str(tmp_path / "p1.jsonl")], data_root, "p")
    pairs(tmp_path / "p2.jsonl", range(5, 15))  # 5 seen in version 1, 5 new
    m2 = run_local([str(tmp_path / "p2.jsonl")], data_root, "p")
    assert m1["counts"]["pairs"] == 10 and m2["counts"]["pairs"] == 5
    assert m2["counts"]["by_reason"] == {"dedup/exact_duplicate": 5}
    assert m2["conservation"]["balanced"]


def test_new_thresholds_reuse_the_measurements_and_make_a_sibling(inputs, data_root, monkeypatch):
    m1 = run_local([str(inputs)], data_root, "c")
    tags = os.path.join(data_root, "corpora", "c", "_tags")
    stamps = {
        os.path.join(dp, f): os.path.getmtime(os.path.join(dp, f))
        for dp, _, fs in os.walk(tags)
        for f in fs
    }
    assert stamps
    from crossling.langid import LanguageIdentifier
    from crossling.sources import files

    def refuse(*a, **k):
        raise AssertionError("the rerun read or identified languages again")

    monkeypatch.setattr(LanguageIdentifier, "predict", refuse)
    monkeypatch.setattr(files, "read_partition", refuse)
    stricter = CorpusConfig(langid={"min_score": 0.9}, quality={"defaults": {"min_chars": 250}})
    m2 = run_local([str(inputs)], data_root, "c", stricter)
    monkeypatch.undo()
    assert m2["version"] != m1["version"] and m2["tags_reused"] == m2["partitions"]
    assert all(os.path.getmtime(p) == t for p, t in stamps.items())  # nothing measured again
    # A sibling: same parent, every document that passes the new thresholds (not a delta
    # deduplicated against the version of the same inputs), exactly what a fresh run gives.
    assert m2["parent"] == m1["parent"] and m2["deduplicated_against"] == []
    fresh = os.path.join(data_root, "fresh")
    m3 = run_local([str(inputs)], fresh, "c", stricter)
    assert _doc_ids(data_root, "c", m2["version"]) == _doc_ids(fresh, "c", m3["version"])
    assert 0 < m2["counts"]["docs"] < m1["counts"]["docs"]
    assert m2["counts"]["by_reason"].get("quality/too_short", 0) > 0
    assert m2["conservation"]["balanced"]


def test_conservation_against_counts_made_apart(inputs, data_root):
    """Records counted here with json and warcio, not with the code under test."""
    from warcio.archiveiterator import ArchiveIterator

    n_jsonl = sum(1 for ln in open(inputs / "docs.jsonl", encoding="utf-8") if ln.strip())
    with open(inputs / "pages.warc.gz", "rb") as f:
        n_warc = sum(1 for r in ArchiveIterator(f) if r.rec_type == "response")
    m = run_local([str(inputs)], data_root, "c")
    cons = m["conservation"]
    assert cons["inputs"] == n_jsonl + n_warc
    assert cons["by_source"]["file:docs.jsonl"] == {"inputs": n_jsonl, "outputs": n_jsonl}
    assert cons["by_source"]["warc:pages.warc.gz"]["inputs"] == n_warc
    v = CorpusVersion.open(data_root, "c", m["version"])
    rows = sum(v.table(k, columns=["id"]).num_rows for k in ("docs", "pairs", "rejects"))
    assert rows == n_jsonl + n_warc
    ids = [i for k in ("docs", "rejects") for i in v.table(k, columns=["id"])["id"].to_pylist()]
    assert len(ids) == len(set(ids))  # no record is both, or twice


def test_pairs_are_normalized_and_language_checked(tmp_path, data_root):
    good = [
        {
            "src_lang": "en",
            "tgt_lang": "de",
            "src_text": f"  The weather   is nice today, number {i}. ",
            "tgt_text": f"Das Wetter ist heute schön, Nummer {i}.",
        }
        for i in range(12)
    ]
    wrong = {
        "src_lang": "en",
        "tgt_lang": "de",
        "src_text": "The library opens at nine every morning.",
        "tgt_text": "La bibliothèque du coin ouvre chaque matin à neuf heures.",
    }
    empty = {"src_lang": "en", "tgt_lang": "de", "src_text": "Hello there.", "tgt_text": "\u200b "}
    bad_code = {**good[0], "tgt_lang": "not a language"}
    _jsonl(tmp_path / "p.jsonl", [*good, wrong, empty, bad_code])
    m = run_local([str(tmp_path / "p.jsonl")], data_root, "p")
    assert m["counts"]["pairs"] == 12 and m["conservation"]["balanced"]
    rejects = {r["reason"]: r for r in _rejects(data_root, "p", m["version"])}
    assert set(rejects) == {"lang_mismatch", "empty", "invalid_field"}
    assert "tgt side declared de, fastText reads fr" in rejects["lang_mismatch"]["detail"]
    pairs = CorpusVersion.open(data_root, "p", m["version"]).table("pairs")
    assert pairs["src_text"][0].as_py().startswith("The weather is nice")  # folded
    assert set(pairs["source"].to_pylist()) == {"file:p.jsonl"}


def test_each_hostile_record_gets_its_own_reason(tmp_path, data_root):
    src = tmp_path / "h"
    src.mkdir()
    lines = {
        "surrogate": json.dumps({"id": 5, "text": "\ud800 broken surrogate " + PARAGRAPHS["en"]}),
        "array": "[1, 2, 3]",
        "null_text": json.dumps({"text": None}),
        "number": "42",
        "truncated": '{"text": "cut in the mid',
        "no_text": json.dumps({"title": "x"}),
        "control_only": json.dumps({"text": "\u0000\u0001\u200b"}),
        "short": json.dumps({"text": "The library on the corner opens at nine every morning."}),
    }
    for name, line in lines.items():
        (src / f"{name}.jsonl").write_text(line + "\n", encoding="utf-8")
    (src / "binary.jsonl").write_bytes(b'{"text": "\x00\x00\x00 bin"}\n')
    m = run_local([str(src)], data_root, "h")
    assert m["conservation"]["balanced"]
    got = {
        r["source"].removeprefix("file:").removesuffix(".jsonl"): r["reason"]
        for r in _rejects(data_root, "h", m["version"])
    }
    assert got == {
        "array": "read_error",
        "null_text": "read_error",
        "number": "read_error",
        "truncated": "read_error",
        "no_text": "read_error",
        "control_only": "empty",
        "short": "too_short",
        "binary": "binary",
    }
    docs = CorpusVersion.open(data_root, "h", m["version"]).table("docs")
    assert docs.num_rows == 1 and "\ufffd broken surrogate" in docs["text"][0].as_py()


def test_pairs_sharing_a_sentence_stay_on_one_side(tmp_path, data_root):
    rows = []
    for i in range(15):  # one English sentence aligned into two directions
        en = f"The weather is nice today, number {i}."
        rows.append(
            {
                "src_lang": "en",
                "tgt_lang": "de",
                "src_text": en,
                "tgt_text": f"Das Wetter ist heute schön, Nummer {i}.",
                "split_key": en,
            }
        )
        rows.append(
            {
                "src_lang": "en",
                "tgt_lang": "fr",
                "src_text": en,
                "tgt_text": f"Il fait beau aujourd'hui, numéro {i}.",
                "split_key": en,
            }
        )
    _jsonl(tmp_path / "p.jsonl", rows)
    cfg = CorpusConfig(heldout_fraction=0.0, heldout_min=3)  # held-out rows only by the minimum
    m = run_local([str(tmp_path / "p.jsonl")], data_root, "p", cfg)
    t = CorpusVersion.open(data_root, "p", m["version"]).table("pairs")
    sides: dict[str, set[str]] = {}
    for r in t.to_pylist():
        sides.setdefault(r["src_text"], set()).add(r["split"])
    assert all(len(s) == 1 for s in sides.values())
    held = [r for r in t.to_pylist() if r["split"] == "heldout"]
    assert {r["tgt_lang"] for r in held} == {"de", "fr"} and len(held) == 6


def test_the_compiled_counting_and_the_python_definitions_build_the_same_version(inputs, tmp_path):
    # The same inputs and config through crossling/_signals.c (this process) and through the
    # Python/numpy definitions alone (CROSSLING_PURE_PYTHON=1, another process): the same
    # documents, the same drops for the same reasons, the same near-duplicate clusters.
    import subprocess
    import sys

    from crossling import clean

    assert clean._signals is not None, "crossling._signals was not built (pip install -e .)"
    cfg = CorpusConfig(quality={"defaults": {"min_chars": 200, "max_top_2gram_frac": 0.1}})
    compiled = run_local([str(inputs)], str(tmp_path / "c"), "c", cfg)
    script = (
        "import json, sys; from crossling import clean; assert clean._signals is None; "
        "from crossling.pipeline import CorpusConfig, run_local; "
        "m = run_local([sys.argv[1]], sys.argv[2], 'c', CorpusConfig.model_validate_json(sys.argv[3])); "
        "print(json.dumps(m['version']))"
    )
    env = {**os.environ, "CROSSLING_PURE_PYTHON": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(inputs), str(tmp_path / "p"), cfg.model_dump_json()],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    version = json.loads(out.stdout.strip().splitlines()[-1])
    python = CorpusVersion.open(str(tmp_path / "p"), "c", version).manifest
    assert python["counts"] == compiled["counts"]
    assert python["counts"]["by_reason"]  # the config drops documents, for several reasons

    def rows(root, v):
        t = CorpusVersion.open(root, "c", v).table("rejects", columns=["id", "reason", "detail"])
        return sorted(zip(*(t[c].to_pylist() for c in ("id", "reason", "detail")), strict=True))

    assert rows(str(tmp_path / "p"), version) == rows(str(tmp_path / "c"), compiled["version"])
    assert _doc_ids(str(tmp_path / "p"), "c", version) == _doc_ids(
        str(tmp_path / "c"), "c", compiled["version"]
    )
