"""Find corpus versions, checkpoints and evaluation results under a data root.

Corpus versions are found and opened through :class:`crossling.corpus.CorpusVersion` (nothing here
looks inside a version folder); checkpoints and results by the layout of docs/CONTRACTS.md::

    <root>/models/<model_name>/<run_version>/checkpoint-<step>/metadata.json
    <root>/eval/<model_name>/<run_version>/<step>/results.json

A checkpoint is complete when its directory is named ``checkpoint-<step>`` (the trainer writes a
``.tmp`` directory and renames it) and holds a ``metadata.json``; anything else is ignored.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import Any

import fsspec

from crossling.corpus import CorpusVersion
from crossling.storage import DataRoot, is_version, read_json

CHECKPOINT_METADATA = "metadata.json"
RESULTS = "results.json"
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True, order=True)
class CheckpointRef:
    """One complete checkpoint. Sorts by model, run version (a sortable timestamp), then step."""

    model_name: str
    run_version: str
    step: int
    root: str  # the data root (local path or fsspec URL) the checkpoint lives under
    path: str  # the checkpoint directory, as a path of the root's filesystem

    @property
    def data_root(self) -> DataRoot:
        return DataRoot(self.root)

    @property
    def name(self) -> str:
        """Human-readable id: ``<model>/<run_version>/checkpoint-<step>``."""
        return f"{self.model_name}/{self.run_version}/checkpoint-{self.step}"

    @property
    def eval_dir(self) -> str:
        return self.data_root.eval_dir(self.model_name, self.run_version, self.step)

    @property
    def results_path(self) -> str:
        return posixpath.join(self.eval_dir, RESULTS)

    def metadata(self) -> dict[str, Any]:
        """The checkpoint's ``metadata.json`` (lineage, model kind, languages, ...)."""
        return read_json(self.data_root.fs, posixpath.join(self.path, CHECKPOINT_METADATA))

    def has_results(self) -> bool:
        return self.data_root.fs.exists(self.results_path)

    def results(self) -> dict[str, Any] | None:
        """The checkpoint's ``results.json``, or None when it has not been evaluated."""
        if not self.has_results():
            return None
        return read_json(self.data_root.fs, self.results_path)


@dataclass(frozen=True, order=True)
class CorpusVersionRef:
    """One complete corpus version (its manifest exists)."""

    name: str
    version: str
    root: str

    @property
    def path(self) -> str:
        return DataRoot(self.root).version_dir(self.name, self.version)

    def open(self) -> CorpusVersion:
        """The version, opened through its manifest."""
        return CorpusVersion.open(self.root, self.name, self.version)

    def manifest(self) -> dict[str, Any]:
        return self.open().manifest


def _ls_dirs(root: DataRoot, path: str) -> list[str]:
    if not root.fs.exists(path):
        return []
    return sorted(
        posixpath.basename(p["name"].rstrip("/"))
        for p in root.fs.ls(path, detail=True)
        if p["type"] == "directory"
    )


def find_corpus_versions(root: str, name: str | None = None) -> list[CorpusVersionRef]:
    """Complete corpus versions under ``root`` (of one corpus, or of all), oldest first per corpus."""
    data = DataRoot(root)
    names = [name] if name else data.corpora()
    return [CorpusVersionRef(n, v, root) for n in names for v in data.versions(n)]


def models(root: str) -> list[str]:
    """Names of the models that have a directory under ``<root>/models``."""
    return _ls_dirs(DataRoot(root), DataRoot(root).join("models"))


def find_checkpoints(root: str, model_name: str | None = None) -> list[CheckpointRef]:
    """Complete checkpoints under ``<root>/models`` (of one model, or of all), sorted."""
    data = DataRoot(root)
    out = []
    for model in [model_name] if model_name else models(root):
        model_dir = data.join("models", model)
        for run_version in _ls_dirs(data, model_dir):
            if not is_version(run_version):
                continue
            run_dir = posixpath.join(model_dir, run_version)
            for entry in _ls_dirs(data, run_dir):
                m = _CHECKPOINT_RE.match(entry)
                ckpt = posixpath.join(run_dir, entry)
                if m and data.fs.exists(posixpath.join(ckpt, CHECKPOINT_METADATA)):
                    out.append(CheckpointRef(model, run_version, int(m.group(1)), root, ckpt))
    return sorted(out)


def pending_checkpoints(root: str, model_name: str | None = None) -> list[CheckpointRef]:
    """Complete checkpoints that have no ``results.json`` yet."""
    return [c for c in find_checkpoints(root, model_name) if not c.has_results()]


def evaluated_checkpoints(root: str, model_name: str | None = None) -> list[CheckpointRef]:
    """Complete checkpoints that have a ``results.json``."""
    return [c for c in find_checkpoints(root, model_name) if c.has_results()]


def load_results(root: str, model_name: str) -> list[dict[str, Any]]:
    """Every ``results.json`` of a model, ordered by run version then step.

    Results whose checkpoint directory has since been deleted are included: the eval tree is the
    record of what was measured.
    """
    data = DataRoot(root)
    base = data.join("eval", model_name)
    found = []
    for run_version in _ls_dirs(data, base):
        for step in _ls_dirs(data, posixpath.join(base, run_version)):
            path = posixpath.join(base, run_version, step, RESULTS)
            if step.isdigit() and data.fs.exists(path):
                found.append((run_version, int(step), read_json(data.fs, path)))
    return [r for _, _, r in sorted(found, key=lambda t: (t[0], t[1]))]


def evaluated_models(root: str) -> list[str]:
    """Names of the models with at least one directory under ``<root>/eval``."""
    return _ls_dirs(DataRoot(root), DataRoot(root).join("eval"))


def resolve_checkpoint(spec: str, root: str) -> CheckpointRef:
    """A checkpoint named on a command line or in an event payload.

    Args:
        spec: a checkpoint directory (``.../models/<model>/<run_version>/checkpoint-<step>``) as a
            path or URI, or the same path relative to ``<root>/models``.
        root: the data root for relative specs. A checkpoint laid out under another root keeps
            that root (its results go there too).

    Raises:
        ValueError: when ``spec`` does not name a complete checkpoint.
    """
    data = DataRoot(root)
    if "://" in spec:
        candidates = [fsspec.core.url_to_fs(spec)[1]]
    else:
        candidates = [data.join("models", spec.strip("/")), os.path.abspath(spec)]
    for cand in candidates:
        parts = cand.rstrip("/").split("/")
        m = _CHECKPOINT_RE.match(parts[-1])
        if len(parts) < 4 or not m or parts[-4] != "models":
            continue
        if not data.fs.exists(posixpath.join(cand, CHECKPOINT_METADATA)):
            continue
        ckpt_root = "/".join(parts[:-4]) or "/"
        owner = root if data.path.rstrip("/") == ckpt_root else ckpt_root
        return CheckpointRef(parts[-3], parts[-2], int(m.group(1)), owner, cand.rstrip("/"))
    raise ValueError(
        f"{spec!r} is not a complete checkpoint (expected a directory "
        "<root>/models/<model>/<run_version>/checkpoint-<step> with metadata.json)"
    )
