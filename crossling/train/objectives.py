"""Training objectives: one object each, in a registry keyed by the ``objective`` of a TrainConfig.

An objective says what a run reads (which languages, which rows training could see), which model
it trains (``model_kind``: what evaluation loads) and how its model and batches are built. The run
(``crossling.train.run``) asks the registry instead of branching on objective names, so a new
objective is one class here plus its builder.

    OBJECTIVES["mlm"].build(cfg, corpus, tokenizer, resume_from=None)
"""

from __future__ import annotations

from typing import Any, ClassVar

from crossling.train import causal, finetune, pretrain
from crossling.train.config import TrainConfig
from crossling.train.corpus import TrainCorpus
from crossling.train.data import BatchSource
from crossling.train.models import MaskedPositionsMLM


class Objective:
    """What one training objective reads, trains and records."""

    name: ClassVar[str]
    model_kind: ClassVar[str]  # encoder | seq2seq | classifier | causal (checkpoint metadata)
    reads_corpus: ClassVar[bool] = True  # classification reads a labeled file instead
    # Retraining on a new corpus version may continue from the newest checkpoint of the model.
    continues: ClassVar[bool] = True
    # What a Hugging Face directory given as init_from may hold (models.model_dir_kind).
    init_kinds: ClassVar[tuple[str, ...]] = ()

    def languages(self, cfg: TrainConfig, corpus: TrainCorpus) -> list[str]:
        """Language codes the run trains on (empty: nothing to train on)."""
        raise NotImplementedError

    def check(self, cfg: TrainConfig, corpus: TrainCorpus) -> None:
        """Raise ValueError (one line) when the corpus or config lacks what the objective needs."""
        if not self.languages(cfg, corpus):
            raise ValueError(f"corpus {corpus.name}@{corpus.version}: nothing to train {self.name}")

    def labels(self, cfg: TrainConfig) -> list[str] | None:
        """Label names by id (classifiers only)."""
        return None

    def write_train_ids(
        self, cfg: TrainConfig, corpus: TrainCorpus, path: str, *, inherited: str | None
    ) -> int:
        """Write the ids of every row the run could read (the contamination guard's input)."""
        raise NotImplementedError

    def build(
        self,
        cfg: TrainConfig,
        corpus: TrainCorpus,
        tokenizer: Any,
        *,
        resume_from: str | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[Any, BatchSource, Any]:
        """(model to save, batch source of this rank, module to train: the model or a wrapper)."""
        raise NotImplementedError

    def flops_seq_len(self, cfg: TrainConfig) -> int:
        """Sequence length of the attention term of the FLOPs estimate."""
        return cfg.max_len

    def head_fraction(self, cfg: TrainConfig, module: Any) -> float:
        """Share of positions projected onto the vocabulary (FLOPs estimate)."""
        return 1.0


class MaskedLM(Objective):
    """MLM on DOCS (XLM-R), every language mixed with p ∝ n^alpha, packed sequences."""

    name = "mlm"
    model_kind = "encoder"
    init_kinds = ("encoder",)

    def languages(self, cfg: TrainConfig, corpus: TrainCorpus) -> list[str]:
        return pretrain.languages(cfg, corpus)

    def check(self, cfg: TrainConfig, corpus: TrainCorpus) -> None:
        docs = [x for x in corpus.docs_sizes() if not cfg.languages or x in cfg.languages]
        if not docs:
            raise ValueError(
                f"corpus {corpus.name}@{corpus.version} has no DOCS train rows"
                + (f" in {cfg.languages}" if cfg.languages else "")
            )

    def write_train_ids(
        self, cfg: TrainConfig, corpus: TrainCorpus, path: str, *, inherited: str | None
    ) -> int:
        langs = [x for x in corpus.docs_sizes() if not cfg.languages or x in cfg.languages]
        return corpus.write_train_ids(
            path, docs_langs=langs, pairs=self.name == "tlm", inherited=inherited
        )

    def build(
        self,
        cfg: TrainConfig,
        corpus: TrainCorpus,
        tokenizer: Any,
        *,
        resume_from: str | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[Any, BatchSource, Any]:
        model, batches = pretrain.build(
            cfg, corpus, tokenizer, resume_from=resume_from, rank=rank, world_size=world_size
        )
        module = model
        if cfg.sparse_mlm_head and MaskedPositionsMLM.supports(model):
            module = MaskedPositionsMLM(model)
        return model, batches, module

    def flops_seq_len(self, cfg: TrainConfig) -> int:
        assert cfg.seq_len is not None
        return cfg.seq_len

    def head_fraction(self, cfg: TrainConfig, module: Any) -> float:
        return cfg.mlm_probability if isinstance(module, MaskedPositionsMLM) else 1.0


class TranslationLM(MaskedLM):
    """TLM (XLM): MLM on DOCS plus masked sequences of PAIRS, source and target side by side."""

    name = "tlm"

    def check(self, cfg: TrainConfig, corpus: TrainCorpus) -> None:
        super().check(cfg, corpus)
        if not corpus.pair_counts():
            raise ValueError(
                f"corpus {corpus.name}@{corpus.version} has no PAIRS train rows: tlm needs "
                "parallel data"
            )


class Translation(Objective):
    """Seq2seq translation on PAIRS, every direction in one model (target-language tags)."""

    name = "translation"
    model_kind = "seq2seq"
    init_kinds = ("seq2seq", "encoder")  # an encoder warm-starts an encoder-decoder

    def languages(self, cfg: TrainConfig, corpus: TrainCorpus) -> list[str]:
        return finetune.translation_languages(cfg, corpus)

    def check(self, cfg: TrainConfig, corpus: TrainCorpus) -> None:
        where = f"corpus {corpus.name}@{corpus.version}"
        if not corpus.pair_counts():
            raise ValueError(f"{where} has no PAIRS train rows: translation needs parallel data")
        if not self.languages(cfg, corpus):
            raise ValueError(f"{where} has no PAIRS in the directions {cfg.directions}")

    def write_train_ids(
        self, cfg: TrainConfig, corpus: TrainCorpus, path: str, *, inherited: str | None
    ) -> int:
        return corpus.write_train_ids(path, docs_langs=[], pairs=True, inherited=inherited)

    def build(
        self,
        cfg: TrainConfig,
        corpus: TrainCorpus,
        tokenizer: Any,
        *,
        resume_from: str | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[Any, BatchSource, Any]:
        model, batches = finetune.build_translation(
            cfg, corpus, tokenizer, resume_from=resume_from, rank=rank, world_size=world_size
        )
        return model, batches, model


class Classification(Objective):
    """Sequence classification on a labeled set; evaluation then measures zero-shot transfer."""

    name = "classification"
    model_kind = "classifier"
    init_kinds = ("encoder",)
    reads_corpus = False
    continues = False

    def languages(self, cfg: TrainConfig, corpus: TrainCorpus) -> list[str]:
        rows, _ = finetune.classification_data(cfg)
        return sorted({r["lang"] for r in rows})

    def check(self, cfg: TrainConfig, corpus: TrainCorpus) -> None:
        finetune.classification_data(cfg)

    def labels(self, cfg: TrainConfig) -> list[str] | None:
        return finetune.classification_data(cfg)[1]

    def write_train_ids(
        self, cfg: TrainConfig, corpus: TrainCorpus, path: str, *, inherited: str | None
    ) -> int:
        rows, _ = finetune.classification_data(cfg)
        return finetune.write_labeled_ids(path, rows, inherited)

    def build(
        self,
        cfg: TrainConfig,
        corpus: TrainCorpus,
        tokenizer: Any,
        *,
        resume_from: str | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[Any, BatchSource, Any]:
        model, batches, _ = finetune.build_classification(
            cfg, tokenizer, resume_from=resume_from, rank=rank, world_size=world_size
        )
        return model, batches, model


class CausalLM(Objective):
    """Decoder-only causal LM on DOCS (Llama/Qwen2 shape): packed rows, no attention across
    documents, languages mixed with p ∝ n^alpha, documents re-weighted by rehydration."""

    name = "clm"
    model_kind = "causal"
    init_kinds = ("causal",)

    def languages(self, cfg: TrainConfig, corpus: TrainCorpus) -> list[str]:
        return sorted(k for k in corpus.docs_sizes() if not cfg.languages or k in cfg.languages)

    def check(self, cfg: TrainConfig, corpus: TrainCorpus) -> None:
        if not self.languages(cfg, corpus):
            raise ValueError(
                f"corpus {corpus.name}@{corpus.version} has no DOCS train rows"
                + (f" in {cfg.languages}" if cfg.languages else "")
            )

    def write_train_ids(
        self, cfg: TrainConfig, corpus: TrainCorpus, path: str, *, inherited: str | None
    ) -> int:
        return corpus.write_train_ids(
            path, docs_langs=self.languages(cfg, corpus), pairs=False, inherited=inherited
        )

    def build(
        self,
        cfg: TrainConfig,
        corpus: TrainCorpus,
        tokenizer: Any,
        *,
        resume_from: str | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[Any, BatchSource, Any]:
        return causal.build_clm(
            cfg, corpus, tokenizer, resume_from=resume_from, rank=rank, world_size=world_size
        )

    def flops_seq_len(self, cfg: TrainConfig) -> int:
        assert cfg.seq_len is not None
        return cfg.seq_len


class CausalTranslation(Translation):
    """Prompted translation fine-tuning of a causal LM on PAIRS, loss on the answer only."""

    name = "clm-translation"
    model_kind = "causal"
    init_kinds = ("causal",)

    def build(
        self,
        cfg: TrainConfig,
        corpus: TrainCorpus,
        tokenizer: Any,
        *,
        resume_from: str | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[Any, BatchSource, Any]:
        return causal.build_clm_translation(
            cfg, corpus, tokenizer, resume_from=resume_from, rank=rank, world_size=world_size
        )

    def flops_seq_len(self, cfg: TrainConfig) -> int:
        assert cfg.seq_len is not None
        return cfg.seq_len


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        MaskedLM(),
        TranslationLM(),
        Translation(),
        Classification(),
        CausalLM(),
        CausalTranslation(),
    )
}


def get_objective(name: str) -> Objective:
    """The registered objective ``name``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ValueError(
            f"unknown objective {name!r} (choose from {', '.join(OBJECTIVES)})"
        ) from None
