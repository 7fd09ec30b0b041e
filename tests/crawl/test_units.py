"""URL normalization, the address policy, sentence alignment: the crawler's small parts."""

from __future__ import annotations

import asyncio

import pytest

from crossling.sources.align import align_texts, bead_score, gale_church, split_sentences
from crossling.sources.crawl import parse_page, parse_sitemap
from crossling.sources.urls import (
    AddressPolicy,
    BlockedAddress,
    Scope,
    UrlError,
    normalize_url,
    parse_allow_host,
    refused_reason,
)


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("HTTP://Example.COM:80/a/./b/../c?x=1&a=2#frag", "http://example.com/a/c?x=1&a=2"),
        ("https://example.com:443", "https://example.com/"),
        ("http://example.com:8080/%7euser/a%2fb", "http://example.com:8080/~user/a%2Fb"),
        ("https://bücher.de/straße ä", "https://xn--bcher-kva.de/stra%C3%9Fe%20%C3%A4"),
        ("http://user:pw@example.com/", "http://example.com/"),
        ("file:///etc/passwd", "file:///etc/passwd"),
    ],
)
def test_normalize_url(raw, norm):
    assert normalize_url(raw) == norm


@pytest.mark.parametrize("bad", ["http://[::1", "http:///nohost", "http://example.com:99999/"])
def test_bad_urls_raise(bad):
    with pytest.raises(UrlError):
        normalize_url(bad)


@pytest.mark.parametrize(
    ("ip", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoints
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped IPv6
        ("fe80::1", "link-local"),
        ("100.64.0.1", "not global"),  # carrier-grade NAT
        ("93.184.216.34", None),
    ],
)
def test_refused_addresses(ip, why):
    assert refused_reason(ip) == why


def test_only_the_exact_allowed_host_and_port_may_be_private():
    policy = AddressPolicy(["127.0.0.1:8080"])
    asyncio.run(policy.resolve("127.0.0.1", 8080))  # allowed
    for host, port in [("127.0.0.1", 8081), ("127.0.0.2", 8080), ("localhost", 8080)]:
        with pytest.raises(BlockedAddress, match="refused"):
            asyncio.run(policy.resolve(host, port))
    with pytest.raises(ValueError):
        parse_allow_host("127.0.0.1")
    assert parse_allow_host("[::1]:80") == ("::1", 80)


def test_scope_compares_hosts_without_port():
    scope = Scope(frozenset({"example.org"}), ("https://other.org/blog/",))
    assert scope.allows("http://example.org:8080/x")
    assert scope.allows("https://other.org/blog/post")
    assert not scope.allows("https://other.org/shop/")
    assert not scope.allows("https://sub.example.org/")
    assert Scope(frozenset({"example.org"}), include_subdomains=True).allows(
        "https://a.example.org/"
    )


def test_parse_page_links_alternates_nofollow():
    page = b"""<html lang="de"><head><base href="http://x.org/dir/">
    <link rel="alternate" hreflang="en" href="/en/a.html">
    <link rel="alternate" hreflang="x-default" href="/a.html"></head>
    <body><a href="b.html">b</a><a href="#top">top</a><a href="file:///etc/passwd">f</a>
    <iframe src="//y.org/frame"></iframe></body></html>"""
    links = parse_page("http://x.org/dir/index.html", page)
    assert links.lang == "de" and links.alternates == {"en": "http://x.org/en/a.html"}
    assert links.links == [
        "http://x.org/dir/b.html",
        "file:///etc/passwd",
        "http://y.org/frame",
        "http://x.org/en/a.html",
    ]
    nofollow = page.replace(b"<head>", b'<head><meta name="robots" content="noindex, nofollow">')
    assert parse_page("http://x.org/dir/index.html", nofollow).links == []
    assert parse_page("http://x.org/", b"\x00\x01\x02").links == []


def test_parse_sitemap():
    xml = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>https://x.org/a</loc></url><url><loc> https://x.org/b </loc></url></urlset>"""
    assert parse_sitemap(xml) == ["https://x.org/a", "https://x.org/b"]
    assert parse_sitemap(b"<html><body>not a sitemap</body></html>") is None
    entity = b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    assert parse_sitemap(entity + b"<urlset><url><loc>&x;</loc></url></urlset>") in ([], None)


def test_split_sentences_across_scripts():
    assert split_sentences("One. Two! Three?\nFour") == ["One.", "Two!", "Three?", "Four"]
    assert split_sentences("今天很冷。明天会下雨！") == ["今天很冷。", "明天会下雨！"]
    assert split_sentences("यह पहला है। यह दूसरा है।") == ["यह पहला है।", "यह दूसरा है।"]


def test_gale_church_finds_a_merge_and_scores_beads():
    # Source sentence 2 is translated as two target sentences: a 1-2 bead.
    src = [40, 100, 60]
    tgt = [42, 48, 50, 61]
    beads = gale_church(src, tgt, ratio=1.0)
    assert [(i0, i1, j0, j1) for i0, i1, j0, j1, _s in beads] == [
        (0, 1, 0, 1),
        (1, 2, 1, 3),
        (2, 3, 3, 4),
    ]
    assert all(s > 0.5 for *_x, s in beads)
    assert bead_score(100, 100, 1.0) == pytest.approx(1.0)
    assert bead_score(100, 30, 1.0) < 0.01


def test_align_texts_estimates_the_length_ratio_across_scripts():
    en = "The weather is cold today. It will rain tomorrow. We stay at home and read books."
    zh = "今天天气很冷。明天会下雨。我们待在家里看书。"
    beads = list(align_texts(en, zh, src_lang="en", tgt_lang="zh"))
    assert [(s, t) for s, t, _ in beads] == [
        ("The weather is cold today.", "今天天气很冷。"),
        ("It will rain tomorrow.", "明天会下雨。"),
        ("We stay at home and read books.", "我们待在家里看书。"),
    ]
    assert min(score for *_x, score in beads) > 0.3


def test_a_rejects_parquet_passes_through_and_balances(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crossling import pipeline
    from crossling.documents import REJECTS_SCHEMA

    rows = [
        {"id": "a", "source": "crawl:x.org", "url": "http://x.org/a", "stage": "crawl",
         "reason": "robots", "detail": "disallowed"},
        {"id": "b", "source": "crawl:y.org", "url": "http://y.org/b", "stage": "crawl",
         "reason": "timeout", "detail": None},
    ]  # fmt: skip
    path = tmp_path / "crawl-rejects.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=REJECTS_SCHEMA), path)
    # A hand-made file with a missing id and reason: still one row each, never a failed run.
    loose = pa.table(
        {"id": [None], "source": ["crawl:z.org"], "stage": ["crawl"], "reason": [None]}
    )
    pq.write_table(loose, tmp_path / "loose.parquet")
    manifest = pipeline.run_local(
        [str(path), str(tmp_path / "loose.parquet")], str(tmp_path / "root"), "r"
    )
    cons = manifest["conservation"]
    assert cons["balanced"] and cons["inputs"] == cons["rejects"] == 3
    assert set(cons["by_source"]) == {"crawl:x.org", "crawl:y.org", "crawl:z.org"}
    assert manifest["counts"]["by_reason"] == {
        "crawl/robots": 1,
        "crawl/timeout": 1,
        "crawl/read_error": 1,
    }
