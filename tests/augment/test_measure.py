"""The demo's significance test of a back-translation gain, on real sacrebleu statistics."""

from __future__ import annotations

from crossling.augment.measure import DirectionScore, gain_test
from crossling.evaluate import metrics


def _score(hyps: list[str], refs: list[str]) -> DirectionScore:
    s = metrics.translation_score(hyps, refs, "en")
    stats = {
        "ids": [str(i) for i in range(len(refs))],
        "bleu_stats": s.bleu_stats,
        "chrf_stats": s.chrf_stats,
    }
    return DirectionScore("ckpt", "zh-en", s.bleu, s.chrf, s.segments, [], stats)


REFS = [
    f"the {a} cat sat on the {b} mat today"
    for a in "red blue old new big".split()
    for b in "warm cold long short".split()
]


def test_a_clear_gain_is_significant_and_no_change_is_not():
    worse = [r.replace("cat sat", "dog ran").replace("today", "") for r in REFS]
    better = [r if i % 5 else r.replace("today", "") for i, r in enumerate(REFS)]
    before, after = _score(worse, REFS), _score(better, REFS)
    t = gain_test(before, after, "bleu")
    assert t["delta"] > 20 and t["p"] < 0.05 and t["pairs"] == len(REFS)
    assert t["ci"][0] <= t["delta"] <= t["ci"][1] and t["ci"][0] > 0
    same = gain_test(before, _score(worse, REFS), "chrf")
    assert same["delta"] == 0 and same["p"] > 0.5  # not better in every resample
    assert "stats" not in before.to_dict()  # results stay small; the statistics are for tests
