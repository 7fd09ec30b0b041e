"""The outputs' file server of `crossling serve` (deployments/files.py), as a real process on
loopback, and the links flows make to it (flows.links.output_link).

Every request goes over a raw HTTP connection (http.client sends the target exactly as written:
no client-side normalization of `..` or percent-escapes), and every refusal is checked twice: by
its status, and by the secret files' bytes never appearing in any answer.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployments import serve
from flows import service
from flows.links import NOT_SERVED_NOTE, output_link

REPO = Path(__file__).resolve().parents[2]
SECRETS = (b"PREFECT-DATABASE-SECRET", b"SERVE-STATE-SECRET", b"OUTSIDE-SECRET", b"TMP-SECRET")
MANIFEST = b'{"files": [], "counts": {"docs": 3}}\n'


@dataclass
class Served:
    root: Path
    outside: Path
    port: int
    proc: subprocess.Popen

    def request(
        self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            if body:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()


def make_root(base: Path) -> tuple[Path, Path]:
    """A data root with outputs in every served folder, the service's own files, a temporary
    file, and symlinks that lead out of the served folders."""
    root, outside = base / "root", base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRETS[2])
    version = root / "corpora" / "demo" / "20260101T000000Z-abcdef12"
    (version / "docs" / "lang=de").mkdir(parents=True)
    (version / "manifest.json").write_bytes(MANIFEST)
    (version / "docs" / "lang=de" / "part-00000.parquet").write_bytes(b"PAR1....PAR1")
    (version / ".manifest.json.tmp-1234abcd").write_bytes(SECRETS[3])
    ckpt = root / "models" / "demo-mlm-tiny" / "run1" / "checkpoint-6"
    ckpt.mkdir(parents=True)
    (ckpt / "config.json").write_text("{}")
    (root / "eval" / "demo-mlm-tiny").mkdir(parents=True)
    (root / "eval" / "demo-mlm-tiny" / "loss.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "tokenizers").mkdir()
    (root / ".prefect").mkdir()
    (root / ".prefect" / "prefect.db").write_bytes(SECRETS[0])
    (root / ".serve").mkdir()
    (root / ".serve" / "serve.json").write_bytes(SECRETS[1])
    (root / "notes.txt").write_text("not an output")
    # Symlinks: out of the root (a file and a folder), into the service's folder, and one that
    # stays inside the served folders (allowed).
    (root / "corpora" / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "models" / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "eval" / "db").symlink_to(root / ".prefect" / "prefect.db")
    (root / "eval" / "latest").symlink_to(ckpt, target_is_directory=True)
    return root, outside


def start_file_server(root: Path, port: int, env: dict[str, str] | None = None):
    proc = subprocess.Popen(
        [sys.executable, "-m", "deployments.files", "--root", str(root), "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    serve.wait_answering(f"http://127.0.0.1:{port}/", proc, 60, Path(os.devnull), "file server")
    return proc


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    root, outside = make_root(tmp_path_factory.mktemp("files"))
    port = serve.free_port()
    env = {k: "" for k in ("PREFECT_SERVER_API_AUTH_STRING",)}
    proc = start_file_server(root, port, env)
    yield Served(root, outside, port, proc)
    proc.terminate()
    proc.wait(timeout=10)


def _no_secret(body: bytes) -> None:
    for s in SECRETS:
        assert s not in body


def test_serves_outputs_and_lists_folders(served: Served) -> None:
    v = "corpora/demo/20260101T000000Z-abcdef12"
    status, headers, body = served.request("GET", f"/{v}/manifest.json")
    assert (status, body) == (200, MANIFEST)
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, body = served.request("HEAD", f"/{v}/manifest.json")
    assert status == 200 and body == b"" and headers["content-length"] == str(len(MANIFEST))
    status, headers, _ = served.request("GET", f"/{v}/manifest.json", {"Range": "bytes=0-9"})
    assert status == 206 and headers["content-length"] == "10"
    # A folder without the slash redirects; with it, a listing without hidden/temporary files.
    status, headers, _ = served.request("GET", f"/{v}")
    assert status == 301 and headers["location"] == f"/{v}/"
    status, _, body = served.request("GET", f"/{v}/")
    assert status == 200 and b'href="manifest.json"' in body and b'href="docs/"' in body
    assert b"tmp-1234" not in body
    # Percent-encoded names are decoded once (lang%3Dde is the folder lang=de).
    status, _, body = served.request("GET", f"/{v}/docs/lang%3Dde/part-00000.parquet")
    assert (status, body) == (200, b"PAR1....PAR1")
    # The index lists the served folders only.
    status, _, body = served.request("GET", "/")
    assert status == 200
    for d in ("corpora/", "models/", "eval/", "tokenizers/"):
        assert f'href="{d}"'.encode() in body
    assert b"prefect" not in body and b"serve" not in body and b"notes" not in body
    # A symlink that stays inside the served folders is followed.
    status, _, body = served.request("GET", "/eval/latest/config.json")
    assert (status, body) == (200, b"{}")


@pytest.mark.parametrize(
    "target",
    [
        "/.prefect/prefect.db",
        "/.serve/serve.json",
        "/%2eprefect/prefect.db",
        "/%2Eserve/serve.json",
        "/corpora/../.prefect/prefect.db",
        "/corpora/./../.serve/serve.json",
        "/corpora/%2e%2e/.prefect/prefect.db",
        "/corpora/%2E%2E/%2Eprefect/prefect.db",
        "/corpora%2f..%2f.prefect%2fprefect.db",
        "/corpora/..%2f.prefect%2fprefect.db",
        "/corpora/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
        "/corpora/..%5c.prefect%5cprefect.db",
        "/corpora/%00/../.prefect/prefect.db",
        "//corpora/../../outside/secret.txt",
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/corpora/demo/20260101T000000Z-abcdef12/.manifest.json.tmp-1234abcd",
        "/corpora/escape.txt",
        "/models/escape-dir/secret.txt",
        "/models/escape-dir/",
        "/eval/db",
        "/notes.txt",
        "/etc/passwd",
        "/corpora/%ff%fe",
    ],
)
def test_refuses_paths_outside_the_served_folders(served: Served, target: str) -> None:
    status, _, body = served.request("GET", target)
    assert status in (400, 403, 404), (target, status, body[:200])
    _no_secret(body)


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH", "MKCOL", "OPTIONS"])
def test_refuses_every_write_method(served: Served, method: str) -> None:
    target = "/corpora/demo/20260101T000000Z-abcdef12/manifest.json"
    before = sorted(p.name for p in served.root.rglob("*"))
    status, headers, body = served.request(method, target, body=b"overwritten")
    assert status == 405 and headers["allow"] == "GET, HEAD", (method, status, body)
    status, _, _ = served.request(method, "/corpora/demo/new-file.txt", body=b"x")
    assert status == 405
    assert sorted(p.name for p in served.root.rglob("*")) == before
    assert (served.root / target.lstrip("/")).read_bytes() == MANIFEST


def test_basic_auth_when_the_server_has_it(tmp_path) -> None:
    root, _ = make_root(tmp_path)
    port = serve.free_port()
    proc = start_file_server(root, port, {"PREFECT_SERVER_API_AUTH_STRING": "admin:s3cret"})
    try:
        s = Served(root, tmp_path, port, proc)
        target = "/corpora/demo/20260101T000000Z-abcdef12/manifest.json"
        status, headers, body = s.request("GET", target)
        assert status == 401 and headers["www-authenticate"].startswith("Basic ")
        assert MANIFEST not in body
        wrong = "Basic " + base64.b64encode(b"admin:guess").decode()
        assert s.request("GET", target, {"Authorization": wrong})[0] == 401
        right = "Basic " + base64.b64encode(b"admin:s3cret").decode()
        assert s.request("GET", target, {"Authorization": right})[:3:2] == (200, MANIFEST)
        assert s.request("GET", "/.prefect/prefect.db", {"Authorization": right})[0] == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_refuses_to_bind_beyond_loopback_without_auth(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_SERVER_API_AUTH_STRING": ""}
    r = subprocess.run(
        [sys.executable, "-m", "deployments.files", "--root", str(tmp_path), "--host", "0.0.0.0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "without basic auth" in r.stderr


# --- the links flows put in artifacts ----------------------------------------------------------


def write_state(root: Path, files_url: str) -> None:
    (root / ".serve").mkdir(exist_ok=True)
    state = {
        "root": str(root),
        "api_url": "http://127.0.0.1:9/api",
        "files_url": files_url,
        "files_local_url": files_url,
    }
    (root / ".serve" / "serve.json").write_text(json.dumps(state))


def test_output_links_point_to_the_file_server_only_while_it_serves_the_root(tmp_path) -> None:
    """Links to a served root go to its file server (and open there); links to a root nobody
    serves, or to a service that is gone, stay file:// and say so."""
    root, _ = make_root(tmp_path)
    v = root / "corpora" / "demo" / "20260101T000000Z-abcdef12"
    link = output_link(str(v / "manifest.json"))  # nobody serves this root
    assert link.url == f"file://{v}/manifest.json" and not link.served
    assert NOT_SERVED_NOTE in link.label("manifest")

    port = serve.free_port()
    proc = start_file_server(root, port, {"PREFECT_SERVER_API_AUTH_STRING": ""})
    try:
        s = Served(root, tmp_path, port, proc)
        base = f"http://127.0.0.1:{port}"
        write_state(root, base)  # what `crossling serve` records
        service._health_cache.clear()
        link = output_link(str(v / "manifest.json"))
        assert link.served and link.label("manifest") == "manifest"
        assert link.url == f"{base}/corpora/demo/20260101T000000Z-abcdef12/manifest.json"
        assert s.request("GET", link.url.removeprefix(base))[:3:2] == (200, MANIFEST)
        ckpt = output_link(str(root / "models" / "demo-mlm-tiny" / "run1" / "checkpoint-6"))
        assert ckpt.url == f"{base}/models/demo-mlm-tiny/run1/checkpoint-6/"
        status, _, body = s.request("GET", ckpt.url.removeprefix(base))
        assert status == 200 and b'href="config.json"' in body
        # Never a link into the service's own files or outside the served folders.
        assert not output_link(str(root / ".prefect" / "prefect.db")).served
        assert not output_link(str(root / "notes.txt")).served
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    service._health_cache.clear()
    assert not output_link(str(v / "manifest.json")).served  # the service is gone: file://
    # Remote roots keep their fsspec URL.
    assert output_link("s3://bucket/corpora/x/manifest.json").url == (
        "s3://bucket/corpora/x/manifest.json"
    )
