"""Shard writing: crossling's atomic, hashed zstd shards against plain ``pyarrow.parquet.write_table``.

Same DOCS rows for both (about 90 MB of multilingual text). Ours renames from a temp name and
computes the sha256 the manifest records; the baseline does neither. Two ways of ours:
- ``write_shard``: the whole table into one file (what the dedup index and small tables use);
- ``VersionWriter.part``: what a corpus run's write pass does, one shard per language and split
  (``docs/<lang>/<split>-NNNNN.parquet``) fed in 4096-row batches, counted as written, files
  compressed in parallel threads.
Prints MB/s and ratios.

    python benchmarks/shards.py [--rows 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from crossling.corpus import VersionWriter
from crossling.documents import DOCS_SCHEMA, content_hash, make_id
from crossling.shards import write_shard

WORDS = {
    "en": "the weather library morning students window quiet table river city train".split(),
    "de": "das Wetter Bibliothek Morgen Studenten Fenster ruhig Tisch Fluss Stadt Zug".split(),
    "ru": "погода библиотека утро студенты окно тихий стол река город поезд".split(),
    "zh": list("天气图书馆早上学生窗户安静桌子河城市火车"),
}


def make_rows(n: int, seed: int = 0) -> pa.Table:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        lang = rng.choice(list(WORDS))
        sep = "" if lang == "zh" else " "
        text = "\n".join(
            sep.join(rng.choices(WORDS[lang], k=rng.randint(20, 60)))
            for _ in range(rng.randint(3, 8))
        )
        rid = make_id("bench", str(i))
        rows.append(
            {
                "id": rid,
                "text": text,
                "lang": lang,
                "script": "Latn",
                "lang_score": rng.random(),
                "url": f"https://{lang}.example.org/{i}",
                "source": "bench",
                "fetched_at": None,
                "content_hash": content_hash(text),
                "n_chars": len(text),
                "dup_cluster_size": 1,
                "split": "train",
                "lang_mixed": None,
                "lang2": None,
                "lang2_share": None,
            }
        )
    return pa.Table.from_pylist(rows, schema=DOCS_SCHEMA)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    table = make_rows(args.rows)
    mb = table.nbytes / 1e6
    fs = LocalFileSystem()
    with tempfile.TemporaryDirectory() as d:

        def best(fn) -> float:
            times = []
            for k in range(args.repeat):
                path = os.path.join(d, f"out-{k}.parquet")
                t0 = time.perf_counter()
                fn(path)
                times.append(time.perf_counter() - t0)
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
            return min(times)

        t_plain = best(lambda p: pq.write_table(table, p))
        t_plain_zstd = best(lambda p: pq.write_table(table, p, compression="zstd"))
        t_ours = best(lambda p: write_shard(fs, p, table, DOCS_SCHEMA))

        def partitioned(path: str) -> None:
            part = VersionWriter(path, "bench", "v").part(0)
            for batch in table.to_batches(max_chunksize=4096):
                part.docs(batch)
            part.close()

        t_part = best(partitioned)
        ours_size = write_shard(fs, os.path.join(d, "size.parquet"), table, DOCS_SCHEMA)[1]
        pq.write_table(table, os.path.join(d, "plain.parquet"))
        plain_size = os.path.getsize(os.path.join(d, "plain.parquet"))
    print(f"{table.num_rows} DOCS rows, {mb:.0f} MB in Arrow; best of {args.repeat}")
    print(
        f"  pyarrow write_table (default snappy)   {mb / t_plain:8.1f} MB/s  "
        f"{plain_size / 1e6:7.1f} MB on disk"
    )
    print(f"  pyarrow write_table (zstd)             {mb / t_plain_zstd:8.1f} MB/s")
    print(
        f"  crossling write_shard (zstd, atomic,   {mb / t_ours:8.1f} MB/s  "
        f"{ours_size / 1e6:7.1f} MB on disk"
    )
    print("    sha256 while writing)")
    print(f"  crossling VersionWriter.part (by lang, {mb / t_part:8.1f} MB/s")
    print(f"    4096-row batches, {os.cpu_count()} cores)")
    print(
        f"  write_shard        vs write_table default: {t_plain / t_ours:.3f}x, "
        f"vs write_table zstd: {t_plain_zstd / t_ours:.3f}x"
    )
    print(
        f"  VersionWriter.part vs write_table default: {t_plain / t_part:.3f}x (target >= 0.8), "
        f"vs write_table zstd: {t_plain_zstd / t_part:.3f}x"
    )


if __name__ == "__main__":
    main()
