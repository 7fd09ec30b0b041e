#!/usr/bin/env python3
"""Compare corpus versions (or dedup outputs) row for row, e.g. before and after a refactor.

    python scripts/compare_versions.py ROOT_A ROOT_B            # every corpus and version
    python scripts/compare_versions.py ROOT_A ROOT_B --dedup    # two `crossling dedup` outputs

Corpus roots: the versions of each corpus name are paired in order (the names carry a creation
time, so two builds of the same inputs differ in name, not in rows). For each pair, DOCS, PAIRS
and REJECTS are read through :class:`crossling.corpus.CorpusVersion`, sorted by ``id`` and
compared column by column; the manifests' counts are compared too. Dedup outputs: the ``kept/``
and ``rejects/`` Parquet folders, sorted by ``id``. Prints every difference (the first few rows of
each) and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from crossling.corpus import CorpusVersion
from crossling.storage import DataRoot

SHOW = 5  # differing rows printed per column


def _sorted(t: pa.Table) -> pa.Table:
    keys = [("id", "ascending")]
    if "source" in t.column_names:
        keys.append(("source", "ascending"))
    return t.sort_by(keys)


def compare_tables(label: str, a: pa.Table, b: pa.Table) -> list[str]:
    """Differences between two tables of the same kind, rows matched by sorted ``id``."""
    out = []
    if a.num_rows != b.num_rows:
        out.append(f"{label}: {a.num_rows} rows vs {b.num_rows}")
    cols_a, cols_b = set(a.column_names), set(b.column_names)
    if cols_a != cols_b:
        out.append(
            f"{label}: columns only in A {sorted(cols_a - cols_b)}, B {sorted(cols_b - cols_a)}"
        )
    if a.num_rows == 0 and b.num_rows == 0:
        return out
    a, b = _sorted(a), _sorted(b)
    ids_a, ids_b = a.column("id").to_pylist(), b.column("id").to_pylist()
    if ids_a != ids_b:
        only_a, only_b = set(ids_a) - set(ids_b), set(ids_b) - set(ids_a)
        out.append(
            f"{label}: ids differ ({len(only_a)} only in A, e.g. {sorted(only_a)[:SHOW]}; "
            f"{len(only_b)} only in B, e.g. {sorted(only_b)[:SHOW]})"
        )
        return out
    for c in sorted(cols_a & cols_b):
        va, vb = a.column(c).to_pylist(), b.column(c).to_pylist()
        if va != vb:
            bad = [i for i, (x, y) in enumerate(zip(va, vb, strict=True)) if x != y]
            out.append(f"{label}.{c}: {len(bad)} rows differ")
            for i in bad[:SHOW]:
                out.append(f"    id {ids_a[i]}: {str(va[i])[:80]!r} vs {str(vb[i])[:80]!r}")
    return out


def compare_versions(a: CorpusVersion, b: CorpusVersion) -> list[str]:
    label = f"{a.name} {a.version} vs {b.version}"
    out = []
    for kind in ("docs", "pairs", "rejects"):
        out += compare_tables(f"{label} {kind}", a.table(kind), b.table(kind))
    for key in ("docs", "pairs", "rejects", "by_reason"):
        if a.counts.get(key) != b.counts.get(key):
            out.append(f"{label} counts.{key}: {a.counts.get(key)} vs {b.counts.get(key)}")
    return out


def compare_roots(root_a: str, root_b: str) -> list[str]:
    out = []
    da, db = DataRoot(root_a), DataRoot(root_b)
    names_a = sorted(os.path.basename(p) for p in glob.glob(os.path.join(root_a, "corpora", "*")))
    names_b = sorted(os.path.basename(p) for p in glob.glob(os.path.join(root_b, "corpora", "*")))
    if names_a != names_b:
        out.append(f"corpora: {names_a} vs {names_b}")
    for name in sorted(set(names_a) & set(names_b)):
        va, vb = da.versions(name), db.versions(name)
        if len(va) != len(vb):
            out.append(f"{name}: {len(va)} versions vs {len(vb)}")
        for x, y in zip(va, vb, strict=False):
            diffs = compare_versions(
                CorpusVersion.open(da, name, x), CorpusVersion.open(db, name, y)
            )
            print(f"{name} {x} vs {y}: {'identical' if not diffs else f'{len(diffs)} differences'}")
            out += diffs
    return out


def _read_folder(path: str) -> pa.Table:
    files = sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True))
    if not files:
        return pa.table({"id": pa.array([], pa.string())})
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


def compare_dedup(out_a: str, out_b: str) -> list[str]:
    out = []
    for kind in ("kept", "rejects"):
        diffs = compare_tables(
            kind, _read_folder(os.path.join(out_a, kind)), _read_folder(os.path.join(out_b, kind))
        )
        print(f"dedup {kind}: {'identical' if not diffs else f'{len(diffs)} differences'}")
        out += diffs
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="data root (or dedup output folder) A")
    ap.add_argument("b", help="data root (or dedup output folder) B")
    ap.add_argument("--dedup", action="store_true", help="compare two `crossling dedup` outputs")
    args = ap.parse_args(argv)
    diffs = compare_dedup(args.a, args.b) if args.dedup else compare_roots(args.a, args.b)
    for d in diffs:
        print(d)
    print("identical" if not diffs else f"{len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
