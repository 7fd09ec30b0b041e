"""Kill a crawl with SIGKILL, start it again: no URL is requested twice, every URL ends once;
caps leave URLs for the next run; a recrawl asks conditionally and holds only what changed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from crossling import pipeline
from crossling.sources.crawl import CrawlConfig, CrawlDir, crawl, runs
from crossling.sources.site import LoopbackSite
from tests.crawl.hostile import ENGLISH, html, outcomes, version_rows
from tests.texts import distinct

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRAWL = """
import sys
from crossling.sources.crawl import CrawlConfig, crawl
cfg = CrawlConfig(allow_hosts=[sys.argv[3]], delay=0.0, concurrency=4, per_host_concurrency=4,
                  max_depth=1000)
crawl(sys.argv[1], "killed", [sys.argv[2]], cfg)
"""


def chain_site(n: int, width: int = 8) -> dict[str, tuple[str, bytes]]:
    """n pages, each linking to the next ``width`` (a long, narrow site). An interrupted request
    is never sent again, so the width (> the crawl's concurrency) keeps every page reachable."""
    pages = {}
    for i in range(n):
        links = "".join(f'<a href="/p{j}.html">{j}</a> ' for j in range(i + 1, min(n, i + width)))
        # distinct texts: near-copies would be dropped by the corpus run's near dedup
        pages[f"/p{i}.html"] = ("text/html", html(f"<p>{distinct('en', i)} Page {i}.</p>{links}"))
    pages["/robots.txt"] = ("text/plain", b"User-agent: *\nDisallow:\n")
    return pages


def _start(root: str, site: LoopbackSite) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.Popen(
        [sys.executable, "-c", CRAWL, root, site.url + "/p0.html", f"127.0.0.1:{site.port}"],
        env=env,
        cwd=REPO,
    )


def test_sigkill_and_restart_fetches_no_url_twice(tmp_path):
    root = str(tmp_path / "root")
    n = 150
    with LoopbackSite(chain_site(n), latency=0.02) as site:
        proc = _start(root, site)
        deadline = time.monotonic() + 60
        while sum(site.counts.values()) < 50 and time.monotonic() < deadline:
            assert proc.poll() is None, "the crawl ended before it could be killed"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = sum(site.counts.values())
        assert 50 <= before < n
        assert any(f.endswith(".open") for f in os.listdir(CrawlDir(root, "killed").warc))

        proc = _start(root, site)
        assert proc.wait(timeout=120) == 0
        counts = dict(site.counts)

    assert max(counts.values()) == 1, {p: c for p, c in counts.items() if c > 1}
    out = outcomes(root, "killed")
    assert len(out) == n
    kinds = [o for _s, o, _d in out.values()]
    interrupted = kinds.count("interrupted")
    assert set(kinds) <= {"page", "interrupted"} and interrupted <= 4  # at most one per worker
    assert kinds.count("page") + interrupted == n
    # Every page fetched is in a WARC (the killed run's file was cut and closed), once.
    assert not any(f.endswith(".open") for f in os.listdir(CrawlDir(root, "killed").warc))
    run = runs(root, "killed")[-1]  # the second process finished the killed run
    assert run["status"] == "finished" and len(runs(root, "killed")) == 1
    manifest = pipeline.run_local(run["files"], root, "killed")
    assert manifest["conservation"]["balanced"]
    rows = version_rows(manifest, root)
    urls = [r["url"] for r in rows["docs"]] + [r["url"] for r in rows["rejects"]]
    assert sorted(urls) == sorted(out)
    assert not [r for r in rows["rejects"] if r["reason"] == "read_error"]


def test_cap_defers_urls_to_the_next_run_and_recrawl_is_conditional(tmp_path):
    root = str(tmp_path / "root")
    pages = chain_site(10)
    with LoopbackSite(pages) as site:
        cfg = CrawlConfig(allow_hosts=[f"127.0.0.1:{site.port}"], delay=0.0, max_pages=4)
        seed = [site.url + "/p0.html"]
        run1 = crawl(root, "re", seed, cfg)
        out1 = outcomes(root, "re", run1["run"])
        assert [o for _s, o, _d in out1.values()].count("page") == 4
        assert run1["stats"]["deferred"] == len(out1) - 4 > 0
        v1 = pipeline.run_local(run1["files"], root, "re")
        assert v1["counts"]["by_reason"]["crawl/deferred"] == run1["stats"]["deferred"]

        cfg = cfg.model_copy(update={"max_pages": 100})
        run2 = crawl(root, "re", seed, cfg)  # the seed again, plus what run 1 left queued
        out2 = outcomes(root, "re", run2["run"])
        # Run 1's pages are asked again conditionally (304); the deferred ones are fetched now.
        got2 = [o for _s, o, _d in out2.values()]
        assert got2.count("not_modified") == 4 and got2.count("page") == 6
        assert len([p for p in site.counts if p.startswith("/p")]) == 10

        run3 = crawl(root, "re", seed, cfg)  # unchanged site: 304 everywhere
        out3 = outcomes(root, "re", run3["run"])
        assert {o for _s, o, _d in out3.values()} == {"not_modified"}
        conditional = [h for _t, p, h in site.log[-len(out3) :] if p.startswith("/p")]
        assert all("If-None-Match" in h and "If-Modified-Since" in h for h in conditional)

        pages["/p3.html"] = ("text/html", html(f"<p>{ENGLISH} Page three, rewritten.</p>"))
        site.pages = pages
        run4 = crawl(root, "re", seed, cfg)
        out4 = outcomes(root, "re", run4["run"])
    changed = [u for u, (_s, o, _d) in out4.items() if o == "page"]
    assert changed == [site.url + "/p3.html"]
    v2 = pipeline.run_local(run2["files"], root, "re")
    v3 = pipeline.run_local(run3["files"], root, "re")
    v4 = pipeline.run_local(run4["files"], root, "re")
    assert v2["counts"]["docs"] == 6  # the six pages run 1 left
    assert v3["counts"]["docs"] == 0 and v3["counts"]["by_reason"] == {"crawl/not_modified": 10}
    assert v4["counts"]["docs"] == 1
    assert all(v["conservation"]["balanced"] for v in (v1, v2, v3, v4))
