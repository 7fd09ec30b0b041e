"""A hostile website on loopback (real HTTP, aiohttp) and helpers to read a crawl back."""

from __future__ import annotations

import asyncio
import random
import zlib

from aiohttp import web

from crossling.sources.crawl import CrawlDir
from crossling.sources.frontier import CrawlState
from crossling.sources.site import LoopbackSite

RUSSIAN = (
    "Утро началось серым и холодным, но к полудню солнце пробилось сквозь облака. "
    "Сегодня ночью ожидается сильный дождь, поэтому не забудьте закрыть окна перед сном."
)
ENGLISH = (
    "The morning started grey and cold, but by noon the sun had burned through the clouds. "
    "Heavy rain is expected tonight, so remember to close the windows before you go to bed."
)
BIG = 30 << 20  # the 30 MB body


def html(body: str, head: str = "", charset: str = "utf-8") -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset}">{head}</head>'
        f"<body>{body}</body></html>"
    ).encode(charset)


def hostile_pages(other: str, private: str) -> dict[str, tuple[str, bytes]]:
    """Static pages; ``other`` is another loopback port's URL, ``private`` one on 127.0.0.2."""
    links = [
        "/ok.html",
        "/slow",
        "/drip",
        "/flaky",
        "/loop-a",
        "/redirect-private",
        "/redirect-port",
        "/redirect-file",
        "/big",
        "/big-chunked",
        "/bomb",
        "/binary.html",
        "/cp1251.html",
        "/private/secret.html",
        "/missing.html",
        "/image.png",
        "/cal?m=0",
        other + "/",
        private + "/",
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "mailto:someone@example.org",
        "http://[::1",
    ]
    anchors = "".join(f'<a href="{u}">{i}</a> ' for i, u in enumerate(links))
    return {
        "/": ("text/html; charset=utf-8", html(f"<p>{ENGLISH}</p>{anchors}")),
        "/ok.html": ("text/html; charset=utf-8", html(f"<article><p>{ENGLISH}</p></article>")),
        "/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /private/\n"),
        "/binary.html": ("text/html", random.Random(1).randbytes(4096)),  # a ZIP, say
        # windows-1251 bytes declared as UTF-8 in both the header and <meta>.
        "/cp1251.html": (
            "text/html; charset=utf-8",
            html(f"<p>{RUSSIAN}</p>", charset="cp1251").replace(
                b'charset="cp1251"', b'charset="utf-8"'
            ),
        ),  # fmt: skip
        "/image.png": ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(100)),
    }


def hostile_routes(state: dict, other: str, private: str):
    """Endpoints that misbehave; ``state`` records what happened (flaky's first answer...)."""

    async def slow(request):
        await asyncio.sleep(30)
        return web.Response(text="late")

    async def drip(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        for _ in range(300):  # a byte every 0.2 s: never silent long, never done
            await resp.write(b" ")
            await asyncio.sleep(0.2)
        return resp

    async def flaky(request):
        state["flaky"] = state.get("flaky", 0) + 1
        if state["flaky"] == 1:
            return web.Response(status=500, text="try again")
        return web.Response(
            body=html(f"<p>{ENGLISH} Flaky but fine.</p>"), content_type="text/html"
        )

    def redirect(target: str):
        async def handler(request):
            raise web.HTTPFound(target)

        return handler

    async def big(request):  # streamed, with a Content-Length: the server holds 1 MB at most
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        resp.content_length = BIG
        await resp.prepare(request)
        chunk = b"a" * (1 << 20)
        for _ in range(BIG >> 20):
            await resp.write(chunk)
        return resp

    async def big_chunked(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        chunk = b"<p>" + b"b" * (1 << 20) + b"</p>"
        for _ in range(30):
            await resp.write(chunk)
        return resp

    async def bomb(request):
        return web.Response(
            body=state["bomb"],
            headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
        )

    async def calendar(request):
        m = int(request.query.get("m", "0"))
        body = html(
            f'<p>Month {m}</p><a href="/cal?m={m + 1}">next</a> <a href="/cal?m={m - 1}">prev</a>'
        )
        return web.Response(body=body, content_type="text/html")

    def add(app):
        app.router.add_get("/slow", slow)
        app.router.add_get("/drip", drip)
        app.router.add_get("/flaky", flaky)
        app.router.add_get("/loop-a", redirect("/loop-b"))
        app.router.add_get("/loop-b", redirect("/loop-a"))
        app.router.add_get("/redirect-private", redirect(private + "/x"))
        app.router.add_get("/redirect-port", redirect(other + "/x"))
        app.router.add_get("/redirect-file", redirect("file:///etc/passwd"))
        app.router.add_get("/big", big)
        app.router.add_get("/big-chunked", big_chunked)
        app.router.add_get("/bomb", bomb)
        app.router.add_get("/cal", calendar)

    return add


def gzip_bomb(size: int = 200 << 20) -> bytes:
    """``size`` zero bytes, gzipped (about 1000:1)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    out = [c.compress(block) for _ in range(size >> 20)]
    out.append(c.flush())
    data = b"".join(out)
    return data


def start_counting_site(host: str = "127.0.0.1") -> LoopbackSite:
    """A site that should never be asked anything (another port, 127.0.0.2)."""
    site = LoopbackSite({"/": ("text/html", html("<p>you should not see me</p>"))}, host=host)
    site.start()
    return site


def outcomes(root: str, name: str, run: str | None = None) -> dict[str, tuple[str, str, str]]:
    """url -> (state, outcome, detail) of the (last) run."""
    state = CrawlState(CrawlDir(root, name).state)
    try:
        run = run or state.runs()[-1]["run"]
        return {u: (st, o, d) for u, _h, st, o, d, _s in state.outcomes(run)}
    finally:
        state.close()


def version_rows(manifest: dict, root: str) -> dict[str, list[dict]]:
    """DOCS, PAIRS and REJECTS rows of a version (through the corpus API), by kind."""
    from crossling.corpus import open_version

    v = open_version(root, manifest["name"], manifest["version"])
    return {kind: v.table(kind).to_pylist() for kind in ("docs", "pairs", "rejects")}
