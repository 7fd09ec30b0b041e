"""Training and evaluation with the corpus on an S3-compatible store (moto's server on loopback),
credentials and endpoint from AWS config files: training reads the corpus from the store, its run
is copied up with its markers last, the evaluation of the copy writes its results, plots and
report to the store, and no credential is written or logged."""

import logging
import os

import pytest

from crossling import registry
from crossling.evaluate.report import model_report
from crossling.evaluate.suite import EvalConfig, evaluate_checkpoint
from crossling.pipeline import run_local
from crossling.storage import upload_tree
from crossling.train.config import TrainConfig
from crossling.train.run import run_training, validate
from tests.remote_servers import fresh_s3fs, s3_server, write_inputs  # noqa: F401 - a fixture

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fresh_s3fs")]

KEY_ID = "AKIAFAKEFROMCONFIGFILE"
SECRET = "config/File+Secret/never-written-9876543210"


def test_train_and_evaluate_against_an_s3_root(tmp_path, monkeypatch, caplog):
    src = write_inputs(tmp_path / "in", per_lang=40)
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
        caplog.set_level(logging.DEBUG, logger="crossling")
        import s3fs

        fs = s3fs.S3FileSystem()
        fs.mkdir("bkt")
        root = "s3://bkt/root"
        run_local([src], root, "web")
        # checkpoints need a local folder: an object-store out root is a one-line error
        remote_out = TrainConfig(data_root=root, corpus="web", max_steps=2)
        with pytest.raises(ValueError, match="local folder"):
            validate(remote_out)
        out = str(tmp_path / "out")
        summary = run_training(TrainConfig(data_root=root, corpus="web", out_root=out, max_steps=2))
        assert summary["step"] == 2
        # the run copied up, markers last; then found and evaluated on the store
        run_dir = summary["run_dir"]
        rel = os.path.relpath(run_dir, out)
        assert upload_tree(run_dir, f"{root}/{rel}") > 0
        refs = registry.find_checkpoints(root)
        assert [r.step for r in refs] == [2]
        res = evaluate_checkpoint(refs[0], EvalConfig(max_rows_per_lang=10))
        assert res["metrics"]
        rep = model_report(root, refs[0].model_name, {(refs[0].run_version, 2)})
        assert rep.report_uri.startswith("s3://bkt/root/eval/")
        assert all(u.startswith("s3://bkt/root/eval/") for u in rep.plots.values())
        written = fs.find("bkt/root/eval")
        assert any(p.endswith("results.json") for p in written)
        assert any(p.endswith(".png") for p in written) and any(
            p.endswith("report.md") for p in written
        )
        assert not os.path.exists("bkt")  # nothing went to a local folder named like the bucket
        objects = fs.find("bkt/root")
        assert not [o for o in objects if ".tmp-" in o]  # written under final names
        written = b"".join(fs.cat(o) for o in objects)
    for secret in (KEY_ID, SECRET):
        assert secret.encode() not in written
        assert secret not in caplog.text
