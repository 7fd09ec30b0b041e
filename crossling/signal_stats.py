"""Statistics of a corpus version per language: the distribution of every quality signal
(quantiles and a histogram) and the kept / dropped share per reason, as a JSON file and plots.

:func:`version_stats` reads a version through :class:`crossling.corpus.CorpusVersion`: the DOCS
texts are measured again with the signals of crossling/clean.py (DOCS keep no signals) and the
REJECTS rows give the drops per language and reason. Hook into the corpus run (the lead wires
it): the commit step writes the result to ``<version>/stats/signals.json`` through the version
writer (so the manifest lists it) and the corpus flow publishes :func:`plot_signal` images and a
table as artifacts. ``crossling thresholds`` needs each document's values (its keep share is
joint over all limits), so it reads the reference documents, not this summary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

STATS_FORMAT = "crossling-signal-stats/1"
QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)


def signal_stats(measured: dict[str, dict[str, np.ndarray]], bins: int = 20) -> dict[str, Any]:
    """Per group and signal: count, mean, quantiles and a histogram (``bins`` equal bins between
    the 1% and 99% quantiles, plus the counts below and above)."""
    groups: dict[str, Any] = {}
    for name, signals in sorted(measured.items()):
        g = {}
        for key, values in sorted(signals.items()):
            v = values[np.isfinite(values)]
            if not len(v):
                continue
            lo, hi = (float(x) for x in np.quantile(v, [0.01, 0.99]))
            if hi <= lo:
                hi = lo + 1e-9
            counts, edges = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
            g[key] = {
                "count": int(len(v)),
                "mean": float(v.mean()),
                "quantiles": {
                    str(q): float(x)
                    for q, x in zip(QUANTILES, np.quantile(v, QUANTILES), strict=True)
                },
                "histogram": {
                    "edges": [round(float(e), 6) for e in edges],
                    "counts": counts.tolist(),
                    "below": int(np.sum(v < lo)),
                    "above": int(np.sum(v > hi)),
                },
            }
        groups[name] = g
    return {"format": STATS_FORMAT, "groups": groups}


def kept_dropped_by_reason(rows: Iterable[tuple[str | None, str | None]]) -> dict[str, Any]:
    """Kept and dropped shares per language and reason from ``(lang, reason)`` pairs (reason
    None: kept), e.g. the DOCS rows and the REJECTS rows of a version."""
    per: dict[str, dict[str, int]] = {}
    for lang, reason in rows:
        d = per.setdefault(lang or "und", {})
        key = "kept" if reason is None else f"dropped:{reason}"
        d[key] = d.get(key, 0) + 1
    out = {}
    for lang, d in sorted(per.items()):
        total = sum(d.values())
        out[lang] = {"total": total, **{k: round(v / total, 6) for k, v in sorted(d.items())}}
    return out


def version_stats(version_dir: str, out: str | None = None, bins: int = 20) -> dict[str, Any]:
    """Signal distributions per language and script, and kept / dropped shares per language
    and reason, of one corpus version folder; written to ``out`` (JSON) when given."""
    from crossling.corpus import CorpusVersion
    from crossling.textsources import SourceError, _version_of
    from crossling.thresholds import DeriveConfig, measure_reference

    where = _version_of(version_dir)
    if where is None or where[2] is None:
        raise SourceError(f"{version_dir}: not a corpus version folder (no manifest.json)")
    cv = CorpusVersion.open(*where)
    measured = measure_reference([version_dir], DeriveConfig(limit_per_lang=None))
    stats = signal_stats(measured, bins)
    rows: list[tuple[str | None, str | None]] = []
    for b in cv.docs(columns=["lang"]):
        rows.extend((lang, None) for lang in b.column("lang").to_pylist())
    for b in cv.rejects(columns=["lang", "reason"]):
        d = b.to_pydict()
        rows.extend(zip(d["lang"], d["reason"], strict=True))
    stats["version"] = {"name": cv.name, "version": cv.version}
    stats["outcomes"] = kept_dropped_by_reason(rows)
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(stats, f, indent=1, sort_keys=True)
        os.replace(tmp, out)
    return stats


def plot_signal(stats: dict[str, Any], signal: str, out_png: str, groups: int = 12) -> str:
    """One PNG of a signal's histograms, one line per language group (the largest ``groups``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    have = [(g, s[signal]) for g, s in stats["groups"].items() if signal in s]
    have.sort(key=lambda kv: -kv[1]["count"])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for g, s in have[:groups]:
        h = s["histogram"]
        mids = [(a + b) / 2 for a, b in zip(h["edges"], h["edges"][1:], strict=False)]
        total = max(1, s["count"])
        ax.plot(mids, [c / total for c in h["counts"]], label=f"{g} ({s['count']})")
    ax.set_xlabel(signal)
    ax.set_ylabel("share of documents")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png
