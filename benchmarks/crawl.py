"""Crawling: crossling's crawler against Scrapy on the same 2,000-page loopback site, in one run.

A separate process serves the site (aiohttp, real HTTP on 127.0.0.1): 2,000 HTML pages of a few
KB, each linking to about 15 others, and a robots.txt. Each crawler runs in its own process,
alternately, ``--repeat`` times, with the same settings: concurrency 16 (per host 16, the site is
one host), no delay, robots.txt obeyed, 60 s timeout, 2 retries, 10 MB body cap. Ours also writes
every request and response to gzip WARC/1.1 and keeps its frontier in SQLite; Scrapy (default
settings otherwise) keeps nothing. Prints pages/s of each (median) and the ratio.

    python benchmarks/crawl.py [--pages 2000] [--concurrency 16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

WORDS = (
    "the weather library morning students window quiet table river city train market bridge "
    "harbour museum castle garden station summer winter evening music bread coffee"
).split()


def make_site(n: int, seed: int = 0) -> dict[str, tuple[str, bytes]]:
    rng = random.Random(seed)
    pages = {"/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /nothing-here/\n")}
    for i in range(n):
        paras = "".join(
            "<p>" + " ".join(rng.choices(WORDS, k=rng.randint(40, 80))) + ".</p>"
            for _ in range(rng.randint(3, 6))
        )
        targets = {(i + k) % n for k in range(1, 6)} | {rng.randrange(n) for _ in range(10)}
        links = "".join(f'<li><a href="/page/{j}.html">page {j}</a></li>' for j in sorted(targets))
        body = (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Page {i}</title>'
            f"</head><body><nav><ul>{links}</ul></nav><main><h1>Page {i}</h1>{paras}</main>"
            f"</body></html>"
        )
        pages[f"/page/{i}.html"] = ("text/html; charset=utf-8", body.encode())
    pages["/"] = pages["/page/0.html"]
    return pages


def serve(n: int, port_queue: mp.Queue, stop: mp.Event) -> None:
    from crossling.sources.site import LoopbackSite

    with LoopbackSite(make_site(n)) as site:
        port_queue.put(site.port)
        stop.wait()


# --- the two crawlers, each in a child process ----------------------------------------------


def run_ours(seed: str, concurrency: int) -> dict:
    from crossling.sources.crawl import CrawlConfig, crawl

    port = seed.split(":")[2].split("/")[0]
    root = tempfile.mkdtemp(prefix="bench-crawl-")
    cfg = CrawlConfig(
        allow_hosts=[f"127.0.0.1:{port}"],
        concurrency=concurrency,
        per_host_concurrency=concurrency,
        delay=0.0,
        obey_robots=True,
        total_timeout=60,
        retries=2,
        max_body_bytes=10 << 20,
        max_pages=1_000_000,
        max_depth=1_000_000,
    )
    t0 = time.perf_counter()
    run = crawl(root, "bench", [seed], cfg)
    seconds = time.perf_counter() - t0
    warc_bytes = sum(os.path.getsize(os.path.join(root, "crawls/bench/warc", f))
                     for f in os.listdir(os.path.join(root, "crawls/bench/warc")))  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)
    return {"pages": run["stats"]["pages"], "seconds": seconds, "warc_bytes": warc_bytes}


def run_scrapy(seed: str, concurrency: int) -> dict:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    result: dict = {}

    class Site(scrapy.Spider):
        name = "bench"
        allowed_domains = ["127.0.0.1"]
        start_urls = [seed]

        async def start(self):
            result["t0"] = time.perf_counter()
            for url in self.start_urls:
                yield scrapy.Request(url, callback=self.parse)

        def parse(self, response):
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, callback=self.parse)

        def closed(self, reason):
            stats = self.crawler.stats.get_stats()
            result["pages"] = stats.get("response_received_count", 0) - 1  # robots.txt
            result["seconds"] = time.perf_counter() - result["t0"]

    process = CrawlerProcess(
        settings={
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0,
            "ROBOTSTXT_OBEY": True,
            "DOWNLOAD_TIMEOUT": 60,
            "RETRY_TIMES": 2,
            "DOWNLOAD_MAXSIZE": 10 << 20,
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "USER_AGENT": "scrapy-bench",
        }
    )
    process.crawl(Site)
    process.start()
    return result


def child(which: str, seed: str, concurrency: int) -> dict:
    cmd = [sys.executable, __file__, "--child", which, "--seed", seed,
           "--concurrency", str(concurrency)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": REPO}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=["ours", "scrapy"], help=argparse.SUPPRESS)
    ap.add_argument("--seed", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        fn = run_ours if args.child == "ours" else run_scrapy
        print(json.dumps(fn(args.seed, args.concurrency)))
        return

    ctx = mp.get_context("spawn")
    ports, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=serve, args=(args.pages, ports, stop), daemon=True)
    server.start()
    seed = f"http://127.0.0.1:{ports.get(timeout=60)}/"
    print(f"site: {args.pages} pages at {seed} (server in its own process)")
    print(f"concurrency {args.concurrency} (per host {args.concurrency}), no delay, robots.txt on")
    results: dict[str, list[float]] = {"crossling": [], "scrapy": []}
    try:
        for i in range(args.repeat):
            for name, which in (("crossling", "ours"), ("scrapy", "scrapy")):
                r = child(which, seed, args.concurrency)
                rate = r["pages"] / r["seconds"]
                results[name].append(rate)
                extra = f", WARC {r['warc_bytes'] / 2**20:.1f} MB" if "warc_bytes" in r else ""
                print(
                    f"  run {i + 1} {name:9s}: {r['pages']} pages in {r['seconds']:.2f}s = "
                    f"{rate:.0f} pages/s{extra}"
                )
                if r["pages"] != args.pages + 1:  # "/" serves page 0 again
                    print(f"    warning: {name} fetched {r['pages']} of {args.pages + 1} pages")
    finally:
        stop.set()
        server.join(10)
    ours = statistics.median(results["crossling"])
    theirs = statistics.median(results["scrapy"])
    print(f"crossling {ours:.0f} pages/s, Scrapy {theirs:.0f} pages/s (medians of {args.repeat})")
    print(f"ratio crossling/Scrapy: {ours / theirs:.2f}x (target >= 1.0x)")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
