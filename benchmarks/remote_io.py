"""Remote inputs and an object-store data root, side by side with local files and datatrove.

1. Records/s reading the same WARC and WET files (built here by warcio) locally and over HTTP on
   loopback (an aiohttp static server in its own process: ranged GETs), with crossling's readers
   and with datatrove's ``WarcReader`` (0.10.1) on the same files. WET (``conversion`` records,
   text already extracted) compares reading alone; on WARC crossling's reader also extracts the
   main text, so datatrove runs ``WarcReader`` + its ``Trafilatura`` extractor (its usual
   pipeline) for the same output. Targets: crossling >= 1x datatrove; HTTP >= 0.8x local.
2. The corpus run (the pipeline the corpus flow maps, in one process) on the same JSONL inputs
   with the data root on a loopback S3-compatible server (moto's server, its own process) vs a
   local folder. Target: >= 0.7x local.

Measured side by side, alternating, best of ``--repeat``; absolute figures depend on the load.

    python benchmarks/remote_io.py [--files 2] [--wet-records 2000] [--warc-records 300]
                                   [--docs 16000] [--repeat 3] [--skip-datatrove] [--skip-s3] [--skip-reading]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from crossling.pipeline import CorpusConfig, run_local
from crossling.sources.files import plan_partitions, read_partition
from crossling.sources.remote import RemoteConfig

WORDS = {
    "en": "the weather library morning students window quiet table river city train".split(),
    "de": "das Wetter Bibliothek Morgen Studenten Fenster ruhig Tisch Fluss Stadt Zug".split(),
    "ru": "погода библиотека утро студенты окно тихий стол река город поезд".split(),
    "fr": "le temps bibliothèque matin étudiants fenêtre calme table rivière ville".split(),
}

SERVER = """
import sys
from aiohttp import web
app = web.Application()
app.router.add_static("/", sys.argv[1])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=None, print=None)
"""


def _text(rng: random.Random, lang: str, paras: int) -> str:
    return "\n".join(
        " ".join(rng.choices(WORDS[lang], k=rng.randint(30, 80))).capitalize() + "."
        for _ in range(paras)
    )


def build_files(folder: str, files: int, wet_records: int, warc_records: int) -> None:
    """``files`` WET and WARC files: conversion records (text) and HTML response records."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    rng = random.Random(0)
    for k in range(files):
        with open(os.path.join(folder, f"part-{k}.warc.wet.gz"), "wb") as f:
            w = WARCWriter(f, gzip=True)
            w.write_record(w.create_warcinfo_record(f"part-{k}.warc.wet.gz", {"software": "b"}))
            for i in range(wet_records):
                lang = rng.choice(list(WORDS))
                rec = w.create_warc_record(
                    f"https://{lang}.example.org/{k}/{i}",
                    "conversion",
                    payload=io.BytesIO(_text(rng, lang, rng.randint(4, 10)).encode()),
                    warc_content_type="text/plain",
                    warc_headers_dict={"WARC-Identified-Payload-Type": "text/plain"},
                )
                w.write_record(rec)
        with open(os.path.join(folder, f"part-{k}.warc.gz"), "wb") as f:
            w = WARCWriter(f, gzip=True)
            for i in range(warc_records):
                lang = rng.choice(list(WORDS))
                body = "".join(f"<p>{p}</p>" for p in _text(rng, lang, 6).split("\n"))
                page = (
                    f"<html><head><title>{lang} {i}</title></head><body><nav>Home | News | "
                    f"About</nav><article><h1>Page {i}</h1>{body}</article><footer>(c) 2026 "
                    "Example</footer></body></html>"
                ).encode()
                headers = StatusAndHeaders(
                    "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
                )
                rec = w.create_warc_record(
                    f"https://{lang}.example.org/{k}/{i}",
                    "response",
                    payload=io.BytesIO(page),
                    http_headers=headers,
                    warc_headers_dict={"WARC-Identified-Payload-Type": "text/html"},
                )
                w.write_record(rec)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def crossling_read(sources: list[str]) -> int:
    cfg = RemoteConfig()
    parts, errors = plan_partitions(sources, remote=cfg)
    assert not errors, errors
    n = 0
    for p in parts:
        for rec in read_partition(p, remote=cfg):
            n += type(rec).__name__ == "Document"
    return n


def datatrove_read(folder: str, names: list[str], extract: bool) -> int:
    from datatrove.pipeline.readers import WarcReader

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(names) + "\n")
    reader = WarcReader(folder, paths_file=f.name)
    docs = reader.run(None, rank=0, world_size=1)
    if extract:
        from datatrove.pipeline.extractors import Trafilatura

        docs = Trafilatura(favour_precision=True).run(docs, rank=0, world_size=1)
    n = sum(1 for _ in docs)
    os.unlink(f.name)
    return n


def best(fn, repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t0)
    return min(times), n


def bench_reading(args, folder: str) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, folder, str(port)])
    try:
        wait_port(port)
        base = f"http://127.0.0.1:{port}"
        for kind, suffix in (("WET", ".warc.wet.gz"), ("WARC", ".warc.gz")):
            names = sorted(n for n in os.listdir(folder) if n.endswith(suffix))
            if kind == "WARC":
                names = [n for n in names if not n.endswith(".wet.gz")]
            local = [os.path.join(folder, n) for n in names]
            remote = [f"{base}/{n}" for n in names]
            runs = {
                "crossling local": lambda local=local: crossling_read(local),
                "crossling http": lambda remote=remote: crossling_read(remote),
            }
            if not args.skip_datatrove:
                extract = kind == "WARC"
                runs["datatrove local"] = lambda n=names, e=extract: datatrove_read(folder, n, e)
                runs["datatrove http"] = lambda n=names, e=extract: datatrove_read(base, n, e)
            results = {}
            for _ in range(args.repeat):  # alternate, so load changes hit every side alike
                for label, fn in runs.items():
                    t, n = best(fn, 1)
                    prev = results.get(label)
                    results[label] = (min(t, prev[0]) if prev else t, n)
            extra = " (+ Trafilatura extraction for datatrove)" if kind == "WARC" else ""
            print(f"\n{kind}: {len(names)} files{extra}")
            for label, (t, n) in results.items():
                print(f"  {label:18s} {n:6d} documents  {n / t:9.0f} records/s  ({t:.2f}s)")
            rate = {k: v[1] / v[0] for k, v in results.items()}
            print(
                f"  http / local (crossling): {rate['crossling http'] / rate['crossling local']:.2f}x"
            )
            if "datatrove local" in rate:
                print(
                    f"  crossling / datatrove, local: "
                    f"{rate['crossling local'] / rate['datatrove local']:.2f}x; over http: "
                    f"{rate['crossling http'] / rate['datatrove http']:.2f}x"
                )
    finally:
        server.terminate()
        server.wait(10)


def bench_s3_root(args, tmp: str) -> None:
    port = free_port()
    moto = shutil.which("moto_server") or os.path.join(
        os.path.dirname(sys.executable), "moto_server"
    )
    server = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        wait_port(port)
        import s3fs

        s3fs.S3FileSystem().mkdir("bench")
        src = os.path.join(tmp, "docs.jsonl")
        rng = random.Random(1)
        with open(src, "w", encoding="utf-8") as f:
            for _ in range(args.docs):
                lang = rng.choice(list(WORDS))
                f.write(json.dumps({"text": _text(rng, lang, rng.randint(3, 8))}) + "\n")
        # measuring (fastText, quality signals) is shared: tags are reused across runs with the
        # same inputs, so each run gets a fresh corpus name to do the whole work
        cfg = CorpusConfig(partition_bytes=max(1 << 16, os.path.getsize(src) // 4))
        import psutil

        moto_proc = psutil.Process(server.pid)
        times: dict[str, float] = {}
        moto_cpu = {}
        for r in range(args.repeat):
            for label, root in (("local", os.path.join(tmp, "root")), ("s3", "s3://bench/root")):
                c0 = sum(moto_proc.cpu_times()[:2])
                t0 = time.perf_counter()
                m = run_local([src], root, f"c{r}", cfg)
                t = time.perf_counter() - t0
                if label == "s3" and t <= times.get(label, t):
                    moto_cpu[label] = sum(moto_proc.cpu_times()[:2]) - c0
                assert m["conservation"]["balanced"]
                times[label] = min(t, times.get(label, t))
        print(f"\ncorpus run, {args.docs} documents, 4 partitions: data root on S3 vs local")
        for label, t in times.items():
            print(f"  {label:6s} {args.docs / t:8.0f} documents/s  ({t:.2f}s)")
        print(f"  s3 / local: {times['local'] / times['s3']:.2f}x")
        print(
            f"  (the S3 server itself, a Python process on the same cores, used "
            f"{moto_cpu.get('s3', 0):.1f}s of CPU during the best S3 run)"
        )
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--wet-records", type=int, default=2000)
    ap.add_argument("--warc-records", type=int, default=300)
    ap.add_argument("--docs", type=int, default=16000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument("--skip-s3", action="store_true")
    ap.add_argument("--skip-reading", action="store_true")
    args = ap.parse_args()
    if not args.skip_datatrove:
        import datatrove.pipeline.readers  # noqa: F401 - sets up its logger first
        from loguru import logger  # datatrove's logging: a line per file read

        logger.remove()
    tmp = tempfile.mkdtemp(prefix="remote-io-")
    try:
        folder = os.path.join(tmp, "files")
        os.makedirs(folder)
        build_files(folder, args.files, args.wet_records, args.warc_records)
        if not args.skip_reading:
            bench_reading(args, folder)
        if not args.skip_s3:
            bench_s3_root(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
