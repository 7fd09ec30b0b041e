"""Comparisons across checkpoints: deltas, significant regressions, leaderboard, plots, markdown."""

from __future__ import annotations

import math
import random

import matplotlib.image as mpimg
import pytest

from crossling.evaluate import report
from crossling.evaluate.significance import paired_test

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _mlm_examples(rng: random.Random, texts: int, tokens: int, acc: float, ppl: float) -> dict:
    """Per-text values of a masked LM at about accuracy ``acc`` and pseudo-perplexity ``ppl``."""
    correct = [sum(rng.random() < acc for _ in range(tokens)) for _ in range(texts)]
    nll = [tokens * math.log(ppl) * rng.uniform(0.8, 1.2) for _ in range(texts)]
    return {
        "ids": [f"doc-{i}" for i in range(texts)],
        "tokens": [tokens] * texts,
        "correct": correct,
        "nll": nll,
    }


def _result(step: int, examples: dict[str, dict], data: str = "d1", **extra) -> dict:
    """A results.json whose metrics are computed here, by hand, from its per-example values."""
    metrics = {}
    for key, ex in examples.items():
        lang = key.split("/", 1)[1]
        metrics[f"mlm_accuracy/{lang}"] = sum(ex["correct"]) / sum(ex["tokens"])
        metrics[f"pseudo_perplexity/{lang}"] = math.exp(sum(ex["nll"]) / sum(ex["tokens"]))
    for fam in ("mlm_accuracy", "pseudo_perplexity"):
        vals = [v for k, v in metrics.items() if k.startswith(fam + "/")]
        if vals:
            metrics[f"{fam}/avg"] = sum(vals) / len(vals)
    return {
        "model_name": "tiny-mlm",
        "run_version": "20261101T000000Z-aaaaaaaa",
        "step": step,
        "evaluated_at": f"2026-11-01T00:00:{step % 60:02d}",
        "checkpoint": f"file:///x/checkpoint-{step}",
        "model_kind": "encoder",
        "objective": "mlm",
        "eval_config_hash": "cfg",
        "data": {"sha256": data * 8, "corpus": {"name": "c", "version": "v"}},
        "metrics": metrics,
        "examples": examples,
        "coverage": {"status": "ok", "languages": {}, "directions": {}, "missing": []},
        "signatures": {},
        **extra,
    }


def _history(drop_to: float, texts: int = 200, tokens: int = 16) -> list[dict]:
    """Three checkpoints; the third one's English accuracy moves from 0.40 to ``drop_to``."""
    out = []
    for step, acc, ppl in ((100, 0.30, 50.0), (200, 0.40, 40.0), (300, drop_to, 40.8)):
        rng = random.Random(step)
        out.append(_result(step, {"mlm/en": _mlm_examples(rng, texts, tokens, acc, ppl)}))
    return out


def test_a_large_significant_drop_is_a_regression_with_p_and_interval():
    hist = _history(0.30)
    changes = {c.metric: c for c in report.compare(hist)}
    acc = changes["mlm_accuracy/en"]
    assert acc.regression and acc.delta_previous < -0.05
    assert acc.test.p < 0.01 and acc.test.ci_high < 0 < -acc.test.ci_low  # excludes zero
    assert acc.test.examples == 200
    assert acc.best_checkpoint.endswith("/200")
    # Perplexity: lower is better; 2% worse is within the 5% margin whatever the test says.
    assert not changes["pseudo_perplexity/en"].regression
    assert not changes["pseudo_perplexity/en"].higher_is_better
    regs = report.regressions(hist)
    assert [r["metric"] for r in regs] == ["mlm_accuracy/avg", "mlm_accuracy/en"]
    assert regs[1]["p"] < 0.01 and regs[1]["ci"][1] < 0
    # A wider margin tolerates it; the first checkpoint has nothing to compare with.
    assert report.regressions(hist, margin=0.5) == []
    assert all(c.previous is None and not c.regression for c in report.compare(hist, 0))
    assert all(c.new_best and not c.regression for c in report.compare(hist, 1))


def test_noise_on_small_sets_is_not_a_regression():
    """The demo's case: a few texts of 16 masked tokens, accuracy a few points lower by chance."""
    rng = random.Random(7)
    prev = _result(100, {"mlm/ja": _mlm_examples(rng, 4, 16, 0.30, 50.0)})
    ex = dict(prev["examples"]["mlm/ja"])
    ex["correct"] = [max(0, c - d) for c, d in zip(ex["correct"], [3, 0, 2, 0], strict=True)]
    cur = _result(200, {"mlm/ja": ex})
    change = {c.metric: c for c in report.compare([prev, cur])}["mlm_accuracy/ja"]
    # More than 5% relative and more than 0.02 absolute, but 2 of 4 texts: not significant.
    assert change.delta_previous < -0.05
    assert change.test is not None and change.test.p >= 0.05
    assert not change.regression
    assert change.test.ci_low < 0 <= change.test.ci_high


def test_results_without_per_example_values_are_never_flagged():
    hist = _history(0.30)
    for r in hist:
        r.pop("examples")
    changes = report.compare(hist)
    assert not any(c.regression for c in changes) and all(c.test is None for c in changes)
    assert "| - | - |" in report.markdown_report(hist)  # interval and p shown as not tested


def test_paired_test_uses_the_rows_both_scored_and_stratifies_averages():
    a = _result(
        1,
        {
            "mlm/en": {
                "ids": ["x", "y", "z"],
                "tokens": [10, 10, 10],
                "correct": [5, 5, 5],
                "nll": [10.0, 10.0, 10.0],
            },
            "mlm/de": {
                "ids": ["p", "q"],
                "tokens": [10, 10],
                "correct": [2, 2],
                "nll": [20.0, 20.0],
            },
        },
    )
    b = _result(
        2,
        {
            # "z" is gone, "w" is new: only x and y are compared; they lost 2 tokens each.
            "mlm/en": {
                "ids": ["w", "x", "y"],
                "tokens": [10, 10, 10],
                "correct": [0, 3, 3],
                "nll": [10.0, 10.0, 10.0],
            },
            "mlm/de": {
                "ids": ["p", "q"],
                "tokens": [10, 10],
                "correct": [2, 2],
                "nll": [20.0, 20.0],
            },
        },
    )
    t = paired_test("mlm_accuracy/en", a, b)
    assert t.examples == 2 and t.delta == pytest.approx(-0.2)
    assert t.ci_low == pytest.approx(-0.2) and t.ci_high == pytest.approx(-0.2)
    avg = paired_test("mlm_accuracy/avg", a, b)
    assert avg.examples == 4 and avg.delta == pytest.approx(-0.1)  # mean of -0.2 and 0
    assert paired_test("mlm_accuracy/fr", a, b) is None
    assert paired_test("bleu/en-de", a, b) is None


def test_bleu_is_tested_on_sacrebleu_statistics():
    from crossling.evaluate.metrics import translation_score

    refs = [f"the cat number {i} sees the dog in the garden" for i in range(40)]
    good = translation_score(refs, refs, "de")
    bad = translation_score(
        [r.replace("cat", "bird").replace("dog", "fish") for r in refs], refs, "de"
    )

    def res(step, s):
        ex = {
            "ids": [str(i) for i in range(40)],
            "bleu_stats": s.bleu_stats,
            "chrf_stats": s.chrf_stats,
        }
        return {
            "metrics": {"bleu/en-de": s.bleu, "chrf/en-de": s.chrf},
            "examples": {"translation/en-de": ex},
            "step": step,
            "run_version": "v",
        }

    t = paired_test("bleu/en-de", res(1, good), res(2, bad))
    assert t.delta == pytest.approx(bad.bleu - good.bleu, abs=1e-6) and t.p < 0.01
    regs = report.regressions([res(1, good), res(2, bad)])
    assert {r["metric"] for r in regs} == {"bleu/en-de", "chrf/en-de"}


def test_changed_eval_data_is_marked_not_comparable():
    hist = _history(0.40)
    hist[2]["data"]["sha256"] = "d2" * 8
    assert not any(c.comparable for c in report.compare(hist, 2))
    assert "different data" in report.markdown_report(hist)


def test_leaderboard_shows_what_had_nothing_to_evaluate():
    hist = _history(0.30)
    hist[1]["coverage"] = {
        "status": "partial",
        "languages": {"ja": {"rows": 0, "status": "no_heldout_rows"}},
        "directions": {},
        "missing": ["ja"],
    }
    empty = _result(400, {})
    empty["metrics"] = {}
    empty["coverage"] = {
        "status": "nothing_to_evaluate",
        "languages": {},
        "directions": {},
        "missing": ["en", "ja"],
    }
    rows = report.leaderboard([*hist, empty])
    assert [r["step"] for r in rows] == [100, 200, 300, 400]
    assert rows[1]["status"] == "partial" and rows[1]["no_heldout"] == "ja"
    assert rows[2]["regressions"] == 2 and rows[2]["status"] == "ok"
    assert rows[3]["status"] == "nothing_to_evaluate" and rows[3]["mlm_accuracy"] is None
    text = report.format_table(rows, "== tiny-mlm")
    assert text.splitlines()[1].split() == list(rows[0])
    md = report.markdown_report([*hist, empty])
    assert "**NOTHING TO EVALUATE:**" in md and "No regressions" not in md
    md2 = report.markdown_report(hist[:2])
    assert (
        "**Nothing to evaluate for 1 of its languages/directions:** `ja` (no_heldout_rows)" in md2
    )


def test_plots_are_valid_pngs_and_markdown_embeds_them(tmp_path):
    hist = _history(0.30)
    plots = report.write_plots(hist, str(tmp_path))
    assert set(plots) == {"mlm_accuracy", "pseudo_perplexity"}
    for path in plots.values():
        with open(path, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE
        img = mpimg.imread(path)
        assert img.shape[0] > 100 and img.shape[1] > 200  # height, width in pixels
    md = report.markdown_report(hist, plots, plot_links={"mlm_accuracy": "file:///p.png"})
    assert "**REGRESSION: 2 metric(s) fell significantly" in md
    assert md.count("data:image/png;base64,") == 2 and "[mlm_accuracy.png](file:///p.png)" in md
    line = next(x for x in md.splitlines() if x.startswith("| mlm_accuracy/en |"))
    cells = [c.strip() for c in line.split("|")[1:-1]]
    assert cells[-1] == "REGRESSION" and cells[5] == "<0.001"
    assert cells[4].startswith("[-") and cells[4].endswith("]")  # the 95% interval, below zero


def test_tiny_absolute_drops_on_near_zero_metrics_are_not_regressions():
    rng = random.Random(3)
    a = _result(100, {"mlm/en": _mlm_examples(rng, 400, 16, 0.067, 2000.0)})
    ex = dict(a["examples"]["mlm/en"])
    ex["correct"] = [max(0, c - 1) if i % 4 == 0 else c for i, c in enumerate(ex["correct"])]
    b = _result(200, {"mlm/en": ex})
    change = {c.metric: c for c in report.compare([a, b])}["mlm_accuracy/en"]
    # -25% relative and significant (the same texts lost tokens), but 0.016 absolute < 0.02.
    assert change.test.p < 0.05 and change.delta_previous > -0.02
    assert not change.regression


def test_a_checkpoint_0_baseline_is_shown_but_never_compared_with():
    """checkpoint-0 (the untrained weights, save_initial) can score better on some metric than
    the first trained checkpoint (mean-pooled random embeddings retrieve by shared tokens): that
    is not a regression of training."""
    rng = random.Random(11)
    base = _result(0, {"mlm/en": _mlm_examples(rng, 200, 16, 0.40, 40.0)})
    trained = _result(300, {"mlm/en": _mlm_examples(rng, 200, 16, 0.20, 900.0)})
    later = _result(600, {"mlm/en": _mlm_examples(rng, 200, 16, 0.21, 800.0)})
    assert report.regressions([base, trained]) == []
    assert all(c.previous is None for c in report.compare([base, trained]))
    assert all(c.previous is None for c in report.compare([base, trained], 0))
    changes = {c.metric: c for c in report.compare([base, trained, later])}
    assert changes["mlm_accuracy/en"].previous == trained["metrics"]["mlm_accuracy/en"]
    rows = report.leaderboard([base, trained, later])
    assert [r["step"] for r in rows] == [0, 300, 600] and rows[0]["mlm_accuracy"] is not None


def test_a_few_lost_tokens_are_not_significant_by_the_exact_sign_test():
    """Seen in the demo: German, 7 texts of 16 masked tokens; 3 texts had 1 hit, now none.
    The bootstrap alone would call that significant (p ~0.01); the exact sign test says 0.125."""
    ids = [f"d{i}" for i in range(7)]
    prev = _result(
        300,
        {
            "mlm/de": {
                "ids": ids,
                "tokens": [16] * 7,
                "correct": [1, 1, 1, 0, 0, 0, 0],
                "nll": [80.0] * 7,
            }
        },
    )
    cur = _result(
        600, {"mlm/de": {"ids": ids, "tokens": [16] * 7, "correct": [0] * 7, "nll": [70.0] * 7}}
    )
    change = {c.metric: c for c in report.compare([prev, cur])}
    acc = change["mlm_accuracy/de"]
    assert acc.test.method == "sign test" and (acc.test.worse, acc.test.better) == (3, 0)
    assert acc.test.p == pytest.approx(0.125) and not acc.regression
    assert acc.test.ci_high <= 0  # the bootstrap interval is still reported
    ppl = change["pseudo_perplexity/de"]  # every text improved: p of "worse" is 1
    assert ppl.test.p == 1.0 and (ppl.test.worse, ppl.test.better) == (0, 7)


def test_holm_keeps_the_chance_of_any_false_alarm_below_the_level():
    assert report.holm([0.01, 0.02, 0.03, 0.04], 0.05) == [True, False, False, False]
    assert report.holm([0.2, 0.001, 0.012], 0.05) == [False, True, True]
    assert report.holm([], 0.05) == []


def test_a_borderline_drop_among_many_tested_metrics_is_not_a_regression():
    """The demo's case: one language of many where six texts each lost tokens (exact sign test
    p = 1/64, below 0.05 on its own). A checkpoint is tested on every language and average at
    once; at 0.05 each, one metric in twenty would be flagged by chance, and Holm's correction
    does not flag this one. A drop on every text of a larger set still is."""
    langs = ["de", "en", "es", "fr", "it", "ja", "ko", "pt", "ru", "zh"]

    def history(texts: int, lost: int) -> list[dict]:
        rng = random.Random(texts)
        prev = {f"mlm/{lang}": _mlm_examples(rng, texts, 16, 0.5, 40.0) for lang in langs}
        cur = {k: dict(v) for k, v in prev.items()}
        cur["mlm/de"]["correct"] = [max(0, c - lost) for c in prev["mlm/de"]["correct"]]
        return [_result(100, prev), _result(200, cur)]

    small = {c.metric: c for c in report.compare(history(6, 3))}
    de = small["mlm_accuracy/de"]
    assert de.delta_previous < -0.1 and de.test.p == pytest.approx(1 / 64)
    assert not any(c.regression for c in small.values())
    large = {c.metric: c for c in report.compare(history(40, 6))}
    assert large["mlm_accuracy/de"].regression and large["mlm_accuracy/de"].test.p < 1e-6
