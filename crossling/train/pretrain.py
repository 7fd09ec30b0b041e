"""MLM and TLM pretraining of an XLM-R-shaped encoder on a corpus version.

MLM reads DOCS of every language, mixed with p ∝ n^alpha, packed into full sequences; TLM adds
sequences of PAIRS (source and target side by side, masked together), as XLM does. The model is
built from the preset, or continues from a local directory (``init_from``: a crossling checkpoint
or e.g. an XLM-R the user put on disk).
"""

from __future__ import annotations

from typing import Any

from crossling.train.config import TrainConfig
from crossling.train.corpus import TrainCorpus
from crossling.train.data import DataConfig, MLMBatches
from crossling.train.models import build_encoder, get_preset, load_pretrained, load_weights


def data_config(cfg: TrainConfig) -> DataConfig:
    assert cfg.seq_len is not None
    return DataConfig(
        seq_len=cfg.seq_len,
        alpha=cfg.alpha,
        mlm_probability=cfg.mlm_probability,
        tlm_share=cfg.tlm_share,
        max_pair_tokens=cfg.max_len,
        seed=cfg.seed,
    )


def languages(cfg: TrainConfig, corpus: TrainCorpus) -> list[str]:
    """The languages a pretraining run reads."""
    langs = {k for k in corpus.docs_sizes() if not cfg.languages or k in cfg.languages}
    if cfg.objective == "tlm":
        for d in corpus.pair_directions():
            langs.update(d.split("-", 1))
    return sorted(langs)


def build(
    cfg: TrainConfig,
    corpus: TrainCorpus,
    tokenizer: Any,
    *,
    resume_from: str | None,
    rank: int = 0,
    world_size: int = 1,
) -> tuple[Any, MLMBatches]:
    """(model, batch source) of an MLM/TLM run for one rank."""
    assert cfg.batch_size is not None and cfg.seq_len is not None
    batches = MLMBatches(
        corpus,
        tokenizer,
        data_config(cfg),
        cfg.batch_size,
        objective=cfg.objective,
        languages=cfg.languages,
        rank=rank,
        world_size=world_size,
    )
    if cfg.init_from:
        model = load_pretrained(cfg.init_from, "encoder")
        if model.config.vocab_size < len(tokenizer):
            raise ValueError(
                f"{cfg.init_from}: vocabulary {model.config.vocab_size} < tokenizer's {len(tokenizer)}"
            )
    else:
        model = build_encoder(get_preset(cfg.preset).encoder, tokenizer, cfg.seq_len)
    if resume_from:
        load_weights(model, resume_from)
    return model, batches
