"""The filter: a partition's rows split into kept rows and rejects by the cluster decisions.

Part of :mod:`crossling.dedup.minhash` (its docstring describes the method).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from crossling.dedup.minhash.config import NEAR_DUPLICATE
from crossling.documents import REJECTS_SCHEMA

# --- filter ---------------------------------------------------------------------------------------

# The rejects of a standalone dedup run: these columns of the one REJECTS schema (a corpus run
# writes them all; a dedup run over plain files has no source, stage or language to tell).
REJECT_COLUMNS = pa.schema(
    [REJECTS_SCHEMA.field(n) for n in ("id", "duplicate_of", "reason", "detail")]
)


@dataclass
class PartitionDecisions:
    """One partition's decisions as arrays over its rows (what a writer of REJECTS rows needs)."""

    drop: np.ndarray  # bool: near-duplicate, leave the row out
    dup_cluster_size: np.ndarray  # int32: 1, or the cluster size on a representative
    duplicate_of: list[str | None]  # the kept document, for dropped rows
    detail: list[str | None]  # e.g. "jaccard 0.912, of a document in version ..."


def partition_decisions(decisions: pa.Table, n_rows: int) -> PartitionDecisions:
    """Spread one partition's decisions (:func:`decisions_for`) over its ``n_rows`` rows."""
    size = np.ones(n_rows, dtype=np.int32)
    drop = np.zeros(n_rows, dtype=bool)
    dup_of: list[str | None] = [None] * n_rows
    detail: list[str | None] = [None] * n_rows
    if decisions.num_rows:
        rows = decisions.column("row").to_numpy()
        if rows.max(initial=-1) >= n_rows:
            raise ValueError(
                f"decisions name row {int(rows.max())} of a partition of {n_rows} rows"
            )
        is_drop = decisions.column("duplicate_of").is_valid().to_numpy(zero_copy_only=False)
        drop[rows[is_drop]] = True
        size[rows[~is_drop]] = decisions.column("dup_cluster_size").to_numpy()[~is_drop]
        cols = [decisions.column(c).to_pylist() for c in ("duplicate_of", "similarity")]
        versions = decisions.column("duplicate_of_version").to_pylist()
        for k in np.flatnonzero(is_drop):
            r = int(rows[k])
            dup_of[r] = cols[0][k]
            detail[r] = _detail(cols[1][k], versions[k])
    return PartitionDecisions(drop, size, dup_of, detail)


def filter_partition(
    table: pa.Table, decisions: pa.Table, also_drop: np.ndarray | None = None
) -> tuple[pa.Table, pa.Table]:
    """Apply one partition's decisions to its rows (row ``i`` of ``table`` is ``row == i``).

    ``also_drop`` marks rows another step removed (they are in neither output).

    Returns:
        ``(kept, rejects)``: ``kept`` is ``table`` without the dropped rows and with
        ``dup_cluster_size`` set (1 unless a representative); ``rejects`` has ``id``,
        ``duplicate_of``, ``reason`` (``near_duplicate``) and ``detail``, in row order.
    """
    d = partition_decisions(decisions, table.num_rows)
    keep = ~d.drop if also_drop is None else ~d.drop & ~np.asarray(also_drop, dtype=bool)
    kept = table.filter(pa.array(keep))
    col = pa.array(d.dup_cluster_size[keep], pa.int32())
    if "dup_cluster_size" in kept.column_names:
        kept = kept.set_column(kept.column_names.index("dup_cluster_size"), "dup_cluster_size", col)
    else:
        kept = kept.append_column("dup_cluster_size", col)
    gone = np.flatnonzero(d.drop)
    rejects = pa.table(
        {
            "id": table.column("id").take(pa.array(gone)).cast(pa.string()),
            "duplicate_of": pa.array([d.duplicate_of[i] for i in gone], pa.string()),
            "reason": pa.array([NEAR_DUPLICATE] * len(gone), pa.string()),
            "detail": pa.array([d.detail[i] for i in gone], pa.string()),
        },
        schema=REJECT_COLUMNS,
    )
    return kept, rejects


def _detail(similarity: float | None, version: str | None) -> str:
    parts = []
    if similarity is not None and not math.isnan(similarity):
        parts.append(f"jaccard {similarity:.3f}")
    parts.append(f"of a document in version {version}" if version else "in this run")
    return ", ".join(parts)
