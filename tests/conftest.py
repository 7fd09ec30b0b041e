"""Shared test setup: an isolated PREFECT_HOME, offline Hugging Face, one Prefect server per session."""

from __future__ import annotations

import os
import tempfile

# Must happen before prefect is imported anywhere: Prefect reads its settings at import time.
_PREFECT_HOME = tempfile.mkdtemp(prefix="crossling-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
# Commands run by tests (subprocesses included) start the local server of their data root on
# first use (flows/local_server.py); it stops this long after the last one ends, not 10 minutes.
os.environ.setdefault("CROSSLING_SERVER_IDLE_S", "5")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_server():
    """A real temporary Prefect server (one per test session; ~7 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return str(root)
