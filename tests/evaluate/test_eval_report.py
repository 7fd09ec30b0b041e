"""Comparisons across checkpoints: deltas, regression flag, leaderboard, plots, markdown."""

from __future__ import annotations

import matplotlib.image as mpimg
import pytest

from crossling.evaluate import report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _result(step: int, metrics: dict[str, float], data: str = "d1") -> dict:
    return {
        "model_name": "tiny-mlm",
        "run_version": "20261101T000000Z-aaaaaaaa",
        "step": step,
        "checkpoint": f"file:///x/checkpoint-{step}",
        "model_kind": "encoder",
        "objective": "mlm",
        "eval_config_hash": "cfg",
        "data": {"sha256": data * 8, "corpus": {"name": "c", "version": "v"}},
        "metrics": metrics,
        "signatures": {},
    }


HISTORY = [
    _result(
        100,
        {
            "mlm_accuracy/en": 0.30,
            "mlm_accuracy/avg": 0.30,
            "pseudo_perplexity/en": 50.0,
            "pseudo_perplexity/avg": 50.0,
        },
    ),
    _result(
        200,
        {
            "mlm_accuracy/en": 0.40,
            "mlm_accuracy/avg": 0.40,
            "pseudo_perplexity/en": 40.0,
            "pseudo_perplexity/avg": 40.0,
        },
    ),
    # Accuracy drops 10% relative (regression); perplexity rises 2% (within the 5% margin).
    _result(
        300,
        {
            "mlm_accuracy/en": 0.36,
            "mlm_accuracy/avg": 0.36,
            "pseudo_perplexity/en": 40.8,
            "pseudo_perplexity/avg": 40.8,
        },
    ),
]


def test_regression_flag_against_previous_checkpoint():
    changes = {c.metric: c for c in report.compare(HISTORY)}
    acc = changes["mlm_accuracy/en"]
    assert acc.regression and acc.previous == 0.40 and acc.delta_previous == pytest.approx(-0.04)
    assert acc.best == 0.40 and acc.best_checkpoint.endswith("/200")
    ppl = changes["pseudo_perplexity/en"]
    assert not ppl.regression and not ppl.higher_is_better
    regs = report.regressions(HISTORY)
    assert [r["metric"] for r in regs] == ["mlm_accuracy/avg", "mlm_accuracy/en"]
    assert regs[0]["relative_drop"] == pytest.approx(0.1)
    # A wider margin tolerates it; perplexity rising 30% is flagged (lower is better).
    assert report.regressions(HISTORY, margin=0.2) == []
    worse_ppl = [*HISTORY[:2], _result(300, {"pseudo_perplexity/en": 52.0})]
    assert [r["metric"] for r in report.regressions(worse_ppl)] == ["pseudo_perplexity/en"]
    # Step 200 improved on 100: a new best, no regression; the first checkpoint has no baseline.
    assert all(c.new_best and not c.regression for c in report.compare(HISTORY, 1))
    assert all(c.previous is None and not c.regression for c in report.compare(HISTORY, 0))


def test_changed_eval_data_is_marked_not_comparable():
    hist = [HISTORY[0], _result(200, HISTORY[1]["metrics"], data="d2")]
    assert not any(c.comparable for c in report.compare(hist))
    assert "different data" in report.markdown_report(hist)


def test_leaderboard_and_text_table():
    rows = report.leaderboard(HISTORY)
    assert [r["step"] for r in rows] == [100, 200, 300]
    assert rows[2] == {
        "checkpoint": "20261101T000000Z-aaaaaaaa/300",
        "step": 300,
        "mlm_accuracy": 0.36,
        "pseudo_perplexity": 40.8,
        "regressions": 2,
        "eval_data": "d1d1d1d1",
    }
    text = report.format_table(rows, "== tiny-mlm")
    assert text.splitlines()[1].split() == list(rows[0])
    assert "0.36" in text.splitlines()[-1]


def test_plots_are_valid_pngs_and_markdown_embeds_them(tmp_path):
    plots = report.write_plots(HISTORY, str(tmp_path))
    assert set(plots) == {"mlm_accuracy", "pseudo_perplexity"}
    for path in plots.values():
        with open(path, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE
        img = mpimg.imread(path)
        assert img.shape[0] > 100 and img.shape[1] > 200  # height, width in pixels
    md = report.markdown_report(HISTORY, plots, plot_links={"mlm_accuracy": "file:///p.png"})
    assert "**REGRESSION: 2 metric(s)" in md
    assert md.count("data:image/png;base64,") == 2 and "[mlm_accuracy.png](file:///p.png)" in md
    line = next(x for x in md.splitlines() if x.startswith("| mlm_accuracy/en |"))
    assert "| 0.36 | 0.4 | -0.04 | 0.4 | -0.04 | REGRESSION |" in line


def test_tiny_absolute_drops_on_near_zero_metrics_are_not_regressions():
    def res(step, acc, bleu):
        return {
            "step": step,
            "run_version": "v",
            "metrics": {"mlm_accuracy/en": acc, "bleu/en-de": bleu},
            "data": {"sha256": "x"},
            "eval_config_hash": "c",
        }

    noisy = [res(100, 0.0668, 2.0), res(200, 0.0522, 1.7)]  # -22% / -15% relative, tiny absolute
    assert report.regressions(noisy) == []
    real = [res(100, 0.30, 20.0), res(200, 0.25, 17.0)]
    assert sorted(r["metric"] for r in report.regressions(real)) == [
        "bleu/en-de",
        "mlm_accuracy/en",
    ]
