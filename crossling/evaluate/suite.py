"""Evaluate one checkpoint the same way every time and write its ``results.json``.

The held-out data comes from the corpus versions of the checkpoint's lineage (every version its
weights have seen), read through :class:`crossling.corpus.CorpusVersion`: ``split == "heldout"``
DOCS rows (masked LM), real ``split == "heldout"`` PAIRS rows (retrieval and translation;
synthetic pairs are never scored), and an optional labeled set (classification). Rows are taken in
id order (a hash, so a fixed pseudo-random sample) up to ``max_rows_per_lang`` per language or
direction, so reruns and other checkpoints of the same corpus see the same rows.

Before any scoring the contamination guard compares the ids and content hashes of the selected
rows with the checkpoint's training ids and raises :class:`ContaminationError` on any overlap.

``results.json`` keeps, beside the metrics, what had something to evaluate (``coverage``: per
language and direction; a warning is logged for what had none) and the per-example values every
metric is computed from (``examples``), on which :mod:`crossling.evaluate.significance` tests
whether a change between two checkpoints is real.
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

from crossling.corpus import HELDOUT, TRAIN, CorpusNotFound, CorpusVersion
from crossling.documents import content_hash
from crossling.evaluate import metrics as M
from crossling.registry import CheckpointRef
from crossling.storage import DataRoot, file_sha256, read_json, write_json

log = logging.getLogger(__name__)

RESULTS_FORMAT = "crossling-eval-v2"  # v2: coverage and per-example values (docs/CONTRACTS.md)
MIN_RETRIEVAL_PAIRS = 2  # retrieval among fewer candidates measures nothing
# coverage statuses of a language or direction (results.json "coverage")
NO_HELDOUT, TOO_FEW, NOTHING = "no_heldout_rows", "too_few_rows", "nothing_to_evaluate"

# Metric families and the order reports show them in. Results name a metric
# ``<family>/<lang>`` (mlm_accuracy, pseudo_perplexity, *_accuracy), ``<family>/<src>-<tgt>``
# (bleu, chrf: translating src into tgt; retrieval_top1: src queries searching among tgt texts),
# plus ``<family>/avg``, the macro average over languages or directions. All improve upwards
# except those in LOWER_IS_BETTER.
LOWER_IS_BETTER = {"pseudo_perplexity", "bits_per_byte"}
HEADLINE_ORDER = [
    "bits_per_byte",
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
    bpb_max_length: int = Field(
        512,
        ge=8,
        description="Causal LM bits per byte: tokens per scoring window; a longer text is scored "
        "in consecutive windows, so every byte counts whatever the value.",
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
    max_length_factor: float | None = Field(
        2.0,
        gt=0,
        description="A translation may also be at most this many times as long as its source "
        "(plus 10 tokens), so an undertrained model that never stops does not generate "
        "max_new_tokens for every sentence. None: only max_new_tokens.",
    )
    device: str = Field("cpu", description="torch device: cpu, cuda, cuda:1, or auto.")
    cpu_threads: int | None = Field(
        None,
        ge=1,
        description="torch threads on a CPU. Default: 1 for models under 20M parameters (their "
        "matmuls are too small to split; extra threads only wait on each other, badly so on a "
        "shared machine), torch's default otherwise.",
    )

    def comparable_hash(self) -> str:
        """Hash of the fields that change the numbers (not the device, threads or batch size)."""
        d = self.model_dump(exclude={"device", "batch_size", "cpu_threads"})
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


def open_lineage(ref: CheckpointRef, meta: dict[str, Any]) -> list[CorpusVersion]:
    """Every corpus version the checkpoint's weights have seen (``corpus_versions`` of its
    metadata; older checkpoints: the one ``corpus``), opened through their manifests.

    Raises:
        FileNotFoundError: a version is not under the checkpoint's data root (one line).
    """
    entries = meta.get("corpus_versions") or [meta["corpus"]]
    out = []
    for e in entries:
        try:
            out.append(CorpusVersion.open(ref.data_root, e["name"], e["version"]))
        except CorpusNotFound:
            raise FileNotFoundError(
                f"{ref.name}: its corpus version {e['name']}@{e['version']} is not under "
                f"{ref.data_root.url} (no complete version with a manifest)"
            ) from None
    return out


def _set_name(versions: list[CorpusVersion], what: str) -> str:
    names = sorted({v.name for v in versions})
    return f"{'+'.join(names)}@{'+'.join(v.version for v in versions)}:{what}"


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


def load_heldout_docs(versions: list[CorpusVersion], cfg: EvalConfig) -> EvalSet:
    """Held-out DOCS rows of some corpus versions, capped per language."""
    cols = ["id", "text", "lang", "content_hash"]
    rows = []
    for v in versions:
        for b in v.docs(split=HELDOUT, langs=cfg.languages, columns=cols):
            rows.extend(b.to_pylist())
    rows = _cap(rows, "lang", cfg.max_rows_per_lang)
    es = EvalSet(_set_name(versions, "docs/heldout"), rows)
    es.keys = [(r["id"], (r["content_hash"],)) for r in rows]
    return es


def load_heldout_pairs(versions: list[CorpusVersion], cfg: EvalConfig) -> EvalSet:
    """Real (never synthetic) held-out PAIRS rows of some corpus versions, capped per direction."""
    cols = ["id", "src_lang", "tgt_lang", "src_text", "tgt_text", "synthetic"]
    rows = []
    for v in versions:
        for b in v.pairs(split=HELDOUT, columns=cols):
            for r in b.to_pylist():
                if r["synthetic"]:
                    continue
                if cfg.languages and not {r["src_lang"], r["tgt_lang"]} <= set(cfg.languages):
                    continue
                r["direction"] = f"{r['src_lang']}-{r['tgt_lang']}"
                rows.append(r)
    rows = _cap(rows, "direction", cfg.max_rows_per_lang)
    es = EvalSet(_set_name(versions, "pairs/heldout/real"), rows)
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

    versions = [
        CorpusVersion.open(data, e["name"], e["version"])
        for e in meta.get("corpus_versions") or [meta["corpus"]]
    ]

    def from_corpus() -> Iterator[tuple[pa.Array, pa.Array]]:
        for v in versions:
            for b in v.docs(split=TRAIN, columns=["id", "content_hash"]):
                yield b.column("id"), b.column("content_hash")
            for b in v.pairs(split=TRAIN, columns=["id", "src_text", "tgt_text"]):
                ids = b.column("id").to_pylist()
                src = [content_hash(x) for x in b.column("src_text").to_pylist()]
                tgt = [content_hash(x) for x in b.column("tgt_text").to_pylist()]
                yield pa.array(ids + ids, pa.string()), pa.array(src + tgt, pa.string())

    return (
        f"train split of corpus {_set_name(versions, '')[:-1]} (no train_ids_path)",
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


SMALL_MODEL_PARAMETERS = 20_000_000  # below this a CPU evaluation runs on one thread


@contextlib.contextmanager
def _threads(cfg: EvalConfig) -> Iterator[Any]:
    """Yields ``fit(model)``: sets torch's CPU threads for the model; restored on exit."""
    import torch

    before = torch.get_num_threads()

    def fit(model: Any) -> None:
        if next(model.parameters()).device.type != "cpu":
            return
        n = cfg.cpu_threads
        if n is None and sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMETERS:
            n = 1
        if n:
            torch.set_num_threads(n)

    try:
        yield fit
    finally:
        torch.set_num_threads(before)


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def load_model(
    kind: str,
    path: str,
    device: str = "cpu",
    meta: dict[str, Any] | None = None,
    threads: int | None = None,
) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of a local checkpoint directory, safetensors only.

    A translation checkpoint exported to CTranslate2 (``crossling compress``; ``meta`` says so)
    is run by CTranslate2 behind the same ``generate`` call.
    """
    import transformers as tf

    tf.utils.logging.disable_progress_bar()
    from crossling.compress import CT2_SUBDIR, is_ct2_checkpoint, is_int8_causal_checkpoint

    if kind == "seq2seq" and meta is not None and is_ct2_checkpoint(meta):
        from crossling.augment.ct2 import CT2Seq2Seq

        tokenizer = tf.AutoTokenizer.from_pretrained(path, local_files_only=True)
        compute = meta["compression"].get("compute_type") or "int8"
        net = CT2Seq2Seq(
            os.path.join(path, CT2_SUBDIR),
            tokenizer,
            compute_type=compute,
            threads=threads or 1,
            device=_device(device),
        )
        return net, tokenizer
    if kind == "causal" and meta is not None and is_int8_causal_checkpoint(meta):
        from crossling.compress import load_int8_causal_lm

        # torch's dynamic int8 kernels run on the CPU only, whatever the device asked for.
        tokenizer = tf.AutoTokenizer.from_pretrained(path, local_files_only=True)
        return load_int8_causal_lm(path), tokenizer
    auto = {
        "encoder": tf.AutoModelForMaskedLM,
        "classifier": tf.AutoModelForSequenceClassification,
        "seq2seq": tf.AutoModelForSeq2SeqLM,
        "causal": tf.AutoModelForCausalLM,
    }.get(kind)
    if auto is None:
        raise ValueError(
            f"unknown model_kind {kind!r} (expected encoder, classifier, seq2seq or causal)"
        )
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


@dataclass
class Scores:
    """What scoring one checkpoint produced (the parts of results.json it fills)."""

    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    # "<set>/<language or direction>" -> {"ids": [...], <value columns>: [...]}: the per-example
    # values every metric is computed from (paired significance tests, docs/CONTRACTS.md).
    examples: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)


def score_encoder(model: Any, tok: Any, docs: EvalSet, pairs: EvalSet, cfg: EvalConfig) -> Scores:
    """Masked-token accuracy and pseudo-perplexity per language; retrieval per direction."""
    out = Scores()
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
            out.metrics[f"mlm_accuracy/{lang}"] = s.accuracy
            out.metrics[f"pseudo_perplexity/{lang}"] = s.pseudo_perplexity
            scored = [(r["id"], t) for r, t in zip(rows, s.per_text, strict=True) if t[0]]
            out.examples[f"mlm/{lang}"] = {
                "ids": [i for i, _ in scored],
                "tokens": [t[0] for _, t in scored],
                "correct": [t[1] for _, t in scored],
                "nll": [round(t[2], 5) for _, t in scored],
            }
        out.details[f"mlm/{lang}"] = {"texts": s.texts, "tokens": s.tokens}
    # One language pair, both directions: query on one side, search among the other side.
    by_pair: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for r in pairs.rows:
        a, b = sorted([r["src_lang"], r["tgt_lang"]])
        texts = (
            (r["src_text"], r["tgt_text"]) if r["src_lang"] == a else (r["tgt_text"], r["src_text"])
        )
        by_pair[(a, b)].append((r["id"], *texts))
    for (a, b), items in sorted(by_pair.items()):
        if len(items) < MIN_RETRIEVAL_PAIRS:  # retrieval among one candidate measures nothing
            continue
        ids = [i for i, _, _ in items]
        ta, tb = [x for _, x, _ in items], [y for _, _, y in items]
        ea = M.mean_pooled_embeddings(
            model, tok, ta, max_length=cfg.max_length, batch_size=cfg.batch_size
        )
        eb = M.mean_pooled_embeddings(
            model, tok, tb, max_length=cfg.max_length, batch_size=cfg.batch_size
        )
        for d, q, c, texts in ((f"{a}-{b}", ea, eb, tb), (f"{b}-{a}", eb, ea, ta)):
            hits = M.retrieval_hits(q, c, texts)
            out.metrics[f"retrieval_top1/{d}"] = float(hits.mean())
            out.examples[f"retrieval/{d}"] = {"ids": ids, "hit": hits.tolist()}
        out.details[f"retrieval/{a}-{b}"] = {"pairs": len(items), "candidates": len(items)}
    return out


def score_classifier(
    model: Any, tok: Any, labeled: EvalSet, labels: list[str], cfg: EvalConfig
) -> Scores:
    """Accuracy per language of a sequence classifier on a labeled set.

    Languages the classifier was not fine-tuned on give ``zeroshot_accuracy/<lang>``; held-out rows
    of its fine-tuning languages give ``supervised_accuracy/<lang>``.
    """
    index = {name: i for i, name in enumerate(labels)}
    out = Scores()
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
        gold = [index[str(r["label"])] for r in known]
        name = "zeroshot_accuracy" if known[0]["zero_shot"] else "supervised_accuracy"
        out.metrics[f"{name}/{lang}"] = M.accuracy(pred, gold)
        out.examples[f"classification/{lang}"] = {
            "ids": [r["id"] for r in known],
            "correct": [int(p == g) for p, g in zip(pred, gold, strict=True)],
        }
        out.details[f"classification/{lang}"] = {
            "rows": len(known),
            "unknown_label": len(rows) - len(known),
            "zero_shot": known[0]["zero_shot"],
        }
    return out


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
) -> Scores:
    """BLEU and chrF per direction; each held-out pair is scored in both directions."""
    directions: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in pairs.rows:
        directions[f"{r['src_lang']}-{r['tgt_lang']}"].append(
            (r["id"], r["src_text"], r["tgt_text"])
        )
        directions[f"{r['tgt_lang']}-{r['src_lang']}"].append(
            (r["id"], r["tgt_text"], r["src_text"])
        )
    out = Scores()
    seconds, sentences = 0.0, 0
    for direction, items in sorted(directions.items()):
        src_lang, tgt_lang = direction.split("-", 1)
        if languages and not {src_lang, tgt_lang} <= set(languages):
            continue
        items = items[: cfg.max_rows_per_lang]
        prefix, bos = _target_convention(tok, tgt_lang, cfg)
        t0 = time.perf_counter()
        hyps = M.translate(
            model,
            tok,
            [s for _, s, _ in items],
            prefix=prefix,
            forced_bos_token_id=bos,
            max_length=cfg.max_length,
            max_new_tokens=cfg.max_new_tokens,
            length_factor=cfg.max_length_factor,
            num_beams=cfg.num_beams,
            batch_size=cfg.batch_size,
        )
        seconds += time.perf_counter() - t0
        sentences += len(items)
        s = M.translation_score(hyps, [t for _, _, t in items], tgt_lang)
        out.metrics[f"bleu/{direction}"] = s.bleu
        out.metrics[f"chrf/{direction}"] = s.chrf
        out.signatures[f"bleu/{direction}"] = s.bleu_signature
        out.signatures[f"chrf/{direction}"] = s.chrf_signature
        out.examples[f"translation/{direction}"] = {
            "ids": [i for i, _, _ in items],
            "bleu_stats": s.bleu_stats,
            "chrf_stats": s.chrf_stats,
        }
        out.details[f"translation/{direction}"] = {
            "segments": s.segments,
            "prefix": prefix,
            "forced_bos_token_id": bos,
            "examples": [
                {"src": a, "ref": b, "hyp": h}
                for (_, a, b), h in list(zip(items, hyps, strict=True))[:3]
            ],
        }
    if sentences:  # translation speed, the same decoding for every checkpoint (compression)
        out.details["speed"] = {
            "sentences": sentences,
            "seconds": round(seconds, 4),
            "sentences_per_s": round(sentences / seconds, 2) if seconds else None,
        }
    return out


def score_causal(
    model: Any,
    tok: Any,
    docs: EvalSet,
    pairs: EvalSet | None,
    cfg: EvalConfig,
    languages: list[str] | None,
    prompt_template: str | None,
) -> Scores:
    """Bits per byte per language on held-out ``docs``; with a prompt template (a translation
    fine-tuned causal LM) BLEU and chrF per direction of ``pairs``, prompted as in training."""
    out = Scores()
    seconds, tokens = 0.0, 0
    for lang, rows in _group(docs.rows, "lang").items():
        t0 = time.perf_counter()
        s = M.bits_per_byte(
            model,
            tok,
            [r["text"] for r in rows],
            max_length=cfg.bpb_max_length,
            batch_size=cfg.batch_size,
        )
        seconds += time.perf_counter() - t0
        tokens += s.tokens
        if s.bytes:
            out.metrics[f"bits_per_byte/{lang}"] = s.bits_per_byte
            out.examples[f"bpb/{lang}"] = {
                "ids": [r["id"] for r in rows],
                "nll": [round(x[0], 5) for x in s.per_text],
                "bytes": [x[1] for x in s.per_text],
            }
        out.details[f"bpb/{lang}"] = {"texts": len(rows), "bytes": s.bytes, "tokens": s.tokens}
    if tokens:  # scoring speed, the same batches for every checkpoint (compression compares it)
        out.details["speed"] = {
            "tokens": tokens,
            "seconds": round(seconds, 4),
            "tokens_per_s": round(tokens / seconds, 1) if seconds else None,
        }
    if pairs is None or prompt_template is None:
        return out
    from crossling.train.causal import encode_prompts

    directions: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in pairs.rows:
        directions[f"{r['src_lang']}-{r['tgt_lang']}"].append(
            (r["id"], r["src_text"], r["tgt_text"])
        )
        directions[f"{r['tgt_lang']}-{r['src_lang']}"].append(
            (r["id"], r["tgt_text"], r["src_text"])
        )
    for direction, items in sorted(directions.items()):
        src_lang, tgt_lang = direction.split("-", 1)
        if languages and not {src_lang, tgt_lang} <= set(languages):
            continue
        items = items[: cfg.max_rows_per_lang]
        prompts = encode_prompts(
            tok, prompt_template, [(src_lang, tgt_lang, a) for _, a, _ in items], cfg.max_length
        )
        hyps = M.translate_causal(
            model,
            tok,
            prompts,
            max_new_tokens=cfg.max_new_tokens,
            length_factor=cfg.max_length_factor,
            batch_size=cfg.batch_size,
        )
        s = M.translation_score(hyps, [t for _, _, t in items], tgt_lang)
        out.metrics[f"bleu/{direction}"] = s.bleu
        out.metrics[f"chrf/{direction}"] = s.chrf
        out.signatures[f"bleu/{direction}"] = s.bleu_signature
        out.signatures[f"chrf/{direction}"] = s.chrf_signature
        out.examples[f"translation/{direction}"] = {
            "ids": [i for i, _, _ in items],
            "bleu_stats": s.bleu_stats,
            "chrf_stats": s.chrf_stats,
        }
        out.details[f"translation/{direction}"] = {
            "segments": s.segments,
            "prompt": prompt_template,
            "examples": [
                {"src": a, "ref": b, "hyp": h}
                for (_, a, b), h in list(zip(items, hyps, strict=True))[:3]
            ],
        }
    return out


def tokenizer_fertility(tok: Any, sets: dict[str, EvalSet]) -> dict[str, Any]:
    """Fertility and parity (:mod:`crossling.vocab`) of the checkpoint's tokenizer on the
    evaluation rows: texts per language from DOCS (or labeled rows, or both sides of pairs),
    parity against English from the pairs."""
    from crossling import vocab

    texts: dict[str, list[str]] = defaultdict(list)
    for name in ("docs", "labeled"):
        for r in sets[name].rows if name in sets else []:
            texts[r["lang"]].append(r["text"])
    pairs = [
        (r["src_lang"], r["src_text"], r["tgt_lang"], r["tgt_text"])
        for r in (sets["pairs"].rows if "pairs" in sets else [])
    ]
    if not texts:
        for la, ta, lb, tb in pairs:
            texts[la].append(ta)
            texts[lb].append(tb)
    return {"fertility": vocab.fertility_dict(vocab.fertility(tok, dict(texts), pairs))}


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


def _expected(
    kind: str, meta: dict[str, Any], versions: list[CorpusVersion], cfg: EvalConfig
) -> tuple[list[str], list[str]]:
    """(languages, directions) a checkpoint should be evaluated on, from what it trained on."""
    trained = set(meta.get("languages") or [])
    wanted = set(cfg.languages) if cfg.languages else None

    def keep(langs: set[str]) -> bool:
        return (not trained or langs <= trained) and (wanted is None or langs <= wanted)

    if kind == "encoder":
        langs = {x for v in versions for x in v.languages()}
        return sorted(x for x in langs if keep({x})), []
    if kind == "causal" and meta.get("objective") != "clm-translation":
        langs = {x for v in versions for x in v.languages()}
        return sorted(x for x in langs if keep({x})), []
    if kind in ("seq2seq", "causal"):
        dirs = set()
        for v in versions:
            for d in v.directions():
                a, b = d.split("-", 1)
                if keep({a, b}):
                    dirs |= {d, f"{b}-{a}"}
        return [], sorted(dirs)
    return sorted(trained), []


def coverage(
    kind: str,
    sets: dict[str, EvalSet],
    scores: Scores,
    expected_langs: list[str],
    expected_dirs: list[str],
) -> dict[str, Any]:
    """What had something to evaluate, per language and direction (results.json ``coverage``).

    A language or direction the checkpoint trained on with no held-out row is ``no_heldout_rows``;
    a retrieval direction with one row is ``too_few_rows``. ``status`` is ``ok``, ``partial``
    (something expected is missing) or ``nothing_to_evaluate`` (no metric at all).
    """
    lang_set = "labeled" if kind == "classifier" else "docs"
    rows_by_lang: dict[str, int] = defaultdict(int)
    for r in sets[lang_set].rows if lang_set in sets else []:
        rows_by_lang[r["lang"]] += 1
    rows_by_dir: dict[str, int] = defaultdict(int)
    for r in sets["pairs"].rows if "pairs" in sets else []:
        rows_by_dir[r["direction"]] += 1
        if kind in ("seq2seq", "causal"):
            rows_by_dir[f"{r['tgt_lang']}-{r['src_lang']}"] += 1
    scored_groups = {m.partition("/")[2] for m in scores.metrics}

    def entry(group: str, rows: int, minimum: int = 1) -> dict[str, Any]:
        if group in scored_groups:
            return {"rows": rows, "status": "ok"}
        return {
            "rows": rows,
            "status": NO_HELDOUT if rows < 1 else TOO_FEW if rows < minimum else "not_scored",
        }

    languages = {
        lang: entry(lang, rows_by_lang.get(lang, 0))
        for lang in sorted(set(expected_langs) | set(rows_by_lang))
    }
    directions = {}
    if kind == "encoder":  # retrieval: each direction of a language pair, queries on one side
        for d in sorted(rows_by_dir):
            a, b = d.split("-", 1)
            for x in (f"{a}-{b}", f"{b}-{a}"):
                directions[x] = entry(x, rows_by_dir[d], MIN_RETRIEVAL_PAIRS)
    else:
        for d in sorted(set(expected_dirs) | set(rows_by_dir)):
            directions[d] = entry(d, rows_by_dir.get(d, 0))
    missing = [f"{k}" for k, v in languages.items() if v["status"] != "ok"]
    missing += [f"{k}" for k, v in directions.items() if v["status"] != "ok" and k in expected_dirs]
    if not scores.metrics:
        status = NOTHING
    elif missing:
        status = "partial"
    else:
        status = "ok"
    return {"status": status, "languages": languages, "directions": directions, "missing": missing}


def _coverage_note(ref: CheckpointRef, cov: dict[str, Any], sets: dict[str, EvalSet]) -> str | None:
    if cov["status"] == "ok":
        return None
    names = ", ".join(s.name for s in sets.values()) or "no evaluation set"
    if cov["status"] == NOTHING:
        return f"{ref.name}: nothing to evaluate: no held-out rows to score in {names}"
    return (
        f"{ref.name}: nothing to evaluate for {', '.join(cov['missing'])} "
        f"(no held-out rows in {names})"
    )


def _checkpoint_files(ref: CheckpointRef) -> dict[str, str]:
    fs = ref.data_root.fs
    out = {}
    for name in ("model.safetensors", "model.int8.safetensors", "config.json"):
        path = posixpath.join(ref.path, name)
        if fs.exists(path):
            out[name] = file_sha256(fs, path)
    return out


def evaluate_checkpoint(
    ref: CheckpointRef, cfg: EvalConfig | None = None, *, overwrite: bool = False
) -> dict[str, Any]:
    """Evaluate one checkpoint and write ``results.json`` atomically; return the results.

    The held-out rows are those of every corpus version the checkpoint has seen. A language or
    direction it trained on that has no held-out row is recorded in ``coverage`` and logged as a
    warning; a checkpoint with nothing at all to score gets ``coverage.status ==
    "nothing_to_evaluate"`` and empty metrics.

    Args:
        ref: the checkpoint (see :func:`crossling.registry.find_checkpoints`).
        cfg: how to evaluate; the defaults evaluate a tiny model in seconds on CPU.
        overwrite: re-evaluate even when results exist (otherwise they are returned as they are).

    Raises:
        ContaminationError: when evaluation rows appear in the checkpoint's training data.
        FileNotFoundError: a corpus version of its lineage is not under the data root.
    """
    cfg = cfg or EvalConfig()
    data = ref.data_root
    if not overwrite and (existing := ref.results()) is not None:
        return existing
    started = time.monotonic()
    meta = ref.metadata()
    kind = meta.get("model_kind", "encoder")
    if kind not in ("encoder", "seq2seq", "classifier", "causal"):
        raise ValueError(f"{ref.name}: unknown model_kind {kind!r}")
    corpus = meta["corpus"]
    versions = open_lineage(ref, meta)
    head = next((v for v in versions if v.version == corpus["version"]), versions[-1])
    languages = cfg.languages or meta.get("languages") or None
    # A translation fine-tuned causal LM is prompted the way it was trained.
    prompt_template = (
        (meta.get("config") or {}).get("prompt_template")
        if meta.get("objective") == "clm-translation"
        else None
    )

    sets: dict[str, EvalSet] = {}
    if kind == "encoder":
        sets["docs"] = load_heldout_docs(versions, cfg)
        sets["pairs"] = load_heldout_pairs(versions, cfg)
    elif kind == "seq2seq":
        sets["pairs"] = load_heldout_pairs(versions, cfg)
    elif kind == "causal":
        # A translation fine-tuned causal LM is scored on translation (its parent's bits per
        # byte are the language-model figure); a pretrained one on bits per byte.
        if prompt_template:
            sets["pairs"] = load_heldout_pairs(versions, cfg)
        else:
            sets["docs"] = load_heldout_docs(versions, cfg)
    else:
        train_cfg = meta.get("config") or {}
        labeled_path = cfg.labeled_path or train_cfg.get("labeled_path")
        if labeled_path:
            sets["labeled"] = load_labeled(labeled_path, cfg, train_cfg.get("train_langs"))
    guard = check_contamination(ref, meta, list(sets.values()))

    notes: list[str] = []
    if any(s.rows for s in sets.values()):
        with local_checkpoint_dir(ref) as local, _threads(cfg) as fit:
            model, tok = load_model(kind, local, cfg.device, meta, cfg.cpu_threads)
            fit(model)
            if kind == "encoder":
                scores = score_encoder(model, tok, sets["docs"], sets["pairs"], cfg)
            elif kind == "seq2seq":
                scores = score_seq2seq(model, tok, sets["pairs"], cfg, languages)
            elif kind == "causal":
                scores = score_causal(
                    model,
                    tok,
                    sets.get("docs") or EvalSet("none"),
                    sets.get("pairs"),
                    cfg,
                    languages,
                    prompt_template,
                )
            else:
                labels = meta.get("labels") or [
                    model.config.id2label[i] for i in range(model.config.num_labels)
                ]
                scores = score_classifier(model, tok, sets["labeled"], labels, cfg)
            tokenizer_stats = tokenizer_fertility(tok, sets)
    else:
        tokenizer_stats = {}
        scores = Scores()
        if kind == "classifier" and "labeled" not in sets:
            notes.append("classifier checkpoint without a labeled set: nothing to score")
    exp_langs, exp_dirs = _expected(kind, meta, versions, cfg)
    if kind == "classifier" and "labeled" in sets:
        exp_langs = sorted({r["lang"] for r in sets["labeled"].rows} | set(exp_langs))
    cov = coverage(kind, sets, scores, exp_langs, exp_dirs)
    if (warning := _coverage_note(ref, cov, sets)) is not None:
        log.warning("%s", warning)
        notes.append(warning)
    with contextlib.suppress(OSError):  # the weights' size (compression compares it)
        from crossling.compress import weights_bytes

        if isinstance(data.fs, LocalFileSystem):
            scores.details["model"] = {"weights_bytes": weights_bytes(ref.path)}
    group = {"docs": "lang", "pairs": "direction", "labeled": "lang"}
    data_summary = {name: s.summary(group[name]) for name, s in sets.items()}
    data_hash = hashlib.sha256(
        json.dumps({k: v["sha256"] for k, v in data_summary.items()}, sort_keys=True).encode()
    ).hexdigest()
    if corpus.get("manifest_sha256") and corpus["manifest_sha256"] != head.manifest_sha256:
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
        "metrics": add_averages(scores.metrics),
        "coverage": cov,
        "signatures": scores.signatures,
        "details": scores.details,
        "examples": scores.examples,
        "data": {
            "corpus": {
                "name": head.name,
                "version": head.version,
                "manifest_sha256": head.manifest_sha256,
            },
            "versions": [
                {"name": v.name, "version": v.version, "manifest_sha256": v.manifest_sha256}
                for v in versions
            ],
            "sets": data_summary,
            "sha256": data_hash,
        },
        "contamination": guard,
        # Tokens per word / character and parity with English per language, on the rows above.
        "tokenizer": tokenizer_stats,
        "lineage": {
            "corpus": corpus,
            "corpus_versions": meta.get("corpus_versions") or [corpus],
            "parent_checkpoint": meta.get("parent_checkpoint"),
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
    if meta.get("teacher"):  # a compressed model: what it came from and how
        results["lineage"]["teacher"] = meta["teacher"]
        results["lineage"]["compression"] = meta.get("compression")
    write_json(data.fs, ref.results_path, results)
    log.info(
        "evaluated %s in %.1fs: %d metrics (%s)",
        ref.name,
        results["duration_s"],
        len(scores.metrics),
        cov["status"],
    )
    return results


def read_results(path: str) -> dict[str, Any]:
    fs, p = _url_to_fs(path)
    return read_json(fs, p)
