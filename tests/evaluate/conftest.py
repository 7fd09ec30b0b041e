"""Fixtures of the evaluation tests (builders live in evalfixtures.py)."""

from __future__ import annotations

import pytest

from tests.evaluate.evalfixtures import write_corpus


@pytest.fixture
def corpus_root(data_root: str) -> str:
    """A data root holding the fixture corpus version."""
    write_corpus(data_root)
    return data_root


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared 2-core box the thread pool's
    spinning costs 10x: score with one thread, then restore the setting for other tests."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
