"""A corpus run killed with SIGKILL midway and started again ends with the same DOCS ids."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from crossling.corpus import CorpusVersion
from tests.texts import PARAGRAPHS, distinct

pytestmark = pytest.mark.slow


def _make_inputs(d, n_files=8, rows=300):
    d.mkdir()
    langs = list(PARAGRAPHS)
    for k in range(n_files):
        with open(d / f"part{k}.jsonl", "w", encoding="utf-8") as f:
            for i in range(rows):
                lang = langs[(i + k) % len(langs)]
                f.write(json.dumps({"text": distinct(lang, f"{k}-{i}")}, ensure_ascii=False) + "\n")
            f.write(json.dumps({"text": distinct("en", "0-0")}) + "\n")  # cross-file dup


def _ids(root):
    v = CorpusVersion.open(str(root), "k")
    return v, sorted(v.table("docs", columns=["id"])["id"].to_pylist())


def _cmd(src, root):
    return [
        sys.executable,
        "-m",
        "flows.cli",
        "corpus",
        str(src),
        "--out",
        str(root),
        "--name",
        "k",
        "--workers",
        "1",
    ]


def test_sigkill_midway_then_rerun_matches_uninterrupted(tmp_path):
    src = tmp_path / "in"
    _make_inputs(src)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "ph"), "PYTHONPATH": os.getcwd()}
    env.pop("PREFECT_API_URL", None)
    full_root, killed_root = tmp_path / "full", tmp_path / "killed"
    subprocess.run(_cmd(src, full_root), env=env, check=True, capture_output=True, timeout=600)

    proc = subprocess.Popen(
        _cmd(src, killed_root),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    measured = 0
    while time.time() < deadline:  # kill once some, but not all, partitions are measured
        measured = sum(
            1
            for dp, _, fs in os.walk(killed_root)
            for f in fs
            if f == "done.json" and "_tags" in dp
        )
        if measured >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert measured >= 2, "the run never finished a partition"
    assert not any(f == "manifest.json" for _, _, fs in os.walk(killed_root) for f in fs)

    subprocess.run(_cmd(src, killed_root), env=env, check=True, capture_output=True, timeout=600)
    v_full, ids_full = _ids(full_root)
    v_killed, ids_killed = _ids(killed_root)
    assert ids_killed == ids_full and len(ids_full) > 2000
    # The partitions measured before the kill were not measured again.
    assert v_killed.manifest["tags_reused"] >= measured
    assert v_full.version.split("-")[1] == v_killed.version.split("-")[1]  # same config+inputs
    assert v_killed.manifest["counts"] == v_full.manifest["counts"]
