"""Near-dedup: datatrove's 4-stage MinHash against crossling's, on the same real multilingual text.

Two evaluation sets, both of real text found offline on this machine, with seeded near-copies:

- "edited" (benchmarks/dedup_set.py): man pages in ~30 languages, CJK gettext messages, README and
  copyright files of Debian packages; copies with typos, removed/inserted lines, boilerplate
  headers/footers, swapped paragraphs, reflowed whitespace and changed punctuation;
- "current" (:func:`build_corpus`, the set this benchmark used before): man pages and the gettext
  messages of ~190 languages; copies with typos, removed/added lines and changed footers.

Ground truth is exact and independent of both tools (benchmarks/dedup_set.py, plain Python):
char-5 (every script: lowercased, whitespace runs folded, 5 consecutive characters) and word-5
(``\\w+`` words, scripts with spaces). For each Jaccard target t (``--thresholds``) both tools
are configured for t: crossling with ``threshold=t`` and its other defaults (and with the
``minhash_v1`` word shingles, for comparison), datatrove (word 5-grams, 112 hashes, its sha1
hash config: its default xxhash config fails with xxhash 4) with the buckets x hashes of the
same S-curve rule (14 x 8, its default, for t = 0.72). Scores are per document, independent of
which copy a tool keeps (benchmarks/dedup_set.score): precision, recall, false drops (removals
beyond k-1 per true cluster), recall per script; throughput in documents per CPU-second, both
tools single-process over the same JSONL files, measured in the same run.

Optional: the signature step alone (numpy, rensa, datasketch: why rensa), peak memory per Dask
worker of ``crossling dedup --dask-address local``, and a measured point for the memory formula
of the reduce (synthetic signatures of ``--memory-docs`` documents).

    python benchmarks/dedup.py [--docs 8000] [--thresholds 0.7,0.8,0.9] [--sets edited,current]
                               [--signature-step] [--dask] [--memory-docs N] [--json F] [--keep DIR]
"""

from __future__ import annotations

import argparse
import collections
import gettext
import glob
import gzip
import json
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

from benchmarks import dedup_set as dset  # noqa: E402
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


def run_datatrove(
    inputs: str, n_files: int, work: str, bands: int = BANDS, rows: int = ROWS
) -> tuple[float, float, dict[str, str]]:
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
        num_buckets=bands,
        hashes_per_bucket=rows,
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
        tasks=bands,
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
    inputs: list[str], out: str, near: mh.NearDedupConfig
) -> tuple[float, float, dict[str, str], dict]:
    """``crossling dedup``'s job in this process (run_local); -> wall s, CPU s, removed, summary."""
    cfg = dedup_job.DedupJobConfig(near=near)
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

SETS = ("edited", "current")


def build_set(which: str, n_base: int) -> list[dict]:
    """The records of one evaluation set: "edited" (benchmarks/dedup_set.py, the default) or
    "current" (the set this benchmark used before: :func:`build_corpus`)."""
    if which == "current":
        return build_corpus(n_base)
    man = man_documents()
    en = [d for d in man if d[0] == "en"]
    random.Random(1).shuffle(en)
    cjk = [d for d in gettext_documents(per_lang=0, per_cjk=400) if d[0][:2] in dset.CJK]
    base = [d for d in man if d[0] != "en"] + cjk + dset.doc_files()
    base += en[: max(0, n_base - len(base))]
    return dset.build_edited_set(base, n_base)


def datatrove_bands(t: float) -> tuple[int, int]:
    """datatrove's buckets x hashes for threshold target t: its default 14 x 8 (~0.72) for
    t = 0.72, else the b x r (b*r <= 112, its signature size) of the same S-curve rule
    crossling uses with equal weights."""
    return (BANDS, ROWS) if abs(t - 0.72) < 1e-9 else mh.optimal_bands(t, BANDS * ROWS, 0.5)


def evaluate_set(which: str, args: argparse.Namespace, work: str) -> dict:
    """Build one set, its truth, run both tools at every threshold target, print the curves."""
    t0 = time.perf_counter()
    records = build_set(which, args.docs)
    inputs_dir = os.path.join(work, which, "inputs")
    shutil.rmtree(inputs_dir, ignore_errors=True)
    inputs = write_inputs(records, inputs_dir, args.files)
    ids = [r["id"] for r in records]
    texts = [r["text"] for r in records]
    scripts = np.array([dset.script_of(t) for t in texts])
    langs = collections.Counter(r["lang"][:2] for r in records)
    mb = sum(len(t.encode()) for t in texts) / 2**20
    print(
        f"\n=== set '{which}': {len(records):,} documents ({mb:.1f} MB) in {len(langs)} languages; "
        + ", ".join(f"{s} {int((scripts == s).sum())}" for s in dset.SCRIPTS)
        + f"; {sum(r['id'] != r['origin'] for r in records):,} edited near-copies; built in "
        f"{time.perf_counter() - t0:.0f}s"
    )
    thresholds = sorted(float(x) for x in args.thresholds.split(","))
    t0 = time.perf_counter()
    truth = dset.Truth(texts, "char-5", min(thresholds))
    spaced = scripts != "CJK"
    wtruth = dset.Truth(texts, "word-5", min(thresholds), subset=spaced)
    print(
        f"ground truth: {len(truth.pairs):,} char-5 pairs and {len(wtruth.pairs):,} word-5 pairs "
        f"(spaced scripts) with Jaccard >= {min(thresholds)} ({time.perf_counter() - t0:.0f}s)"
    )

    # runs: (tool, target) -> (wall, cpu, removed)
    runs: dict[tuple[str, float], tuple[float, float, dict]] = {}
    variants = {
        "crossling": {},
        "crossling words (v1 shingles)": {"shingles": "words"},
    }
    for t in thresholds:
        b, r = datatrove_bands(t)
        wall, cpu, removed = run_datatrove(
            inputs_dir, args.files, os.path.join(work, which, f"dt-{t}"), b, r
        )
        runs[(f"datatrove {b}x{r}", t)] = (wall, cpu, removed)
        for name, extra in variants.items():
            near = mh.NearDedupConfig(threshold=t, **extra)
            out = os.path.join(work, which, f"cl-{name.split()[-1]}-{t}")
            shutil.rmtree(out, ignore_errors=True)
            wall, cpu, removed, _ = run_crossling(inputs, out, near)
            b2, r2 = near.lsh_params()
            runs[(f"{name} {b2}x{r2}", t)] = (wall, cpu, removed)

    load = os.getloadavg()
    print(
        f"\ncurves on '{which}' (truth: exact char-5 Jaccard >= target; each tool configured for the "
        f"target; one process each; load average {load[0]:.1f} on {os.cpu_count()} cores, so "
        "docs/CPU-s is the per-core rate):"
    )
    head = f"  {'target':>6} {'tool':<38} {'removed':>7} {'P':>6} {'R':>6} {'false':>6}"
    head += "".join(f" {'R ' + s:>8}" for s in dset.SCRIPTS) + f" {'docs/CPU-s':>10} {'vs dt':>6}"
    print(head)
    result: dict = {"set": which, "rows": []}
    for t in thresholds:
        base_rate = None
        for (name, tt), (_wall, cpu, removed) in runs.items():
            if tt != t:
                continue
            q = dset.score(removed, ids, truth, t)
            per = [dset.score(removed, ids, truth, t, scripts == s) for s in dset.SCRIPTS]
            rate = len(records) / cpu
            base_rate = base_rate or rate
            print(
                f"  {t:6.2f} {name:<38} {q['removed']:7d} {q['precision']:6.3f} {q['recall']:6.3f} "
                f"{q['false_drops']:6d}"
                + "".join(f" {p['recall']:8.3f}" for p in per)
                + f" {rate:10.0f} {rate / base_rate:5.1f}x"
            )
            result["rows"].append({"target": t, "tool": name, **q, "docs_per_cpu_s": rate})
        q = dset.score({}, ids, truth, t)
        print(
            f"  {'':6} (to remove: {q['to_remove']}; "
            + ", ".join(
                f"{s} {dset.score({}, ids, truth, t, scripts == s)['to_remove']}"
                for s in dset.SCRIPTS
            )
            + ")"
        )
    print(f"\nthe same runs judged on word-5 truth (spaced scripts only) on '{which}':")
    print(f"  {'target':>6} {'tool':<38} {'P':>6} {'R':>6} {'false':>6}")
    for (name, t), (_, _, removed) in runs.items():
        q = dset.score(removed, ids, wtruth, t, spaced)
        print(
            f"  {t:6.2f} {name:<38} {q['precision']:6.3f} {q['recall']:6.3f} {q['false_drops']:6d}"
        )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=8000, help="base documents before near-copies")
    ap.add_argument(
        "--thresholds",
        default="0.7,0.8,0.9",
        help="Jaccard targets of the curves (both tools configured for each)",
    )
    ap.add_argument("--sets", default=",".join(SETS), help="edited, current or both")
    ap.add_argument("--files", type=int, default=8, help="input files (= partitions, tasks)")
    ap.add_argument("--signature-step", action="store_true", help="also time rensa et al.")
    ap.add_argument("--dask", action="store_true", help="also the Dask memory run")
    ap.add_argument("--memory-docs", type=int, default=0, help="also the reduce memory point")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--keep", help="keep the corpus and outputs in this folder")
    args = ap.parse_args()

    work = args.keep or tempfile.mkdtemp(prefix="bench-dedup-")
    os.makedirs(work, exist_ok=True)
    results = [evaluate_set(s, args, work) for s in args.sets.split(",")]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=lambda o: o.item())  # numpy scalars
    if args.signature_step:
        texts = [r["text"] for r in build_corpus(2000)]
        signature_step(random.Random(0).sample(texts, min(4000, len(texts))))
    if args.dask:
        inputs = sorted(glob.glob(os.path.join(work, "edited", "inputs", "*.jsonl")))
        s = dask_memory(inputs, 0.8, work)
        if s:
            print(
                f"\ncrossling dedup on a Dask LocalCluster (2 worker processes): "
                f"{s['seconds']:.1f}s in the flow, {s['wall_with_startup']:.0f}s with server and "
                f"cluster start-up; peak RSS per worker by stage (MiB):"
            )
            print("  " + ", ".join(f"{k} {v['peak_rss_mb']:.0f}" for k, v in s["stages"].items()))
    if args.memory_docs:
        memory_point(args.memory_docs, work)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
