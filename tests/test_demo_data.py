"""The committed demo data (crossling/data/demo/) exists, parses, and matches its generator."""

from __future__ import annotations

import collections
import importlib.util
import json
import unicodedata
from pathlib import Path

import pytest

import crossling

DEMO = Path(crossling.__file__).resolve().parent / "data" / "demo"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_demo_data.py"
FILES = ("docs.jsonl", "pages.warc.gz", "parallel.jsonl", "labeled.jsonl")


def _jsonl(name: str) -> list[dict]:
    with (DEMO / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _host_lang(url: str) -> str:
    return url.split("//", 1)[1].split(".", 1)[0]


def test_files_exist_and_are_small():
    for name in FILES:
        assert (DEMO / name).is_file(), name
    total = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert total < 2 * 1024 * 1024


def test_docs():
    docs = _jsonl("docs.jsonl")
    assert len(docs) >= 300
    ids = [d["id"] for d in docs]
    assert len(set(ids)) == len(ids)
    for d in docs:
        assert isinstance(d["text"], str)
        assert d["url"].startswith("https://") and ".example.org/" in d["url"]
        assert d["id"].split("-")[0] in {"doc", "dup", "near", "mixed", "junk"}
    assert len({_host_lang(d["url"]) for d in docs}) >= 12
    kinds = collections.Counter(d["id"].split("-")[0] for d in docs)
    assert kinds["doc"] >= 300 and kinds["mixed"] >= 10
    assert kinds["dup"] >= 15 and kinds["near"] >= 15 and kinds["junk"] >= 15
    # Every language has a fair share of clean documents of a sensible length.
    per_lang = collections.Counter(_host_lang(d["url"]) for d in docs if d["id"].startswith("doc-"))
    assert min(per_lang.values()) >= 20
    assert all(200 <= len(d["text"]) <= 1500 for d in docs if d["id"].startswith("doc-"))
    # lang hints, where present, agree with the URL.
    hinted = [d for d in docs if "lang" in d]
    assert hinted and all(d["lang"] == _host_lang(d["url"]) for d in hinted)


def test_exact_duplicates_match_a_document_after_normalization():
    docs = _jsonl("docs.jsonl")

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).split())

    clean = {norm(d["text"]) for d in docs if d["id"].startswith("doc-")}
    dups = [d for d in docs if d["id"].startswith("dup-")]
    assert all(norm(d["text"]) in clean for d in dups)
    originals = {d["text"] for d in docs if d["id"].startswith("doc-")}
    # Some are byte-identical, some only equal after NFC / whitespace normalization.
    assert any(d["text"] in originals for d in dups)
    assert any(d["text"] not in originals for d in dups)


def test_warc():
    warcio = pytest.importorskip("warcio")
    from warcio.archiveiterator import ArchiveIterator

    assert warcio
    types = collections.Counter()
    statuses = collections.Counter()
    ctypes = set()
    langs = set()
    payloads = collections.Counter()
    with (DEMO / "pages.warc.gz").open("rb") as fh:
        for rec in ArchiveIterator(fh):
            types[rec.rec_type] += 1
            if rec.rec_type != "response":
                continue
            statuses[rec.http_headers.get_statuscode()] += 1
            ctypes.add(rec.http_headers.get_header("Content-Type"))
            body = rec.content_stream().read()
            payloads[body] += 1
            url = rec.rec_headers.get_header("WARC-Target-URI")
            if b"<article>" in body:
                langs.add(_host_lang(url))
    assert types["warcinfo"] == 1
    assert types["response"] >= 25
    assert types["request"] == types["response"]
    assert statuses["404"] == 1 and statuses["200"] >= 25
    assert "image/png" in ctypes
    assert "text/html" in ctypes  # a page whose charset is only in <meta>, or nowhere
    assert len(langs) >= 8
    assert max(payloads.values()) == 2  # one exact duplicate page at another URL


def test_parallel():
    pairs = _jsonl("parallel.jsonl")
    assert len(pairs) >= 900
    ids = [p["id"] for p in pairs]
    assert len(set(ids)) == len(ids)
    by_dir = collections.Counter((p["src_lang"], p["tgt_lang"]) for p in pairs)
    assert by_dir[("en", "de")] >= 600 and by_dir[("en", "fr")] >= 300
    assert len({(p["src_text"], p["tgt_text"]) for p in pairs}) == len(pairs)
    for p in pairs:
        assert p["src_text"] != p["tgt_text"]
        assert 5 <= len(p["src_text"].split()) <= 12


def test_labeled_is_balanced():
    rows = _jsonl("labeled.jsonl")
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in rows:
        assert r["text"].strip()
        counts[r["lang"]][r["label"]] += 1
    assert {"en", "de", "fr", "es", "ru"} <= set(counts)
    for lang, c in counts.items():
        assert set(c) == {"sport", "food", "tech", "weather"}, lang
        assert len(set(c.values())) == 1, (lang, c)
        assert sum(c.values()) >= 40, lang


def test_generator_reproduces_committed_files(tmp_path):
    pytest.importorskip("warcio")
    spec = importlib.util.spec_from_file_location("make_demo_data", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--out", str(tmp_path)])
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), name
    site = sorted(p.relative_to(DEMO / "site") for p in (DEMO / "site").rglob("*") if p.is_file())
    assert site == sorted(
        p.relative_to(tmp_path / "site") for p in (tmp_path / "site").rglob("*") if p.is_file()
    )
    for rel in site:
        assert (tmp_path / "site" / rel).read_bytes() == (DEMO / "site" / rel).read_bytes(), rel


def test_site_pages_name_their_translations():
    import re

    pages = sorted((DEMO / "site").rglob("*.html"))
    assert len(pages) == 1 + 13 * 9  # the root, and per language a home page and 8 topics
    weather = (DEMO / "site" / "de" / "weather.html").read_text(encoding="utf-8")
    alternates = re.findall(r'hreflang="([a-z]+)" href="(/[a-z]+/weather.html)"', weather)
    assert len(alternates) == 13 and ("en", "/en/weather.html") in alternates
    assert "Disallow: /private/" in (DEMO / "site" / "robots.txt").read_text()
