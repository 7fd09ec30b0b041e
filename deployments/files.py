"""The read-only file server of ``crossling serve``: a data root's outputs over HTTP.

Artifacts in the Prefect UI link here (``flows.links.output_link``), so a manifest, a checkpoint
folder, a plot or a report opens in the browser, also from another machine when the service binds
beyond loopback. What it serves, and nothing else:

- ``GET``/``HEAD`` only; every other method is answered 405 (nothing is ever written);
- only ``corpora/``, ``tokenizers/``, ``models/`` and ``eval/`` of the root: never ``.prefect``
  (the database), ``.serve`` (state, logs), hidden or temporary files, or anything outside the
  root; a path with ``..``, an encoded separator or dot segment (``%2f``, ``%2e%2e``), a NUL or a
  backslash is refused, and so is a symlink whose target leaves the served folders;
- with ``PREFECT_SERVER_API_AUTH_STRING`` set (``user:password``, the Prefect server's own basic
  auth, required by ``crossling serve`` beyond loopback) every request needs those credentials.

Folders are listed as HTML; files are sent as they are (ranges supported), text-like files as
``text/plain`` so a browser shows them, every response with ``nosniff`` and a sandboxing CSP.

Run by the launcher as ``python -m deployments.files --root ROOT --host HOST --port PORT``.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import secrets
import stat
import urllib.parse
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse
from starlette.types import Receive, Scope, Send

from flows.service import SERVED_DIRS

READ_METHODS = ("GET", "HEAD")
AUTH_ENV = "PREFECT_SERVER_API_AUTH_STRING"
# Shown inline by a browser rather than downloaded (and never rendered as HTML).
TEXT_SUFFIXES = (".md", ".txt", ".log", ".yaml", ".yml", ".csv", ".tsv", ".jsonl", ".html", ".htm")
MEDIA_TYPES = {".json": "application/json", ".png": "image/png", ".svg": "text/plain"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Listings need inline style only; a served file can run nothing and load nothing.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' "
    "data:; sandbox",
    "Referrer-Policy": "no-referrer",
}


class Refused(Exception):
    """A request the server will not answer with content: status and one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _segments(raw_path: bytes) -> list[str]:
    """The path's segments, each percent-decoded once; refuses anything that could escape."""
    try:
        text = raw_path.decode("ascii")
    except UnicodeDecodeError:
        raise Refused(400, "the path is not percent-encoded ASCII") from None
    parts = [p for p in text.split("/") if p != ""]
    out = []
    for raw in parts:
        try:
            seg = urllib.parse.unquote(raw, errors="strict")
        except UnicodeDecodeError:
            raise Refused(400, f"path segment {raw!r} is not UTF-8") from None
        if seg in (".", "..") or any(c in seg for c in ("/", "\\", "\x00")):
            raise Refused(400, f"path segment {raw!r} is not allowed")
        if seg.startswith("."):
            raise Refused(403, "hidden files and folders are not served")
        out.append(seg)
    return out


class FileServer:
    """The ASGI app: read-only access to the served folders of one data root."""

    def __init__(self, root: str, auth: str | None = None) -> None:
        self.root = os.path.realpath(root)
        self._auth = (
            "Basic " + base64.b64encode(auth.encode()).decode() if auth is not None else None
        )

    def _authorized(self, request: Request) -> bool:
        if self._auth is None:
            return True
        given = request.headers.get("authorization", "")
        return secrets.compare_digest(given.encode(), self._auth.encode())

    def resolve(self, segments: list[str]) -> str:
        """The real path a request names; refused unless it is inside a served folder."""
        if not segments or segments[0] not in SERVED_DIRS:
            raise Refused(403, f"only {', '.join(SERVED_DIRS)} are served")
        real = os.path.realpath(os.path.join(self.root, *segments))
        rel = os.path.relpath(real, self.root)
        parts = rel.split(os.sep)
        if rel.startswith("..") or os.path.isabs(rel) or parts[0] not in SERVED_DIRS:
            raise Refused(403, "the path leads outside the served folders")
        if any(p.startswith(".") for p in parts):
            raise Refused(403, "hidden files and folders are not served")
        return real

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websockets: nothing to do
            return
        request = Request(scope, receive)
        try:
            response = self.respond(request)
        except Refused as e:
            headers = {**SECURITY_HEADERS}
            if e.status == 405:
                headers["Allow"] = ", ".join(READ_METHODS)
            if e.status == 401:
                headers["WWW-Authenticate"] = 'Basic realm="crossling", charset="UTF-8"'
            response = PlainTextResponse(f"{e.status}: {e.reason}\n", e.status, headers=headers)
        await response(scope, receive, send)

    def respond(self, request: Request) -> Any:
        if request.method not in READ_METHODS:
            raise Refused(405, "this server is read-only")
        if not self._authorized(request):
            raise Refused(401, "credentials needed")
        raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
        raw_path = raw_path.split(b"?", 1)[0]
        segments = _segments(raw_path)
        if not segments:
            return self.index()
        path = self.resolve(segments)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise Refused(404, "no such file or folder") from None
        if stat.S_ISDIR(st.st_mode):
            if not raw_path.endswith(b"/"):  # relative links in the listing need the slash
                return RedirectResponse(raw_path.decode() + "/", 301, headers=SECURITY_HEADERS)
            return self.listing(path, segments)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(403, "only regular files are served")
        suffix = os.path.splitext(path)[1].lower()
        media = MEDIA_TYPES.get(suffix) or (
            "text/plain; charset=utf-8" if suffix in TEXT_SUFFIXES else None
        )
        return FileResponse(
            path,
            stat_result=st,
            media_type=media,
            headers=SECURITY_HEADERS,
        )

    def index(self) -> HTMLResponse:
        present = [d for d in SERVED_DIRS if os.path.isdir(os.path.join(self.root, d))]
        return self._page("/", [(f"{d}/", f"{d}/", "") for d in present])

    def listing(self, path: str, segments: list[str]) -> HTMLResponse:
        rows = [("../", "../", "")]
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: (not e.is_dir(), e.name))
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                href = urllib.parse.quote(e.name)
            except UnicodeEncodeError:  # a name that is not UTF-8 cannot be linked
                continue
            is_dir = e.is_dir()
            size = "" if is_dir else f"{e.stat().st_size:,} bytes"
            name = e.name + ("/" if is_dir else "")
            rows.append((href + ("/" if is_dir else ""), name, size))
        return self._page("/" + "/".join(segments) + "/", rows)

    def _page(self, title: str, rows: list[tuple[str, str, str]]) -> HTMLResponse:
        items = "\n".join(
            f'<tr><td><a href="{html.escape(href)}">{html.escape(text)}</a></td>'
            f"<td>{html.escape(size)}</td></tr>"
            for href, text, size in rows
        )
        body = (
            "<!doctype html><meta charset=utf-8>"
            f"<title>crossling {html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td{padding:0 1.5em 0 0}</style>"
            f"<h1>crossling outputs: {html.escape(title)}</h1><table>{items}</table>"
        )
        return HTMLResponse(body, headers=SECURITY_HEADERS)


def create_app(root: str, auth: str | None = None) -> FileServer:
    """The file server of ``root``; ``auth`` is ``user:password`` for basic auth, or None."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"data root {root} is not a folder")
    return FileServer(root, auth)


def main(argv: list[str] | None = None) -> int:
    """``python -m deployments.files --root ROOT [--host 127.0.0.1] [--port 4201]``."""
    import uvicorn

    p = argparse.ArgumentParser(prog="python -m deployments.files", description=__doc__)
    p.add_argument("--root", required=True, help="data root whose outputs are served")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4201)
    args = p.parse_args(argv)
    from deployments.serve import is_loopback

    auth = os.environ.get(AUTH_ENV) or None
    if auth is None and not is_loopback(args.host):
        p.error(f"refusing to serve {args.host} without basic auth: set {AUTH_ENV}")
    app = create_app(args.root, auth)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        lifespan="off",
        server_header=False,
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
