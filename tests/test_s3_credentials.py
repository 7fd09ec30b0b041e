"""A data root on an S3-compatible store (moto's server on loopback), credentials and endpoint
from AWS config files: the corpus is written and read there, and no credential is written."""

import json
import logging

import pytest

from crossling.corpus import CorpusVersion
from crossling.pipeline import run_local
from tests.remote_servers import s3_server
from tests.texts import distinct

pytestmark = pytest.mark.slow  # ~10 s: a corpus run against the store

KEY_ID = "AKIAFAKEFROMCONFIGFILE"
SECRET = "config/File+Secret/never-written-9876543210"


def write_inputs(d, per_lang: int = 10) -> str:
    d.mkdir()
    path = d / "a.jsonl"
    rows = [distinct(lang, i) for lang in ("en", "de", "ru") for i in range(per_lang)]
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def fresh_s3fs():
    s3fs = pytest.importorskip("s3fs")
    s3fs.S3FileSystem.clear_instance_cache()  # no client of another test's endpoint
    yield
    s3fs.S3FileSystem.clear_instance_cache()


def test_a_root_on_s3_with_credentials_from_aws_config_files(
    tmp_path, monkeypatch, caplog, fresh_s3fs
):
    src = write_inputs(tmp_path / "in")
    with s3_server() as endpoint:
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
            monkeypatch.delenv(k, raising=False)
        (tmp_path / "credentials").write_text(
            f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
        )
        (tmp_path / "config").write_text(
            f"[default]\nregion = us-east-1\nendpoint_url = {endpoint}\n"
        )
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
        import s3fs

        fs = s3fs.S3FileSystem()
        fs.mkdir("bkt")
        caplog.set_level(logging.DEBUG, logger="crossling")
        m = run_local([src], "s3://bkt/root", "c")
        assert m["conservation"]["balanced"] and m["counts"]["docs"] == 30
        v = CorpusVersion.open("s3://bkt/root", "c")
        assert v.table("docs", columns=["id"]).num_rows == 30
        objects = fs.find("bkt/root")
        # written under final names: no temporary object left, the manifest among them
        assert not [o for o in objects if ".tmp-" in o]
        assert any(o.endswith(f"/{v.version}/manifest.json") for o in objects)
        written = b"".join(fs.cat(o) for o in objects)
    assert not (tmp_path / "bkt").exists()
    for secret in (KEY_ID, SECRET):
        assert secret.encode() not in written
        assert secret not in caplog.text
