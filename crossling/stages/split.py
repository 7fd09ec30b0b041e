"""Held-out rows that exist: a fraction of each language (and pair direction), and at least a
minimum where the language has enough rows.

Every row's split starts from its id (``split_of``: the same document is always on the same side).
A fraction alone leaves small languages with nothing to evaluate (2% of 12 documents is 0), so the
reduce moves more train rows of such a language to held-out, in a fixed order (a hash of the id),
until it holds ``min(heldout_min, floor(heldout_max_share * rows))``. Pairs that share a
``split_key`` (pairs aligned from the same sentence in several directions) move together, so one
sentence is never on both sides.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from crossling.documents import Stage
from crossling.shards import write_shard
from crossling.stages.base import DECISIONS_SCHEMA, GlobalStage

# key: what a split is decided for: a document's id; for pairs, their split_key when they have
# one, else their id.
_MAP_SCHEMA = pa.schema(
    [("id", pa.string()), ("group", pa.string()), ("split", pa.string()), ("key", pa.string())]
)


def _rank(key: str) -> bytes:
    return hashlib.blake2b(
        key.encode("utf-8", "surrogatepass"), digest_size=8, person=b"heldout"
    ).digest()


def _counts(values: pa.ChunkedArray) -> dict[str, int]:
    vc = pc.value_counts(values)
    return dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))


class SplitConfig(BaseModel):
    """The held-out split (these fields sit at the top level of a corpus config)."""

    heldout_fraction: float = Field(
        0.02, ge=0.0, lt=1.0, description="Share of documents in the held-out split (by id)."
    )
    heldout_min: int = Field(
        10,
        ge=0,
        description="At least this many held-out rows per language and per pair direction, "
        "where heldout_max_share allows it (0 turns the minimum off).",
    )
    heldout_max_share: float = Field(
        0.2,
        ge=0.0,
        lt=1.0,
        description="The minimum never takes more than this share of a language's rows.",
    )


class HeldoutSplit(GlobalStage):
    name = "split"
    stage = Stage.SPLIT
    kinds = ("docs", "pairs")
    config_key = None  # its fields are top-level: heldout_fraction, heldout_min, ...
    config_model = SplitConfig
    columns = {"docs": ["lang"], "pairs": ["src_lang", "tgt_lang", "split_key"]}

    def enabled(self) -> bool:
        return self.config.heldout_min > 0 and self.config.heldout_max_share > 0

    def _path(self, what: str, kind: str, part: int) -> str:
        return posixpath.join(self.dir, f"{what}-{kind}-{part:05d}.parquet")

    def map(self, part: int, kind: str, rows: pa.Table) -> dict[str, Any]:
        if kind == "docs":
            group, key = rows.column("lang"), rows.column("id")
        else:
            group = pc.binary_join_element_wise(
                rows.column("src_lang"), rows.column("tgt_lang"), "-"
            )
            key = pc.coalesce(rows.column("split_key"), rows.column("id"))
        t = pa.table(
            {"id": rows.column("id"), "group": group, "split": rows.column("split"), "key": key}
        )
        write_shard(self.fs, self._path("map", kind, part), t, _MAP_SCHEMA)
        return {"part": part, "kind": kind, "rows": rows.num_rows}

    def reduce(self, maps: list[dict[str, Any]]) -> dict[str, Any]:
        """Counts per group in Arrow; Python sees only the train rows of the groups still short
        of their minimum (and the other rows of those rows' keys): memory follows the small
        languages, not the corpus."""
        cfg = self.config
        moved: dict[str, dict[str, int]] = {}
        for kind in self.kinds:
            parts = sorted(m["part"] for m in maps if m["kind"] == kind)
            tables = []
            for p in parts:
                with self.fs.open(self._path("map", kind, p), "rb") as f:
                    t = pq.read_table(f)
                tables.append(t.append_column("part", pa.array([p] * t.num_rows, pa.int32())))
            if not tables:
                continue
            t = pa.concat_tables(tables)
            total = _counts(t.column("group"))
            is_held = pc.equal(t.column("split"), "heldout")
            held = defaultdict(int, _counts(t.filter(is_held).column("group")))
            target = {
                g: min(cfg.heldout_min, math.floor(cfg.heldout_max_share * n))
                for g, n in total.items()
            }
            short = sorted(g for g in total if held[g] < target[g])
            if not short:
                continue
            train = t.filter(pc.invert(is_held))
            keys = pc.unique(train.filter(pc.is_in(train.column("group"), pa.array(short)))["key"])
            rows = train.filter(pc.is_in(train.column("key"), value_set=keys))
            # train rows by key (a key's rows move together), and the keys of each short group
            train_rows: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
            group_keys: dict[str, set[str]] = defaultdict(set)
            cols = (rows.column(c).to_pylist() for c in ("id", "group", "key", "part"))
            for i, g, k, p in zip(*cols, strict=True):
                train_rows[k].append((i, g, p))
                group_keys[g].add(k)
            upgrades: dict[int, list[str]] = defaultdict(list)
            for g in short:  # groups not short never become short: held counts only grow
                for k in sorted(group_keys[g], key=_rank):
                    if held[g] >= target[g]:
                        break
                    for i, g2, p in train_rows.pop(k, ()):
                        upgrades[p].append(i)
                        held[g2] += 1
                        counts = moved.setdefault(kind, {})
                        counts[g2] = counts.get(g2, 0) + 1
            for p, ids in upgrades.items():
                t = pa.table(
                    {
                        "id": ids,
                        "reason": pa.nulls(len(ids), pa.string()),
                        "detail": pa.nulls(len(ids), pa.string()),
                        "duplicate_of": pa.nulls(len(ids), pa.string()),
                        "dup_cluster_size": pa.nulls(len(ids), pa.int32()),
                        "split": ["heldout"] * len(ids),
                    },
                    schema=DECISIONS_SCHEMA,
                )
                write_shard(self.fs, self._path("decisions", kind, p), t, DECISIONS_SCHEMA)
        return {"moved_to_heldout": moved}

    def decisions(self, part: int, kind: str) -> pa.Table | None:
        path = self._path("decisions", kind, part)
        if not self.fs.exists(path):
            return None
        with self.fs.open(path, "rb") as f:
            return pq.read_table(f)
