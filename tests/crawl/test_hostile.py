"""The crawler against a hostile loopback website: every discovered URL ends as a page or a
reason, nothing hangs, memory stays bounded, refused addresses get no request at all."""

from __future__ import annotations

import asyncio
import threading
import time

import psutil
import pytest

from crossling import pipeline
from crossling.sources.crawl import CrawlConfig, Crawler, crawl, finish_run
from crossling.sources.site import LoopbackSite
from tests.crawl.hostile import (
    RUSSIAN,
    gzip_bomb,
    hostile_pages,
    hostile_routes,
    outcomes,
    start_counting_site,
    version_rows,
)


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> PeakRSS:
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._sample, daemon=True)
        self._t.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


@pytest.fixture
def hostile(tmp_path):
    other = start_counting_site("127.0.0.1")  # another loopback port: never allowed
    private = start_counting_site("127.0.0.2")  # another loopback address: never allowed
    state = {"bomb": gzip_bomb()}
    site = LoopbackSite(
        hostile_pages(other.url, private.url),
        routes=hostile_routes(state, other.url, private.url),
    )
    site.start()
    yield site, other, private, state
    for s in (site, other, private):
        s.stop()


def test_hostile_site_every_url_ends_as_a_page_or_a_reason(hostile, tmp_path):
    site, other, private, state = hostile
    root = str(tmp_path / "root")
    cfg = CrawlConfig(
        allow_hosts=[f"127.0.0.1:{site.port}"],  # only the test server's own port
        allowed_hosts=["127.0.0.1", "127.0.0.2"],  # in scope, so the address policy decides
        delay=0.0,
        concurrency=8,
        per_host_concurrency=8,
        max_depth=4,
        connect_timeout=1.0,
        read_timeout=1.0,
        total_timeout=1.5,
        retries=1,
        backoff=0.05,
        max_body_bytes=1 << 20,
    )
    # Warm up (imports, first connections) so that the measure below is the hostile crawl's own.
    with LoopbackSite({"/": ("text/html", b"<p>warm</p>")}) as warm:
        crawl(str(tmp_path / "warm"), "w", [warm.url + "/"], cfg.model_copy(
            update={"allow_hosts": [f"127.0.0.1:{warm.port}"]}))  # fmt: skip
    t0 = time.monotonic()
    with PeakRSS() as mem:  # the crawl itself (finish_run then imports pyarrow's writers)
        asyncio.run(Crawler(root, "hostile", [site.url + "/"], cfg).run())
    elapsed = time.monotonic() - t0
    assert elapsed < 30, f"the crawl took {elapsed:.1f}s"
    # A 30 MB body, a 200 MB gzip bomb: neither is ever held (the cap is 1 MB).
    assert mem.growth_mb < 20, f"memory grew by {mem.growth_mb:.0f} MB"
    run = finish_run(root, "hostile", cfg)

    out = outcomes(root, "hostile")
    assert {st for st, _o, _d in out.values()} == {"done"}
    base = site.url
    expected = {
        f"{base}/": "page",
        f"{base}/ok.html": "page",
        f"{base}/slow": "timeout",
        f"{base}/drip": "timeout",
        f"{base}/flaky": "page",
        f"{base}/loop-a": "redirect",
        f"{base}/loop-b": "redirect_loop",
        f"{base}/redirect-private": "redirect",
        f"{private.url}/x": "blocked_address",
        f"{base}/redirect-port": "redirect",
        f"{other.url}/x": "blocked_address",
        f"{base}/redirect-file": "redirect",
        "file:///etc/passwd": "unsupported_scheme",
        f"{base}/big": "too_large",
        f"{base}/big-chunked": "too_large",
        f"{base}/bomb": "too_large",
        f"{base}/binary.html": "page",
        f"{base}/cp1251.html": "page",
        f"{base}/private/secret.html": "robots",
        f"{base}/missing.html": "http_error",
        f"{base}/image.png": "not_text",
        f"{other.url}/": "blocked_address",
        f"{private.url}/": "blocked_address",
        "ftp://127.0.0.1/x": "unsupported_scheme",
        "mailto:someone@example.org": "unsupported_scheme",
        "http://[::1": "bad_url",
    }
    got = {u: out[u][1] for u in expected if u in out}
    assert got == expected
    assert "1 MB" in out[f"{base}/bomb"][2] or "decompressed" in out[f"{base}/bomb"][2]
    assert "/loop-a -> " in out[f"{base}/loop-b"][2]
    # The infinite calendar stops at the depth limit.
    cal = {u: o for u, (_s, o, _d) in out.items() if "/cal?" in u}
    assert cal and set(cal.values()) == {"page", "too_deep"} and len(cal) <= 10

    # Refused addresses never saw a request; the site saw each URL once, retries aside.
    assert not other.counts and not private.counts
    retried = {"/flaky": 2, "/slow": 2, "/drip": 2}
    for path, n in site.counts.items():
        assert n == retried.get(path, 1), (path, n)

    # The run becomes a corpus version: every discovered URL is exactly one DOCS or REJECTS row.
    manifest = pipeline.run_local(run["files"], root, "hostile")
    assert manifest["conservation"]["balanced"]
    rows = version_rows(manifest, root)
    by_url: dict[str, list[tuple[str, str]]] = {}
    for r in rows["docs"]:
        by_url.setdefault(r["url"], []).append(("docs", "kept"))
    for r in rows["rejects"]:
        by_url.setdefault(r["url"], []).append((r["stage"], r["reason"]))
    assert set(by_url) == set(out)
    assert all(len(v) == 1 for v in by_url.values()), {
        u: v for u, v in by_url.items() if len(v) > 1
    }
    assert by_url[f"{base}/binary.html"] == [("read", "binary")]
    assert by_url[f"{base}/private/secret.html"] == [("crawl", "robots")]
    assert by_url[f"{private.url}/x"] == [("crawl", "blocked_address")]
    (cp1251,) = [r for r in rows["docs"] if r["url"] == f"{base}/cp1251.html"]
    assert RUSSIAN.split(",")[0] in cp1251["text"] and cp1251["lang"] == "ru"
    assert {r["source"] for r in rows["docs"]} == {f"crawl:127.0.0.1:{site.port}"}


def test_robots_crawl_delay_spaces_requests(tmp_path):
    pages = {
        "/robots.txt": ("text/plain", b"User-agent: *\nCrawl-delay: 0.3\n"),
        "/": ("text/html", b'<a href="/a">a</a><a href="/b">b</a><a href="/c">c</a>'),
        **{f"/{p}": ("text/html", b"<p>page</p>") for p in "abc"},
    }
    with LoopbackSite(pages) as site:
        cfg = CrawlConfig(allow_hosts=[f"127.0.0.1:{site.port}"], delay=0.0, per_host_concurrency=4)
        crawl(str(tmp_path), "polite", [site.url + "/"], cfg)
        times = [t for t, path, _h in site.log if path != "/robots.txt"]
        agents = {h.get("User-Agent") for _t, _p, h in site.log}
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.28, gaps
    (agent,) = agents
    assert agent.startswith("crossling-crawl/")


def test_unreachable_robots_txt_refuses_the_host(tmp_path):
    async_500 = {"/": ("text/html", b'<a href="/a">a</a>')}

    def routes(app):
        from aiohttp import web

        async def robots(request):
            return web.Response(status=503, text="down")

        app.router.add_get("/robots.txt", robots)

    with LoopbackSite(async_500, routes=routes) as site:
        cfg = CrawlConfig(allow_hosts=[f"127.0.0.1:{site.port}"], delay=0.0)
        crawl(str(tmp_path), "r", [site.url + "/"], cfg)
        assert set(site.counts) == {"/robots.txt"}
    out = outcomes(str(tmp_path), "r")
    assert [o for _s, o, _d in out.values()] == ["robots"]
    assert "unreachable" in next(iter(out.values()))[2]


def test_sitemaps_named_by_robots_and_given_as_seeds(tmp_path):
    with LoopbackSite({"/": ("text/html", b"<p>no links here</p>")}) as site:
        base = site.url
        urlset = (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{base}/{p}</loc></url>" for p in ("a", "b"))
            + "</urlset>"
        )
        site.pages.update(
            {
                "/robots.txt": ("text/plain", f"User-agent: *\nSitemap: {base}/sm.xml\n".encode()),
                "/sm.xml": ("application/xml", urlset.encode()),
                "/other.xml": ("application/xml", urlset.replace("/a<", "/c<").encode()),
                **{f"/{p}": ("text/html", b"<p>listed in a sitemap</p>") for p in "abc"},
            }
        )
        cfg = CrawlConfig(allow_hosts=[f"127.0.0.1:{site.port}"], delay=0.0)
        crawl(str(tmp_path), "sm", [base + "/", base + "/other.xml"], cfg)
    out = {u: o for u, (_s, o, _d) in outcomes(str(tmp_path), "sm").items()}
    assert out == {
        f"{base}/": "page",
        f"{base}/other.xml": "sitemap",
        f"{base}/sm.xml": "sitemap",
        f"{base}/a": "page",
        f"{base}/b": "page",
        f"{base}/c": "page",
    }
