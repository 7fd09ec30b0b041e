"""The version's statistics per language, written into ``<version>/stats/`` before the commit.

- ``stats/signals.parquet``: per language and signal (every numeric tag column the steps measured,
  plus ``n_chars`` and ``lang_score``) the count, mean, quantiles and a histogram, over the
  documents as measured (before any drop): the distributions per-language thresholds are set
  from. At most :data:`MAX_ROWS_PER_LANG` documents per language are summarised (the first in
  partition order), so the pass stays small on large corpora.
- ``stats/outcomes.parquet``: per language, the documents kept and the rows dropped per
  ``stage/reason``, with their share of the language's rows.

The tagged columns are read again (no text); the REJECTS files the write pass wrote give the drops.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossling.corpus import REJECTS, VersionWriter

MAX_ROWS_PER_LANG = 200_000
QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
BINS = 20

SIGNALS_SCHEMA = pa.schema(
    [
        ("lang", pa.string()),
        ("signal", pa.string()),
        ("count", pa.int64()),  # documents with a value
        ("mean", pa.float64()),
        ("min", pa.float64()),
        *[(f"p{round(q * 100):02d}", pa.float64()) for q in QUANTILES],
        ("max", pa.float64()),
        ("hist_edges", pa.list_(pa.float64())),  # BINS + 1 edges, between p01 and p99
        ("hist_counts", pa.list_(pa.int64())),  # values clipped into the outer bins
    ]
)
OUTCOMES_SCHEMA = pa.schema(
    [
        ("lang", pa.string()),
        ("outcome", pa.string()),  # "kept" or "<stage>/<reason>"
        ("rows", pa.int64()),
        ("share", pa.float64()),  # of the language's rows (kept + dropped)
    ]
)


def _numeric(field: pa.Field) -> bool:
    t = field.type
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def signal_table(fs: Any, tag_dirs: list[str]) -> pa.Table:
    """Per language and signal: count, mean, quantiles, histogram (:data:`SIGNALS_SCHEMA`)."""
    gathered: dict[str, dict[str, list[np.ndarray]]] = {}
    taken: Counter[str] = Counter()
    for tag_dir in tag_dirs:
        with fs.open(posixpath.join(tag_dir, "docs.parquet"), "rb") as f:
            pf = pq.ParquetFile(f)
            names = [
                fl.name
                for fl in pf.schema_arrow
                if _numeric(fl) and fl.name not in ("fetched_at",) and fl.name != "lang"
            ]
            for batch in pf.iter_batches(batch_size=65536, columns=["lang", *names]):
                langs = batch.column("lang")
                for lang in pc.unique(langs).to_pylist():
                    room = MAX_ROWS_PER_LANG - taken[lang]
                    if room <= 0:
                        continue
                    sub = batch.filter(pc.equal(langs, lang)).slice(0, room)
                    taken[lang] += sub.num_rows
                    per = gathered.setdefault(lang, {})
                    for name in names:
                        col = sub.column(name)
                        if pa.types.is_boolean(col.type):
                            col = pc.cast(col, pa.int8())
                        arr = col.to_numpy(zero_copy_only=False).astype(np.float64)
                        per.setdefault(name, []).append(arr)
    rows: list[dict[str, Any]] = []
    for lang in sorted(gathered):
        for name, parts in sorted(gathered[lang].items()):
            v = np.concatenate(parts)
            v = v[np.isfinite(v)]  # nulls came as NaN
            if not len(v):
                continue
            qs = np.quantile(v, QUANTILES)
            lo, hi = float(qs[0]), float(qs[-1])
            if hi <= lo:
                hi = lo + 1e-9
            counts, edges = np.histogram(np.clip(v, lo, hi), bins=BINS, range=(lo, hi))
            rows.append(
                {
                    "lang": lang,
                    "signal": name,
                    "count": len(v),
                    "mean": float(v.mean()),
                    "min": float(v.min()),
                    **{
                        f"p{round(q * 100):02d}": float(x)
                        for q, x in zip(QUANTILES, qs, strict=True)
                    },
                    "max": float(v.max()),
                    "hist_edges": edges.tolist(),
                    "hist_counts": counts.tolist(),
                }
            )
    return pa.Table.from_pylist(rows, schema=SIGNALS_SCHEMA)


def outcome_table(fs: Any, version_dir: str, write_results: list[dict[str, Any]]) -> pa.Table:
    """Per language: documents kept and rows dropped per stage/reason (:data:`OUTCOMES_SCHEMA`)."""
    per: dict[str, Counter[str]] = {}
    for r in write_results:
        for lang, d in r["tally"]["by_lang"].items():
            per.setdefault(lang, Counter())["kept"] += int(d["docs"])
        for f in r["files"]:
            if f["kind"] != REJECTS:
                continue
            with fs.open(posixpath.join(version_dir, f["path"]), "rb") as fh:
                t = pq.read_table(fh, columns=["lang", "stage", "reason"]).to_pydict()
            for lang, stage, reason in zip(t["lang"], t["stage"], t["reason"], strict=True):
                per.setdefault(lang or "und", Counter())[f"{stage}/{reason}"] += 1
    rows = []
    for lang, c in sorted(per.items()):
        total = sum(c.values())
        for outcome, n in sorted(c.items(), key=lambda kv: (kv[0] != "kept", kv[0])):
            rows.append({"lang": lang, "outcome": outcome, "rows": n, "share": n / total})
    return pa.Table.from_pylist(rows, schema=OUTCOMES_SCHEMA)


def write_version_stats(
    writer: VersionWriter, tag_dirs: list[str], write_results: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Write ``stats/signals.parquet`` and ``stats/outcomes.parquet`` through the version's
    writer; returns their entries for the manifest's ``stats_files``."""
    fs = writer.fs
    return [
        writer.write_stats("signals", signal_table(fs, tag_dirs)),
        writer.write_stats("outcomes", outcome_table(fs, writer.path, write_results)),
    ]


_BARS = " ▁▂▃▄▅▆▇█"


def sparkline(counts: list[int]) -> str:
    """A histogram as a line of block characters (for Markdown artifacts)."""
    top = max(counts) if counts else 0
    if not top:
        return ""
    return "".join(_BARS[round(c / top * (len(_BARS) - 1))] for c in counts)


def read_stats(fs: Any, version_dir: str, manifest: dict[str, Any]) -> dict[str, pa.Table]:
    """The version's stats tables by name (``signals``, ``outcomes``) as the manifest lists them."""
    out = {}
    for f in manifest.get("stats_files") or []:
        name = posixpath.splitext(posixpath.basename(f["path"]))[0]
        with fs.open(posixpath.join(version_dir, f["path"]), "rb") as fh:
            out[name] = pq.read_table(fh)
    return out


def artifact_views(
    fs: Any, version_dir: str, manifest: dict[str, Any], max_rows: int = 500
) -> dict[str, Any]:
    """What the corpus flow shows of the stats: table rows (signals' quantiles, outcomes, PII
    replaced per kind and language) and a Markdown page of histograms (one line per language)."""
    tables = read_stats(fs, version_dir, manifest)
    signals = tables.get("signals")
    outcomes = tables.get("outcomes")
    sig_rows, md = [], []
    if signals is not None:
        for r in signals.to_pylist()[:max_rows]:
            sig_rows.append(
                {
                    "lang": r["lang"],
                    "signal": r["signal"],
                    "count": r["count"],
                    **{k: round(r[k], 4) for k in ("mean", "p05", "p25", "p50", "p75", "p95")},
                }
            )
        by_signal: dict[str, list[dict[str, Any]]] = {}
        for r in signals.to_pylist():
            by_signal.setdefault(r["signal"], []).append(r)
        for name, rs in sorted(by_signal.items()):
            md.append(
                f"\n## {name}\n\n| lang | docs | p01 | histogram | p99 |\n|---|---|---|---|---|"
            )
            for r in sorted(rs, key=lambda r: -r["count"])[:12]:
                md.append(
                    f"| {r['lang']} | {r['count']} | {r['p01']:.3g} | "
                    f"`{sparkline(r['hist_counts'])}` | {r['p99']:.3g} |"
                )
    pii_rows = []
    for key, n in sorted((manifest.get("stats") or {}).items()):
        parts = key.split(":")
        if key.startswith("pii/replaced:") and len(parts) == 3:
            pii_rows.append({"kind": parts[1], "lang": parts[2], "replaced": n})
    return {
        "signals": sig_rows,
        "outcomes": [
            {**r, "share": round(r["share"], 4)} for r in (outcomes.to_pylist() if outcomes else [])
        ][:max_rows],
        "pii": pii_rows,
        "histograms": "# Signal distributions per language\n" + "\n".join(md) if md else "",
    }
