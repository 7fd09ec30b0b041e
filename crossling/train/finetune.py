"""Fine-tuning: translation on PAIRS and classification on a labeled set (zero-shot transfer).

Translation trains one multilingual seq2seq model on every direction of the PAIRS (real pairs in
both directions, back-translated ones source -> target with a ``<BT>`` tag). The model is a
Marian-shaped preset from scratch, a seq2seq directory to continue, or an encoder-decoder
warm-started from a pretrained encoder directory (crossling MLM checkpoint or XLM-R on disk).

Classification trains an XLM-R sequence classifier on the rows of ``train_langs`` (default: en)
of a labeled set; the evaluation then scores every language, which measures cross-lingual
zero-shot transfer. Label ids come from every row's label, sorted, so they do not depend on which
languages were trained on.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from crossling.documents import content_hash
from crossling.storage import DataRoot
from crossling.tokenizer import lang_tag
from crossling.train.config import TrainConfig
from crossling.train.corpus import TrainCorpus
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

# sacrebleu tokenizers for scripts without spaces between words (13a would score whole lines).
BLEU_TOKENIZE = {
    "zh": "zh",
    "ja": "char",
    "ko": "char",
    "th": "char",
    "my": "char",
    "km": "char",
    "lo": "char",
}
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


def target_prefix(tokenizer: Any, tgt_lang: str) -> str:
    """The source prefix that asks for ``tgt_lang`` (empty when the vocabulary has no tag).

    No space after the tag: ``<lang:de>Text`` encodes as ``<lang:de> ▁Text``, exactly what
    training saw.
    """
    tag = lang_tag(tgt_lang)
    return tag if tag in tokenizer.get_vocab() else ""


@torch.inference_mode()
def translate(
    model: Any,
    tokenizer: Any,
    texts: list[str],
    tgt_lang: str,
    *,
    max_len: int = 128,
    max_new_tokens: int = 64,
    num_beams: int = 1,
    batch_size: int = 32,
) -> list[str]:
    """Translate ``texts`` into ``tgt_lang`` with a crossling translation model (greedy default)."""
    model.eval()
    device = next(model.parameters()).device
    prefix = target_prefix(tokenizer, tgt_lang)
    out: list[str] = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(
            [prefix + t for t in texts[i : i + batch_size]],
            truncation=True,
            max_length=max_len,
            padding=True,
            return_tensors="pt",
        ).to(device)
        gen = model.generate(
            **enc, max_new_tokens=max_new_tokens, num_beams=num_beams, do_sample=False
        )
        out += [t.strip() for t in tokenizer.batch_decode(gen, skip_special_tokens=True)]
    return out


def heldout_bleu(
    model: Any,
    tokenizer: Any,
    corpus: TrainCorpus,
    *,
    max_pairs: int = 100,
    both_directions: bool = True,
) -> dict[str, dict[str, float]]:
    """BLEU of the model and of copying the source, per direction, on held-out real PAIRS.

    A quick check for training runs and tests; the evaluation flow (crossling.evaluate) is the
    reference measurement.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from sacrebleu.metrics import BLEU

    by_dir: dict[str, list[tuple[str, str]]] = defaultdict(list)
    fs = DataRoot(corpus.root.url).fs
    for f in corpus.pairs_files():
        with fs.open(f.path, "rb") as fh:
            t = pq.read_table(
                fh,
                columns=[
                    "id",
                    "src_lang",
                    "tgt_lang",
                    "src_text",
                    "tgt_text",
                    "synthetic",
                    "split",
                ],
            )
        t = t.filter(
            pc.and_(pc.equal(t.column("split"), "heldout"), pc.invert(t.column("synthetic")))
        )
        for r in sorted(t.to_pylist(), key=lambda r: r["id"]):
            by_dir[f"{r['src_lang']}-{r['tgt_lang']}"].append((r["src_text"], r["tgt_text"]))
            if both_directions:
                by_dir[f"{r['tgt_lang']}-{r['src_lang']}"].append((r["tgt_text"], r["src_text"]))
    out: dict[str, dict[str, float]] = {}
    for d, items in sorted(by_dir.items()):
        items = items[:max_pairs]
        tgt = d.split("-", 1)[1]
        bleu = BLEU(tokenize=BLEU_TOKENIZE.get(tgt, "13a"))
        hyps = translate(model, tokenizer, [s for s, _ in items], tgt)
        refs = [[t for _, t in items]]
        out[d] = {
            "bleu": bleu.corpus_score(hyps, refs).score,
            "copy_bleu": bleu.corpus_score([s for s, _ in items], refs).score,
            "pairs": len(items),
        }
    return out


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


def labeled_train_ids(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(id, content_hash, kind) of the labeled rows trained on, for the contamination guard."""
    return [(r["id"], content_hash(r["text"]), "labeled") for r in rows]


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


@torch.inference_mode()
def classify_accuracy(
    model: Any, tokenizer: Any, rows: list[dict[str, Any]], labels: list[str]
) -> dict[str, float]:
    """Accuracy per language (a quick check; the evaluation flow is the reference)."""
    model.eval()
    index = {name: i for i, name in enumerate(labels)}
    by_lang: dict[str, list[bool]] = defaultdict(list)
    for i in range(0, len(rows), 64):
        chunk = rows[i : i + 64]
        enc = tokenizer(
            [r["text"] for r in chunk],
            truncation=True,
            max_length=128,
            padding=True,
            return_tensors="pt",
        )
        pred = model(**enc).logits.argmax(-1).tolist()
        for r, p in zip(chunk, pred, strict=True):
            by_lang[r["lang"]].append(p == index.get(r["label"], -1))
    return {lang: sum(v) / len(v) for lang, v in sorted(by_lang.items())}
