"""Compare a model's results across checkpoints: leaderboard, deltas, regressions, plots, markdown.

Input is the list of a model's ``results.json`` dicts in checkpoint order (run version, then
step; see :func:`crossling.registry.load_results`). Nothing here runs a model.

A metric regresses when it is worse than on the previous checkpoint by more than the margin
(relative, and at least ``MIN_ABS_DROP`` in its own units) *and* the drop is significant: a paired
test on the per-example values both results keep (:mod:`crossling.evaluate.significance`: the
exact sign test, or the paired bootstrap for BLEU/chrF) gives p below ``SIGNIFICANCE_LEVEL``
after Holm's correction over all the metrics the checkpoint is tested on (:func:`holm`).
Results without per-example values are never flagged.
"""

from __future__ import annotations

import base64
import math
import posixpath
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import fsspec

from crossling.evaluate.significance import SIGNIFICANCE_LEVEL, PairedTest, paired_test
from crossling.evaluate.suite import HEADLINE_ORDER, LOWER_IS_BETTER, NOTHING
from crossling.storage import atomic_open

DEFAULT_REGRESSION_MARGIN = 0.05  # relative: a metric 5% worse than the previous checkpoint
# A drop must also exceed this, in the metric's own units, to count as a regression: on small
# evaluation sets a near-zero accuracy moving by one item is a large *relative* change and noise.
# Accuracies are in [0, 1] (0.02 = 2 points), BLEU and chrF in points. Families not listed
# (pseudo-perplexity) use the relative margin alone.
MIN_ABS_DROP = {
    "mlm_accuracy": 0.02,
    "retrieval_top1": 0.02,
    "zeroshot_accuracy": 0.02,
    "supervised_accuracy": 0.02,
    "classification_accuracy": 0.02,
    "bleu": 0.5,
    "chrf": 0.5,
}


MAX_LISTED = 8  # languages named in a leaderboard cell before "(+N)"


def is_baseline(result: dict[str, Any]) -> bool:
    """Results of checkpoint-0: the weights a run started from, saved before its first step
    (``save_initial``). Leaderboards and plots show them; regressions and "best before" compare
    trained checkpoints only."""
    return result.get("step") == 0


def checkpoint_label(result: dict[str, Any]) -> str:
    return f"{result['run_version']}/{result['step']}"


def family(metric: str) -> str:
    return metric.partition("/")[0]


def higher_is_better(metric: str) -> bool:
    return family(metric) not in LOWER_IS_BETTER


def headline_families(results: list[dict[str, Any]]) -> list[str]:
    """Metric families present in any result, in a fixed order (unknown ones last, sorted)."""
    fams = {family(m) for r in results for m in r.get("metrics", {})}
    return [f for f in HEADLINE_ORDER if f in fams] + sorted(fams - set(HEADLINE_ORDER))


# --- comparisons ---------------------------------------------------------------------------------


@dataclass
class Change:
    """One metric of one checkpoint against the previous and the best earlier checkpoint."""

    metric: str
    value: float
    previous: float | None  # the latest earlier checkpoint that has this metric
    best: float | None  # the best value among earlier checkpoints
    best_checkpoint: str | None
    delta_previous: float | None  # value - previous (raw; see ``higher_is_better``)
    delta_best: float | None
    higher_is_better: bool
    regression: bool  # worse than ``previous`` beyond the margin and MIN_ABS_DROP, significantly
    new_best: bool
    comparable: bool  # same evaluation data and config as the previous checkpoint
    test: PairedTest | None = None  # paired bootstrap against ``previous`` (None: not tested)


def _worse_by(value: float, reference: float, higher: bool) -> float:
    """How much worse ``value`` is than ``reference``, relative to it (negative when better)."""
    diff = (reference - value) if higher else (value - reference)
    return diff / max(abs(reference), 1e-9)


def compare(
    history: list[dict[str, Any]], index: int = -1, margin: float = DEFAULT_REGRESSION_MARGIN
) -> list[Change]:
    """Changes of ``history[index]`` against the checkpoints before it, one per metric.

    Every change against the previous checkpoint is tested (paired bootstrap on the rows both
    checkpoints scored); a drop beyond the margins is a regression only when the test says it is
    significant. Baselines (checkpoint-0) are neither compared nor compared with.
    """
    index = index % len(history)
    current = history[index]
    # A baseline (the weights a run started from, checkpoint-0) is shown, never compared with.
    earlier = [] if is_baseline(current) else [r for r in history[:index] if not is_baseline(r)]
    changes = []
    for metric, value in sorted(current.get("metrics", {}).items()):
        higher = higher_is_better(metric)
        prev_r = next((r for r in reversed(earlier) if metric in r.get("metrics", {})), None)
        prev = prev_r["metrics"][metric] if prev_r else None
        scored = [(r["metrics"][metric], r) for r in earlier if metric in r.get("metrics", {})]
        best_v, best_r = (
            (max if higher else min)(scored, key=lambda t: t[0]) if scored else (None, None)
        )
        beyond_margin = (
            prev is not None
            and _worse_by(value, prev, higher) > margin
            and abs(value - prev) > MIN_ABS_DROP.get(family(metric), 0.0)
        )
        test = _test(metric, prev_r, current, higher) if prev_r is not None else None
        changes.append(
            Change(
                metric=metric,
                value=value,
                previous=prev,
                best=best_v,
                best_checkpoint=checkpoint_label(best_r) if best_r else None,
                delta_previous=None if prev is None else value - prev,
                delta_best=None if best_v is None else value - best_v,
                higher_is_better=higher,
                regression=beyond_margin,  # and significant: decided below, all metrics together
                new_best=best_v is not None and _worse_by(value, best_v, higher) < 0,
                comparable=prev_r is None or _comparable(prev_r, current),
                test=test,
            )
        )
    tested = [c for c in changes if c.test is not None]
    significant = holm([c.test.p for c in tested], SIGNIFICANCE_LEVEL)
    sig = {id(c) for c, ok in zip(tested, significant, strict=True) if ok}
    for c in changes:
        c.regression = c.regression and id(c) in sig
    return changes


def holm(ps: list[float], alpha: float) -> list[bool]:
    """Which of these p values stay significant when all are tested at once (Holm's step-down:
    the i-th smallest must be below ``alpha / (m - i)``): a checkpoint is tested on dozens of
    metrics (each language, direction and average), and at ``alpha`` each, one in twenty would
    be flagged by chance; this keeps the chance of any false alarm below ``alpha``."""
    out = [False] * len(ps)
    for rank, i in enumerate(sorted(range(len(ps)), key=lambda k: ps[k])):
        if ps[i] >= alpha / (len(ps) - rank):
            break
        out[i] = True
    return out


# Reports ask for the same tests several times (report, leaderboard, events): keyed by the two
# result dicts themselves (kept, so an id is never reused while cached).
_TESTS: dict[tuple[int, int, str], tuple[Any, Any, PairedTest | None]] = {}
_MAX_CACHED_TESTS = 20_000


def _test(
    metric: str, previous: dict[str, Any], current: dict[str, Any], higher: bool
) -> PairedTest | None:
    key = (id(previous), id(current), metric)
    hit = _TESTS.get(key)
    if hit is not None and hit[0] is previous and hit[1] is current:
        return hit[2]
    if len(_TESTS) >= _MAX_CACHED_TESTS:
        _TESTS.clear()
    test = paired_test(metric, previous, current, higher_is_better=higher)
    _TESTS[key] = (previous, current, test)
    return test


def _comparable(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("data", {}).get("sha256") == b.get("data", {}).get("sha256") and a.get(
        "eval_config_hash"
    ) == b.get("eval_config_hash")


def regressions(
    history: list[dict[str, Any]], index: int = -1, margin: float = DEFAULT_REGRESSION_MARGIN
) -> list[dict[str, Any]]:
    """The regressed metrics of ``history[index]`` as JSON-able dicts (for events and reports)."""
    return [
        {
            "metric": c.metric,
            "value": c.value,
            "previous": c.previous,
            "relative_drop": round(_worse_by(c.value, c.previous, c.higher_is_better), 4),
            "comparable": c.comparable,
            "p": round(c.test.p, 4) if c.test else None,
            "ci": [round(c.test.ci_low, 6), round(c.test.ci_high, 6)] if c.test else None,
            "test": c.test.method if c.test else None,
        }
        for c in compare(history, index, margin)
        if c.regression and c.previous is not None
    ]


def status(result: dict[str, Any]) -> str:
    """``ok``, ``partial`` or ``nothing_to_evaluate`` (results without coverage: from metrics)."""
    cov = result.get("coverage")
    if cov:
        return cov["status"]
    return "ok" if result.get("metrics") else NOTHING


def missing(result: dict[str, Any]) -> list[str]:
    """Languages / directions the checkpoint trained on that had nothing to evaluate."""
    return list((result.get("coverage") or {}).get("missing") or [])


# --- leaderboard ---------------------------------------------------------------------------------


def _round(v: float | None, nd: int = 4) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(v, nd)


def leaderboard(
    history: list[dict[str, Any]], margin: float = DEFAULT_REGRESSION_MARGIN
) -> list[dict[str, Any]]:
    """One row per checkpoint: the headline (``/avg``) metrics, regressions and data hash."""
    fams = headline_families(history)
    rows = []
    for i, r in enumerate(history):
        row: dict[str, Any] = {"checkpoint": checkpoint_label(r), "step": r["step"]}
        for fam in fams:
            row[fam] = _round(r.get("metrics", {}).get(f"{fam}/avg"))
        row["regressions"] = len(regressions(history, i, margin))
        row["status"] = status(r)
        gaps = missing(r)
        row["no_heldout"] = ", ".join(gaps[:MAX_LISTED]) + (
            f" (+{len(gaps) - MAX_LISTED})" if len(gaps) > MAX_LISTED else ""
        )
        row["eval_data"] = r.get("data", {}).get("sha256", "")[:8]
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]], title: str | None = None) -> str:
    """A fixed-width text table of dict rows (for the terminal)."""
    if not rows:
        return (title + "\n" if title else "") + "(no results)"
    cols = list(rows[0])
    cells = [[("-" if row.get(c) is None else str(row.get(c))) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    lines = [title] if title else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


# --- plots ---------------------------------------------------------------------------------------


def plot_family(history: list[dict[str, Any]], fam: str) -> bytes:
    """PNG of one metric family over checkpoints: a line per language or direction, avg in bold."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted({m for r in history for m in r.get("metrics", {}) if family(m) == fam})
    xs = list(range(len(history)))
    fig, ax = plt.subplots(figsize=(7.2, 3.6), dpi=80)
    try:
        for key in keys:
            ys = [r.get("metrics", {}).get(key, float("nan")) for r in history]
            sub = key.partition("/")[2]
            avg = sub == "avg"
            ax.plot(
                xs,
                ys,
                marker="o",
                linewidth=2.5 if avg else 1.0,
                color="black" if avg else None,
                label=sub,
                zorder=3 if avg else 2,
            )
        runs = sorted({r["run_version"] for r in history})
        ticks = [
            f"r{runs.index(r['run_version']) + 1}:{r['step']}" if len(runs) > 1 else str(r["step"])
            for r in history
        ]
        ax.set_xticks(xs)
        ax.set_xticklabels(ticks, fontsize=8, rotation=30 if len(xs) > 8 else 0)
        ax.set_xlabel("checkpoint step" + (" (rN = Nth run version)" if len(runs) > 1 else ""))
        direction = "lower is better" if fam in LOWER_IS_BETTER else "higher is better"
        ax.set_title(f"{history[-1]['model_name']}: {fam} ({direction})", fontsize=10)
        ax.grid(alpha=0.3)
        if keys:  # outside the axes, so no line hides behind it
            ax.legend(
                fontsize=7,
                ncol=2 if len(keys) > 12 else 1,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                borderaxespad=0.0,
            )
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def write_plots(history: list[dict[str, Any]], out_dir: str) -> dict[str, str]:
    """Write ``<out_dir>/plots/<family>.png`` for every family; return family -> path."""
    fs, base = fsspec.core.url_to_fs(out_dir)
    paths = {}
    for fam in headline_families(history):
        path = posixpath.join(base, "plots", f"{fam}.png")
        with atomic_open(fs, path, "wb") as f:
            f.write(plot_family(history, fam))
        # a remote root's plots keep their scheme (s3://...): the report opens them again
        local = fs.protocol in ("file", "local") or "file" in fs.protocol
        paths[fam] = path if local else fs.unstrip_protocol(path)
    return paths


# --- markdown --------------------------------------------------------------------------------------


def _fmt(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.4g}" if signed else f"{v:.4g}"


def _fmt_p(c: Change) -> str:
    if c.test is None:
        return "-"
    return "<0.001" if c.test.p < 0.001 else f"{c.test.p:.3f}"


def _fmt_ci(c: Change) -> str:
    if c.test is None:
        return "-"
    return f"[{c.test.ci_low:+.3g}, {c.test.ci_high:+.3g}]"


def _change_table(changes: list[Change]) -> list[str]:
    lines = [
        "| metric | value | previous | change | 95% CI | p (worse) | best before | vs best | flag |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in changes:
        flag = "REGRESSION" if c.regression else ("new best" if c.new_best else "")
        arrow = "" if c.higher_is_better else " (lower is better)"
        lines.append(
            f"| {c.metric}{arrow} | {_fmt(c.value)} | {_fmt(c.previous)} | "
            f"{_fmt(c.delta_previous, True)} | {_fmt_ci(c)} | {_fmt_p(c)} | {_fmt(c.best)} | "
            f"{_fmt(c.delta_best, True)} | {flag} |"
        )
    return lines


def _coverage_lines(cur: dict[str, Any]) -> list[str]:
    """What the newest checkpoint had nothing to evaluate on (empty when everything had rows)."""
    st, gaps = status(cur), missing(cur)
    if st == NOTHING:
        return [
            "**NOTHING TO EVALUATE:** no held-out rows for any language or direction this "
            "checkpoint trained on; it has no metrics. Give the corpus a larger held-out share "
            "(`heldout_fraction`, or a minimum held-out count per language).",
        ]
    if gaps:
        cov = cur.get("coverage") or {}
        detail = {**cov.get("languages", {}), **cov.get("directions", {})}
        parts = [f"`{g}` ({(detail.get(g) or {}).get('status', 'missing')})" for g in gaps]
        return [
            f"**Nothing to evaluate for {len(gaps)} of its languages/directions:** "
            + ", ".join(parts)
        ]
    return []


def markdown_report(
    history: list[dict[str, Any]],
    plots: dict[str, str] | None = None,
    margin: float = DEFAULT_REGRESSION_MARGIN,
    *,
    embed_plots: bool = True,
    plot_links: dict[str, str] | None = None,
) -> str:
    """The report on the newest checkpoint of ``history``: changes, regressions, plots, leaderboard.

    Args:
        history: a model's results in checkpoint order; the last one is reported on.
        plots: family -> local PNG path (from :func:`write_plots`).
        margin: relative drop against the previous checkpoint that counts as a regression.
        embed_plots: inline the PNGs as data URIs, so the report renders without file access.
        plot_links: family -> URI to link next to each plot (e.g. ``file://`` of the PNG).
    """
    cur = history[-1]
    changes = compare(history, -1, margin)
    regs = [c for c in changes if c.regression]
    lines = [
        f"# Evaluation: {cur['model_name']} {checkpoint_label(cur)}",
        "",
        f"- checkpoint: `{cur.get('checkpoint', '')}` ({cur.get('model_kind')}, "
        f"objective {cur.get('objective')})",
        f"- corpus: `{cur['data']['corpus']['name']}@{cur['data']['corpus']['version']}`, "
        f"eval data sha256 `{cur['data']['sha256'][:16]}`, eval config `{cur.get('eval_config_hash')}`",
        f"- compared with {len(history) - 1} earlier checkpoint(s); a regression is a drop "
        f"against the previous checkpoint of more than {margin:.0%} (relative; and at least 0.02 "
        "for accuracies or 0.5 BLEU/chrF points) that a paired test on the rows both scored "
        f"finds significant (p < {SIGNIFICANCE_LEVEL} after Holm's correction over all metrics: "
        "exact sign test per example; paired bootstrap for BLEU/chrF); the 95% CI of the change "
        "is the bootstrap's",
        "",
    ]
    coverage = _coverage_lines(cur)
    if coverage:
        lines += [*coverage, ""]
    if regs:
        lines.append(
            f"**REGRESSION: {len(regs)} metric(s) fell significantly by more than {margin:.0%}:** "
            + ", ".join(f"`{c.metric}` (p {_fmt_p(c)})" for c in regs)
        )
    elif status(cur) != NOTHING:
        lines.append("No regressions against the previous checkpoint.")
    if any(not c.comparable for c in changes):
        lines += [
            "",
            "Note: the previous checkpoint was evaluated on different data or with a "
            "different config; deltas are indicative only.",
        ]
    avg = [c for c in changes if c.metric.endswith("/avg")]
    per_key = [c for c in changes if not c.metric.endswith("/avg")]
    for title, subset in (("Summary (macro averages)", avg), ("Per language / direction", per_key)):
        if subset:
            lines += ["", f"## {title}", "", *_change_table(subset)]
    if cur.get("signatures"):
        lines += ["", "## sacrebleu signatures", ""]
        lines += [f"- {k}: `{v}`" for k, v in sorted(cur["signatures"].items())]
    if plots:
        lines += ["", "## Over checkpoints", ""]
        for fam, path in plots.items():
            link = (plot_links or {}).get(fam)
            if embed_plots:
                with fsspec.open(path, "rb") as f:
                    data = base64.b64encode(f.read()).decode()
                lines.append(f"![{fam}](data:image/png;base64,{data})")
            if link:
                lines.append(f"[{fam}.png]({link})")
            lines.append("")
    rows = leaderboard(history, margin)
    if rows:
        cols = list(rows[0])
        lines += [
            "",
            "## Leaderboard",
            "",
            "| " + " | ".join(cols) + " |",
            "|" + "---|" * len(cols),
        ]
        lines += [
            "| " + " | ".join("-" if r[c] is None else str(r[c]) for c in cols) + " |" for r in rows
        ]
    return "\n".join(lines) + "\n"


def changes_as_dicts(changes: list[Change]) -> list[dict[str, Any]]:
    return [asdict(c) for c in changes]


# --- one model's publication ------------------------------------------------------------------------


@dataclass
class NewResult:
    """A newly evaluated checkpoint of a model and what the report says about it."""

    result: dict[str, Any]
    results_uri: str  # file:// (or fsspec URL) of its results.json, for events
    regressions: list[dict[str, Any]]

    @property
    def label(self) -> str:
        return checkpoint_label(self.result)

    @property
    def headline(self) -> dict[str, float]:
        """Macro averages, so automations can match on them without reading the file."""
        return {k: v for k, v in self.result.get("metrics", {}).items() if k.endswith("/avg")}


@dataclass
class ModelReport:
    """Everything published about one model after an evaluation: files written, texts, flags."""

    model_name: str
    newest: str  # label of the newest checkpoint (the one the report is about)
    leaderboard: list[dict[str, Any]]
    markdown: str
    report_uri: str  # report.md next to the newest results
    plots: dict[str, str]  # family -> URI of the PNG
    new: list[NewResult]
    margin: float

    @property
    def regressions(self) -> dict[str, list[dict[str, Any]]]:
        """Newly evaluated checkpoint label -> its regressions."""
        return {n.label: n.regressions for n in self.new}

    @property
    def warnings(self) -> list[str]:
        """One line per newly evaluated checkpoint with nothing (or not everything) to evaluate."""
        out = []
        for n in self.new:
            st, gaps = status(n.result), missing(n.result)
            if st == NOTHING:
                out.append(f"{self.model_name} {n.label}: nothing to evaluate (no held-out rows)")
            elif gaps:
                out.append(
                    f"{self.model_name} {n.label}: nothing to evaluate for {', '.join(gaps)}"
                )
        return out


def model_report(
    root: str,
    model_name: str,
    new_steps: set[tuple[str, int]],
    margin: float = DEFAULT_REGRESSION_MARGIN,
    *,
    link: Callable[[str], str] | None = None,
) -> ModelReport:
    """Write the plots and ``report.md`` of a model next to its newest results and return what to
    publish: leaderboard rows, the markdown report and, per newly evaluated checkpoint, its
    regressions (``new_steps``: ``(run_version, step)`` pairs evaluated just now).

    Args:
        link: turns a path under the root into the URL artifacts show (default: ``file://``).
    """
    from crossling import registry
    from crossling.storage import DataRoot

    data = DataRoot(root)
    link = link or data.uri
    history = registry.load_results(root, model_name)
    newest = history[-1]
    out_dir = data.eval_dir(model_name, newest["run_version"], newest["step"])
    plots = write_plots(history, out_dir if "://" not in root else data.uri(out_dir))
    links = {fam: link(path) for fam, path in plots.items()}
    markdown = markdown_report(history, plots, margin, plot_links=links)
    report_path = posixpath.join(out_dir, "report.md")
    with atomic_open(data.fs, report_path, "w", encoding="utf-8") as f:
        f.write(markdown)
    new = [
        NewResult(
            result=r,
            results_uri=data.uri(
                posixpath.join(
                    data.eval_dir(model_name, r["run_version"], r["step"]), registry.RESULTS
                )
            ),
            regressions=regressions(history, i, margin),
        )
        for i, r in enumerate(history)
        if (r["run_version"], r["step"]) in new_steps
    ]
    return ModelReport(
        model_name=model_name,
        newest=checkpoint_label(newest),
        leaderboard=leaderboard(history, margin),
        markdown=markdown,
        report_uri=link(report_path if "://" not in root else data.uri(report_path)),
        plots=links,
        new=new,
        margin=margin,
    )


def leaderboard_text(
    root: str,
    model_names: list[str] | None = None,
    margin: float = DEFAULT_REGRESSION_MARGIN,
) -> str:
    """The leaderboard of each model (all evaluated models by default) as text tables."""
    from crossling import registry

    names = model_names if model_names is not None else registry.evaluated_models(root)
    blocks = []
    for name in names:
        history = registry.load_results(root, name)
        if history:
            blocks.append(format_table(leaderboard(history, margin), f"== {name}"))
    return "\n\n".join(blocks) if blocks else f"no evaluation results under {root}"


def progress_text(
    root: str, model_names: list[str] | None = None, families: list[str] | None = None
) -> str:
    """Per model, each headline metric at its first and at its last evaluated checkpoint."""
    from crossling import registry

    names = model_names if model_names is not None else registry.evaluated_models(root)
    lines = []
    for name in names:
        history = [r for r in registry.load_results(root, name) if r.get("metrics")]
        if len(history) < 2:
            continue
        first, last = history[0], history[-1]
        parts = []
        for fam in families or headline_families(history):
            a, b = (r["metrics"].get(f"{fam}/avg") for r in (first, last))
            if a is None or b is None:
                continue
            better = (b > a) if fam not in LOWER_IS_BETTER else (b < a)
            parts.append(f"{fam} {_fmt(a)} -> {_fmt(b)}{'' if better else ' (not better)'}")
        lines.append(
            f"{name} {checkpoint_label(first)} -> {checkpoint_label(last)}: " + ", ".join(parts)
        )
    return "\n".join(lines)
