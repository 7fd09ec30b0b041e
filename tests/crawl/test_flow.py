"""The crawl flow and `crossling crawl` on the demo website, against a real Prefect server."""

from __future__ import annotations

import os

import pytest

from crossling.sources.site import LoopbackSite, pages_from_folder
from flows.cli import main
from flows.crawl import CrawlParams, crawl_flow
from flows.demo import site_dir
from tests.crawl.hostile import version_rows
from tests.prefect_reads import artifacts, events


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_crawl_flow_builds_a_version_with_docs_and_aligned_pairs(data_root, capsys):
    with LoopbackSite(pages_from_folder(site_dir())) as site:
        allow = f"127.0.0.1:{site.port}"
        out = crawl_flow(
            CrawlParams(
                seeds=[site.url + "/"],
                root=data_root,
                name="site",
                allow_hosts=[allow],
                delay=0.0,
                concurrency=8,
                config={"align": {"directions": ["en-de", "en-fr"]}},
                # As the demo: a held-out share that needs no top-up by the split stage (which
                # moves single rows, not split-key groups).
                corpus_config={"heldout_fraction": 0.15},
                workers=1,
            )
        )
        (build,) = out["builds"]
        assert build["new"] and build["balanced"]
        assert len(build["languages"]) == 13
        stats = out["run"]["stats"]
        assert stats["outcomes"] == {"page": 118, "robots": 1}  # /private/ is disallowed
        assert stats["align"]["page_pairs"] == 18 and stats["align"]["pairs"] > 100

        rows = version_rows({"name": "site", "version": build["version"]}, data_root)
        assert {r["source"] for r in rows["docs"]} == {f"crawl:{allow}"}
        doc_ids = {r["id"] for r in rows["docs"]}
        pairs = rows["pairs"]
        assert {(p["src_lang"], p["tgt_lang"]) for p in pairs} == {("en", "de"), ("en", "fr")}
        assert all(p["method"] == "parallel" and 0.1 <= p["score"] <= 1.0 for p in pairs)
        # Each pair points to its English page's row (a home page of links is too short: REJECTS).
        rows_by_id = {r["id"]: r for r in rows["docs"] + rows["rejects"]}
        assert {p["origin_id"] for p in pairs} <= set(rows_by_id)
        assert sum(p["origin_id"] in doc_ids for p in pairs) > 0.8 * len(pairs)
        assert any(
            p["src_text"].startswith("The morning started grey and cold")
            and p["tgt_text"].startswith("Der Morgen begann grau und kalt")
            for p in pairs
        )
        # Pairs that share a sentence (en-de and en-fr of one English page) share the split.
        from crossling.documents import content_hash

        sides: dict[str, set[str]] = {}
        for p in pairs:
            for text in (p["src_text"], p["tgt_text"]):
                sides.setdefault(content_hash(text), set()).add(p["split"])
        assert all(len(v) == 1 for v in sides.values())
        assert {p["split"] for p in pairs} == {"train", "heldout"}
        keys = {a.key for a in artifacts("crawl-site-%", like=True)}
        assert {"crawl-site-outcomes", "crawl-site-hosts", "crawl-site-summary"} <= keys
        assert {"crawl-site-progress"} <= keys
        (event,) = events("crossling.corpus.published", os.path.abspath(data_root), 1)
        assert event.resource.id == "crossling.corpus.site"

        # The CLI recrawls the same seeds: conditional requests, nothing changed, exit 0.
        args = ["crawl", site.url + "/", "--out", data_root, "--name", "site"]
        assert main([*args, "--allow-host", allow, "--delay", "0", "--concurrency", "4"]) == 0
        printed = capsys.readouterr().out
        assert "not_modified 118" in printed and "docs 0" in printed
        assert sum(site.counts.values()) == 2 * 118 + 1  # robots.txt once (cached for a day)


@pytest.mark.usefixtures("prefect_server")
def test_crawl_cli_usage_errors(tmp_path, capsys):
    root = str(tmp_path)
    assert main(["crawl", "file:///etc/passwd", "--out", root, "--name", "x"]) == 2
    assert "http or https" in capsys.readouterr().err
    assert main(["crawl", "http://127.0.0.1/", "--out", root, "--name", "x", "--allow-host",
                 "nohost"]) == 2  # fmt: skip
    assert "HOST:PORT" in capsys.readouterr().err
    assert main(["crawl", "http://127.0.0.1/", "--out", root, "--name", "bad name"]) == 2


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_demo_crawls_its_website_once_and_reuses_the_crawl(data_root):
    from flows.demo import DEMO_NAME, DEMO_SITE_CRAWL, crawl_demo_site

    first = crawl_demo_site(data_root, workers=1)
    assert first["new"] and first["balanced"] and first["counts"]["pairs"] > 1000
    again = crawl_demo_site(data_root, workers=1)  # a second `crossling demo` on the same root
    assert not again["new"] and again["version"] == first["version"]
    from crossling.sources.crawl import runs

    (run,) = runs(data_root, DEMO_SITE_CRAWL)
    assert run["version"] == first["version"] and run["stats"]["outcomes"]["page"] == 118
    assert DEMO_NAME == "demo"
