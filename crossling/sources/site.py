"""A small website served over real HTTP on a loopback address (aiohttp), for the demo, the tests
and the crawl benchmark.

Pages live in memory (``{path: (content type, body)}``) or come from a folder. Responses carry an
``ETag`` and ``Last-Modified`` and answer conditional requests with 304, as real servers do. Every
request is counted per path, so a test can show that no URL was fetched twice.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

import xxhash

Pages = dict[str, tuple[str, bytes]]


def pages_from_folder(folder: str) -> Pages:
    """Every file under ``folder`` as a page (``index.html`` also serves its folder's path)."""
    pages: Pages = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in sorted(files):
            full = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(full, folder).replace(os.sep, "/")
            ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype.endswith("xml"):
                ctype += "; charset=utf-8"
            with open(full, "rb") as fh:
                body = fh.read()
            pages[rel] = (ctype, body)
            if name == "index.html":
                pages[rel[: -len("index.html")]] = (ctype, body)
    return pages


class LoopbackSite:
    """Serve ``pages`` at ``http://host:port/`` from a background thread.

    Args:
        pages: path -> (content type, body).
        host: the loopback address to bind (127.0.0.1; 127.0.0.2 works on Linux too).
        port: 0 picks a free port.
        routes: a function adding more aiohttp routes (tests add hostile endpoints).
        latency: seconds each response waits before it is sent (0 for none).
    """

    def __init__(
        self,
        pages: Pages | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        routes: Callable[[Any], None] | None = None,
        latency: float = 0.0,
    ) -> None:
        self.pages = dict(pages or {})
        self.host, self.port = host, port
        self.routes, self.latency = routes, latency
        self.counts: Counter[str] = Counter()
        self.log: list[tuple[float, str, dict[str, str]]] = []  # (monotonic time, path, headers)
        self.modified = formatdate(time.time() - 86400, usegmt=True)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _page(self, request: Any) -> Any:
        from aiohttp import web

        if self.latency:
            await asyncio.sleep(self.latency)
        path = request.path
        if path not in self.pages:
            return web.Response(status=404, text="not found\n")
        ctype, body = self.pages[path]
        etag = '"' + xxhash.xxh64_hexdigest(body) + '"'
        headers = {"ETag": etag, "Last-Modified": self.modified, "Content-Type": ctype}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        since = request.headers.get("If-Modified-Since")
        if since and "If-None-Match" not in request.headers:
            try:
                if parsedate_to_datetime(since) >= parsedate_to_datetime(self.modified):
                    return web.Response(status=304, headers={"ETag": etag})
            except (TypeError, ValueError):
                pass
        return web.Response(body=body, headers=headers)

    async def _serve(self) -> None:
        from aiohttp import web

        @web.middleware
        async def count(request: Any, handler: Any) -> Any:
            path = request.path_qs if request.query_string else request.path
            self.counts[path] += 1
            self.log.append((time.monotonic(), path, dict(request.headers)))
            return await handler(request)

        app = web.Application(middlewares=[count])
        if self.routes is not None:
            self.routes(app)
        app.router.add_route("GET", "/{tail:.*}", self._page)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=512)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the port picked for 0
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as e:  # reported by start()
            self._error = e
            self._ready.set()
        finally:
            self._loop.close()

    def start(self) -> str:
        """Start serving; returns the base URL."""
        self._thread = threading.Thread(target=self._run, name="loopback-site", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"cannot serve on {self.host}:{self.port}: {self._error}")
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> LoopbackSite:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
