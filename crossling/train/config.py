"""The configuration of a training run: one pydantic model, so the Prefect UI renders it as a form.

Fields left at ``None`` take the preset's value; :func:`resolve` fills them in, and the resolved
config (minus paths and bookkeeping that do not change the weights) is hashed into the run version,
so rerunning the same command resumes the same run.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, Field

from crossling.train.models import get_preset

Objective = Literal["mlm", "tlm", "translation", "classification", "clm", "clm-translation"]
# Objectives that train a decoder-only causal LM.
CAUSAL_OBJECTIVES = {"clm", "clm-translation"}
# The prompt of causal-LM translation fine-tuning (and of its evaluation, which reads it from the
# checkpoint's config). Fields: {src_name}, {tgt_name} (English names), {src_lang}, {tgt_lang}
# (codes), {src} (the source text). The answer follows it: " <target> </s>".
DEFAULT_PROMPT = "Translate {src_name} to {tgt_name}.\n{src_name}: {src}\n{tgt_name}:"
# What a run on a new corpus version trains (docs/CONTRACTS.md, "Retraining modes").
Mode = Literal["continue", "full"]
CONTINUE, FULL = "continue", "full"

# Fields that do not change what is learned (paths, logging, resuming); left out of the run hash.
NOT_HASHED = {
    "data_root",
    "out_root",
    "resume",
    "save_every",
    "log_every",
    "keep_train_state",
    "model_name",
    "devices",
    "cpu_threads",
    "save_initial",
    "attn_implementation",
    "compile",
}


class TrainConfig(BaseModel):
    """A training run: which corpus, which objective, which model size, how to optimize."""

    data_root: str = Field(
        description="Data root that holds corpora/<corpus>/<version>/ (local path or URL)."
    )
    corpus: str = Field(description="Corpus name under the data root.")
    version: str = Field(
        "latest", description="Corpus version, or 'latest' for the newest complete one."
    )
    out_root: str | None = Field(
        None, description="Local root for tokenizers/ and models/ (default: the data root)."
    )
    objective: Objective = Field(
        "mlm",
        description="mlm: masked LM on DOCS; tlm: MLM plus translation LM on PAIRS (XLM); "
        "translation: seq2seq on PAIRS; classification: fine-tune on a labeled set; clm: "
        "decoder-only causal LM on DOCS (Llama/Qwen2 shape); clm-translation: prompted "
        "translation fine-tuning of a causal LM on PAIRS (loss on the answer only).",
    )
    preset: Literal["tiny", "small", "base"] = Field(
        "tiny", description="Model size: tiny trains in seconds on a CPU, base is XLM-R base."
    )
    model_name: str | None = Field(
        None, description="Name under models/ (default: <corpus>-<objective>-<preset>)."
    )
    mode: Mode = Field(
        CONTINUE,
        description="continue: start from the newest checkpoint of this model that has not seen "
        "this corpus version and train on the versions it has not seen (with no such checkpoint: "
        "a new model on the corpus as it stands); full: a new model on the corpus as it stands "
        "(this version and every earlier one). Classification always starts anew.",
    )
    init_from: str | None = Field(
        None,
        description="Local model directory to start from (a crossling checkpoint or any Hugging "
        "Face model saved on disk: an encoder for mlm/tlm/classification, a seq2seq model for "
        "translation, a causal LM such as Qwen2.5 or Llama for clm/clm-translation; safetensors "
        "only, never remote code), in either mode. Translation from an encoder warm-starts an "
        "encoder-decoder. A crossling checkpoint's corpus versions are not read again.",
    )
    max_steps: int | None = Field(
        None, ge=1, description="Optimizer steps (default: the preset's)."
    )
    batch_size: int | None = Field(None, ge=1, description="Sequences per micro-batch per device.")
    grad_accum: int = Field(1, ge=1, description="Micro-batches per optimizer step.")
    seq_len: int | None = Field(
        None, ge=8, description="Packed sequence length for MLM/TLM/CLM (default: the preset's)."
    )
    lr: float | None = Field(None, gt=0, description="Peak learning rate.")
    warmup_steps: int | None = Field(
        None, ge=0, description="Linear warmup steps before the cosine decay."
    )
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="Final learning rate / peak.")
    weight_decay: float = Field(
        0.01, ge=0, description="AdamW weight decay (not on biases and norms)."
    )
    adam_beta2: float = Field(0.98, gt=0, lt=1, description="AdamW beta2 (0.98 as in RoBERTa).")
    max_grad_norm: float = Field(1.0, ge=0, description="Gradient clipping; 0 turns it off.")
    save_every: int = Field(100, ge=1, description="Checkpoint every N steps (and at the end).")
    save_initial: bool = Field(
        False,
        description="Also save the untrained weights as checkpoint-0, so the evaluation has a "
        "baseline to compare the trained checkpoints with (the demo does).",
    )
    keep_train_state: int = Field(
        2,
        ge=0,
        description="Newest checkpoints that keep optimizer/RNG state for resuming (0: all).",
    )
    log_every: int = Field(10, ge=1, description="Log loss and tokens/s every N steps.")
    seed: int = Field(0, description="Seeds initialization, data order and masking.")
    alpha: float = Field(0.3, ge=0, le=1, description="Language sampling exponent, p ∝ n^alpha.")
    mlm_probability: float = Field(
        0.15, gt=0, lt=1, description="Share of tokens masked for MLM/TLM."
    )
    tlm_share: float = Field(0.5, ge=0, le=1, description="TLM: share of sequences made of PAIRS.")
    languages: list[str] | None = Field(None, description="MLM/TLM: only these DOCS languages.")
    directions: list[str] | None = Field(
        None,
        description="Translation: only these directions, e.g. ['en-de', 'de-en'] (default: all).",
    )
    both_directions: bool = Field(
        True, description="Translation: train real pairs in both directions."
    )
    use_synthetic: bool = Field(
        True, description="Translation: use back-translated pairs (tagged <BT>)."
    )
    include_distilled: bool = Field(
        False,
        description="Read the PAIRS of method 'distilled' (a teacher's translations, written by "
        "`crossling compress --method distill`). Off: a distillation version in the corpus "
        "chain adds nothing to any training but its student's (which sets this on).",
    )
    labeled_path: str | None = Field(
        None, description="Classification: JSONL/Parquet with text, label, lang (any fsspec URL)."
    )
    train_langs: list[str] | None = Field(
        ["en"], description="Classification: languages to train on; the others are zero-shot."
    )
    max_len: int = Field(
        128, ge=8, description="Classification/translation: longest input, in tokens."
    )
    sparse_mlm_head: bool = Field(
        True,
        description="MLM/TLM: project only masked positions onto the vocabulary (same loss, "
        "less work; XLM-R/RoBERTa models).",
    )
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="auto: bf16 on a GPU that supports it, fp32 on CPU."
    )
    devices: int | None = Field(
        None, ge=1, description="GPUs to use (default: all visible); >1 launches torchrun."
    )
    cpu_threads: int | None = Field(
        None,
        ge=1,
        description="torch threads when training on a CPU. Default: 1 for the tiny preset (its "
        "matmuls are too small to split, and extra OpenMP threads only wait on each other, badly "
        "so on a shared machine), torch's default otherwise.",
    )
    distributed: Literal["ddp", "fsdp"] = Field("ddp", description="Multi-GPU strategy.")
    resume: bool = Field(
        True, description="Resume the newest run with the same config if one exists."
    )
    tokenizer_vocab_size: int = Field(32_000, ge=300, description="Largest tokenizer vocabulary.")
    rehydration: Literal["none", "up-to-5"] | dict[int, float] = Field(
        "none",
        description="CLM: re-weight documents by their dup_cluster_size (FineWeb-2 rehydration): "
        "'up-to-5' samples a document of a cluster of n <= 5 as if it were there n times and "
        "clusters of 100 or more once; or a table {smallest cluster size: weight}. 'none': "
        "every document once.",
    )
    prompt_template: str = Field(
        DEFAULT_PROMPT,
        description="clm-translation: the prompt before the answer; {src_name}, {tgt_name}, "
        "{src_lang}, {tgt_lang}, {src}. Evaluation uses the checkpoint's own.",
    )
    attn_implementation: Literal["auto", "sdpa", "eager", "flash_attention_2", "flex_attention"] = (
        Field(
            "auto",
            description="CLM attention kernel: auto = FlashAttention-2 (varlen over the packed "
            "documents) on a GPU with the flash_attn package, else SDPA with a block-diagonal mask.",
        )
    )
    compile: Literal["auto", "on", "off"] = Field(
        "auto", description="torch.compile the model: auto = on a GPU for clm, off on a CPU."
    )


def _absolute(root: str) -> str:
    # Paths end up in metadata and events that other processes (evaluation) read elsewhere.
    return root if "://" in root else os.path.abspath(root)


def resolve(cfg: TrainConfig) -> TrainConfig:
    """The config with every preset-dependent default filled in, and absolute local paths."""
    p = get_preset(cfg.preset)
    causal = cfg.objective in CAUSAL_OBJECTIVES
    max_steps = cfg.max_steps or p.max_steps
    warmup = (
        cfg.warmup_steps if cfg.warmup_steps is not None else min(p.warmup_steps, max_steps // 10)
    )
    return cfg.model_copy(
        update={
            "data_root": _absolute(cfg.data_root),
            "out_root": _absolute(cfg.out_root or cfg.data_root),
            "model_name": cfg.model_name or f"{cfg.corpus}-{cfg.objective}-{cfg.preset}",
            "max_steps": max_steps,
            "batch_size": cfg.batch_size or p.batch_size,
            "seq_len": cfg.seq_len or (p.decoder.seq_len if causal else p.seq_len),
            "lr": cfg.lr or p.lr,
            "warmup_steps": warmup,
        }
    )


def hashed_fields(cfg: TrainConfig) -> dict[str, Any]:
    return cfg.model_dump(exclude=NOT_HASHED)
