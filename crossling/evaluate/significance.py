"""Is a change between two checkpoints real? A paired bootstrap on the per-example values.

Every ``results.json`` keeps, per language or direction, the values each metric is computed from,
one entry per held-out example (``examples``, docs/CONTRACTS.md): masked tokens, correct
predictions and summed negative log-likelihood per text; a retrieval hit per query; sacrebleu's
sufficient statistics per translated segment; a correct flag per classified text. Two checkpoints
evaluated on the same rows are compared on the rows both scored (matched by id): both metrics are
recomputed on the same resamples of those rows (Koehn 2004, "Statistical significance tests for
machine translation evaluation"), which gives

- ``delta``: current minus previous on the common rows,
- a 95% interval of that difference over the resamples,
- ``p``: the share of resamples in which the current checkpoint is *not* worse (one-sided; small
  means the drop holds up however the evaluation rows are drawn).

A macro average (``<family>/avg``) is resampled language by language (stratified), then averaged.

For metrics that are a sum over examples (masked-token accuracy, pseudo-perplexity and bits per
byte per text, retrieval hits, classification) ``p`` comes from the exact one-sided sign test on the per-example
differences instead (the exact McNemar test for hits; ties left out): with a handful of examples
the bootstrap is overconfident (three texts that lost one masked token each out of seven give a
bootstrap p of 0.01, the sign test 0.125). BLEU and chrF are corpus statistics, not sums over
segments, so they keep the bootstrap's ``p``. Nothing here reads files or runs a model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from crossling.evaluate import metrics as M

BOOTSTRAP_SAMPLES = 1000  # resamples per test; p is then resolved to about 0.001
SIGNIFICANCE_LEVEL = 0.05  # a drop counts only when p is below this
CONFIDENCE = 0.95  # width of the reported interval of the difference
MIN_EXAMPLES = 2  # fewer common rows than this in a language or direction: not tested
_BLOCK = 100  # resamples computed at once (memory: block x rows x statistics)

# Per-example values (results.json "examples", keyed "<set>/<language or direction>") each metric
# family is computed from.
EXAMPLE_SET = {
    "mlm_accuracy": "mlm",
    "pseudo_perplexity": "mlm",
    "retrieval_top1": "retrieval",
    "bleu": "translation",
    "chrf": "translation",
    "zeroshot_accuracy": "classification",
    "supervised_accuracy": "classification",
    "bits_per_byte": "bpb",
}


def _sum_ratio(num: str, den: str, transform: Callable[[np.ndarray], np.ndarray] | None = None):
    def stat(cols: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
        n = cols[num][idx].sum(axis=-1)
        d = cols[den][idx].sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(d > 0, n / np.maximum(d, 1e-12), np.nan)
        return transform(r) if transform else r

    return stat


def _mean(col: str):
    def stat(cols: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
        return cols[col][idx].mean(axis=-1)

    return stat


def _corpus_score(col: str, score: Callable[[list[float]], float]):
    def stat(cols: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
        summed = cols[col][idx].sum(axis=-2)  # (..., statistics)
        flat = summed.reshape(-1, summed.shape[-1])
        return np.array([score(list(row)) for row in flat]).reshape(summed.shape[:-1])

    return stat


# family -> statistic(columns, indexes): the metric of the rows ``indexes`` (any leading shape).
STATISTICS: dict[str, Callable[[dict[str, np.ndarray], np.ndarray], np.ndarray]] = {
    "mlm_accuracy": _sum_ratio("correct", "tokens"),
    "pseudo_perplexity": _sum_ratio("nll", "tokens", np.exp),
    "retrieval_top1": _mean("hit"),
    "bleu": _corpus_score("bleu_stats", M.bleu_from_stats),
    "chrf": _corpus_score("chrf_stats", M.chrf_from_stats),
    "zeroshot_accuracy": _mean("correct"),
    "supervised_accuracy": _mean("correct"),
    "bits_per_byte": _sum_ratio("nll", "bytes", lambda r: r / math.log(2)),
}


def _ratio(num: str, den: str, sign: float = 1.0):
    def score(cols: dict[str, np.ndarray]) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return sign * np.where(cols[den] > 0, cols[num] / np.maximum(cols[den], 1e-12), 0.0)

    return score


# family -> per-example score, higher is better: what the sign test compares example by example.
PER_EXAMPLE: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "mlm_accuracy": _ratio("correct", "tokens"),
    "pseudo_perplexity": _ratio("nll", "tokens", -1.0),  # mean negative log-likelihood, negated
    "retrieval_top1": lambda c: c["hit"],
    "zeroshot_accuracy": lambda c: c["correct"],
    "supervised_accuracy": lambda c: c["correct"],
    "bits_per_byte": _ratio("nll", "bytes", -1.0),  # per text, negated: higher is better
}


def sign_test(worse: int, better: int) -> float:
    """One-sided exact sign test: the chance of at least ``worse`` of ``worse + better`` examples
    getting worse if either way were equally likely (1.0 when none changed)."""
    from scipy.stats import binomtest

    n = worse + better
    return 1.0 if n == 0 else float(binomtest(worse, n, 0.5, alternative="greater").pvalue)


@dataclass(frozen=True)
class PairedTest:
    """A paired bootstrap of one metric between two checkpoints, on the rows both scored."""

    delta: float  # current - previous, recomputed on the common rows
    ci_low: float  # CONFIDENCE interval of the difference over the resamples
    ci_high: float
    p: float  # one-sided, that the current checkpoint is worse (small: it really is)
    examples: int  # common rows (all languages / directions of an average)
    samples: int
    method: str = "paired bootstrap"  # what gave p: "paired bootstrap" or "sign test"
    worse: int | None = None  # sign test: examples that got worse / better (ties left out)
    better: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("delta", "ci_low", "ci_high", "p"):
            d[k] = round(d[k], 6)
        return d


def _aligned(
    previous: dict[str, Any], current: dict[str, Any], columns: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
    """Columns of the rows both results scored, in the current result's order."""
    where = {x: i for i, x in enumerate(previous.get("ids") or [])}
    pairs = [(where[x], i) for i, x in enumerate(current.get("ids") or []) if x in where]
    if len(pairs) < MIN_EXAMPLES or any(c not in previous or c not in current for c in columns):
        return None
    pi = np.array([p for p, _ in pairs])
    ci = np.array([c for _, c in pairs])
    return (
        {c: np.asarray(previous[c], dtype=np.float64)[pi] for c in columns},
        {c: np.asarray(current[c], dtype=np.float64)[ci] for c in columns},
    )


_COLUMNS = {
    "mlm": ["tokens", "correct", "nll"],
    "retrieval": ["hit"],
    "translation": ["bleu_stats", "chrf_stats"],
    "classification": ["correct"],
    "bpb": ["nll", "bytes"],
}


def paired_test(
    metric: str,
    previous: dict[str, Any],
    current: dict[str, Any],
    *,
    higher_is_better: bool = True,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> PairedTest | None:
    """Paired bootstrap of ``metric`` (``<family>/<group>`` or ``<family>/avg``) between two
    ``results.json`` dicts; None when either lacks per-example values or they share no rows.

    Args:
        metric: e.g. ``mlm_accuracy/de``, ``bleu/en-de``, ``pseudo_perplexity/avg``.
        previous, current: the two results (their ``examples``).
        higher_is_better: the direction of the metric (what "worse" means for ``p``).
        samples: bootstrap resamples.
        seed: seeds the resampling: the same two results always give the same test.
    """
    family, _, group = metric.partition("/")
    prefix = EXAMPLE_SET.get(family)
    stat = STATISTICS.get(family)
    if prefix is None or stat is None:
        return None
    ex_p, ex_c = previous.get("examples") or {}, current.get("examples") or {}
    if group == "avg":
        groups = sorted(
            k.partition("/")[2]
            for k in ex_c
            if k.startswith(prefix + "/")
            and k in ex_p
            and f"{family}/{k.partition('/')[2]}" in (current.get("metrics") or {})
        )
    else:
        groups = [group] if f"{prefix}/{group}" in ex_c and f"{prefix}/{group}" in ex_p else []
    aligned = []
    for g in groups:
        a = _aligned(ex_p[f"{prefix}/{g}"], ex_c[f"{prefix}/{g}"], _COLUMNS[prefix])
        if a is not None:
            aligned.append(a)
    if not aligned:
        return None
    rng = np.random.default_rng(seed)
    deltas = np.zeros(samples)
    observed = 0.0
    for cols_p, cols_c in aligned:
        n = len(next(iter(cols_c.values())))
        everything = np.arange(n)
        observed += float(stat(cols_c, everything)) - float(stat(cols_p, everything))
        idx = rng.integers(0, n, size=(samples, n))
        for start in range(0, samples, _BLOCK):
            block = idx[start : start + _BLOCK]
            deltas[start : start + len(block)] += stat(cols_c, block) - stat(cols_p, block)
    k = len(aligned)
    deltas /= k
    observed /= k
    deltas = deltas[~np.isnan(deltas)]
    if not len(deltas) or math.isnan(observed):
        return None
    worse = -deltas if higher_is_better else deltas
    tail = (1.0 - CONFIDENCE) / 2
    test = PairedTest(
        delta=observed,
        ci_low=float(np.quantile(deltas, tail)),
        ci_high=float(np.quantile(deltas, 1.0 - tail)),
        p=float((1 + np.sum(worse <= 0)) / (len(deltas) + 1)),
        examples=sum(len(next(iter(c.values()))) for c, _ in aligned),
        samples=len(deltas),
    )
    score = PER_EXAMPLE.get(family)
    if score is None:
        return test
    n_worse = n_better = 0
    for cols_p, cols_c in aligned:
        diff = score(cols_c) - score(cols_p)  # per example, higher is better
        n_worse += int(np.sum(diff < 0))
        n_better += int(np.sum(diff > 0))
    return replace(
        test,
        p=sign_test(n_worse, n_better),
        method="sign test",
        worse=n_worse,
        better=n_better,
    )
