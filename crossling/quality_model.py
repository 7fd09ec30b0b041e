"""A model-based quality score: a fastText classifier trained by crossling on reference text
(positive) against web or junk text (negative), multilingual or one model per language.

The idea is that of the classifiers of DCLM and NeMo Curator (fastText, reference vs web text);
the score of a document is the model's probability of the positive label, written as a signal
column by the ``QualityScore`` step and cut by a threshold per language like any other signal.

Text is prepared the same way for training and scoring: newlines become a ``</l>`` token (line
structure is a feature: menus and link lists are many short lines), lower case, the first
``max_chars`` characters, and languages without spaces are split into words by their
segmenter (crossling/segment_words.py) so that fastText's tokens are words there too.

A model folder holds ``quality-model.json`` (format version, the config, the languages and the
file of each model, the counts it was trained on and its held-out precision / recall) and the
models: ``all.bin`` (multilingual, always) and ``<lang>.bin`` (``per_language``).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from crossling.segment_words import DEFAULT_SEGMENTERS, words
from crossling.textsources import Text, iter_texts

FORMAT_VERSION = 1
META = "quality-model.json"
POSITIVE, NEGATIVE = "__label__hq", "__label__lq"


class QualityModelError(ValueError):
    """Bad inputs or a bad model folder (the message names it)."""


class QualityModelConfig(BaseModel):
    """How the quality classifier is trained."""

    per_language: bool = Field(
        False,
        description="Also train one model per language that has min_docs_per_lang documents on "
        "each side; other languages use the multilingual model.",
    )
    min_docs_per_lang: int = Field(200, ge=1, description="Per-language model minimum, per side.")
    langs: list[str] | None = Field(None, description="Train on these languages only.")
    limit_per_lang: int | None = Field(
        None, ge=1, description="Read at most this many documents per language and side."
    )
    max_chars: int = Field(4000, ge=100, description="Characters of each document used.")
    heldout_fraction: float = Field(
        0.1, ge=0.0, lt=1.0, description="Share kept out of training to report precision/recall."
    )
    balance: bool = Field(True, description="Repeat the smaller side's documents to even sides.")
    dim: int = Field(32, ge=2, description="fastText vector size (larger: slower, rarely better).")
    epoch: int = Field(25, ge=1, description="Training epochs.")
    lr: float = Field(0.2, gt=0, description="Learning rate (too high a rate diverges: NaN).")
    word_ngrams: int = Field(2, ge=1, description="Word n-grams (2: bigrams as features).")
    min_count: int = Field(2, ge=1, description="Ignore words seen fewer times.")
    bucket: int = Field(
        100_000, ge=1000, description="Hash buckets of n-grams (model size ~ bucket x dim x 4 B)."
    )
    threads: int = Field(1, ge=1, description="Training threads (1: reproducible models).")
    seed: int = Field(0, description="Shuffling and held-out selection seed.")


def prepare(text: str, lang: str | None, max_chars: int = 4000) -> str:
    """A document as the classifier sees it (one line, lower case, words separated by spaces)."""
    text = text[:max_chars]
    lines = text.split("\n")
    if lang in DEFAULT_SEGMENTERS:
        lines = [" ".join(words(ln, lang)) for ln in lines]
    # Line breaks stay as a token: how a text is cut into lines (menus, lists) is a feature.
    return " </l> ".join(" ".join(ln.lower().split()) for ln in lines if ln.strip())


def _read_side(sources: list[str], cfg: QualityModelConfig, side: str) -> list[Text]:
    if not sources:
        raise QualityModelError(f"no {side} inputs given")
    langs = set(cfg.langs) if cfg.langs else None
    out = [
        t
        for batch in iter_texts(sources, langs=langs, limit_per_lang=cfg.limit_per_lang)
        for t in batch
    ]
    if not out:
        raise QualityModelError(f"{side} inputs {', '.join(sources)}: no documents to train on")
    return out


def _write_train_file(path: str, pos: list[str], neg: list[str], cfg: QualityModelConfig) -> None:
    rng = random.Random(cfg.seed)
    if cfg.balance and pos and neg:
        small, big = (pos, neg) if len(pos) < len(neg) else (neg, pos)
        extra = [small[i % len(small)] for i in range(len(big) - len(small))]
        if small is pos:
            pos = pos + extra
        else:
            neg = neg + extra
    lines = [f"{POSITIVE} {t}" for t in pos] + [f"{NEGATIVE} {t}" for t in neg]
    rng.shuffle(lines)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def _train_supervised(train: str, out_path: str, params: dict[str, Any]) -> None:
    """fastText supervised training and save, run in a fresh process (see :func:`_fit`)."""
    import fasttext

    model = fasttext.train_supervised(input=train, **params)
    model.save_model(out_path)


def _fit(pos: list[str], neg: list[str], cfg: QualityModelConfig, out_path: str) -> float:
    """Train one model; returns the learning rate that trained it.

    fastText trains in a spawned process: in a process that had run CTranslate2 before (the
    back-translation tests), every fastText training stopped with "Encountered NaN" at any rate,
    while the same data trained in a fresh process; its threads inherit the caller's floating-point
    state. Where training still diverges ("Encountered NaN"), the rate is halved, up to five times.
    """
    import multiprocessing

    lr = cfg.lr
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        train = os.path.join(tmp, "train.txt")
        _write_train_file(train, pos, neg, cfg)
        tmp_out = out_path + ".tmp"
        for attempt in range(6):
            params = {
                "dim": cfg.dim,
                "epoch": cfg.epoch,
                "lr": lr,
                "wordNgrams": cfg.word_ngrams,
                "minCount": cfg.min_count,
                "bucket": cfg.bucket,
                "thread": cfg.threads,
                "seed": cfg.seed,
                "loss": "softmax",
                "verbose": 0,
            }
            with ctx.Pool(1) as pool:
                try:
                    pool.apply(_train_supervised, (train, tmp_out, params))
                    break
                except RuntimeError as e:
                    if "NaN" not in str(e) or attempt == 5:
                        raise QualityModelError(
                            f"fastText training failed at lr={lr}: {e}"
                        ) from None
                    lr /= 2
    os.replace(tmp_out, out_path)
    return lr


def _split(items: list[Text], fraction: float, seed: int) -> tuple[list[Text], list[Text]]:
    rng = random.Random(seed)
    order = list(range(len(items)))
    rng.shuffle(order)
    k = int(round(len(items) * fraction)) if len(items) > 1 else 0
    held = {order[i] for i in range(k)}
    return [t for i, t in enumerate(items) if i not in held], [items[i] for i in sorted(held)]


def precision_recall(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of ``scores >= threshold`` for the positive labels (1)."""
    pred = scores >= threshold
    tp = int(np.sum(pred & (labels == 1)))
    fp = int(np.sum(pred & (labels == 0)))
    fn = int(np.sum(~pred & (labels == 1)))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def train_quality_model(
    positive: list[str], negative: list[str], out_dir: str, config: QualityModelConfig | None = None
) -> dict[str, Any]:
    """Train the classifier and write the model folder.

    Args:
        positive: reference sources (corpus version folders or corpus inputs).
        negative: sources of the text to score low (web text, junk).
        out_dir: the model folder (created; its files are replaced).
        config: training settings.

    Returns:
        The folder's metadata (what ``quality-model.json`` holds).

    Raises:
        QualityModelError: no inputs, or no documents on a side.
        crossling.textsources.SourceError: a source that cannot be read.
    """
    cfg = config or QualityModelConfig()
    pos = _read_side(positive, cfg, "positive")
    neg = _read_side(negative, cfg, "negative")
    pos_train, pos_held = _split(pos, cfg.heldout_fraction, cfg.seed)
    neg_train, neg_held = _split(neg, cfg.heldout_fraction, cfg.seed + 1)
    os.makedirs(out_dir, exist_ok=True)

    def prep(items: list[Text]) -> list[str]:
        return [prepare(t.text, t.lang, cfg.max_chars) for t in items]

    rates = {"*": _fit(prep(pos_train), prep(neg_train), cfg, os.path.join(out_dir, "all.bin"))}
    models = {"*": "all.bin"}
    if cfg.per_language:
        pc, nc = Counter(t.lang for t in pos_train), Counter(t.lang for t in neg_train)
        for lang in sorted(set(pc) & set(nc)):
            if pc[lang] >= cfg.min_docs_per_lang and nc[lang] >= cfg.min_docs_per_lang:
                p = [t for t in pos_train if t.lang == lang]
                n = [t for t in neg_train if t.lang == lang]
                rates[lang] = _fit(prep(p), prep(n), cfg, os.path.join(out_dir, f"{lang}.bin"))
                models[lang] = f"{lang}.bin"
    meta: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "config": cfg.model_dump(mode="json"),
        "models": models,
        "learning_rates": rates,
        "trained_on": {
            "positive": dict(Counter(t.lang for t in pos_train)),
            "negative": dict(Counter(t.lang for t in neg_train)),
        },
        "positive_sources": [os.path.abspath(s) for s in positive],
        "negative_sources": [os.path.abspath(s) for s in negative],
    }
    held = pos_held + neg_held
    if held:
        model = QualityModel(out_dir, _meta=meta)
        scores = model.score([t.text for t in held], [t.lang for t in held])
        labels = np.array([1] * len(pos_held) + [0] * len(neg_held))
        meta["heldout"] = {"documents": len(held), **precision_recall(scores, labels, 0.5)}
    tmp = os.path.join(out_dir, META + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(out_dir, META))
    return meta


def read_meta(model_dir: str) -> dict[str, Any]:
    """The metadata of a model folder (one-line error naming the folder when it is not one)."""
    path = os.path.join(model_dir, META)
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise QualityModelError(f"{model_dir}: not a quality model folder (no {META})") from None
    except (OSError, ValueError) as e:
        raise QualityModelError(f"{path}: unreadable ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION or "models" not in meta:
        raise QualityModelError(f"{path}: not a quality model description of format 1")
    for name in meta["models"].values():
        if not os.path.isfile(os.path.join(model_dir, name)):
            raise QualityModelError(f"{model_dir}: model file {name} is missing")
    return meta


@lru_cache(maxsize=16)
def _load(path: str, size: int, mtime: int):
    import fasttext

    try:
        fasttext.FastText.eprint = lambda *a, **k: None
    except AttributeError:
        pass
    return fasttext.load_model(path)


class QualityModel:
    """A trained model folder; fastText models load lazily, once per process and file."""

    def __init__(self, model_dir: str, *, _meta: dict[str, Any] | None = None):
        self.dir = model_dir
        self.meta = _meta if _meta is not None else read_meta(model_dir)
        self.max_chars = int(self.meta["config"].get("max_chars", 4000))

    def _model(self, lang: str | None):
        name = self.meta["models"].get(lang or "", self.meta["models"]["*"])
        path = os.path.join(self.dir, name)
        st = os.stat(path)
        return _load(path, st.st_size, st.st_mtime_ns)

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the models (a change means scores must be measured again)."""
        out = {}
        for lang, name in sorted(self.meta["models"].items()):
            st = os.stat(os.path.join(self.dir, name))
            out[lang] = [name, st.st_size, st.st_mtime_ns]
        return out

    def score(self, texts: list[str], langs: list[str | None]) -> np.ndarray:
        """P(positive) of each text (float64), by its language's model or the multilingual one."""
        out = np.zeros(len(texts), dtype=np.float64)
        groups: dict[str, list[int]] = {}
        for i, lang in enumerate(langs):
            key = lang if (lang or "") in self.meta["models"] else "*"
            groups.setdefault(key, []).append(i)
        for key, idx in groups.items():
            model = self._model(None if key == "*" else key)
            lines = [prepare(texts[i], langs[i], self.max_chars) for i in idx]
            # fastText predicts on lists (one string fails with numpy 2); k=2 gives both labels.
            labels, probs = model.predict(lines, k=2)
            for i, labs, ps in zip(idx, labels, probs, strict=True):
                d = dict(zip(labs, ps, strict=True))
                out[i] = min(1.0, float(d.get(POSITIVE, 1.0 - float(d.get(NEGATIVE, 1.0)))))
        return out
