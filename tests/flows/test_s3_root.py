"""A data root on an S3-compatible store (moto's server on loopback), inputs read from it too:
the corpus flow on a Dask LocalCluster of worker processes, a rerun that finds it complete, and no
credential anywhere it wrote or logged."""

import json
import os
import subprocess
import sys

import pytest

from crossling.corpus import CorpusVersion
from crossling.pipeline import CorpusConfig, plan_run
from tests.remote_servers import (
    fresh_s3fs,  # noqa: F401 - a fixture
    html,
    s3_server,
    warc_bytes,
    wet_bytes,
)
from tests.texts import PARAGRAPHS, distinct

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fresh_s3fs")]

KEY_ID = "AKIAFAKECROSSLING01"
SECRET = "fake/Secret+Key/never-to-be-written-0123456789"


def _inputs(d) -> None:
    d.mkdir()
    rows = [distinct(lang, i) for i, lang in enumerate(["en", "de", "fr", "es", "el"] * 4)]
    rows += [f"{PARAGRAPHS[lang]} (copy)" for lang in ["en", "de"]] * 2  # near-duplicates
    (d / "a.jsonl").write_text(
        "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in rows), encoding="utf-8"
    )
    pages = [
        (f"https://ru.example.org/{i}", "200 OK", "text/html", html("T", distinct("ru", i)))
        for i in range(8)
    ]
    (d / "b.warc.gz").write_bytes(warc_bytes(pages))
    wet = [(f"https://zh.example.org/{i}", distinct("zh", i)) for i in range(8)]
    (d / "c.warc.wet.gz").write_bytes(wet_bytes(wet))


def test_corpus_flow_on_dask_with_inputs_and_root_on_s3(tmp_path):
    _inputs(tmp_path / "in")
    with s3_server() as endpoint:
        creds = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        env = {
            **os.environ,
            **creds,
            "PREFECT_HOME": str(tmp_path / "ph"),
            "PYTHONPATH": os.getcwd(),
        }
        env.pop("PREFECT_API_URL", None)
        old = {k: os.environ.get(k) for k in creds}
        os.environ.update(creds)
        try:
            import s3fs

            fs = s3fs.S3FileSystem()
            fs.mkdir("bkt")
            fs.put(str(tmp_path / "in") + "/", "bkt/in/", recursive=True)

            def corpus(*extra):
                return subprocess.run(
                    [sys.executable, "-m", "flows.cli", "corpus", "s3://bkt/in/"]
                    + ["--out", "s3://bkt/root", "--name", "web", "--workers", "2", *extra],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )

            out = corpus("--dask-address", "local")
            assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
            # a rerun finds the finished version on the store: nothing to do
            plan = plan_run(["s3://bkt/in/"], "s3://bkt/root", "web", CorpusConfig())
            assert plan.complete
            v = CorpusVersion.open("s3://bkt/root", "web")
            m = v.manifest
            assert m["conservation"]["balanced"]
            assert m["inputs"] == [
                "s3://bkt/in/a.jsonl",
                "s3://bkt/in/b.warc.gz",
                "s3://bkt/in/c.warc.wet.gz",
            ]
            objects = fs.find("bkt/root")
            assert not [o for o in objects if ".tmp-" in o]  # nothing renamed into place
            assert any("/dedup-index/" in o for o in objects)
            written = b"".join(fs.cat(o) for o in objects)
            # what a local root gets from these inputs (tests/flows/test_dask.py checks that a
            # Dask run and a local run agree row for row)
            assert m["counts"]["docs"] == 36 + 2  # the distinct texts and one of each copy
            assert m["counts"]["by_reason"]["dedup/exact_duplicate"] == 2
            langs = {k: v["docs"] for k, v in m["counts"]["by_lang"].items()}
            assert langs == {"en": 5, "de": 5, "fr": 4, "es": 4, "el": 4, "ru": 8, "zh": 8}
        finally:
            for k, val in old.items():
                if val is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = val
    # no credential in any object written, in the logs, or in the Prefect server's database
    logs = (out.stdout + out.stderr).encode()
    prefect_files = b"".join(
        p.read_bytes()
        for p in (tmp_path / "ph").rglob("*")
        if p.is_file() and p.stat().st_size < 1 << 28
    )
    for secret in (KEY_ID.encode(), SECRET.encode()):
        assert secret not in written and secret not in logs and secret not in prefect_files
