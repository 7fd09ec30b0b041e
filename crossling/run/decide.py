"""The decide pass: every Step's thresholds over one tagged partition (no text is read).

Changing a threshold reruns only this pass (and what follows it), never the tag pass.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crossling.documents import split_of
from crossling.run.plan import RunContext, work_path, write_table
from crossling.run.registry import STEPS
from crossling.stages.base import TaggedRows
from crossling.stages.pairs import TAG_PAIRS_SCHEMA, decide_pair
from crossling.storage import read_json, write_json

_DECIDE_SCHEMA = pa.schema(
    [
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("split", pa.string()),
    ]
)


_THRESHOLD_STEPS = frozenset({"quality", "langid"})  # steps whose limits a thresholds file sets


def _thresholds_note(cfg: Any) -> tuple[str | None, frozenset[str]]:
    if not cfg.thresholds_file:
        return None, frozenset()
    from crossling.thresholds import describe, load_thresholds

    tf = load_thresholds(cfg.thresholds_file)
    return f"thresholds: {describe(cfg.thresholds_file, tf)}", frozenset(
        g.split("/")[0] for g in tf.groups
    )


def decide_partition(ctx: RunContext, tag_dir: str, index: int) -> dict[str, Any]:
    """Apply the per-document steps' thresholds to one tagged partition (no text is read).

    Writes ``_work/decide-docs-NNNNN.parquet`` and ``decide-pairs-NNNNN.parquet``, aligned row by
    row with the tagged files: the dropping stage, reason and detail (null: kept) and the split the
    id gives.
    """
    fs = ctx.data.fs
    marker = work_path(ctx, "decide", index, "json")
    if fs.exists(marker):
        return read_json(fs, marker)
    cfg = ctx.corpus_config()
    steps = [cls.from_config(cfg) for cls in STEPS]
    # Only steps that decide are asked, and only their signals are read (the MinHash signatures,
    # a list per document, are for the near-dedup stage, not for deciding).
    deciding = [s.decides() for s in steps]
    signal_names = [f.name for s, d in zip(STEPS, deciding, strict=True) if d for f in s.signals]
    columns = list(
        dict.fromkeys(["id", *[c for s in steps for c in s.decide_columns], *signal_names])
    )
    # Drops by limits a thresholds file set name the file and its rule in their detail.
    note, file_langs = _thresholds_note(cfg)
    if note:
        columns = list(dict.fromkeys([*columns, "lang"]))
    stats: Counter[str] = Counter()
    reached = [0] * len(steps)  # documents each step saw (those no earlier step dropped)
    names = [step.name for step in steps]
    out: dict[str, list[Any]] = {k: [] for k in _DECIDE_SCHEMA.names}
    with fs.open(posixpath.join(tag_dir, "docs.parquet"), "rb") as f:
        pf = pq.ParquetFile(f)
        columns = [c for c in columns if c in pf.schema_arrow.names]
        for batch in pf.iter_batches(batch_size=8192, columns=columns):
            rows = TaggedRows(batch, signal_names)
            n = batch.num_rows
            stage, reason, detail = [None] * n, [None] * n, [None] * n
            alive = np.arange(n)
            for k, step in enumerate(steps):
                reached[k] += len(alive)
                if not deciding[k] or not len(alive):
                    continue
                dropped = step.decide_rows(rows, alive)
                if not dropped:
                    continue
                langs = rows.list("lang") if note and names[k] in _THRESHOLD_STEPS else None
                for i, (why, what) in dropped.items():
                    stats[f"{names[k]}/dropped:{why}"] += 1
                    if langs is not None and langs[i] in file_langs:
                        what = f"{what} [{note}]"
                    stage[i], reason[i], detail[i] = str(step.stage), str(why), what
                alive = alive[~np.isin(alive, np.fromiter(dropped, np.int64, len(dropped)))]
            out["stage"] += stage
            out["reason"] += reason
            out["detail"] += detail
            out["split"].extend(split_of(i, cfg.heldout_fraction) for i in rows.list("id"))
    for k, name in enumerate(names):
        dropped = sum(v for key, v in stats.items() if key.startswith(f"{name}/dropped:"))
        if reached[k]:
            stats[f"{name}/total"] = reached[k]
        if reached[k] > dropped:
            stats[f"{name}/kept"] = reached[k] - dropped
    write_table(fs, work_path(ctx, "decide-docs", index), pa.table(out, schema=_DECIDE_SCHEMA))
    pout: dict[str, list[Any]] = {k: [] for k in _DECIDE_SCHEMA.names}
    with fs.open(posixpath.join(tag_dir, "pairs.parquet"), "rb") as f:
        pt = pq.read_table(
            f, columns=[c for c in TAG_PAIRS_SCHEMA.names if not c.endswith("_text")]
        )
    for row in pt.to_pylist():
        stats["pairs/total"] += 1
        verdict = decide_pair(row, cfg.pairs)
        if verdict is None:
            stats["pairs/kept"] += 1
        else:
            stats[f"pairs/dropped:{verdict[1]}"] += 1
        pout["stage"].append(str(verdict[0]) if verdict else None)
        pout["reason"].append(str(verdict[1]) if verdict else None)
        pout["detail"].append(verdict[2] if verdict else None)
        # A pair may name its split key (crawled pairs: their source sentence), so that pairs
        # sharing a sentence fall on the same side of the split.
        pout["split"].append(split_of(row.get("split_key") or row["id"], cfg.heldout_fraction))
    write_table(fs, work_path(ctx, "decide-pairs", index), pa.table(pout, schema=_DECIDE_SCHEMA))
    result = {"partition": index, "stats": dict(stats)}
    write_json(fs, marker, result)
    return result
