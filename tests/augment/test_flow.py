"""``crossling backtranslate`` through the real Prefect server: usage errors, artifacts, event."""

from __future__ import annotations

import json

import pytest

from flows.cli import main
from tasks.events import CORPUS_PUBLISHED
from tests import prefect_reads
from tests.augment.conftest import CORPUS


def _run(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["backtranslate", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_usage_errors_are_one_line(bt_root, prefect_server, capsys):
    root = bt_root["root"]
    base = ["--data", root, "--corpus", CORPUS]
    cases = [
        (
            ["--data", root + "-missing", "--corpus", CORPUS, "--lang", "en", "--to", "zh"],
            "does not exist",
        ),
        (["--data", root, "--corpus", "nope", "--lang", "en", "--to", "zh"], "no complete version"),
        ([*base, "--lang", "de", "--to", "zh"], "no train documents in de"),
        ([*base, "--lang", "en", "--to", "fr"], "no translation checkpoint"),
        ([*base, "--lang", "en", "--to", "zh", "--model", "/no/such/dir"], "not a directory"),
        ([*base, "--lang", "en", "--to", "zh", "--budget", "lots"], "--budget lots"),
    ]
    for args, message in cases:
        rc, _, err = _run(capsys, *args)
        assert rc == 2, args
        assert err.count("\n") == 1 and message in err, err


@pytest.mark.slow
def test_flow_publishes_a_version_artifacts_and_an_event(bt_root, prefect_server, capsys):
    root = bt_root["root"]
    args = ["--data", root, "--corpus", CORPUS, "--lang", "en", "--to", "zh", "--beam", "2"]
    rc, out, _ = _run(capsys, *args, "--budget", "0.5", "--json")
    assert rc == 0
    s = json.loads(out)["rounds"][0]
    assert (
        s["new"]
        and s["parent"] == bt_root["version"]
        and s["model"]["path"] == bt_root["checkpoint"]
    )
    key = f"backtranslate-{CORPUS}"
    filters = prefect_reads.artifacts(f"{key}-filters")[-1].data
    table = json.loads(filters) if isinstance(filters, str) else filters
    assert table[0]["outcome"] == "kept" and table[0]["sentences"] == s["kept"]
    samples = prefect_reads.artifacts(f"{key}-samples")[-1].data
    rows = json.loads(samples) if isinstance(samples, str) else samples
    assert len(rows) == min(20, s["kept"]) and all(r["synthetic source"] for r in rows)
    summary = prefect_reads.artifacts(f"{key}-summary")[-1].data
    assert s["version"] in summary and "sentences/s" in summary
    events = prefect_reads.events(CORPUS_PUBLISHED, root, expected=1)
    assert [e.payload["version"] for e in events] == [s["version"]]
    assert events[0].payload["derived"] == "backtranslation"

    # The same command again finds the version: nothing new, no second event.
    rc, out, _ = _run(capsys, *args, "--budget", "0.5")
    assert rc == 0 and "already complete" in out
