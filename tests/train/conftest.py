"""Fixtures of the training tests: a small multilingual corpus version and its tokenizer.

The corpus and tokenizer are built once per session (a few seconds); tests that write runs copy
the tokenizer into their own out root so they never retrain it and never share run folders.
"""

from __future__ import annotations

import json
import os
import random
import shutil

import pytest
import torch

from tests.train.corpus_fixture import NOUNS, SCRIPTS, make_corpus, sentence

# Tiny models do not parallelize; on a shared CPU extra OpenMP threads only wait on each other.
torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CORPUS = "fixture"


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory) -> str:
    """A data root with one complete corpus version (DOCS in 7 languages, 5 scripts; PAIRS)."""
    root = str(tmp_path_factory.mktemp("train-data"))
    make_corpus(root, CORPUS)
    return root


@pytest.fixture(scope="session")
def corpus(corpus_root):
    from crossling.train.corpus import TrainCorpus

    return TrainCorpus.open(corpus_root, CORPUS)


@pytest.fixture(scope="session")
def tokenizer_info(corpus, tmp_path_factory):
    from crossling.tokenizer import ensure_tokenizer

    out = str(tmp_path_factory.mktemp("train-tok"))
    return ensure_tokenizer(out, corpus)


@pytest.fixture(scope="session")
def tokenizer(tokenizer_info):
    from crossling.tokenizer import load_tokenizer

    return load_tokenizer(tokenizer_info.path)


@pytest.fixture
def out_root(tmp_path, corpus, tokenizer_info) -> str:
    """An empty out root that already holds the session's tokenizer (so runs do not retrain it)."""
    from crossling.storage import DataRoot

    root = tmp_path / "out"
    dest = DataRoot(str(root)).tokenizer_dir(corpus.name, corpus.version)
    shutil.copytree(tokenizer_info.path, dest)
    return str(root)


def labeled_rows(seed: int = 0, per_lang: int = 60) -> list[dict]:
    """A topic set over the fixture lexicon: is the subject an animal or a person?"""
    rng = random.Random(seed)
    animals = {0, 1, 6}  # cat, dog, bird
    rows = []
    for lang in ("en", "de", "ru", "zh"):
        for _ in range(per_lang):
            s = rng.randrange(len(NOUNS[lang]))
            text = sentence(lang, s, rng.randrange(8), rng.randrange(10), rng.randrange(6))
            rows.append(
                {
                    "text": text,
                    "label": "animal" if s in animals else "person",
                    "lang": lang,
                    "script": SCRIPTS[lang],
                }
            )
    return rows


@pytest.fixture
def labeled_path(tmp_path) -> str:
    path = tmp_path / "labeled.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for r in labeled_rows():
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return str(path)
