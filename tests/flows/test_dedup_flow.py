"""``crossling dedup`` as a Prefect flow: the CLI, artifacts, and a real Dask LocalCluster."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from crossling.dedup.job import DedupJobConfig, run_local
from flows.cli import main
from tests.dedup.test_job import WIDE, write_inputs
from tests.prefect_reads import artifacts

WIDE_FLAGS = ["--threshold", "0.7", "--bands", "32", "--rows", "4"]


def same_outputs(a, b) -> None:
    for sub in ("kept", "rejects"):
        x = pd.read_parquet(a / sub).sort_values("id").reset_index(drop=True)
        y = pd.read_parquet(b / sub).sort_values("id").reset_index(drop=True)
        pd.testing.assert_frame_equal(x, y)


def split_jsonl(tmp_path, path: str, parts: int) -> list[str]:
    lines = open(path, encoding="utf-8").read().splitlines(keepends=True)
    out = []
    for k in range(parts):
        p = tmp_path / f"part{k}.jsonl"
        p.write_text("".join(lines[k::parts]), encoding="utf-8")
        out.append(str(p))
    return out


@pytest.mark.usefixtures("prefect_server")
def test_cli_runs_the_flow_and_matches_the_local_run(tmp_path, capsys):
    inputs, orig = write_inputs(tmp_path)
    out = tmp_path / "cli"
    assert main(["dedup", *inputs, "--out", str(out), *WIDE_FLAGS, "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    near = sum(1 for k, v in orig.items() if k != v)
    assert f"{near} near-duplicates" in printed and str(out / "kept") in printed
    run_local(inputs, str(tmp_path / "local"), DedupJobConfig(near=WIDE))
    same_outputs(out, tmp_path / "local")
    summary = json.load(open(out / "dedup.json"))
    assert summary["by_reason"]["near_duplicate"] == near and summary["balanced"]
    arts = {a.key for a in artifacts("dedup-cli-%", like=True)}
    assert {"dedup-cli-rejects", "dedup-cli-stages", "dedup-cli-summary"} <= arts


@pytest.mark.usefixtures("prefect_server")
def test_cli_usage_errors_exit_2_with_one_line(tmp_path, capsys):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    a = str(tmp_path / "a.jsonl")
    cases = [
        ([str(tmp_path / "missing.jsonl")], "missing.jsonl: no such file"),
        ([a, "--paragraphs"], "--paragraphs needs --lines"),
        ([a, "--bands", "40", "--rows", "8"], "exceeds num_perm"),
        ([a, "--threshold", "1.5"], "invalid --threshold (1.5): Input should be less than 1"),
        ([str(tmp_path), "--lines", "1"], None),  # a folder of JSONL files; line dedup tasks
    ]
    for args, message in cases:
        rc = main(["dedup", *args, "--out", str(tmp_path / "o"), "--workers", "1"])
        err = capsys.readouterr().err.strip().splitlines()
        if message is None:
            assert rc == 0
            continue
        assert rc == 2 and len(err) == 1 and message in err[0], (args, err)


@pytest.mark.slow
def test_dedup_on_a_dask_local_cluster_matches_the_local_run(tmp_path):
    inputs, _ = write_inputs(tmp_path)
    inputs = split_jsonl(tmp_path, inputs[0], 3) + inputs[1:]
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "ph"), "PYTHONPATH": os.getcwd()}
    env.pop("PREFECT_API_URL", None)
    out = tmp_path / "dask"
    cmd = [sys.executable, "-m", "flows.cli", "dedup", *inputs, "--out", str(out), *WIDE_FLAGS]
    cmd += ["--workers", "2", "--dask-address", "local", "--json"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.load(open(out / "dedup.json"))
    assert summary["partitions"] == 4 and summary["stages"]["map"]["tasks"] == 4
    assert 0 < summary["stages"]["map"]["peak_rss_mb"] < 2000
    run_local(inputs, str(tmp_path / "local"), DedupJobConfig(near=WIDE))
    same_outputs(out, tmp_path / "local")
