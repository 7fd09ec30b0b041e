"""The corpus run's schedule on each executor (inline, local worker processes, a Dask
LocalCluster) builds the same version row for row, and reports its progress as it goes."""

import json
import os
import sys

import pytest

from crossling.corpus import CorpusVersion
from crossling.run.config import CorpusConfig
from crossling.run.executors import DaskExecutor, InlineExecutor, LocalExecutor
from crossling.run.plan import plan_run
from crossling.run.schedule import run, total_units
from tests.texts import PARAGRAPHS, distinct

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from compare_versions import compare_versions  # noqa: E402


def _inputs(tmp_path) -> list[str]:
    paths = []
    for k in range(3):  # distinct documents and, in every file, copies of the same five
        rows = [distinct(lang, f"{k}-{i}") for i, lang in enumerate(["en", "de", "ru", "zh"] * 3)]
        rows += [f"{PARAGRAPHS[lang]} ({k})" for lang in ["en", "de", "fr", "es", "el"]]
        rows += ["", PARAGRAPHS["en"]]  # empty after normalization; an exact duplicate
        path = tmp_path / f"f{k}.jsonl"
        path.write_text(
            "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in rows),
            encoding="utf-8",
        )
        paths.append(str(path))
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "".join(
            json.dumps(
                {
                    "src_lang": "en",
                    "tgt_lang": "de",
                    "src_text": f"a house {i}",
                    "tgt_text": f"ein Haus {i}",
                }
            )
            + "\n"
            for i in range(12)
        ),
        encoding="utf-8",
    )
    return [*paths, str(pairs)]


def _build(tmp_path, inputs, name, executor):
    root = str(tmp_path / name)
    plan = plan_run(inputs, root, "x", CorpusConfig(heldout_min=2))
    seen = []
    with executor:
        manifest = run(plan, executor, seen.append)
    assert seen[-1].done == total_units(plan) and seen[-1].unit.name == "commit"
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert sum(p.unit.name == "process" for p in seen) == len(plan.partitions)
    return CorpusVersion.open(root, "x", manifest["version"])


@pytest.mark.slow
def test_every_executor_builds_the_same_version(tmp_path):
    inputs = _inputs(tmp_path)
    inline = _build(tmp_path, inputs, "inline", InlineExecutor())
    assert inline.counts["docs"] and inline.counts["pairs"] == 12
    assert inline.counts["by_reason"]["dedup/exact_duplicate"] >= 2
    local = _build(tmp_path, inputs, "local", LocalExecutor(2))
    assert compare_versions(inline, local) == []
    dask = _build(tmp_path, inputs, "dask", DaskExecutor("local", 2))
    assert compare_versions(inline, dask) == []
