"""Loopback servers for the remote-input and object-store tests.

- :class:`FileServer`: a real aiohttp HTTP server on 127.0.0.1 (a free port, its own thread)
  serving files from memory with HEAD, ranged GETs (206), and faults injected per request:
  503 with Retry-After, SlowDown-style 503 bodies, 429, connection resets mid-body, stalls.
- :func:`s3_server`: moto's S3-compatible server (werkzeug) on 127.0.0.1 and a free port.
- :func:`warc_bytes` / :func:`wet_bytes`: real WARC/WET files written by warcio.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from aiohttp import web

SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FileServer:
    """Files over HTTP on loopback, with scripted faults.

    ``faults[name]`` is a list consumed one entry per GET of that file: ``"503"`` (503 with
    ``Retry-After: 0``), ``"503-wait"`` (``Retry-After: 1``), ``"slowdown"`` (503, S3 SlowDown XML
    body), ``"429"``, ``"reset"`` (send half the asked bytes, then drop the connection),
    ``"stall"`` (send nothing for 1.5 s), ``"404"``, or ``None`` (answer normally). ``broken[name]``
    (an int n): every GET of a range past byte n is answered with a reset, for good.
    """

    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.faults: dict[str, list[str | None]] = {}
        self.broken: dict[str, int] = {}
        self.stall_s = 1.5  # how long a "stall" fault sends nothing
        self.log: list[tuple[str, str, str, str]] = []  # method, name, range, fault or "ok"
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        done = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        with contextlib.suppress(Exception):
            done.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{name:.*}", self._handle)
        runner = self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(
            web.TCPSite(runner, "127.0.0.1", self.port, shutdown_timeout=1).start()
        )
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        rng = request.headers.get("Range", "")
        data = self.files.get(name)
        if data is None:
            self.log.append((request.method, name, rng, "missing"))
            return web.Response(status=404)
        if request.method == "HEAD":
            self.log.append(("HEAD", name, "", "ok"))
            return web.Response(
                headers={"Content-Length": str(len(data)), "Accept-Ranges": "bytes", "ETag": "x"}
            )
        start, end = 0, len(data) - 1
        if rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start, end = int(a or 0), min(int(b) if b else len(data) - 1, len(data) - 1)
        fault = self.faults.get(name, []).pop(0) if self.faults.get(name) else None
        if name in self.broken and end >= self.broken[name]:
            fault = "reset"
        self.log.append(("GET", name, rng, fault or "ok"))
        if fault in ("503", "503-wait"):
            wait = "1" if fault == "503-wait" else "0"
            return web.Response(status=503, headers={"Retry-After": wait}, text="busy")
        if fault == "slowdown":
            return web.Response(status=503, body=SLOWDOWN, content_type="application/xml")
        if fault == "429":
            return web.Response(status=429, headers={"Retry-After": "0"})
        if fault == "404":
            return web.Response(status=404)
        if fault == "stall":
            await asyncio.sleep(self.stall_s)
        body = data[start : end + 1]
        resp = web.StreamResponse(
            status=206 if rng else 200,
            headers={
                "Content-Length": str(len(body)),
                "Accept-Ranges": "bytes",
                **({"Content-Range": f"bytes {start}-{end}/{len(data)}"} if rng else {}),
            },
        )
        await resp.prepare(request)
        if fault == "reset":
            await resp.write(body[: len(body) // 2])
            request.transport.close()  # the connection drops mid-body
            return resp
        await resp.write(body)
        await resp.write_eof()
        return resp


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server on 127.0.0.1; yields its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    # moto keeps its buckets in this process's memory, across servers: start empty
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    try:
        yield url
    finally:
        server.stop()


def warc_bytes(pages: list[tuple[str, str, str, bytes]]) -> bytes:
    """A .warc.gz of ``response`` records: (url, status line, content type, body)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    w = WARCWriter(out, gzip=True)
    for url, status, ctype, body in pages:
        headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
        w.write_record(
            w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
        )
    return out.getvalue()


def wet_bytes(texts: list[tuple[str, str]], date: str = "2026-11-03T10:00:00Z") -> bytes:
    """A .warc.wet.gz as Common Crawl writes it: warcinfo, then ``conversion`` records."""
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    w = WARCWriter(out, gzip=True)
    w.write_record(w.create_warcinfo_record("x.warc.wet.gz", {"software": "test"}))
    for url, text in texts:
        rec = w.create_warc_record(
            url,
            "conversion",
            payload=io.BytesIO(text.encode("utf-8")),
            warc_content_type="text/plain",
            warc_headers_dict={"WARC-Date": date, "WARC-Identified-Content-Language": "eng"},
        )
        w.write_record(rec)
    return out.getvalue()


def html(title: str, text: str) -> bytes:
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n"))
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home | About</nav>"
        f"<article><h1>{title}</h1>{paras}</article><footer>(c) 2026</footer></body></html>"
    ).encode()


@pytest.fixture
def fresh_s3fs():
    """No cached S3 client of another test's endpoint or credentials (s3fs caches instances)."""
    s3fs = pytest.importorskip("s3fs")
    s3fs.S3FileSystem.clear_instance_cache()
    yield
    s3fs.S3FileSystem.clear_instance_cache()


def write_inputs(d, per_lang: int = 10) -> str:
    """A JSONL file of distinct documents in English, German and Russian; returns its path."""
    import json

    from tests.texts import distinct

    d.mkdir()
    path = d / "a.jsonl"
    rows = [distinct(lang, i) for lang in ("en", "de", "ru") for i in range(per_lang)]
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows), encoding="utf-8")
    return str(path)
