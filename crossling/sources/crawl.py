"""A polite asyncio web crawler whose runs become corpus inputs (aiohttp, protego, warcio, lxml).

    seeds ─▶ frontier (SQLite: per-run seen-set, per-host queues, depth) ─▶ address policy ─▶
    robots.txt (Disallow, Crawl-delay, Sitemap) ─▶ GET (conditional on a recrawl; timeouts,
    retries with backoff, body cap also after decompression, content-type allow-list) ─▶
    WARC/1.1 (request + response) ─▶ links + hreflang alternates ─▶ frontier

Politeness: a global concurrency, a per-host concurrency, a per-host delay between request starts
(the larger of ``delay`` and robots.txt's Crawl-delay), a user agent naming a contact.

Every URL discovered in a run ends with exactly one outcome: ``page`` (its response is in a pages
WARC, and the corpus reader turns it into one DOCS or REJECTS row) or a reject reason written by
:func:`finish_run` to ``rejects/<run>.parquet`` (stage ``crawl``). URLs still queued when a cap
stops the run are written as ``deferred`` and carried into the next run of the same crawl.

A run killed at any point (SIGKILL included) resumes where it stopped: requests are marked
``sent`` in SQLite before they go out, and such a URL is never requested again (its response is
recovered from the WARC if it was archived, else it ends as ``interrupted``).

Layout of ``<root>/crawls/<name>/``: ``state.sqlite``, ``warc/<run>-{pages,other}-NNNNN.warc.gz``,
``rejects/<run>.parquet``, ``pairs/<run>.jsonl`` (aligned sentence pairs), ``crawl.log``
(JSON lines), ``runs/<run>.json`` (what the run did).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import json
import logging
import os
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from crossling import __version__
from crossling.documents import REJECTS_SCHEMA, Reason, Stage, make_id
from crossling.sources import crawlwarc
from crossling.sources.align import AlignConfig
from crossling.sources.frontier import PAGE, QUEUED, SENT, CrawlState, Entry, backoff
from crossling.sources.urls import (
    ALLOWED_SCHEMES,
    AddressPolicy,
    BlockedAddress,
    Scope,
    UrlError,
    absolute,
    host_port,
    netloc_of,
    normalize_url,
    parse_allow_host,
    scheme_of,
)

log = logging.getLogger("crossling.crawl")

ROBOTS_MAX_BYTES = 512 << 10  # RFC 9309: parse at least 500 KiB
ROBOTS_MAX_AGE = 24 * 3600.0  # RFC 9309: do not use a cached robots.txt for more than 24 hours
MAX_CRAWL_DELAY = 60.0  # a Crawl-delay above this is capped (a site could stall the crawl)
SITEMAP_TYPES = ("application/xml", "text/xml", "application/x-gzip", "application/gzip")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RETRY_STATUSES = (429, 500, 502, 503, 504)
UA_TOKEN = "crossling-crawl"


class CrawlConfig(BaseModel):
    """How a crawl fetches: politeness, limits, scope, safety. Seeds are given separately."""

    contact: str = Field(
        "",
        description="A URL or e-mail where site owners can reach whoever runs the crawl; put "
        "in the user agent. Set it for any crawl of sites you do not own.",
    )
    user_agent: str | None = Field(
        None, description="The full User-Agent header; default 'crossling-crawl/<ver> (+contact)'."
    )
    concurrency: int = Field(16, ge=1, le=1024, description="Requests in flight, all hosts.")
    per_host_concurrency: int = Field(
        2, ge=1, le=256, description="Requests in flight to one host (host:port)."
    )
    delay: float = Field(
        0.5,
        ge=0.0,
        description="Seconds between request starts to one host; robots.txt's Crawl-delay wins "
        "when larger (capped at 60).",
    )
    max_pages: int = Field(
        10_000, ge=1, description="Requests for pages in one run; the rest stays queued."
    )
    max_depth: int = Field(5, ge=0, description="Links away from a seed (seeds are depth 0).")
    max_seconds: float | None = Field(
        None, gt=0, description="Stop sending new requests after this long; the rest stays queued."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts to follow links to (without port); default: the seeds' hosts.",
    )
    allowed_prefixes: list[str] = Field(
        default_factory=list, description="URL prefixes also in scope (e.g. https://x.org/blog/)."
    )
    include_subdomains: bool = Field(False, description="Subdomains of allowed hosts in scope.")
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="HOST:PORT pairs that may resolve to private/loopback addresses (everything "
        "else that does is refused).",
    )
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to connect.")
    read_timeout: float = Field(20.0, gt=0, description="Seconds of silence while reading.")
    total_timeout: float = Field(60.0, gt=0, description="Seconds for a whole request.")
    max_body_bytes: int = Field(
        10 << 20, ge=1024, description="Body cap in bytes, as sent and after decompression."
    )
    content_types: list[str] = Field(
        default_factory=lambda: ["text/html", "application/xhtml+xml", "text/plain"],
        description="Content types kept as pages (others end as not_text without their body).",
    )
    max_redirects: int = Field(5, ge=0, description="Redirects in a row before redirect_limit.")
    retries: int = Field(2, ge=0, description="Retries after a timeout, connection error or 5xx.")
    backoff: float = Field(1.0, ge=0, description="First retry wait in seconds; doubles each time.")
    obey_robots: bool = Field(True, description="Fetch and obey robots.txt (RFC 9309).")
    sitemaps: bool = Field(True, description="Follow the sitemaps robots.txt names.")
    max_warc_bytes: int = Field(1 << 30, ge=1 << 20, description="Rotate WARC files at this size.")
    align: AlignConfig = Field(
        default_factory=AlignConfig, description="Sentence alignment of hreflang translations."
    )

    @field_validator("allow_hosts")
    @classmethod
    def _check_allow_hosts(cls, v: list[str]) -> list[str]:
        for spec in v:
            parse_allow_host(spec)
        return v

    def agent(self) -> str:
        if self.user_agent:
            return self.user_agent
        return f"{UA_TOKEN}/{__version__}" + (f" (+{self.contact})" if self.contact else "")


# --- paths -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CrawlDir:
    """The files of one crawl under ``<root>/crawls/<name>/`` (a local data root)."""

    root: str
    name: str

    @property
    def path(self) -> str:
        if "://" in self.root and not self.root.startswith("file://"):
            raise ValueError(f"{self.root}: a crawl needs a local data root (SQLite state)")
        return os.path.join(self.root.removeprefix("file://"), "crawls", self.name)

    def sub(self, *parts: str) -> str:
        return os.path.join(self.path, *parts)

    @property
    def state(self) -> str:
        return self.sub("state.sqlite")

    @property
    def warc(self) -> str:
        return self.sub("warc")

    def rejects(self, run: str) -> str:
        return self.sub("rejects", f"{run}.parquet")

    def pairs(self, run: str) -> str:
        return self.sub("pairs", f"{run}.jsonl")

    def summary(self, run: str) -> str:
        return self.sub("runs", f"{run}.json")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")[:-4] + "Z"


# --- fetched responses -------------------------------------------------------------------------


class Refused(Exception):
    """A response whose body the crawler does not take (not_text, too_large)."""

    def __init__(self, reason: Reason, detail: str, status: int) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.status = reason, detail, status


@dataclasses.dataclass(slots=True)
class Fetched:
    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    raw: bytes  # as received (content-encoded)
    body: bytes  # decoded
    ip: str | None
    request_headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)

    @property
    def mime(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


def _decompressor(encoding: str | None):
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return None
    if enc in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if enc == "deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header, auto-detected
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


def _bounded_decode(d, data: bytes, room: int) -> tuple[bytes, bool]:
    """Decompress ``data`` producing at most ``room`` bytes; (output, exceeded)."""
    out = d.decompress(data, room + 1)
    return out, len(out) > room or bool(d.unconsumed_tail)


# --- links -------------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class PageLinks:
    links: list[str]
    alternates: dict[str, str]  # hreflang -> absolute URL (x-default left out)
    lang: str | None  # <html lang>, else the hreflang that names the page itself


def parse_page(url: str, body: bytes) -> PageLinks:
    """Links (``a``, ``area``, ``frame``, ``iframe``), hreflang alternates and the page language.

    A ``<meta name="robots" content="nofollow">`` page gives no links. Unparsable bodies give none.
    """
    import lxml.etree
    import lxml.html

    try:
        doc = lxml.html.document_fromstring(body)
    except (lxml.etree.ParserError, ValueError, TypeError):
        return PageLinks([], {}, None)
    base = url
    for href in doc.xpath("//base/@href")[:1]:
        base = absolute(url, str(href))
    robots = " ".join(
        str(c).lower()
        for c in doc.xpath("//meta[translate(@name,'ROBTS','robts')='robots']/@content")
    )
    alternates: dict[str, str] = {}
    for el in doc.xpath("//link[@hreflang][@href]"):
        rel = (el.get("rel") or "").lower().split()
        code = (el.get("hreflang") or "").strip().lower()
        if "alternate" in rel and code and code != "x-default":
            alternates[code] = absolute(base, el.get("href"))
    lang = (doc.get("lang") or "").strip().lower() or None
    if lang is None:
        lang = next((k for k, v in alternates.items() if v == url), None)
    if "nofollow" in robots:
        return PageLinks([], alternates, lang)
    hrefs = doc.xpath("//a/@href | //area/@href | //frame/@src | //iframe/@src")
    links = [absolute(base, str(h)) for h in hrefs if str(h).strip() and not str(h).startswith("#")]
    links.extend(alternates.values())
    return PageLinks(list(dict.fromkeys(links)), alternates, lang)


def parse_sitemap(body: bytes) -> list[str] | None:
    """The ``<loc>`` URLs of a sitemap or sitemap index; None when the body is not a sitemap."""
    import lxml.etree

    if body[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = d.decompress(body, 50 << 20)
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except (lxml.etree.XMLSyntaxError, ValueError):
        return None
    if root is None or not isinstance(root.tag, str):
        return None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag not in ("urlset", "sitemapindex"):
        return None
    return [str(t).strip() for t in root.xpath("//*[local-name()='loc']/text()") if str(t).strip()]


# --- hosts -------------------------------------------------------------------------------------


@dataclasses.dataclass
class HostSlot:
    """Per-host queue and politeness state (a host is ``host[:port]``)."""

    key: str
    queue: deque[Entry] = dataclasses.field(default_factory=deque)
    retry: list[tuple[float, int, Entry]] = dataclasses.field(default_factory=list)
    cursor: int = 0  # the last frontier seq loaded into `queue`
    overflow: bool = False  # more queued in SQLite than in `queue`
    active: int = 0
    next_at: float = 0.0
    delay: float = 0.0
    robots: Any = None  # Protego, or ALLOW_ALL / a refusal string
    robots_task: asyncio.Task | None = None
    blocked: str | None = None  # why every URL of this host is refused
    checked: bool = False  # address policy done

    def has_work(self) -> bool:
        return bool(self.queue or self.retry or self.overflow)


ALLOW_ALL = "allow-all"
QUEUE_CAP = 2000  # URLs of one host held in memory; the rest waits in SQLite
MEMORY_CAP = 100_000  # URLs held in memory over all hosts


class Crawler:
    """One run of a crawl (new, or resumed after a stop or a kill)."""

    def __init__(
        self,
        root: str,
        name: str,
        seeds: list[str],
        config: CrawlConfig,
        *,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        progress_every: float = 2.0,
    ) -> None:
        self.dir = CrawlDir(root, name)
        self.name = name
        self.seeds = seeds
        self.cfg = config
        self.on_progress = on_progress
        self.progress_every = progress_every
        self.policy = AddressPolicy(config.allow_hosts)
        self.slots: dict[str, HostSlot] = {}
        self.stats: Counter[str] = Counter()
        self.bytes = 0
        self.sent = 0
        self.active = 0
        self.in_memory = 0  # frontier entries held in the per-host queues
        self.stop_reason: str | None = None
        self._cond: asyncio.Condition | None = None
        self._retry_seq = 0
        self.agent = config.agent()

    # --- setup ---------------------------------------------------------------------------

    def _scope(self, seeds: list[str]) -> Scope:
        hosts = {h.lower() for h in self.cfg.allowed_hosts}
        if not hosts:
            hosts = {host_port(s)[0] for s in seeds if scheme_of(s) in ALLOWED_SCHEMES}
        prefixes = tuple(normalize_url(p) for p in self.cfg.allowed_prefixes)
        return Scope(frozenset(hosts), prefixes, self.cfg.include_subdomains)

    def _open(self) -> None:
        os.makedirs(self.dir.path, exist_ok=True)
        for sub in ("warc", "rejects", "pairs", "runs"):
            os.makedirs(self.dir.sub(sub), exist_ok=True)
        self.state = CrawlState(self.dir.state)
        # Line-buffered: each event reaches the file even if the process is killed.
        self._log = open(self.dir.sub("crawl.log"), "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        resumed = self.state.open_run()
        if resumed:
            self.run = resumed["run"]
            self.resumed = True
        else:
            self.run = new_run_id()
            self.resumed = False
        self.state.begin(self.run)
        # A resumed run keeps the scope its seeds gave it (seeds given now are added to it).
        run_seeds = list(dict.fromkeys((resumed["seeds"] if resumed else []) + self.seeds))
        self.scope = self._scope(run_seeds)
        info = crawlwarc.warcinfo(self.name, self.run, self.agent, self.cfg.obey_robots)
        self.pages = crawlwarc.WarcSeries(
            self.dir.warc, self.run, crawlwarc.PAGES, max_bytes=self.cfg.max_warc_bytes, info=info
        )
        self.other = crawlwarc.WarcSeries(
            self.dir.warc, self.run, crawlwarc.OTHER, max_bytes=self.cfg.max_warc_bytes, info=info
        )
        if self.resumed:
            self._event("resume", run=self.run)
            self._recover()
            with self.state.transaction():
                for seed in self.seeds:  # already seen unless new: the seen-set decides
                    self._discover(seed, 0, referrer=None)
        else:
            prev = self.state.previous_run(self.run)
            self.state.start_run(self.run, self.seeds, self.cfg.model_dump(mode="json"))
            self._event("start", run=self.run, seeds=self.seeds)
            with self.state.transaction():
                for seed in self.seeds:
                    self._discover(seed, 0, referrer=None)
                if prev:  # URLs a cap left in the previous run's frontier
                    for url, _host, depth in self.state.in_state(prev, QUEUED):
                        self._discover(url, depth, referrer=None)
        self.sent = self.state.fetched(self.run)
        for host in self.state.queued_hosts(self.run):
            self._slot(host).overflow = True

    def _recover(self) -> None:
        """Account for requests a killed run had sent: archived responses are processed now,
        the others end as ``interrupted`` (never requested twice)."""
        pending = {u: (h, d) for u, h, d in self.state.in_state(self.run, SENT)}
        recovered = 0
        for rec in crawlwarc.recover(self.dir.warc, self.run):
            if rec.url not in pending:
                continue
            host, depth = pending.pop(rec.url)
            entry = Entry(rec.url, host, depth, 0)
            f = Fetched(rec.url, rec.status, "", rec.headers, b"", rec.body, None, [])
            with self.state.transaction():
                self._handle(entry, f, archived=rec.archived)
            recovered += 1
        with self.state.transaction():
            for url in pending:
                self.state.finish(
                    self.run,
                    url,
                    str(Reason.INTERRUPTED),
                    "request in flight when the crawl was stopped; not sent again",
                )
        self._event("recovered", archived=recovered, interrupted=len(pending))

    # --- discovery -------------------------------------------------------------------------

    def _slot(self, key: str) -> HostSlot:
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = HostSlot(key, delay=self.cfg.delay)
        return slot

    def _discover(
        self, raw: str, depth: int, *, referrer: str | None, chain: tuple[str, ...] = ()
    ) -> None:
        """Record a discovered URL: queued, or finished at once with the reason it is not
        fetched. Each URL once per run (the seen-set)."""
        outcome = detail = None
        raw = raw.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be stored
        try:
            url = normalize_url(raw)
        except UrlError as e:
            url, outcome, detail = raw[:2000], Reason.BAD_URL, str(e)
        host = netloc_of(url)
        if outcome is None:
            if scheme_of(url) not in ALLOWED_SCHEMES:
                outcome, detail = Reason.UNSUPPORTED_SCHEME, f"scheme {scheme_of(url)!r}"
            elif not self.scope.allows(url):
                outcome, detail = Reason.OUT_OF_SCOPE, "host or prefix not in the crawl's scope"
            elif depth > self.cfg.max_depth:
                outcome, detail = Reason.TOO_DEEP, f"depth {depth} > {self.cfg.max_depth}"
        seq = self.state.add(
            self.run,
            url,
            host,
            depth,
            chain=chain,
            referrer=referrer,
            outcome=str(outcome) if outcome else None,
            detail=detail,
        )
        if seq is None:
            return
        self.stats["discovered"] += 1
        if outcome is not None:
            self.stats[f"outcome:{outcome}"] += 1
            return
        slot = self._slot(host)
        if slot.overflow or len(slot.queue) >= QUEUE_CAP or self.in_memory >= MEMORY_CAP:
            slot.overflow = True  # it waits in SQLite; _refill loads it when its turn comes
        else:
            slot.queue.append(Entry(url, host, depth, seq, chain))
            slot.cursor = seq
            self.in_memory += 1

    # --- scheduling ------------------------------------------------------------------------

    def _budget_left(self) -> bool:
        if self.stop_reason:
            return False
        if self.sent >= self.cfg.max_pages:
            self.stop_reason = f"max_pages ({self.cfg.max_pages}) reached"
            return False
        if self.cfg.max_seconds and time.monotonic() - self.t0 > self.cfg.max_seconds:
            self.stop_reason = f"max_seconds ({self.cfg.max_seconds}) reached"
            return False
        return True

    def _pick(self, now: float) -> tuple[HostSlot, Entry] | float | None:
        """A (slot, entry) ready now; else the seconds until one may be; None when none left."""
        wait: float | None = None
        for slot in list(self.slots.values()):
            if not slot.has_work():
                continue
            if slot.retry and slot.retry[0][0] <= time.time():
                ready_entry = True
            else:
                if not slot.queue and slot.overflow:
                    self._refill(slot)
                ready_entry = bool(slot.queue)
            if not ready_entry:
                if slot.retry:
                    w = slot.retry[0][0] - time.time()
                    wait = w if wait is None else min(wait, w)
                continue
            if slot.active >= self.cfg.per_host_concurrency:
                wait = 3600.0 if wait is None else wait  # a response will wake us
                continue
            if slot.next_at > now:
                w = slot.next_at - now
                wait = w if wait is None else min(wait, w)
                continue
            if slot.retry and slot.retry[0][0] <= time.time():
                entry = heapq.heappop(slot.retry)[2]
            else:
                if not self._budget_left():
                    return None if self.active == 0 else 3600.0
                entry = slot.queue.popleft()
                self.in_memory -= 1
            return slot, entry
        if wait is None and self.active:
            wait = 3600.0
        return wait

    def _refill(self, slot: HostSlot) -> None:
        rows = self.state.queued(self.run, slot.key, slot.cursor, QUEUE_CAP)
        for e in rows:
            slot.queue.append(e)
            slot.cursor = e.seq
        self.in_memory += len(rows)
        if len(rows) < QUEUE_CAP:
            slot.overflow = False

    async def _next(self) -> tuple[HostSlot, Entry] | None:
        assert self._cond is not None
        async with self._cond:
            while True:
                now = time.monotonic()
                got = self._pick(now)
                if isinstance(got, tuple):
                    slot, entry = got
                    slot.active += 1
                    self.active += 1
                    # Reserved now; given back if no request goes out (robots, blocked host).
                    entry.prev_next_at = slot.next_at
                    slot.next_at = now + slot.delay
                    return slot, entry
                if got is None:
                    self._cond.notify_all()
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), timeout=max(0.001, got))

    async def _worker(self) -> None:
        while True:
            item = await self._next()
            if item is None:
                return
            slot, entry = item
            try:
                await self._fetch_entry(slot, entry)
            except Exception as e:  # a bug must not lose the URL: it ends with a reason
                log.exception("crawl: %s failed", entry.url)
                with contextlib.suppress(Exception):
                    self.state.finish(self.run, entry.url, str(Reason.READ_ERROR), repr(e))
            finally:
                slot.active -= 1
                self.active -= 1
                async with self._cond:
                    self._cond.notify_all()

    # --- one URL ---------------------------------------------------------------------------

    def _finish(self, url: str, reason: Reason | str, detail: str, status: int | None = None):
        self.state.finish(self.run, url, str(reason), detail, status)
        self.stats[f"outcome:{reason}"] += 1

    async def _check_host(self, slot: HostSlot, url: str) -> None:
        if slot.checked:
            return
        host, port = host_port(url)
        try:
            await self.policy.resolve(host, port)
        except BlockedAddress as e:
            slot.blocked = str(e)
            self._event("blocked", host=slot.key, detail=str(e))
        except OSError as e:
            slot.blocked = f"dns: {e}"
        slot.checked = True

    async def _fetch_entry(self, slot: HostSlot, entry: Entry) -> None:
        url = entry.url
        await self._check_host(slot, url)
        if slot.blocked:
            dns = slot.blocked.startswith("dns:")
            reason = Reason.CONNECT_ERROR if dns else Reason.BLOCKED_ADDRESS
            self._finish(url, reason, slot.blocked)
            slot.next_at = min(slot.next_at, entry.prev_next_at)
            return
        if self.cfg.obey_robots:
            rp = await self._robots(slot, url)
            refusal = self._robots_refusal(rp, url)
            if refusal:
                self._finish(url, Reason.ROBOTS, refusal)
                slot.next_at = min(slot.next_at, entry.prev_next_at)
                return
        headers = self._request_headers(url)
        known = self.state.known(url)
        if known and known["run"] != self.run:
            if known.get("etag"):
                headers.append(("If-None-Match", known["etag"]))
            if known.get("last_modified"):
                headers.append(("If-Modified-Since", known["last_modified"]))
        if entry.tries == 0:
            self.sent += 1
        # The request goes out now: the next one to this host waits the (robots) delay from here.
        slot.next_at = max(slot.next_at, time.monotonic() + slot.delay)
        self.state.mark_sent(self.run, url, entry.tries + 1)
        try:
            f = await self._get(url, headers)
        except Refused as e:
            self._finish(url, e.reason, e.detail, e.status)
            return
        except BlockedAddress as e:
            self._finish(url, Reason.BLOCKED_ADDRESS, str(e))
            return
        except TimeoutError:
            self._retry_or_finish(slot, entry, Reason.TIMEOUT, "timed out")
            return
        except Exception as e:  # aiohttp.ClientError, OSError, bad encodings
            self._retry_or_finish(slot, entry, Reason.CONNECT_ERROR, f"{type(e).__name__}: {e}")
            return
        self.bytes += len(f.raw)
        with self.state.transaction():
            self._handle(entry, f, slot=slot)

    def _retry_or_finish(
        self, slot: HostSlot, entry: Entry, reason: Reason, detail: str, status: int | None = None
    ) -> bool:
        if entry.tries < self.cfg.retries:
            when = backoff(entry.tries + 1, self.cfg.backoff)
            self.state.requeue(self.run, entry.url, when, f"retry {entry.tries + 1}: {detail}")
            entry.tries += 1
            entry.not_before = when
            self._retry_seq += 1
            heapq.heappush(slot.retry, (when, self._retry_seq, entry))
            self.stats["retries"] += 1
            return True
        self._finish(entry.url, reason, f"{detail} (after {entry.tries + 1} tries)", status)
        return False

    def _request_headers(self, url: str = "") -> list[tuple[str, str]]:
        return [
            ("Host", netloc_of(url)),
            ("User-Agent", self.agent),
            ("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5"),
            ("Accept-Encoding", "gzip, deflate"),
        ]

    async def _get(self, url: str, headers: list[tuple[str, str]]) -> Fetched:
        cap = self.cfg.max_body_bytes
        async with self.session.get(url, headers=headers, allow_redirects=False) as resp:
            status = resp.status
            rh = _headers(resp)
            ip = None
            if resp.connection is not None and resp.connection.transport is not None:
                peer = resp.connection.transport.get_extra_info("peername")
                ip = peer[0] if peer else None
            mime = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if 200 <= status < 300 and mime and not self._wanted_type(mime):
                raise Refused(Reason.NOT_TEXT, f"content type {mime!r} (HTTP {status})", status)
            if resp.content_length is not None and resp.content_length > cap:
                raise Refused(
                    Reason.TOO_LARGE,
                    f"Content-Length {resp.content_length} > {cap} bytes (HTTP {status})",
                    status,
                )
            try:
                d = _decompressor(resp.headers.get("Content-Encoding"))
            except ValueError as e:
                raise Refused(Reason.NOT_TEXT, str(e), status) from None
            raw = bytearray()
            out: list[bytes] = []
            n_out = 0
            async for chunk in resp.content.iter_chunked(1 << 16):
                raw += chunk
                if len(raw) > cap:
                    raise Refused(
                        Reason.TOO_LARGE, f"body over {cap} bytes (HTTP {status})", status
                    )
                if d is not None:
                    piece, over = _bounded_decode(d, chunk, cap - n_out)
                    n_out += len(piece)
                    if over or n_out > cap:
                        raise Refused(
                            Reason.TOO_LARGE,
                            f"body over {cap} bytes once decompressed (HTTP {status}, "
                            f"{len(raw)} bytes sent)",
                            status,
                        )
                    out.append(piece)
            if d is not None:
                with contextlib.suppress(zlib.error):
                    out.append(d.flush())
            body = b"".join(out) if d is not None else bytes(raw)
            return Fetched(url, status, resp.reason or "", rh, bytes(raw), body, ip, headers)

    def _wanted_type(self, mime: str) -> bool:
        return mime in self.cfg.content_types or mime in SITEMAP_TYPES

    # --- what a response means ---------------------------------------------------------------

    def _handle(
        self,
        entry: Entry,
        f: Fetched,
        *,
        slot: HostSlot | None = None,
        archived: crawlwarc.Archived | None = None,
    ) -> None:
        """Archive the response and record its outcome (call inside a transaction)."""
        url, status = entry.url, f.status
        self.stats[f"status:{status}"] += 1
        ex = crawlwarc.Exchange(
            url, "GET", f.request_headers, status, f.reason, f.headers, f.raw, f.ip
        )
        location = f.header("Location")
        if status in REDIRECT_STATUSES and location:
            if archived is None:
                self.other.write(ex)
            target = absolute(url, location)
            with contextlib.suppress(UrlError):
                target = normalize_url(target)
            chain = (*entry.chain, url)
            if target in chain:
                path = " -> ".join((*chain, target))
                self._finish(url, Reason.REDIRECT_LOOP, f"HTTP {status}: {path}", status)
                self._event("redirect_loop", url=url, chain=path)
            elif len(chain) > self.cfg.max_redirects:
                self._finish(
                    url,
                    Reason.REDIRECT_LIMIT,
                    f"HTTP {status} to {target}: more than {self.cfg.max_redirects} redirects",
                    status,
                )
            else:
                self._finish(url, Reason.REDIRECT, f"HTTP {status} to {target}", status)
                self._discover(target, entry.depth, referrer=url, chain=chain)
            return
        if status == 304:
            known = self.state.known(url) or {}
            if archived is None:
                self.other.write(ex, revisit_of={})
            self._finish(url, Reason.NOT_MODIFIED, "HTTP 304: unchanged since the last crawl", 304)
            for link in known.get("links", []):
                self._discover(link, entry.depth + 1, referrer=url)
            return
        if 200 <= status < 300:
            if f.mime and f.mime not in self.cfg.content_types:
                locs = parse_sitemap(f.body) if f.mime in SITEMAP_TYPES else None
                if archived is None:
                    self.other.write(ex)
                if locs is None:
                    self._finish(url, Reason.NOT_TEXT, f"content type {f.mime!r}, not a sitemap")
                    return
                self._finish(url, Reason.SITEMAP, f"{len(locs)} URLs", status)
                for loc in locs[:50_000]:
                    self._discover(loc, entry.depth + 1, referrer=url)
                return
            where = archived or self.pages.write(ex)
            # From here on the URL is a page (it is archived): a body that breaks the link
            # parser gives no links, never a second outcome.
            try:
                links = (
                    parse_page(url, f.body) if f.mime != "text/plain" else PageLinks([], {}, None)
                )
            except Exception as e:
                log.warning("crawl: no links from %s: %r", url, e)
                links = PageLinks([], {}, None)
            alternates = {}
            for code, href in links.alternates.items():
                with contextlib.suppress(UrlError):
                    alternates[code] = normalize_url(href)
            self.state.remember(
                url,
                run=self.run,
                status=status,
                etag=f.header("ETag"),
                last_modified=f.header("Last-Modified"),
                warc_file=os.path.basename(where.path),
                warc_offset=where.offset,
                record_id=where.record_id,
                lang=links.lang,
                links=links.links,
                alternates=alternates,
            )
            self.state.finish(self.run, url, PAGE, "", status)
            self.stats[f"outcome:{PAGE}"] += 1
            for link in links.links:
                self._discover(link, entry.depth + 1, referrer=url)
            return
        if status in RETRY_STATUSES and slot is not None:
            if archived is None:
                self.other.write(ex)
            if self._retry_or_finish(slot, entry, Reason.HTTP_ERROR, f"HTTP {status}", status):
                retry_after = f.header("Retry-After")
                if retry_after and retry_after.strip().isdigit():
                    slot.next_at = time.monotonic() + min(MAX_CRAWL_DELAY, int(retry_after))
            return
        if archived is None:
            self.other.write(ex)
        self._finish(url, Reason.HTTP_ERROR, f"HTTP {status} {f.reason}".strip(), status)

    # --- robots.txt ------------------------------------------------------------------------

    async def _robots(self, slot: HostSlot, url: str) -> Any:
        if slot.robots is not None:
            return slot.robots
        if slot.robots_task is None:
            slot.robots_task = asyncio.get_running_loop().create_task(self._load_robots(slot, url))
        return await asyncio.shield(slot.robots_task)

    def _robots_refusal(self, rp: Any, url: str) -> str | None:
        if rp == ALLOW_ALL:
            return None
        if isinstance(rp, str):
            return rp
        if not rp.can_fetch(url, UA_TOKEN):
            return "disallowed by robots.txt"
        return None

    async def _load_robots(self, slot: HostSlot, url: str) -> Any:
        from protego import Protego

        scheme = scheme_of(url)
        robots_url = f"{scheme}://{slot.key}/robots.txt"
        cached = self.state.robots(slot.key, ROBOTS_MAX_AGE)
        fresh = cached is None
        if cached is None:
            status, body, detail = await self._fetch_robots(robots_url)
            with self.state.transaction():
                self.state.store_robots(slot.key, status, body, detail)
        else:
            status, body, detail = cached
        if status is not None and 200 <= status < 300 and body is not None:
            text = body[:ROBOTS_MAX_BYTES].decode("utf-8", "replace")
            rp = Protego.parse(text)
            delay = rp.crawl_delay(UA_TOKEN)
            if delay:
                slot.delay = max(slot.delay, min(MAX_CRAWL_DELAY, float(delay)))
            if fresh and self.cfg.sitemaps:
                with self.state.transaction():
                    for sm in list(rp.sitemaps)[:100]:
                        self._discover(sm, 0, referrer=robots_url)
            slot.robots = rp
        elif status is not None and 400 <= status < 500 and status != 429:
            slot.robots = ALLOW_ALL  # RFC 9309: unavailable robots.txt allows everything
        else:
            # RFC 9309: an unreachable robots.txt (5xx, network error) means complete disallow.
            slot.robots = f"robots.txt unreachable ({detail}): crawling of the host refused"
        self._event("robots", host=slot.key, status=status, delay=slot.delay)
        return slot.robots

    async def _fetch_robots(self, robots_url: str) -> tuple[int | None, bytes | None, str]:
        url = robots_url
        for _ in range(5):  # RFC 9309: follow at least five redirects
            host, port = host_port(url)
            try:
                await self.policy.resolve(host, port)
                f = await self._get_robots(url)
            except BlockedAddress as e:
                return None, None, str(e)
            except TimeoutError:
                return None, None, "timed out"
            except Refused as e:
                return e.status, None, e.detail
            except Exception as e:
                return None, None, f"{type(e).__name__}: {e}"
            self.other.write(
                crawlwarc.Exchange(
                    url, "GET", f.request_headers, f.status, f.reason, f.headers, f.raw, f.ip
                )
            )
            loc = f.header("Location")
            if f.status in REDIRECT_STATUSES and loc:
                url = absolute(url, loc)
                if scheme_of(url) not in ALLOWED_SCHEMES:
                    return None, None, f"redirect to {url}"
                continue
            return f.status, f.body, f"HTTP {f.status}"
        return None, None, "too many redirects"

    async def _get_robots(self, url: str) -> Fetched:
        headers = self._request_headers(url)
        cap = self.cfg.max_body_bytes
        async with self.session.get(url, headers=headers, allow_redirects=False) as resp:
            rh = _headers(resp)
            d = _decompressor(resp.headers.get("Content-Encoding"))
            raw = bytearray()
            async for chunk in resp.content.iter_chunked(1 << 16):
                raw += chunk
                if len(raw) > min(cap, 4 * ROBOTS_MAX_BYTES):
                    break
            body = bytes(raw)
            if d is not None:
                body, _ = _bounded_decode(d, body, ROBOTS_MAX_BYTES)
            return Fetched(url, resp.status, resp.reason or "", rh, bytes(raw), body, None, headers)

    # --- the run -----------------------------------------------------------------------------

    def _event(self, kind: str, **fields: Any) -> None:
        rec = {"t": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": kind, **fields}
        self._log.write(json.dumps(rec, default=str) + "\n")

    def progress(self) -> dict[str, Any]:
        by_outcome = {
            k.split(":", 1)[1]: v for k, v in sorted(self.stats.items()) if k.startswith("outcome:")
        }
        by_status = {
            k.split(":", 1)[1]: v for k, v in sorted(self.stats.items()) if k.startswith("status:")
        }
        elapsed = time.monotonic() - self.t0
        finished = sum(by_outcome.values())
        discovered = self.stats["discovered"]
        done_share = max(
            finished / discovered if discovered else 0.0, self.sent / self.cfg.max_pages
        )
        return {
            "progress": round(100.0 * min(1.0, done_share), 1),
            "run": self.run,
            "sent": self.sent,
            "max_pages": self.cfg.max_pages,
            "discovered": self.stats["discovered"],
            "pages": by_outcome.get(PAGE, 0),
            "bytes": self.bytes,
            "by_outcome": by_outcome,
            "by_status": by_status,
            "retries": self.stats["retries"],
            "seconds": round(elapsed, 2),
            "pages_per_second": round(by_outcome.get(PAGE, 0) / elapsed, 1) if elapsed else 0.0,
        }

    async def _report(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.progress_every)
            if self.on_progress is not None:
                with contextlib.suppress(Exception):
                    await loop.run_in_executor(None, self.on_progress, self.progress())

    async def run(self) -> dict[str, Any]:
        """Crawl until the frontier is empty or a cap is reached; returns the run's summary."""
        import aiohttp

        self.t0 = time.monotonic()
        self._open()
        self._cond = asyncio.Condition()
        timeout = aiohttp.ClientTimeout(
            total=self.cfg.total_timeout,
            connect=self.cfg.connect_timeout,
            sock_read=self.cfg.read_timeout,
        )
        connector = aiohttp.TCPConnector(
            limit=self.cfg.concurrency,
            limit_per_host=self.cfg.per_host_concurrency,
            resolver=_PolicyResolver(self.policy),
            ttl_dns_cache=300,
        )
        reporter = asyncio.get_running_loop().create_task(self._report())
        try:
            async with aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                auto_decompress=False,
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                max_line_size=16384,
                max_field_size=16384,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            ) as self.session:
                workers = [
                    asyncio.get_running_loop().create_task(self._worker())
                    for _ in range(self.cfg.concurrency)
                ]
                await asyncio.gather(*workers)
        finally:
            reporter.cancel()
            self.pages.close()
            self.other.close()
        summary = self.progress()
        summary["stopped_by"] = self.stop_reason or "frontier empty"
        summary["queued_left"] = self.state.count(self.run, QUEUED)
        summary["resumed"] = self.resumed
        self.state.set_run(
            self.run, status="crawled", crawled_at=datetime.now(UTC).isoformat(), stats=summary
        )
        self._event("crawled", **{k: v for k, v in summary.items() if k != "by_status"})
        self._log.close()
        self.state.close()
        return summary


def _headers(resp: Any) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.raw_headers]


class _PolicyResolver:
    """aiohttp resolver that applies the address policy at connect time (no rebinding window)."""

    def __init__(self, policy: AddressPolicy) -> None:
        import aiohttp

        self.policy = policy
        self.inner = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[dict[str, Any]]:
        import socket

        results = await self.inner.resolve(host, port, family or socket.AF_INET)
        self.policy.check_addresses(host, port, [r["host"] for r in results])
        return results

    async def close(self) -> None:
        await self.inner.close()


# --- after the crawl: the run's REJECTS file and aligned pairs ---------------------------------


def _reject_row(run: str, url: str, host: str, stage: Stage, reason: str, detail: str | None):
    source = f"crawl:{host}"
    return {
        "id": make_id(source, f"{run} {url}"),
        "source": source,
        "url": url,
        "stage": str(stage),
        "reason": reason,
        "detail": detail,
        "duplicate_of": None,
        "text_prefix": None,
        "lang": None,
    }


def finish_run(root: str, name: str, config: CrawlConfig | None = None) -> dict[str, Any]:
    """Write the last crawled run's REJECTS file and aligned pairs; returns the run's files.

    Idempotent: a finished run returns what it wrote. URLs still queued are written as
    ``deferred`` (and stay queued for the next run), URLs still ``sent`` as ``interrupted``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crossling.sources.align import align_run

    cfg = config or CrawlConfig()
    d = CrawlDir(root, name)
    state = CrawlState(d.state)
    try:
        runs = [r for r in state.runs() if r["status"] in ("crawled", "finished")]
        if not runs:
            raise ValueError(f"crawl {name}: no crawled run to finish under {d.path}")
        run = runs[-1]
        if run["status"] == "finished":
            return run
        rid = run["run"]
        rows = []
        counts: Counter[str] = Counter()
        by_host: dict[str, Counter[str]] = {}
        for url, host, st, outcome, detail, _status in state.outcomes(rid):
            if st == QUEUED:
                outcome = str(Reason.DEFERRED)
                detail = "left in the frontier by a cap; queued for the next crawl"
            elif st == SENT:
                outcome = str(Reason.INTERRUPTED)
                detail = "request in flight when the crawl stopped; not sent again"
            counts[outcome] += 1
            by_host.setdefault(host, Counter())[outcome] += 1
            if outcome != PAGE:
                rows.append(_reject_row(rid, url, host, Stage.CRAWL, outcome, detail))
        pairs_path = d.pairs(rid)
        align_stats, align_rejects = align_run(state, d, rid, cfg.align, pairs_path)
        rows.extend(align_rejects)
        files = sorted(
            os.path.join(d.warc, f)
            for f in os.listdir(d.warc)
            if f.startswith(f"{rid}-{crawlwarc.PAGES}-") and f.endswith(crawlwarc.WARC_SUFFIX)
        )
        if rows:
            tmp = d.rejects(rid) + ".tmp"
            pq.write_table(pa.Table.from_pylist(rows, schema=REJECTS_SCHEMA), tmp)
            os.replace(tmp, d.rejects(rid))
            files.append(d.rejects(rid))
        if align_stats["pairs"]:
            files.append(pairs_path)
        elif os.path.exists(pairs_path):
            os.remove(pairs_path)
        stats = dict(run["stats"])
        stats["outcomes"] = dict(sorted(counts.items()))
        stats["align"] = align_stats
        stats["deferred"] = counts.get(str(Reason.DEFERRED), 0)
        top = sorted(by_host.items(), key=lambda kv: -sum(kv[1].values()))[:100]
        stats["by_host"] = {h: dict(sorted(c.items())) for h, c in top}
        state.set_run(rid, status="finished", files=files, stats=stats)
        summary = {**run, "status": "finished", "files": files, "stats": stats}
        with open(d.summary(rid), "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2, sort_keys=True)
        return summary
    finally:
        state.close()


def record_version(root: str, name: str, run: str, version: str) -> None:
    """Note which corpus version a run was built into."""
    state = CrawlState(CrawlDir(root, name).state)
    try:
        state.set_run(run, version=version)
    finally:
        state.close()


def runs(root: str, name: str) -> list[dict[str, Any]]:
    """Every run of a crawl, oldest first (empty when the crawl does not exist)."""
    d = CrawlDir(root, name)
    if not os.path.exists(d.state):
        return []
    state = CrawlState(d.state)
    try:
        return state.runs()
    finally:
        state.close()


def crawl(
    root: str,
    name: str,
    seeds: list[str],
    config: CrawlConfig | None = None,
    *,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) a crawl, then finish it: the run's summary with its ``files``."""
    cfg = config or CrawlConfig()
    asyncio.run(Crawler(root, name, seeds, cfg, on_progress=on_progress).run())
    return finish_run(root, name, cfg)
