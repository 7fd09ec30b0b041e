"""Finding corpus versions, checkpoints and results under a data root."""

from __future__ import annotations

import json
import os

import pytest

from crossling import registry
from crossling.storage import write_json


def _fake_checkpoint(root: str, model: str, version: str, step: int, meta: bool = True) -> str:
    path = os.path.join(root, "models", model, version, f"checkpoint-{step}")
    os.makedirs(path)
    if meta:
        with open(os.path.join(path, "metadata.json"), "w") as f:
            json.dump({"model_name": model, "step": step}, f)
    return path


def test_find_checkpoints_pending_and_results(data_root):
    v1, v2 = "20261101T000000Z-aaaaaaaa", "20261102T000000Z-bbbbbbbb"
    _fake_checkpoint(data_root, "m", v1, 10)
    _fake_checkpoint(data_root, "m", v1, 2)
    _fake_checkpoint(data_root, "m", v2, 1)
    _fake_checkpoint(data_root, "m", v2, 5, meta=False)  # incomplete: no metadata
    os.makedirs(os.path.join(data_root, "models", "m", v2, "checkpoint-7.tmp"))  # being written
    _fake_checkpoint(data_root, "other", v1, 3)
    found = registry.find_checkpoints(data_root, "m")
    assert [(c.run_version, c.step) for c in found] == [(v1, 2), (v1, 10), (v2, 1)]
    assert [c.model_name for c in registry.find_checkpoints(data_root)] == ["m"] * 3 + ["other"]

    ref = found[1]
    assert ref.eval_dir.endswith(f"eval/m/{v1}/10") and ref.results() is None
    write_json(ref.data_root.fs, ref.results_path, {"run_version": v1, "step": 10})
    assert ref.has_results()
    assert [c.step for c in registry.pending_checkpoints(data_root, "m")] == [2, 1]
    assert [c.step for c in registry.evaluated_checkpoints(data_root)] == [10]
    assert registry.load_results(data_root, "m") == [{"run_version": v1, "step": 10}]
    assert registry.evaluated_models(data_root) == ["m"]


def test_resolve_checkpoint_accepts_paths_and_relative_names(data_root):
    v = "20261101T000000Z-aaaaaaaa"
    path = _fake_checkpoint(data_root, "m", v, 3)
    by_path = registry.resolve_checkpoint(path, data_root)
    by_name = registry.resolve_checkpoint(f"m/{v}/checkpoint-3", data_root)
    by_uri = registry.resolve_checkpoint("file://" + os.path.abspath(path), data_root)
    assert by_path == by_name == by_uri
    assert (by_path.model_name, by_path.run_version, by_path.step) == ("m", v, 3)
    with pytest.raises(ValueError, match="not a complete checkpoint"):
        registry.resolve_checkpoint("m/nope/checkpoint-3", data_root)


def test_find_corpus_versions(corpus_root):
    from tests.evaluate.evalfixtures import CORPUS, CORPUS_VERSION

    found = registry.find_corpus_versions(corpus_root)
    assert [(c.name, c.version) for c in found] == [(CORPUS, CORPUS_VERSION)]
    assert found[0].manifest()["name"] == CORPUS


def test_evaluation_selects_pending_or_all_checkpoints(data_root):
    from crossling.evaluate.select import select_checkpoints as resolve_checkpoints

    v = "20261101T000000Z-aaaaaaaa"
    _fake_checkpoint(data_root, "m", v, 1)
    done = registry.find_checkpoints(data_root)[0]
    _fake_checkpoint(data_root, "m", v, 2)
    write_json(done.data_root.fs, done.results_path, {})
    assert [c.step for c in resolve_checkpoints(data_root, [])] == [2]
    assert [c.step for c in resolve_checkpoints(data_root, None, overwrite=True)] == [1, 2]
    assert [c.step for c in resolve_checkpoints(data_root, [f"m/{v}/checkpoint-1"])] == [1]
    with pytest.raises(ValueError):
        resolve_checkpoints(data_root, ["m/nope"])
