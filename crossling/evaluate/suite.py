"""Evaluate one checkpoint the same way every time and write its ``results.json``.

The held-out data comes from the corpus version recorded in the checkpoint's lineage:
``split == "heldout"`` DOCS rows (masked LM), real ``split == "heldout"`` PAIRS rows (retrieval and
translation; synthetic pairs are never scored), and an optional labeled set (classification). Rows
are taken in id order (a hash, so a fixed pseudo-random sample) up to ``max_rows_per_lang`` per
language or direction, so reruns and other checkpoints of the same corpus see the same rows.

Before any scoring the contamination guard compares the ids and content hashes of the selected
rows with the checkpoint's training ids and raises :class:`ContaminationError` on any overlap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import posixpath
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem
from pydantic import BaseModel, Field

from crossling.documents import content_hash
from crossling.evaluate import metrics as M
from crossling.registry import CheckpointRef
from crossling.storage import MANIFEST, DataRoot, file_sha256, read_json, write_json

log = logging.getLogger(__name__)

RESULTS_FORMAT = "crossling-eval-v1"

# Metric families and the order reports show them in. Results name a metric
# ``<family>/<lang>`` (mlm_accuracy, pseudo_perplexity, *_accuracy), ``<family>/<src>-<tgt>``
# (bleu, chrf: translating src into tgt; retrieval_top1: src queries searching among tgt texts),
# plus ``<family>/avg``, the macro average over languages or directions. All improve upwards
# except those in LOWER_IS_BETTER.
LOWER_IS_BETTER = {"pseudo_perplexity"}
HEADLINE_ORDER = [
    "mlm_accuracy",
    "pseudo_perplexity",
    "retrieval_top1",
    "zeroshot_accuracy",
    "supervised_accuracy",
    "bleu",
    "chrf",
]


class EvalConfig(BaseModel):
    """How checkpoints are evaluated. Part of every results.json; change it and results stop being
    comparable with earlier ones (the report says so)."""

    max_rows_per_lang: int = Field(
        64,
        ge=1,
        description="Held-out rows per language (docs, labeled) or per direction (pairs). "
        "64 keeps tiny models at seconds on CPU; use 1000+ for numbers you publish.",
    )
    mlm_max_length: int = Field(
        64,
        ge=4,
        description="Tokens per text for pseudo-perplexity. Each token is one forward pass, so "
        "cost grows with rows x tokens.",
    )
    mlm_max_positions: int | None = Field(
        16,
        ge=1,
        description="Masked positions scored per text (evenly spaced, always the same); None "
        "scores every token (exact pseudo-perplexity; up to mlm_max_length/16 times slower).",
    )
    max_length: int = Field(
        128, ge=4, description="Tokens per text for embeddings, classification and translation."
    )
    batch_size: int = Field(64, ge=1, description="Sequences per forward pass.")
    languages: list[str] | None = Field(
        None, description="Only these language codes (default: every language of the corpus)."
    )
    labeled_path: str | None = Field(
        None,
        description="Labeled set (JSONL or Parquet: text, label, lang[, id, split]) for "
        "classifier checkpoints; the rows the classifier trained on are skipped. Default: the "
        "checkpoint metadata's config.labeled_path.",
    )
    num_beams: int = Field(1, ge=1, description="Beam size for translation (1 = greedy).")
    max_new_tokens: int = Field(64, ge=1, description="Longest generated translation.")
    translation_prefix: str | None = Field(
        None,
        description="Source prefix template for multilingual translation, e.g. '<lang:{tgt}>'. "
        "Default: crossling's <lang:xx> tag when the vocabulary has it (else >>xx<<, else none).",
    )
    device: str = Field("cpu", description="torch device: cpu, cuda, cuda:1, or auto.")

    def comparable_hash(self) -> str:
        """Hash of the fields that change the numbers (not the device or batch size)."""
        d = self.model_dump(exclude={"device", "batch_size"})
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


class ContaminationError(RuntimeError):
    """Evaluation rows appear in the checkpoint's training data: refusing to score them."""

    def __init__(
        self,
        checkpoint: str,
        eval_set: str,
        overlap: int,
        rows: int,
        train_source: str,
        examples: list[str],
    ) -> None:
        self.checkpoint = checkpoint
        self.eval_set = eval_set
        self.overlap = overlap
        self.rows = rows
        self.train_source = train_source
        self.examples = examples
        super().__init__(
            f"refusing to evaluate {checkpoint}: {overlap} of {rows} rows of eval set "
            f"{eval_set} appear in its training data ({train_source}) by id or content hash; "
            f"e.g. {', '.join(examples[:3])}"
        )


# --- evaluation data -------------------------------------------------------------------------------


@dataclass
class EvalSet:
    """Rows of one evaluation set, with the keys the contamination guard checks."""

    name: str  # e.g. "demo@20261101T000000Z-1a2b3c4d:docs/heldout"
    rows: list[dict[str, Any]] = field(default_factory=list)
    # (row id, content hashes) per row: DOCS rows have one hash, PAIRS rows one per side.
    keys: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def sha256(self) -> str:
        """Hash of every selected row (ids, texts, languages, labels): equal means same eval data."""
        h = hashlib.sha256()
        for row in sorted(self.rows, key=lambda r: r["id"]):
            h.update(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode())
            h.update(b"\n")
        return h.hexdigest()

    def summary(self, group: str) -> dict[str, Any]:
        counts: dict[str, int] = defaultdict(int)
        for r in self.rows:
            counts[r[group]] += 1
        return {
            "rows": len(self.rows),
            "sha256": self.sha256(),
            "by_group": dict(sorted(counts.items())),
        }


def _parquet_files(data: DataRoot, base: str, pattern: str) -> list[str]:
    return sorted(data.fs.glob(posixpath.join(base, pattern)))


def _read_heldout(data: DataRoot, files: list[str], columns: list[str]) -> pa.Table:
    tables = []
    for path in files:
        with data.fs.open(path, "rb") as f:
            t = pq.read_table(f, columns=columns, filters=[("split", "==", "heldout")])
        tables.append(t)
    return pa.concat_tables(tables) if tables else pa.table({c: [] for c in columns})


def _cap(rows: list[dict[str, Any]], group: str, cap: int) -> list[dict[str, Any]]:
    """The first ``cap`` rows by id within each group: a fixed pseudo-random sample."""
    rows = sorted(rows, key=lambda r: r["id"])
    taken: dict[str, int] = defaultdict(int)
    out = []
    for r in rows:
        if taken[r[group]] < cap:
            taken[r[group]] += 1
            out.append(r)
    return out


def load_heldout_docs(data: DataRoot, corpus: str, version: str, cfg: EvalConfig) -> EvalSet:
    """Held-out DOCS rows of a corpus version, capped per language."""
    base = data.version_dir(corpus, version)
    files = _parquet_files(data, base, "docs/lang=*/part-*.parquet")
    table = _read_heldout(data, files, ["id", "text", "lang", "content_hash", "split"])
    rows = [r for r in table.to_pylist() if not cfg.languages or r["lang"] in cfg.languages]
    rows = _cap(rows, "lang", cfg.max_rows_per_lang)
    es = EvalSet(f"{corpus}@{version}:docs/heldout", rows)
    es.keys = [(r["id"], (r["content_hash"],)) for r in rows]
    return es


def load_heldout_pairs(data: DataRoot, corpus: str, version: str, cfg: EvalConfig) -> EvalSet:
    """Real (never synthetic) held-out PAIRS rows of a corpus version, capped per direction."""
    base = data.version_dir(corpus, version)
    files = _parquet_files(data, base, "pairs/part-*.parquet")
    cols = ["id", "src_lang", "tgt_lang", "src_text", "tgt_text", "synthetic", "split"]
    table = _read_heldout(data, files, cols)
    rows = []
    for r in table.to_pylist():
        if r["synthetic"]:
            continue
        if cfg.languages and not {r["src_lang"], r["tgt_lang"]} <= set(cfg.languages):
            continue
        r["direction"] = f"{r['src_lang']}-{r['tgt_lang']}"
        rows.append(r)
    rows = _cap(rows, "direction", cfg.max_rows_per_lang)
    es = EvalSet(f"{corpus}@{version}:pairs/heldout/real", rows)
    es.keys = [(r["id"], (content_hash(r["src_text"]), content_hash(r["tgt_text"]))) for r in rows]
    return es


def load_labeled(path: str, cfg: EvalConfig, train_langs: list[str] | None = None) -> EvalSet:
    """The rows of a labeled set ``{text, label, lang[, id, split]}`` a classifier did not train on.

    Which rows trained is decided by ``crossling.train.data.labeled_train_rows`` (the trainer's own
    rule: the ``split`` field, else the split derived from the id, within ``train_langs``), so the
    two never disagree; every other row is evaluated, capped per language. Rows keep a
    ``zero_shot`` flag: their language is not among ``train_langs``.
    """
    from crossling.train.data import labeled_train_rows, read_labeled

    rows = read_labeled(path)
    trained = {r["id"] for r in labeled_train_rows(rows, train_langs)}
    rows = [
        r
        for r in rows
        if r["id"] not in trained and (not cfg.languages or r["lang"] in cfg.languages)
    ]
    for r in rows:
        r["zero_shot"] = bool(train_langs) and r["lang"] not in train_langs
    rows = _cap(rows, "lang", cfg.max_rows_per_lang)
    es = EvalSet(f"labeled:{posixpath.basename(path)}", rows)
    es.keys = [(r["id"], (content_hash(r["text"]),)) for r in rows]
    return es


def _url_to_fs(path: str):
    import fsspec

    return fsspec.core.url_to_fs(path)


# --- the contamination guard ------------------------------------------------------------------------


def _train_key_batches(
    data: DataRoot, checkpoint_dir: str, meta: dict[str, Any]
) -> tuple[str, Iterator[tuple[pa.Array, pa.Array]]]:
    """(description, iterator of (ids, content_hashes) arrays) of everything training could read.

    ``train_ids_path`` may be a URL, an absolute path, or a path relative to the checkpoint.
    """
    train_ids_path = meta.get("train_ids_path")
    if train_ids_path:
        if "://" in train_ids_path or os.path.isabs(train_ids_path):
            fs, p = _url_to_fs(train_ids_path)
        else:  # relative: to the checkpoint, else to its run directory, else to the data root
            fs = data.fs
            bases = [checkpoint_dir, posixpath.dirname(checkpoint_dir.rstrip("/")), data.path]
            tried = [posixpath.normpath(posixpath.join(b, train_ids_path)) for b in bases]
            p = next((t for t in tried if fs.exists(t)), tried[0])
        if not fs.exists(p):
            raise FileNotFoundError(
                f"train_ids_path {train_ids_path} of the checkpoint does not exist: the "
                "contamination guard cannot run"
            )

        def from_file() -> Iterator[tuple[pa.Array, pa.Array]]:
            with fs.open(p, "rb") as f:
                for b in pq.ParquetFile(f).iter_batches(columns=["id", "content_hash"]):
                    yield b.column("id"), b.column("content_hash")

        return f"train_ids_path {train_ids_path}", from_file()

    corpus = meta["corpus"]
    base = data.version_dir(corpus["name"], corpus["version"])
    docs = _parquet_files(data, base, "docs/lang=*/part-*.parquet")
    pairs = _parquet_files(data, base, "pairs/part-*.parquet")

    def from_corpus() -> Iterator[tuple[pa.Array, pa.Array]]:
        for path in docs:
            with data.fs.open(path, "rb") as f:
                t = pq.read_table(
                    f, columns=["id", "content_hash"], filters=[("split", "==", "train")]
                )
            yield t.column("id"), t.column("content_hash")
        for path in pairs:
            with data.fs.open(path, "rb") as f:
                t = pq.read_table(
                    f, columns=["id", "src_text", "tgt_text"], filters=[("split", "==", "train")]
                )
            ids = t.column("id").to_pylist()
            src = [content_hash(x) for x in t.column("src_text").to_pylist()]
            tgt = [content_hash(x) for x in t.column("tgt_text").to_pylist()]
            yield pa.array(ids + ids, pa.string()), pa.array(src + tgt, pa.string())

    return (
        f"train split of corpus {corpus['name']}@{corpus['version']} (no train_ids_path)",
        from_corpus(),
    )


def check_contamination(
    ref: CheckpointRef, meta: dict[str, Any], sets: list[EvalSet]
) -> dict[str, Any]:
    """Raise :class:`ContaminationError` when a row of ``sets`` appears in the training data.

    A row overlaps when its id, or the content hash of its text (of either side, for pairs),
    appears among the ids / content hashes training could read. Returns what was checked.
    """
    sets = [s for s in sets if s.rows]
    eval_ids = pa.array(sorted({k for s in sets for k, _ in s.keys}), pa.string())
    eval_hashes = pa.array(sorted({h for s in sets for _, hs in s.keys for h in hs}), pa.string())
    source, batches = _train_key_batches(ref.data_root, ref.path, meta)
    hit_ids: set[str] = set()
    hit_hashes: set[str] = set()
    train_rows = 0
    for ids, hashes in batches:
        train_rows += len(ids)
        hit_ids.update(x for x in pc.filter(ids, pc.is_in(ids, eval_ids)).to_pylist() if x)
        hit_hashes.update(
            x for x in pc.filter(hashes, pc.is_in(hashes, eval_hashes)).to_pylist() if x
        )
    bad: list[tuple[EvalSet, list[str]]] = []
    for s in sets:
        overlap = [k for k, hs in s.keys if k in hit_ids or any(h in hit_hashes for h in hs)]
        if overlap:
            bad.append((s, overlap))
    if bad:
        raise ContaminationError(
            checkpoint=ref.name,
            eval_set=" + ".join(s.name for s, _ in bad),
            overlap=sum(len(o) for _, o in bad),
            rows=sum(len(s.rows) for s, _ in bad),
            train_source=source,
            examples=[f"{s.name} id {o[0]}" for s, o in bad],
        )
    return {"train_ids": source, "train_rows": train_rows, "eval_rows": len(eval_ids), "overlap": 0}


# --- models ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def local_checkpoint_dir(ref: CheckpointRef) -> Iterator[str]:
    """The checkpoint as a local directory (copied to a temporary one for remote roots)."""
    fs = ref.data_root.fs
    if isinstance(fs, LocalFileSystem):
        yield ref.path
        return
    with tempfile.TemporaryDirectory(prefix="crossling-ckpt-") as tmp:
        fs.get(ref.path.rstrip("/") + "/", tmp, recursive=True)
        yield tmp


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def load_model(kind: str, path: str, device: str = "cpu") -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of a local checkpoint directory, safetensors only."""
    import transformers as tf

    tf.utils.logging.disable_progress_bar()
    auto = {
        "encoder": tf.AutoModelForMaskedLM,
        "classifier": tf.AutoModelForSequenceClassification,
        "seq2seq": tf.AutoModelForSeq2SeqLM,
    }.get(kind)
    if auto is None:
        raise ValueError(f"unknown model_kind {kind!r} (expected encoder, classifier or seq2seq)")
    tokenizer = tf.AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = auto.from_pretrained(path, local_files_only=True, use_safetensors=True)
    return model.to(_device(device)).eval(), tokenizer


# --- the suite ---------------------------------------------------------------------------------------


def _avg(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return sum(vals) / len(vals) if vals else None


def _group(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return dict(sorted(out.items()))


def score_encoder(
    model: Any, tok: Any, docs: EvalSet, pairs: EvalSet, cfg: EvalConfig
) -> tuple[dict[str, float], dict[str, Any]]:
    """Masked-token accuracy and pseudo-perplexity per language; retrieval per direction."""
    metrics: dict[str, float] = {}
    details: dict[str, Any] = {}
    for lang, rows in _group(docs.rows, "lang").items():
        s = M.masked_lm_score(
            model,
            tok,
            [r["text"] for r in rows],
            max_length=cfg.mlm_max_length,
            max_positions=cfg.mlm_max_positions,
            batch_size=cfg.batch_size,
        )
        if s.tokens:
            metrics[f"mlm_accuracy/{lang}"] = s.accuracy
            metrics[f"pseudo_perplexity/{lang}"] = s.pseudo_perplexity
        details[f"mlm/{lang}"] = {"texts": s.texts, "tokens": s.tokens}
    # One language pair, both directions: query on one side, search among the other side.
    by_pair: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in pairs.rows:
        a, b = sorted([r["src_lang"], r["tgt_lang"]])
        texts = (
            (r["src_text"], r["tgt_text"]) if r["src_lang"] == a else (r["tgt_text"], r["src_text"])
        )
        by_pair[(a, b)].append(texts)
    for (a, b), items in sorted(by_pair.items()):
        if len(items) < 2:  # retrieval among one candidate measures nothing
            continue
        ta, tb = [x for x, _ in items], [y for _, y in items]
        ea = M.mean_pooled_embeddings(
            model, tok, ta, max_length=cfg.max_length, batch_size=cfg.batch_size
        )
        eb = M.mean_pooled_embeddings(
            model, tok, tb, max_length=cfg.max_length, batch_size=cfg.batch_size
        )
        metrics[f"retrieval_top1/{a}-{b}"] = M.retrieval_top1(ea, eb, tb)
        metrics[f"retrieval_top1/{b}-{a}"] = M.retrieval_top1(eb, ea, ta)
        details[f"retrieval/{a}-{b}"] = {"pairs": len(items), "candidates": len(items)}
    return metrics, details


def score_classifier(
    model: Any, tok: Any, labeled: EvalSet, labels: list[str], cfg: EvalConfig
) -> tuple[dict[str, float], dict[str, Any]]:
    """Accuracy per language of a sequence classifier on a labeled set.

    Languages the classifier was not fine-tuned on give ``zeroshot_accuracy/<lang>``; held-out rows
    of its fine-tuning languages give ``supervised_accuracy/<lang>``.
    """
    index = {name: i for i, name in enumerate(labels)}
    metrics: dict[str, float] = {}
    details: dict[str, Any] = {}
    for lang, rows in _group(labeled.rows, "lang").items():
        known = [r for r in rows if str(r["label"]) in index]
        if not known:
            continue
        pred = M.classify(
            model,
            tok,
            [r["text"] for r in known],
            max_length=cfg.max_length,
            batch_size=cfg.batch_size,
        )
        name = "zeroshot_accuracy" if known[0]["zero_shot"] else "supervised_accuracy"
        metrics[f"{name}/{lang}"] = M.accuracy(pred, [index[str(r["label"])] for r in known])
        details[f"classification/{lang}"] = {
            "rows": len(known),
            "unknown_label": len(rows) - len(known),
            "zero_shot": known[0]["zero_shot"],
        }
    return metrics, details


def _target_convention(tok: Any, tgt: str, cfg: EvalConfig) -> tuple[str, int | None]:
    """(source prefix, forced BOS id) telling a multilingual model the target language.

    crossling's translation models read a ``<lang:xx>`` tag right before the source text (see
    ``crossling.tokenizer.lang_tag``); Marian's ``>>xx<<`` and M2M-100's ``__xx__`` are recognized
    for models brought from elsewhere.
    """
    from crossling.tokenizer import lang_tag

    if cfg.translation_prefix is not None:
        return cfg.translation_prefix.format(tgt=tgt), None
    vocab = tok.get_vocab()
    if lang_tag(tgt) in vocab:  # no space after it: training saw "<lang:de> ▁Text"
        return lang_tag(tgt), None
    if f">>{tgt}<<" in vocab:
        return f">>{tgt}<< ", None
    if f"__{tgt}__" in vocab:
        return "", vocab[f"__{tgt}__"]
    return "", None


def score_seq2seq(
    model: Any, tok: Any, pairs: EvalSet, cfg: EvalConfig, languages: list[str] | None
) -> tuple[dict[str, float], dict[str, Any], dict[str, str]]:
    """BLEU and chrF per direction; each held-out pair is scored in both directions."""
    directions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in pairs.rows:
        directions[f"{r['src_lang']}-{r['tgt_lang']}"].append((r["src_text"], r["tgt_text"]))
        directions[f"{r['tgt_lang']}-{r['src_lang']}"].append((r["tgt_text"], r["src_text"]))
    metrics: dict[str, float] = {}
    details: dict[str, Any] = {}
    signatures: dict[str, str] = {}
    for direction, items in sorted(directions.items()):
        src_lang, tgt_lang = direction.split("-", 1)
        if languages and not {src_lang, tgt_lang} <= set(languages):
            continue
        items = items[: cfg.max_rows_per_lang]
        prefix, bos = _target_convention(tok, tgt_lang, cfg)
        hyps = M.translate(
            model,
            tok,
            [s for s, _ in items],
            prefix=prefix,
            forced_bos_token_id=bos,
            max_length=cfg.max_length,
            max_new_tokens=cfg.max_new_tokens,
            num_beams=cfg.num_beams,
            batch_size=cfg.batch_size,
        )
        s = M.translation_score(hyps, [t for _, t in items], tgt_lang)
        metrics[f"bleu/{direction}"] = s.bleu
        metrics[f"chrf/{direction}"] = s.chrf
        signatures[f"bleu/{direction}"] = s.bleu_signature
        signatures[f"chrf/{direction}"] = s.chrf_signature
        details[f"translation/{direction}"] = {
            "segments": s.segments,
            "prefix": prefix,
            "forced_bos_token_id": bos,
            "examples": [
                {"src": a, "ref": b, "hyp": h}
                for (a, b), h in list(zip(items, hyps, strict=True))[:3]
            ],
        }
    return metrics, details, signatures


def add_averages(metrics: dict[str, float]) -> dict[str, float]:
    """Add ``<family>/avg`` (macro average over languages or directions) for every family."""
    fams: dict[str, list[float]] = defaultdict(list)
    for name, value in metrics.items():
        fam, _, key = name.partition("/")
        if key != "avg":
            fams[fam].append(value)
    out = dict(metrics)
    for fam, values in fams.items():
        avg = _avg(values)
        if avg is not None:
            out[f"{fam}/avg"] = avg
    return dict(sorted(out.items()))


def _checkpoint_files(ref: CheckpointRef) -> dict[str, str]:
    fs = ref.data_root.fs
    out = {}
    for name in ("model.safetensors", "config.json"):
        path = posixpath.join(ref.path, name)
        if fs.exists(path):
            out[name] = file_sha256(fs, path)
    return out


def evaluate_checkpoint(
    ref: CheckpointRef, cfg: EvalConfig | None = None, *, overwrite: bool = False
) -> dict[str, Any]:
    """Evaluate one checkpoint and write ``results.json`` atomically; return the results.

    Args:
        ref: the checkpoint (see :func:`crossling.registry.find_checkpoints`).
        cfg: how to evaluate; the defaults evaluate a tiny model in seconds on CPU.
        overwrite: re-evaluate even when results exist (otherwise they are returned as they are).

    Raises:
        ContaminationError: when evaluation rows appear in the checkpoint's training data.
    """
    cfg = cfg or EvalConfig()
    data = ref.data_root
    if not overwrite and (existing := ref.results()) is not None:
        return existing
    started = time.monotonic()
    meta = ref.metadata()
    kind = meta.get("model_kind", "encoder")
    corpus = meta["corpus"]
    manifest_path = posixpath.join(data.version_dir(corpus["name"], corpus["version"]), MANIFEST)
    if not data.fs.exists(manifest_path):
        raise FileNotFoundError(
            f"{ref.name}: its corpus version {corpus['name']}@{corpus['version']} is not under "
            f"{data.url} (no {MANIFEST})"
        )
    manifest_sha = file_sha256(data.fs, manifest_path)
    languages = cfg.languages or meta.get("languages") or None

    sets: dict[str, EvalSet] = {}
    if kind == "encoder":
        sets["docs"] = load_heldout_docs(data, corpus["name"], corpus["version"], cfg)
        sets["pairs"] = load_heldout_pairs(data, corpus["name"], corpus["version"], cfg)
    elif kind == "seq2seq":
        sets["pairs"] = load_heldout_pairs(data, corpus["name"], corpus["version"], cfg)
    elif kind == "classifier":
        train_cfg = meta.get("config") or {}
        labeled_path = cfg.labeled_path or train_cfg.get("labeled_path")
        if labeled_path:
            sets["labeled"] = load_labeled(labeled_path, cfg, train_cfg.get("train_langs"))
    else:
        raise ValueError(f"{ref.name}: unknown model_kind {kind!r}")
    guard = check_contamination(ref, meta, list(sets.values()))

    notes: list[str] = []
    signatures: dict[str, str] = {}
    with local_checkpoint_dir(ref) as local:
        model, tok = load_model(kind, local, cfg.device)
        if kind == "encoder":
            metrics, details = score_encoder(model, tok, sets["docs"], sets["pairs"], cfg)
        elif kind == "seq2seq":
            metrics, details, signatures = score_seq2seq(model, tok, sets["pairs"], cfg, languages)
        elif "labeled" in sets:
            labels = meta.get("labels") or [
                model.config.id2label[i] for i in range(model.config.num_labels)
            ]
            metrics, details = score_classifier(model, tok, sets["labeled"], labels, cfg)
        else:
            metrics, details = {}, {}
            notes.append("classifier checkpoint without a labeled set: nothing to score")
    group = {"docs": "lang", "pairs": "direction", "labeled": "lang"}
    data_summary = {name: s.summary(group[name]) for name, s in sets.items()}
    data_hash = hashlib.sha256(
        json.dumps({k: v["sha256"] for k, v in data_summary.items()}, sort_keys=True).encode()
    ).hexdigest()
    if corpus.get("manifest_sha256") and corpus["manifest_sha256"] != manifest_sha:
        notes.append("the corpus manifest changed since training (sha256 differs from lineage)")
    results = {
        "format": RESULTS_FORMAT,
        "model_name": ref.model_name,
        "run_version": ref.run_version,
        "step": ref.step,
        "checkpoint": data.uri(ref.path),
        "model_kind": kind,
        "objective": meta.get("objective"),
        "evaluated_at": datetime.now(UTC).isoformat(),
        "duration_s": round(time.monotonic() - started, 3),
        "eval_config": cfg.model_dump(),
        "eval_config_hash": cfg.comparable_hash(),
        "metrics": add_averages(metrics),
        "signatures": signatures,
        "details": details,
        "data": {
            "corpus": {
                "name": corpus["name"],
                "version": corpus["version"],
                "manifest_sha256": manifest_sha,
            },
            "sets": data_summary,
            "sha256": data_hash,
        },
        "contamination": guard,
        "lineage": {
            "corpus": corpus,
            "tokenizer": meta.get("tokenizer"),
            "preset": meta.get("preset"),
            "tokens_seen": meta.get("tokens_seen"),
            "languages": meta.get("languages"),
            "flow_run_id": meta.get("flow_run_id"),
            "code_version": meta.get("code_version"),
            "created_at": meta.get("created_at"),
            "checkpoint_files_sha256": _checkpoint_files(ref),
        },
        "notes": notes,
    }
    write_json(data.fs, ref.results_path, results)
    log.info("evaluated %s in %.1fs: %d metrics", ref.name, results["duration_s"], len(metrics))
    return results


def read_results(path: str) -> dict[str, Any]:
    fs, p = _url_to_fs(path)
    return read_json(fs, p)
