"""Scale-out: the corpus flow's partitions on a real Dask LocalCluster (prefect-dask)."""

import json
import os
import subprocess
import sys

import pytest

from crossling.corpus import CorpusVersion
from crossling.pipeline import run_local
from crossling.storage import DataRoot
from tests.texts import PARAGRAPHS, distinct

pytestmark = pytest.mark.slow


def test_corpus_on_a_dask_local_cluster_matches_the_process_pool(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for k in range(3):  # 60 distinct documents, and near-copies of 5 of them in every file
        rows = [
            distinct(lang, f"{k}-{i}") for i, lang in enumerate(["en", "de", "fr", "es", "el"] * 4)
        ]
        rows += [f"{PARAGRAPHS[lang]} ({k})" for lang in ["en", "de", "fr", "es", "el"]]
        (src / f"f{k}.jsonl").write_text(
            "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in rows),
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
    # No service for this root: the root's local server, started by this command, keeps the runs;
    # the last line says where.
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"crossling corpus: note: runs kept by the local Prefect server of {root}"
    )
    assert f"`crossling status --root {root}`" in last and "started by this command" in last
    dr = DataRoot(str(root))
    m = dr.read_manifest("d", dr.latest_version("d"))
    assert m["conservation"]["balanced"]
    local = run_local([str(src)], str(tmp_path / "local"), "d")  # same pipeline, no Prefect
    assert m["counts"] == local["counts"] and m["counts"]["docs"] == 65
    assert m["counts"]["by_reason"]["dedup/near_duplicate"] == 10  # same stages, same result

    def rows(root, kind, cols):
        t = CorpusVersion.open(str(root), "d").table(kind, columns=cols)
        return sorted(map(tuple, zip(*(t[c].to_pylist() for c in cols), strict=True)))

    assert rows(root, "docs", ["id", "dup_cluster_size", "split"]) == rows(
        tmp_path / "local", "docs", ["id", "dup_cluster_size", "split"]
    )
    assert rows(root, "rejects", ["id", "reason", "duplicate_of"]) == rows(
        tmp_path / "local", "rejects", ["id", "reason", "duplicate_of"]
    )
