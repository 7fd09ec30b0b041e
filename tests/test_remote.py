"""Inputs as URLs: WARC and WET files served over loopback HTTP with injected faults."""

import gzip
import random
import time

import pytest

from crossling.corpus import CorpusVersion
from crossling.pipeline import CorpusConfig, run_local
from crossling.sources.files import plan_partitions, read_partition
from crossling.sources.remote import RemoteConfig, redact_url, retryable
from tests.remote_servers import FileServer, html, warc_bytes, wet_bytes
from tests.texts import distinct

FAST = {"backoff_s": 0.01, "max_backoff_s": 2.0, "block_bytes": 1 << 16}


def _files() -> dict[str, bytes]:
    pages = [
        (f"https://de.example.org/{i}", "200 OK", "text/html", html(f"T{i}", distinct("de", i)))
        for i in range(12)
    ]
    pages.append(("https://de.example.org/gone", "404 Not Found", "text/html", b"<p>gone</p>"))
    pages.append(("https://de.example.org/x.png", "200 OK", "image/png", b"\x89PNG\x00\x00"))
    wet = wet_bytes([(f"https://fr.example.org/{i}", distinct("fr", i)) for i in range(15)])
    # A WARC whose 4th gzip member is cut short in the middle: that record is lost, the rest read.
    good = [
        warc_bytes(
            [(f"https://ru.example.org/{i}", "200 OK", "text/html", html("T", distinct("ru", i)))]
        )
        for i in range(8)
    ]
    cut = good[3][: len(good[3]) // 2]
    broken = b"".join(good[:3]) + cut + b"".join(good[4:])
    # Large enough for several ranged reads (block_bytes 64 KiB), so faults land mid-file: each
    # page carries an HTML comment of random bytes (no text, and gzip cannot shrink it).
    rng = random.Random(7)
    big = warc_bytes(
        [
            (
                f"https://en.example.org/{i}",
                "200 OK",
                "text/html",
                html("T", distinct("en", i)) + f"<!-- {rng.randbytes(3000).hex()} -->".encode(),
            )
            for i in range(60)
        ]
    )
    return {
        "crawl/a.warc.gz": warc_bytes(pages),
        "crawl/b.warc.wet.gz": wet,
        "crawl/c.warc.gz": broken,
        "crawl/d.warc.gz": big,
    }


def test_warc_and_wet_over_http_survive_faults_and_match_a_local_read(tmp_path):
    files = _files()
    local = tmp_path / "local"
    local.mkdir()
    for name, data in files.items():
        (local / name.split("/")[1]).write_bytes(data)
    cfg = CorpusConfig(remote=RemoteConfig(**FAST), heldout_min=0)
    with FileServer(files) as server:
        server.faults = {
            "crawl/a.warc.gz": ["503-wait", "slowdown", "429"],
            "crawl/b.warc.wet.gz": ["reset", "reset"],
            "crawl/d.warc.gz": [None, "reset", "503", None, "slowdown"],
        }
        t0 = time.perf_counter()
        m = run_local([server.url(n) for n in files], str(tmp_path / "root"), "web", cfg)
        took = time.perf_counter() - t0
        # every scripted fault was met (each answered by a retry) and the run finished
        assert not any(server.faults.values())
        gets = [
            f for meth, name, _, f in server.log if meth == "GET" and name.endswith("a.warc.gz")
        ]
        assert gets[:4] == ["503-wait", "slowdown", "429", "ok"]
    assert took >= 1.0  # Retry-After: 1 was honoured
    assert m["conservation"]["balanced"]
    by_source = m["conservation"]["by_source"]
    assert by_source["warc:b.warc.wet.gz"]["inputs"] == 15
    assert by_source["warc:a.warc.gz"]["inputs"] == 14
    # the same files read locally: the same documents and the same rejects, row for row
    ml = run_local([str(local)], str(tmp_path / "root-local"), "web", cfg)
    assert ml["counts"] == m["counts"]
    v, vl = (
        CorpusVersion.open(str(tmp_path / "root"), "web"),
        CorpusVersion.open(str(tmp_path / "root-local"), "web"),
    )
    cols = ["id", "url", "fetched_at", "lang"]
    assert sorted(v.table("docs", columns=cols).to_pylist(), key=str) == sorted(
        vl.table("docs", columns=cols).to_pylist(), key=str
    )
    rej = v.table("rejects").to_pylist()
    reasons = sorted(r["reason"] for r in rej if r["stage"] in ("read", "extract"))
    assert reasons == ["http_error", "not_html", "read_error"]  # 404 page, PNG, the cut member
    cut = next(r for r in rej if r["reason"] == "read_error")
    assert "c.warc.gz" in cut["detail"] and "unreadable WARC record" in cut["detail"]
    # WET conversion records are documents with their URL and date
    docs = v.table("docs", columns=["url", "fetched_at", "source", "lang"]).to_pylist()
    wet = [d for d in docs if d["source"] == "warc:b.warc.wet.gz"]
    assert wet and all(d["url"].startswith("https://fr.example.org/") for d in wet)
    assert {d["fetched_at"].isoformat() for d in wet} == {"2026-11-03T10:00:00+00:00"}
    assert {d["lang"] for d in wet} == {"fr"}


def test_a_file_that_stops_answering_costs_only_what_was_not_read(tmp_path):
    files = _files()
    size = len(files["crawl/d.warc.gz"])
    remote = RemoteConfig(**{**FAST, "retries": 2})
    with FileServer(files) as server:
        server.broken["crawl/d.warc.gz"] = size // 2  # every read past the middle: reset, for good
        parts, errors = plan_partitions(
            [server.url("crawl/d.warc.gz"), server.url("crawl/missing.warc.gz")], remote=remote
        )
        assert not errors and len(parts) == 2
        recs = list(read_partition(parts[0], remote=remote))
        missing = list(read_partition(parts[1], remote=remote))
    docs = [r for r in recs if type(r).__name__ == "Document"]
    assert 0 < len(docs) < 60  # what came before the break is kept
    last = recs[-1]
    assert type(last).__name__ == "Reject" and last.reason == "read_error"
    assert "stopped answering" in last.detail and "after 3 attempts" in last.detail
    assert len(missing) == 1 and missing[0].reason == "read_error"
    assert "cannot open" in missing[0].detail


def test_common_crawl_path_lists_name_one_partition_per_file(tmp_path):
    files = _files()
    listing = "crawl/b.warc.wet.gz\ncrawl/a.warc.gz\ncrawl/d.warc.gz\n"
    files["crawl-data/wet.paths.gz"] = gzip.compress(listing.encode())
    (tmp_path / "wet.paths").write_text(listing)
    with FileServer(files) as server:
        # a remote list: its entries are relative to its own host
        parts, errors = plan_partitions(
            [server.url("crawl-data/wet.paths.gz")], remote=RemoteConfig(paths_limit=2)
        )
        assert not errors
        assert [p.uri for p in parts] == [
            server.url("crawl/b.warc.wet.gz"),
            server.url("crawl/a.warc.gz"),
        ]
        # a local list needs its base URL
        parts, errors = plan_partitions([str(tmp_path / "wet.paths")], remote=RemoteConfig())
        assert not parts and "needs a base URL" in errors[0].error
        base = server.url("")
        parts, errors = plan_partitions(
            [str(tmp_path / "wet.paths")], remote=RemoteConfig(paths_base=base)
        )
        assert len(parts) == 3 and all(p.kind == "warc" for p in parts)
        recs = list(read_partition(parts[0], remote=RemoteConfig(**FAST)))
    assert len(recs) == 15 and all(r.url for r in recs)


def test_a_read_timeout_is_retried(tmp_path):
    files = _files()
    with FileServer(files) as server:
        server.faults["crawl/b.warc.wet.gz"] = ["stall"]
        parts, _ = plan_partitions([server.url("crawl/b.warc.wet.gz")])
        recs = list(read_partition(parts[0], remote=RemoteConfig(**FAST, timeout_s=0.5)))
    assert len(recs) == 15 and all(type(r).__name__ == "Document" for r in recs)


@pytest.mark.parametrize(
    "url,shown",
    [
        ("https://user:pw@h.org/a.warc.gz", "https://h.org/a.warc.gz"),
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA1&X-Amz-Signature=ab&x=1",
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&x=1",
        ),
    ],
)
def test_urls_are_shown_without_secrets(url, shown):
    assert redact_url(url) == shown


def test_what_is_retried():
    assert retryable(OSError("An error occurred (SlowDown) when calling GetObject"))
    assert retryable(ConnectionResetError())
    assert not retryable(FileNotFoundError("nope"))
    assert not retryable(PermissionError("403 Forbidden"))


@pytest.mark.slow
def test_a_killed_run_resumes_without_reading_the_finished_files_again(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    files = {
        f"wet/f{k}.warc.wet.gz": wet_bytes(
            [(f"https://fr.example.org/{k}/{i}", distinct("fr", 20 * k + i)) for i in range(15)]
        )
        for k in range(4)
    }
    root = tmp_path / "root"
    with FileServer(files) as server:
        urls = [server.url(n) for n in sorted(files)]
        server.faults["wet/f3.warc.wet.gz"] = ["stall"]
        server.stall_s = 120  # the run hangs in the last file until it is killed
        code = (
            "import sys; from crossling.pipeline import CorpusConfig, run_local; "
            "from crossling.sources.remote import RemoteConfig; "
            "run_local(sys.argv[2:], sys.argv[1], 'r', "
            "CorpusConfig(remote=RemoteConfig(timeout_s=300)))"
        )
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        proc = subprocess.Popen([sys.executable, "-c", code, str(root), *urls], env=env)
        try:
            deadline = time.time() + 120
            while time.time() < deadline and not any(
                m == "GET" and n.endswith("f3.warc.wet.gz") for m, n, _, _ in server.log
            ):
                time.sleep(0.2)
            done = list((root / "corpora" / "r" / "_tags").glob("*/done.json"))
            assert len(done) == 3, "the first three files were measured before the stall"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        before = {n: sum(1 for m, x, _, _ in server.log if m == "GET" and x == n) for n in files}
        m = run_local(urls, str(root), "r")
        after = {n: sum(1 for m, x, _, _ in server.log if m == "GET" and x == n) for n in files}
    assert m["conservation"]["balanced"] and m["conservation"]["inputs"] == 60
    assert m["counts"]["docs"] + m["counts"]["rejects"] == 60
    assert m["tags_reused"] == 3
    # the three finished files were not fetched again; the killed one was, once
    assert {n: after[n] - before[n] for n in files} == {
        "wet/f0.warc.wet.gz": 0,
        "wet/f1.warc.wet.gz": 0,
        "wet/f2.warc.wet.gz": 0,
        "wet/f3.warc.wet.gz": 1,
    }


def test_the_corpus_form_takes_url_sources_and_path_list_settings():
    from flows.corpus import CorpusParams

    schema = CorpusParams.model_json_schema()["properties"]
    assert {"paths_base", "paths_limit"} <= set(schema)
    p = CorpusParams(
        sources=["https://data.example.org/crawl/wet.paths.gz", "s3://bucket/wet/"],
        root="s3://bucket/data",
        paths_base="https://data.example.org/",
        paths_limit=3,
    )
    cfg = p.resolve_config()
    assert (cfg.remote.paths_base, cfg.remote.paths_limit) == ("https://data.example.org/", 3)
