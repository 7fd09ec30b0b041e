"""Fine-tuning: translation on PAIRS and classification on a labeled set (zero-shot transfer).

Translation trains one multilingual seq2seq model on every direction of the PAIRS (real pairs in
both directions, back-translated ones source -> target with a ``<BT>`` tag). The model is a
Marian-shaped preset from scratch, a seq2seq directory to continue, or an encoder-decoder
warm-started from a pretrained encoder directory (crossling MLM checkpoint or XLM-R on disk).

Classification trains an XLM-R sequence classifier on the rows of ``train_langs`` (default: en)
of a labeled set; the evaluation then scores every language, which measures cross-lingual
zero-shot transfer. Label ids come from every row's label, sorted, so they do not depend on which
languages were trained on.

Scoring (BLEU, chrF, accuracy) is evaluation's: ``crossling.evaluate``.
"""

from __future__ import annotations

from typing import Any

from crossling.documents import content_hash
from crossling.storage import atomic_open
from crossling.train.config import TrainConfig
from crossling.train.corpus import TRAIN_IDS_SCHEMA, TrainCorpus, read_train_ids
from crossling.train.data import (
    ClassificationBatches,
    DataConfig,
    TranslationBatches,
    labeled_train_rows,
    read_labeled,
)
from crossling.train.models import (
    build_classifier,
    build_seq2seq,
    directory_model_type,
    get_preset,
    load_pretrained,
    load_weights,
    warm_start_seq2seq,
)

SEQ2SEQ_TYPES = {
    "marian",
    "bart",
    "mbart",
    "t5",
    "mt5",
    "m2m_100",
    "nllb",
    "encoder-decoder",
    "fsmt",
}


# --- translation ---------------------------------------------------------------------------------------


def translation_languages(cfg: TrainConfig, corpus: TrainCorpus) -> list[str]:
    langs: set[str] = set()
    for d in corpus.pair_directions():
        src, tgt = d.split("-", 1)
        for a, b in ((src, tgt), (tgt, src)):
            if cfg.directions is None or f"{a}-{b}" in cfg.directions:
                langs.update((a, b))
    return sorted(langs)


def build_translation(
    cfg: TrainConfig,
    corpus: TrainCorpus,
    tokenizer: Any,
    *,
    resume_from: str | None,
    rank: int = 0,
    world_size: int = 1,
) -> tuple[Any, TranslationBatches]:
    """(model, batch source) of a translation run for one rank."""
    assert cfg.batch_size is not None
    data = DataConfig(alpha=cfg.alpha, max_pair_tokens=cfg.max_len, seed=cfg.seed)
    batches = TranslationBatches(
        corpus,
        tokenizer,
        data,
        cfg.batch_size,
        directions=cfg.directions,
        both_directions=cfg.both_directions,
        use_synthetic=cfg.use_synthetic,
        rank=rank,
        world_size=world_size,
    )
    if cfg.init_from:
        kind = directory_model_type(cfg.init_from)
        if kind in SEQ2SEQ_TYPES:
            model = load_pretrained(cfg.init_from, "seq2seq")
        else:  # an encoder: warm-start both halves of an encoder-decoder from it
            model = warm_start_seq2seq(cfg.init_from, tokenizer)
    else:
        model = build_seq2seq(get_preset(cfg.preset).seq2seq, tokenizer)
    if resume_from:
        load_weights(model, resume_from)
    return model, batches


# --- classification ------------------------------------------------------------------------------------


def classification_data(cfg: TrainConfig) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows trained on, label names) of a classification run."""
    if not cfg.labeled_path:
        raise ValueError("classification needs a labeled set (labeled_path / --labeled FILE)")
    rows = read_labeled(cfg.labeled_path)
    labels = sorted({r["label"] for r in rows})
    train = labeled_train_rows(rows, cfg.train_langs)
    if not train:
        raise ValueError(f"{cfg.labeled_path}: no train rows in languages {cfg.train_langs}")
    return train, labels


def write_labeled_ids(path: str, rows: list[dict[str, Any]], inherited: str | None = None) -> int:
    """Write the ids and content hashes of the labeled rows trained on (the contamination guard's
    input, :data:`~crossling.train.corpus.TRAIN_IDS_SCHEMA`), after those of ``inherited`` (the
    train ids of the encoder it starts from); returns the number of rows."""
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        [
            [r["id"] for r in rows],
            [content_hash(r["text"]) for r in rows],
            ["labeled"] * len(rows),
            [None] * len(rows),
        ],
        schema=TRAIN_IDS_SCHEMA,
    )
    n = table.num_rows
    fs, p = fsspec.core.url_to_fs(path)
    with atomic_open(fs, p, "wb") as f:
        writer = pq.ParquetWriter(f, TRAIN_IDS_SCHEMA, compression="zstd")
        for t in read_train_ids(inherited) if inherited else ():
            writer.write_table(t)
            n += t.num_rows
        writer.write_table(table)
        writer.close()
    return n


def build_classification(
    cfg: TrainConfig,
    tokenizer: Any,
    *,
    resume_from: str | None,
    rank: int = 0,
    world_size: int = 1,
) -> tuple[Any, ClassificationBatches, list[str]]:
    """(model, batch source, label names) of a classification run for one rank."""
    assert cfg.batch_size is not None
    rows, labels = classification_data(cfg)
    batches = ClassificationBatches(
        rows,
        labels,
        tokenizer,
        cfg.batch_size,
        max_len=cfg.max_len,
        seed=cfg.seed,
        rank=rank,
        world_size=world_size,
    )
    model = build_classifier(
        tokenizer,
        labels,
        shape=get_preset(cfg.preset).encoder,
        seq_len=cfg.max_len,
        init_from=cfg.init_from,
    )
    if resume_from:
        load_weights(model, resume_from)
    return model, batches, labels
