"""Fixtures of the back-translation tests: a small zh-en corpus built by the corpus pipeline, and
a tiny translation model trained on it (once per session).

The corpus holds 600 real en-zh pairs of the demo data and ~110 English documents, plus three
documents with hostile sentences that pass the corpus filters but must not be back-translated:
a sentence without letters, a sentence repeated across documents, and a sentence that is the
English side of a real pair.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from importlib import resources

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CORPUS = "zhen"
N_PAIRS, N_DOCS = 600, 120
MODEL_STEPS = 400
HOSTILE_MARKER = "The garden is quiet in winter."


def _demo_rows(name: str) -> list[dict]:
    path = resources.files("crossling") / "data" / "demo" / name
    with gzip.open(str(path), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def hostile_docs(pairs: list[dict], docs: list[dict]) -> list[dict]:
    """Three documents that pass the corpus filters and hold sentences BT must not translate."""
    filler = [s.strip() for d in docs for s in re.split(r"(?<=[.?]) ", d["text"]) if s.strip()]

    def doc(i: int, extra: str) -> dict:
        text = " ".join([*filler[i * 6 : i * 6 + 6], extra])
        return {"id": f"hostile-{i}", "text": text, "lang": "en"}

    return [
        doc(0, f"1984. {HOSTILE_MARKER}"),  # no letters; then a sentence repeated below
        doc(1, HOSTILE_MARKER),  # the same sentence again
        doc(2, pairs[0]["src_text"]),  # the English side of a real pair
    ]


def _write_sources(d, pad: int) -> list[str]:
    """The parallel file and the monolingual file; ``pad`` more documents go before the hostile
    ones (which moves their ids, and so their split)."""
    pairs = _demo_rows("zh-en.parallel.jsonl.gz")[:N_PAIRS]
    mono = _demo_rows("en.mono.jsonl.gz")
    hostile = hostile_docs(pairs, mono[N_DOCS + pad : N_DOCS + pad + 12])
    docs = mono[: N_DOCS - 12 + pad] + hostile
    out = []
    for name, rows in (("zh-en.parallel.jsonl", pairs), ("en.mono.jsonl", docs)):
        path = d / name
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        out.append(str(path))
    return out


@pytest.fixture(scope="session")
def bt_session_root(tmp_path_factory) -> dict:
    """A root with the corpus version and a tiny en<->zh model trained on it (both directions).

    The hostile documents must be in the train split (held-out documents are never
    back-translated); the split follows from ids, so the inputs are shifted until they are.
    """
    from crossling import pipeline
    from crossling.corpus import CorpusVersion
    from crossling.train.config import TrainConfig
    from crossling.train.run import run_training

    for pad in range(20):
        root = str(tmp_path_factory.mktemp("bt-root"))
        sources = _write_sources(tmp_path_factory.mktemp("bt-sources"), pad)
        manifest = pipeline.run_local(
            sources, root, CORPUS, pipeline.load_config(None, heldout_fraction=0.1)
        )
        v = CorpusVersion.open(root, CORPUS, manifest["version"])
        texts = [
            t for b in v.docs(split="train", columns=["text"]) for t in b.column("text").to_pylist()
        ]
        if sum(HOSTILE_MARKER in t for t in texts) == 2 and sum("1984." in t for t in texts) == 1:
            break
    else:
        raise RuntimeError("the hostile documents never all landed in the train split")
    s = run_training(
        TrainConfig(
            data_root=root,
            corpus=CORPUS,
            version=manifest["version"],
            objective="translation",
            preset="tiny",
            max_steps=MODEL_STEPS,
            batch_size=32,
            save_every=MODEL_STEPS,
            log_every=MODEL_STEPS,
            keep_train_state=1,
            model_name="zhen-mt",
        )
    )
    shutil.rmtree(os.path.join(s["checkpoint"], "train_state"), ignore_errors=True)
    return {"root": root, "version": manifest["version"], "checkpoint": s["checkpoint"]}


@pytest.fixture
def bt_root(tmp_path, bt_session_root) -> dict:
    """A private copy of the session root (tests that write versions do not see each other's)."""
    root = str(tmp_path / "root")
    shutil.copytree(bt_session_root["root"], root)
    rel = os.path.relpath(bt_session_root["checkpoint"], bt_session_root["root"])
    return {**bt_session_root, "root": root, "checkpoint": os.path.join(root, rel)}


@pytest.fixture(scope="session")
def ct2_cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("ct2-cache"))
