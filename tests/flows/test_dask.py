"""Scale-out: the corpus flow's partitions on a real Dask LocalCluster (prefect-dask)."""

import os
import subprocess
import sys

import pytest

from crossling.pipeline import run_local
from crossling.storage import DataRoot
from tests.texts import PARAGRAPHS

pytestmark = pytest.mark.slow


def test_corpus_on_a_dask_local_cluster_matches_the_process_pool(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for k in range(3):
        (src / f"f{k}.jsonl").write_text(
            "".join(
                f'{{"text": "{PARAGRAPHS[lang]} ({k}-{i})"}}\n'
                for i, lang in enumerate(["en", "de", "fr", "es", "el"] * 4)
            ),
            encoding="utf-8",
        )
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "ph"), "PYTHONPATH": os.getcwd()}
    env.pop("PREFECT_API_URL", None)
    root = tmp_path / "dask"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "corpus",
            str(src),
            "--out",
            str(root),
            "--name",
            "d",
            "--workers",
            "2",
            "--dask-address",
            "local",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    # No service for this root: a temporary server, and the last line says where the runs went.
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("crossling corpus: note: no Prefect server runs for"), last
    assert f"`crossling serve --root {root}`" in last and "temporary server" in last
    dr = DataRoot(str(root))
    m = dr.read_manifest("d", dr.latest_version("d"))
    assert m["conservation"]["balanced"]
    local = run_local([str(src)], str(tmp_path / "local"), "d")  # same pipeline, no Prefect
    assert m["counts"] == local["counts"] and m["counts"]["docs"] == 60
