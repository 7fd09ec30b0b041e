"""Near-dedup: datatrove's 4-stage MinHash against crossling's, on the same real multilingual corpus.

The corpus is real text found offline on this machine: man pages in every installed language
(rendered from roff, cut into documents of about 2-3 KB at paragraph boundaries) and the translated
messages of the installed gettext catalogs (Chinese, Japanese, Korean and ~190 other languages),
grouped into documents of about 2.4 KB. Near-duplicates are made from a fifth of them by realistic
edits: words or characters changed, sentences deleted or inserted from other documents of the same
language, header and footer lines changed (dates, versions, localized "last updated" lines).

Both run single-process over the same JSONL files, with the same settings: word 5-grams, 14 bands
x 8 rows (112 min-hashes); datatrove with its sha1 hash config (its default xxhash config fails
with xxhash 4) and its default (English) word tokenizer; crossling with character 5-grams for
scripts written without spaces and exact verification at the threshold (the default; also shown
with signature verification and without any).
Ground truth is exact: every pair whose true Jaccard on crossling's shingles is at least the
threshold (an all-pairs similarity join with prefix filtering; also on datatrove's own shingles).
Quality is measured per document, independent of which copy a tool keeps: in each ground-truth
cluster of k documents, k-1 removals are right; a removal beyond that (or of a document with no
near-duplicate) is wrong. "strict" precision: the removed document and the one it names (or its
cluster's kept one, for datatrove) have true Jaccard >= threshold.

Also: the signature step alone (numpy, rensa, datasketch: why rensa), peak memory per Dask worker
of ``crossling dedup --dask-address local`` on the same corpus, and a measured point for the
memory formula of the reduce (synthetic signatures of ``--memory-docs`` documents).

    python benchmarks/dedup.py [--docs 20000] [--threshold 0.72] [--repeat 1]
                               [--no-dask] [--memory-docs 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import collections
import gettext
import glob
import gzip
import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from crossling.dedup import job as dedup_job  # noqa: E402
from crossling.dedup import minhash as mh  # noqa: E402

NGRAM, BANDS, ROWS = 5, 14, 8

# --- the corpus: real text found offline ------------------------------------------------------

_ESC = re.compile(r"\\(f\[[^\]]*\]|f\(..|f.|s[+-]?\d+|\(..|\*\(..|\*\[[^\]]*\]|\*.|\[[^\]]*\]|.)")
_ESC_MAP = {"-": "-", "e": "\\", "(em": "-", "(en": "-", " ": " ", "~": " ", "0": " "}
_ESC_MAP |= {"(aq": "'", "(dq": '"', "(lq": '"', "(rq": '"', "(oq": "'", "(cq": "'", "(bu": "*"}
_TEXT_MACROS = {"B", "I", "BI", "IB", "BR", "RB", "IR", "RI", "SM", "SB", "TP", "IP", "Nm", "Nd"}
_TEXT_MACROS |= {"Fl", "Ar", "Op", "Pa", "Xr", "Dt"}


def roff_to_text(src: str) -> str:
    """Readable text of a man page (macros out, section titles and macro arguments kept)."""
    out = []
    for line in src.splitlines():
        if line.startswith(('.\\"', "'\\\"", '\\"')):
            continue
        if line.startswith((".", "'")):
            parts = line[1:].split(None, 1)
            if not parts:
                continue
            mac, rest = parts[0], (parts[1] if len(parts) > 1 else "")
            if mac in ("SH", "SS", "Sh"):
                out.append("\n" + rest.strip('"') + "\n")
            elif mac in _TEXT_MACROS:
                out.append(rest.replace('"', ""))
            elif mac in ("PP", "LP", "P", "sp", "Pp", "br"):
                out.append("")
            continue
        out.append(line)
    text = _ESC.sub(lambda m: _ESC_MAP.get(m.group(1), ""), "\n".join(out))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def man_documents(base: str = "/usr/share/man") -> list[tuple[str, str]]:
    """(language, text) of man pages cut into ~2-3 KB documents at paragraph boundaries."""
    docs = []
    for path in sorted(glob.glob(os.path.join(base, "**", "*.gz"), recursive=True)):
        rel = os.path.relpath(path, base).split(os.sep)
        lang = "en" if rel[0].startswith("man") else rel[0]
        try:
            src = gzip.open(path).read().decode("utf-8", "replace")
        except (OSError, EOFError):
            continue
        if src.startswith(".so ") or len(src) < 200:
            continue
        docs.extend((lang, d) for d in _chunks(roff_to_text(src).split("\n\n"), 2400, "\n\n"))
    return docs


CJK_LOCALES = ("zh_CN", "zh_TW", "zh_HK", "ja", "ko")


def gettext_documents(
    base: str = "/usr/share/locale", per_lang: int = 30, per_cjk: int = 600
) -> list[tuple[str, str]]:
    """(language, text) of translated messages, grouped into ~2.4 KB documents."""
    by_lang: dict[str, list[str]] = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(base, "*", "LC_MESSAGES", "*.mo"))):
        lang = path.split(os.sep)[-3]
        try:
            with open(path, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog
        except Exception:  # noqa: BLE001 - a catalog we cannot parse is simply not used
            continue
        msgs = [v.strip() for k, v in catalog.items() if k and isinstance(v, str) and v.strip()]
        by_lang[lang].extend(msgs)
    docs = []
    for lang, msgs in sorted(by_lang.items()):
        chunks = _chunks(list(dict.fromkeys(msgs)), 2400, "\n")
        docs.extend((lang, d) for d in chunks[: per_cjk if lang in CJK_LOCALES else per_lang])
    return docs


def _chunks(parts: list[str], max_bytes: int, sep: str) -> list[str]:
    out, cur, size = [], [], 0
    for p in parts:
        p = p.strip()
        if not p:
            continue
        cur.append(p)
        size += len(p.encode()) + 1
        if size >= max_bytes:
            out.append(sep.join(cur))
            cur, size = [], 0
    if cur and size >= 300:
        out.append(sep.join(cur))
    return [d for d in out if len(d.encode()) >= 300]


_FOOTERS = {
    "zh": ["本页面最后修改于 {y}年{m}月{d}日。", "版权所有 © {y} 自由软件基金会。"],
    "ja": [
        "このページは {y}年{m}月{d}日 に更新されました。",
        "著作権 © {y} フリーソフトウェア財団",
    ],
    "ko": [
        "이 문서는 {y}년 {m}월 {d}일에 마지막으로 수정되었습니다.",
        "저작권 © {y} 자유 소프트웨어 재단",
    ],
    "": ["Last updated: {y}-{m:02d}-{d:02d}", "This page is part of release {m}.{d} ({y})."],
}


def _footer(lang: str, rng: random.Random) -> str:
    lines = _FOOTERS.get(lang[:2], _FOOTERS[""])
    return rng.choice(lines).format(
        y=rng.randint(1998, 2025), m=rng.randint(1, 12), d=rng.randint(1, 28)
    )


def edit_copy(text: str, lang: str, pool: list[str], rng: random.Random) -> str:
    """A near-copy: 1-8 realistic edits (typos, sentences dropped or added, footer changes)."""
    no_spaces = lang[:2] in ("zh", "ja", "ko", "th")
    lines = text.split("\n")
    for _ in range(rng.randint(1, 8)):
        op = rng.choice(["typo", "typo", "drop", "add", "footer"])
        i = rng.randrange(len(lines))
        if op == "typo" and lines[i]:
            if no_spaces:
                chars = list(lines[i])
                j = rng.randrange(len(chars))
                chars[j] = rng.choice(chars)
                lines[i] = "".join(chars)
            else:
                words = lines[i].split(" ")
                j = rng.randrange(len(words))
                w = words[j]
                if len(w) > 3:
                    k = rng.randrange(len(w) - 1)
                    words[j] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
                lines[i] = " ".join(words)
        elif op == "drop" and len(lines) > 3:
            del lines[i]
        elif op == "add" and pool:
            other = rng.choice(pool).split("\n")
            lines.insert(i, rng.choice(other))
        else:
            lines.append(_footer(lang, rng))
    return "\n".join(lines)


def build_corpus(n_base: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    gettext_docs = gettext_documents()
    man = man_documents()
    non_en = [d for d in man if d[0] != "en"]
    en = [d for d in man if d[0] == "en"]
    rng.shuffle(en)
    base = gettext_docs + non_en
    rng.shuffle(base)
    base = base[:n_base] + en[: max(0, n_base - len(base))]
    by_lang: dict[str, list[str]] = collections.defaultdict(list)
    for lang, text in base:
        by_lang[lang].append(text)
    records = [
        {"id": f"d{k:06d}", "text": t, "lang": lang, "origin": f"d{k:06d}"}
        for k, (lang, t) in enumerate(base)
    ]
    copies = []
    for r in records:
        if rng.random() < 0.2:
            for c in range(rng.randint(1, 3)):
                text = edit_copy(r["text"], r["lang"], by_lang[r["lang"]], rng)
                copies.append(
                    {"id": f"{r['id']}-c{c}", "text": text, "lang": r["lang"], "origin": r["id"]}
                )
    records += copies
    rng.shuffle(records)
    return records


def write_inputs(records: list[dict], folder: str, files: int) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"part-{i:03d}.jsonl") for i in range(files)]
    handles = [open(p, "w", encoding="utf-8") for p in paths]  # noqa: SIM115
    for k, r in enumerate(records):
        handles[k % files].write(
            json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n"
        )
    for h in handles:
        h.close()
    return paths


# --- the two tools ------------------------------------------------------------------------------


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def run_datatrove(inputs: str, n_files: int, work: str) -> tuple[float, float, dict[str, str]]:
    """datatrove's four MinHash stages, one task at a time; -> wall s, CPU s, removed id -> kept."""
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    cfg = MinhashConfig(
        n_grams=NGRAM,
        num_buckets=BANDS,
        hashes_per_bucket=ROWS,
        hash_config=HashConfig(precision=64, hash_fc="sha1"),
    )

    def reader():
        return JsonlReader(inputs, glob_pattern="*.jsonl", text_key="text", id_key="id")

    logs = os.path.join(work, "logs")
    s1 = LocalPipelineExecutor(
        [reader(), MinhashDedupSignature(f"{work}/sigs", config=cfg)],
        tasks=n_files,
        workers=1,
        logging_dir=f"{logs}/1",
    )
    s2 = LocalPipelineExecutor(
        [MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=cfg)],
        tasks=BANDS,
        workers=1,
        logging_dir=f"{logs}/2",
        depends=s1,
    )
    s3 = LocalPipelineExecutor(
        [
            MinhashDedupCluster(
                f"{work}/buckets", f"{work}/remove", config=cfg, save_cluster_id=True
            )
        ],
        tasks=1,
        workers=1,
        logging_dir=f"{logs}/3",
        depends=s2,
    )
    s4 = LocalPipelineExecutor(
        [
            reader(),
            MinhashDedupFilter(
                f"{work}/remove",
                exclusion_writer=JsonlWriter(f"{work}/removed", compression=None),
                load_cluster_ids=True,
            ),
            JsonlWriter(f"{work}/kept", compression=None),
        ],
        tasks=n_files,
        workers=1,
        logging_dir=f"{logs}/4",
        depends=s3,
    )
    t0, c0 = time.perf_counter(), _cpu()
    s4.run()
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    kept_of_cluster = {}
    for path in glob.glob(f"{work}/kept/*.jsonl"):
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            cid = d.get("metadata", {}).get("minhash_cluster_id", -1)
            if cid != -1:
                kept_of_cluster[cid] = d["id"]
    removed = {}
    for path in glob.glob(f"{work}/removed/*.jsonl"):
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            removed[d["id"]] = kept_of_cluster.get(d.get("metadata", {}).get("minhash_cluster_id"))
    return wall, cpu, removed


def run_crossling(
    inputs: list[str], out: str, threshold: float, verify: str
) -> tuple[float, float, dict[str, str], dict]:
    cfg = dedup_job.DedupJobConfig(
        near=mh.NearDedupConfig(
            threshold=threshold,
            ngram=NGRAM,
            num_perm=BANDS * ROWS,
            bands=BANDS,
            rows=ROWS,
            verify=verify,
        )
    )
    t0, c0 = time.perf_counter(), _cpu()
    summary = dedup_job.run_local(inputs, out, cfg)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    import pyarrow.parquet as pq

    rej = pq.read_table(os.path.join(out, "rejects"), columns=["id", "duplicate_of", "reason"])
    removed = {
        i: d
        for i, d, r in zip(
            *(rej.column(c).to_pylist() for c in ("id", "duplicate_of", "reason")), strict=True
        )
        if r == mh.NEAR_DUPLICATE
    }
    return wall, cpu, removed, summary


# --- exact ground truth -----------------------------------------------------------------------


def all_pairs(sets: list[np.ndarray], t: float) -> dict[tuple[int, int], float]:
    """Every pair with Jaccard >= t, exactly: prefix filtering on shingles ordered rarest first."""
    sizes = np.array([len(s) for s in sets])
    flat = np.concatenate([s for s in sets if len(s)]) if sizes.sum() else np.zeros(0, np.uint64)
    uniq, inv = np.unique(flat, return_inverse=True)
    df = np.bincount(inv)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(df, kind="stable")] = np.arange(len(uniq))
    cols, pos = [], 0
    for s in sizes:
        cols.append(np.sort(rank[inv[pos : pos + s]]))
        pos += s
    postings: dict[int, list[int]] = collections.defaultdict(list)
    for i, c in enumerate(cols):
        if len(c):
            p = len(c) - math.ceil(t * len(c) - 1e-9) + 1
            for tok in c[:p].tolist():
                postings[tok].append(i)
    cand: set[tuple[int, int]] = set()
    for docs in postings.values():
        if len(docs) > 1:
            for a in range(len(docs)):
                for b in range(a + 1, len(docs)):
                    x, y = docs[a], docs[b]
                    if min(sizes[x], sizes[y]) >= t * max(sizes[x], sizes[y]):
                        cand.add((x, y))
    out = {}
    for x, y in cand:
        inter = len(np.intersect1d(cols[x], cols[y], assume_unique=True))
        j = inter / (sizes[x] + sizes[y] - inter)
        if j >= t - 1e-12:
            out[(x, y)] = j
    return out


def components(n: int, pairs) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    e = np.array(list(pairs), dtype=np.int64).reshape(-1, 2)
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1]


def quality(
    removed: dict[str, str | None], ids: list[str], gt: dict[tuple[int, int], float], sets, t: float
) -> dict[str, float]:
    index = {d: i for i, d in enumerate(ids)}
    labels = components(len(ids), gt.keys())
    size = np.bincount(labels)
    gone = collections.Counter(labels[index[d]] for d in removed)
    right = sum(min(k, size[c] - 1) for c, k in gone.items())
    should = int((size - 1).sum())
    strict = 0
    for d, rep in removed.items():
        if rep is not None and rep in index:
            a, b = sorted((index[d], index[rep]))
            strict += (a, b) in gt or mh.jaccard(sets[a], sets[b]) >= t
    return {
        "removed": len(removed),
        "precision": right / max(1, len(removed)),
        "recall": right / max(1, should),
        "strict_precision": strict / max(1, len(removed)),
        "to_remove": should,
    }


def datatrove_shingles(texts: list[str]) -> list[np.ndarray]:
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig

    sig = MinhashDedupSignature(
        tempfile.mkdtemp(),
        config=MinhashConfig(n_grams=NGRAM, hash_config=HashConfig(hash_fc="sha1")),
    )
    return [np.unique(sig.get_shingles(t).ravel()) for t in texts]


# --- the signature step alone -------------------------------------------------------------------


def signature_step(texts: list[str]) -> None:
    """Why rensa: the signature step alone on the same shingle hashes, three ways."""
    k = BANDS * ROWS
    cfg = mh.NearDedupConfig(num_perm=k, bands=BANDS, rows=ROWS)
    t0 = time.process_time()  # CPU time: the machine may be shared
    batches = []
    for i in range(0, len(texts), 128):
        batches.append(mh.shingle_hashes(texts[i : i + 128], cfg))
    shingle_s = time.process_time() - t0
    rng = np.random.default_rng(0)
    a = rng.integers(1, 2**63, size=k, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=k, dtype=np.uint64)

    def numpy_sig(h, off):  # multiply-shift permutations, 64-bit, min per document
        v = a[:, None] * h[None, :]
        v += b[:, None]
        v >>= np.uint64(32)
        v = v.astype(np.uint32)
        nz = np.flatnonzero(off[1:] > off[:-1])
        out = np.full((k, len(off) - 1), 0xFFFFFFFF, np.uint32)
        out[:, nz] = np.minimum.reduceat(v, off[nz], axis=1)
        return out.T

    def rensa_sig(h, off):
        import rensa

        return np.asarray(
            rensa.RMinHash.digest_matrix_from_flat_token_hashes(h, off, k, 1).to_rows()
        )

    def datasketch_sig(h, off):
        from datasketch import MinHash

        for i in range(len(off) - 1):
            m = MinHash(num_perm=k, seed=1)
            m.update_batch([x.tobytes() for x in h[off[i] : off[i + 1]]])

    print(
        f"\nsignature step alone, {len(texts)} documents, {k} min-hashes (same shingle hashes), "
        "documents per CPU-second:"
    )
    print(f"  crossling shingling (numpy, by script): {len(texts) / shingle_s:10.0f} documents/s")
    for name, fn, share in [
        ("numpy multiply-shift", numpy_sig, 1.0),
        ("rensa R-MinHash", rensa_sig, 1.0),
        ("datasketch MinHash", datasketch_sig, 0.1),
    ]:
        n = max(1, int(len(batches) * share))
        t0 = time.process_time()
        for h, off in batches[:n]:
            fn(h, off)
        dt = time.process_time() - t0
        docs = sum(len(off) - 1 for _, off in batches[:n])
        print(f"  {name:<40} {docs / dt:10.0f} documents/s")


# --- memory -----------------------------------------------------------------------------------


def dask_memory(inputs: list[str], threshold: float, workdir: str) -> dict | None:
    """``crossling dedup`` on a 2-worker Dask LocalCluster; the peak RSS each stage's tasks saw."""
    out = os.path.join(workdir, "dask-out")
    env = {**os.environ, "PREFECT_HOME": os.path.join(workdir, "prefect-home")}
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env.pop("PREFECT_API_URL", None)
    cmd = [sys.executable, "-m", "flows.cli", "dedup", *inputs, "--out", out, "--workers", "2"]
    cmd += ["--dask-address", "local", "--threshold", str(threshold), "--bands", str(BANDS)]
    cmd += ["--rows", str(ROWS), "--num-perm", str(BANDS * ROWS), "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        print("dask run failed:", proc.stderr[-2000:])
        return None
    summary = json.load(open(os.path.join(out, "dedup.json")))
    summary["wall_with_startup"] = time.perf_counter() - t0
    return summary


_MEMORY_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from crossling.dedup import minhash as mh
from crossling.dedup.job import peak_rss_mb
args = json.loads(sys.argv[2])
cfg = mh.NearDedupConfig(**args["config"])
plan = mh.ReducePlan.from_dict(args["plan"])
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
base = rss_mb()
groups = mh.band_group_list(cfg)
edges = mh.candidate_edges(plan, groups[0], cfg)
peak = peak_rss_mb()
print(json.dumps({"base_mb": base, "peak_mb": peak, "bands": len(groups[0]), "pairs": len(edges)}))
"""


def _band_files(n_docs: int, workdir: str, cfg: mh.NearDedupConfig, per: int = 50_000) -> list[str]:
    """Band files of ``n_docs`` synthetic signatures (1% near-copies of another document), one
    per partition of ``per`` documents (a 64 MB partition of 2.4 KB documents holds ~27,000)."""
    rng = np.random.default_rng(1)
    parts = max(1, n_docs // per)
    files = []
    for p in range(parts):
        sigs = rng.integers(0, 2**32, size=(per, cfg.num_perm), dtype=np.uint64).astype(np.uint32)
        dup = rng.random(per) < 0.01
        sigs[dup] = sigs[rng.integers(0, per, size=int(dup.sum()))]
        sigs[dup, : cfg.num_perm // 10] = rng.integers(
            0, 2**32, size=(int(dup.sum()), cfg.num_perm // 10)
        )
        ids = [f"{p:02d}{i:030d}" for i in range(per)]  # 32 characters, like a hex xxh3-128 id
        path = os.path.join(workdir, f"mem-{n_docs}-bands-{p}.parquet")
        mh.write_band_file(mh.band_table(ids, sigs, cfg), path)
        files.append(path)
    return files


def memory_point(n_docs: int, workdir: str) -> None:
    """Peak memory of one reduce task at n/4 and n documents: fixed part and bytes per document."""
    cfg = mh.NearDedupConfig(num_perm=BANDS * ROWS, bands=BANDS, rows=ROWS)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sizes = [n_docs // 4, n_docs]
    peaks: dict[tuple[int, int], float] = {}
    for n in sizes:
        t0 = time.perf_counter()
        files = _band_files(n, workdir, cfg)
        disk = sum(os.path.getsize(f) for f in files)
        plan = mh.plan_reduce(files, cfg)
        print(
            f"\nmemory: {plan.n_total:,} documents in {len(files)} band files ({disk / 2**20:.0f} MiB "
            f"on disk, {disk / plan.n_total:.0f} bytes/document), written in "
            f"{time.perf_counter() - t0:.1f}s"
        )
        for groups in (1, 4):
            c = cfg.model_copy(update={"band_groups": groups})
            arg = json.dumps({"config": c.model_dump(), "plan": plan.to_dict()})
            t0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, root, arg],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            peaks[(n, r["bands"])] = r["peak_mb"] - r["base_mb"]
            print(
                f"  one reduce task over {r['bands']:>2} bands: peak RSS {r['peak_mb']:6.0f} MiB, "
                f"{peaks[(n, r['bands'])]:5.0f} MiB over the interpreter; "
                f"{r['pairs']:,} candidate pairs; {time.perf_counter() - t0:.1f}s"
            )
        for f in files:
            os.remove(f)
    for g in sorted({k[1] for k in peaks}):
        slope = (peaks[(sizes[1], g)] - peaks[(sizes[0], g)]) * 2**20 / (sizes[1] - sizes[0])
        fixed = peaks[(sizes[1], g)] - slope * sizes[1] / 2**20
        print(
            f"  {g:>2} bands per task: {slope:.0f} bytes/document (formula 8*{g}+18 = "
            f"{8 * g + 18}) + {fixed:.0f} MiB fixed -> 10 million documents: "
            f"{(fixed * 2**20 + slope * 1e7) / 2**30:.1f} GiB per reduce task"
        )


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=20000, help="base documents before near-copies")
    ap.add_argument("--threshold", type=float, default=0.72, help="ground truth Jaccard")
    ap.add_argument("--files", type=int, default=8, help="input files (= partitions, tasks)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--memory-docs", type=int, default=1_000_000)
    ap.add_argument("--keep", help="keep the corpus and outputs in this folder")
    args = ap.parse_args()

    work = args.keep or tempfile.mkdtemp(prefix="bench-dedup-")
    os.makedirs(work, exist_ok=True)
    t0 = time.perf_counter()
    records = build_corpus(args.docs)
    inputs_dir = os.path.join(work, "inputs")
    shutil.rmtree(inputs_dir, ignore_errors=True)
    inputs = write_inputs(records, inputs_dir, args.files)
    ids = [r["id"] for r in records]
    texts = [r["text"] for r in records]
    langs = collections.Counter(r["lang"][:2] for r in records)
    cjk = sum(langs[x] for x in ("zh", "ja", "ko"))
    mb = sum(len(t.encode()) for t in texts) / 2**20
    print(
        f"corpus: {len(records):,} documents ({mb:.1f} MB, {mb * 2**20 / len(records) / 1024:.1f} KB "
        f"on average) in {len(langs)} languages, {cjk:,} Chinese/Japanese/Korean "
        f"(zh {langs['zh']}, ja {langs['ja']}, ko {langs['ko']}); "
        f"{sum(r['id'] != r['origin'] for r in records):,} edited near-copies; built in "
        f"{time.perf_counter() - t0:.0f}s"
    )

    t0 = time.perf_counter()
    sets = mh.shingle_sets(texts, mh.NearDedupConfig())
    gt = all_pairs(sets, args.threshold)
    print(
        f"ground truth (crossling shingles): {len(gt):,} pairs with Jaccard >= {args.threshold} "
        f"({time.perf_counter() - t0:.0f}s)"
    )
    t0 = time.perf_counter()
    dt_sets = datatrove_shingles(texts)
    gt_dt = all_pairs(dt_sets, args.threshold)
    print(
        f"ground truth (datatrove shingles): {len(gt_dt):,} pairs ({time.perf_counter() - t0:.0f}s)"
    )

    signature_step(random.Random(0).sample(texts, min(4000, len(texts))))

    runs: dict[str, list] = collections.defaultdict(list)
    for rep in range(args.repeat):
        wall, cpu, removed = run_datatrove(inputs_dir, args.files, os.path.join(work, f"dt-{rep}"))
        runs["datatrove"].append((wall, cpu, removed))
        for verify in ("exact", "signature", "none"):
            out = os.path.join(work, f"ours-{verify}-{rep}")
            wall, cpu, removed, _ = run_crossling(inputs, out, args.threshold, verify)
            runs[f"crossling (verify {verify})"].append((wall, cpu, removed))
    load = os.getloadavg()
    print(
        f"\nthroughput, one process each (one core), best of {args.repeat}; load average "
        f"{load[0]:.2f} on {os.cpu_count()} cores, so documents per CPU-second is the per-core "
        "rate (wall-clock rates are low when other work shares the machine):"
    )
    print(
        f"  {'':<28} {'wall s':>8} {'CPU s':>8} {'docs/s wall':>12} {'docs/CPU-s':>11} "
        f"{'vs datatrove':>13}"
    )
    base = None
    for name, rs in runs.items():
        wall, cpu, _ = min(rs, key=lambda r: r[1])
        rate = len(records) / cpu
        base = base or rate
        print(
            f"  {name:<28} {wall:8.1f} {cpu:8.1f} {len(records) / wall:12.0f} {rate:11.0f} "
            f"{rate / base:12.1f}x"
        )

    cjk_ids = {r["id"] for r in records if r["lang"][:2] in ("zh", "ja", "ko")}
    for label, truth, shingles in [("crossling", gt, sets), ("datatrove", gt_dt, dt_sets)]:
        print(
            f"\nquality against exact ground truth on {label}'s shingles (Jaccard >= {args.threshold}):"
        )
        print(
            f"  {'':<28} {'removed':>8} {'precision':>10} {'recall':>8} {'strict P':>9} {'CJK recall':>11}"
        )
        for name, rs in runs.items():
            removed = rs[0][2]
            q = quality(removed, ids, truth, shingles, args.threshold)
            cjk_truth = {p: j for p, j in truth.items() if ids[p[0]] in cjk_ids}
            qc = quality(
                {d: r for d, r in removed.items() if d in cjk_ids},
                ids,
                cjk_truth,
                shingles,
                args.threshold,
            )
            print(
                f"  {name:<28} {q['removed']:8d} {q['precision']:10.3f} {q['recall']:8.3f} "
                f"{q['strict_precision']:9.3f} {qc['recall']:11.3f}"
            )
        print(f"  (documents to remove: {q['to_remove']}, of which CJK {qc['to_remove']})")

    if not args.no_dask:
        s = dask_memory(inputs, args.threshold, work)
        if s:
            print(
                f"\ncrossling dedup on a Dask LocalCluster (2 worker processes): "
                f"{s['seconds']:.1f}s in the flow, {s['wall_with_startup']:.0f}s with server and "
                f"cluster start-up; peak RSS per worker by stage (MiB):"
            )
            print("  " + ", ".join(f"{k} {v['peak_rss_mb']:.0f}" for k, v in s["stages"].items()))
            print(
                f"  removed {s['by_reason'].get('near_duplicate', 0)} (local run: "
                f"{len(runs['crossling (verify exact)'][0][2])})"
            )
    if args.memory_docs:
        memory_point(args.memory_docs, work)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
