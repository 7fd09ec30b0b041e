"""Model presets and builders: XLM-R-shaped encoders, Marian-shaped translation models and
Llama/Qwen2-shaped decoders (causal LM).

A preset is a function returning a :class:`Preset`: the encoder shape, the seq2seq shape and the
training defaults that suit them. ``tiny`` trains in seconds on a CPU (tests, the demo), ``small``
in minutes to hours on one GPU, ``base`` is XLM-R base (270M parameters with a 250k vocabulary).
The vocabulary size always comes from the tokenizer.

Models are transformers classes built from a config (no weights are downloaded), or loaded from a
local directory with safetensors only (``continue from a checkpoint`` or an XLM-R the user put on
disk); ``trust_remote_code`` is never set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from crossling.train.data import IGNORE_INDEX

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncoderShape:
    """An XLM-R (RoBERTa) encoder, the model of MLM/TLM pretraining and classification."""

    hidden_size: int  # width of every layer; XLM-R base 768, large 1024
    num_layers: int  # transformer blocks; base 12, large 24
    num_heads: int  # attention heads; hidden_size must divide by it (head size 64 is usual)
    intermediate_size: int  # feed-forward width; 4 x hidden_size is the standard ratio
    max_positions: int  # longest sequence the position table covers, in tokens
    dropout: float  # on hidden states and attention probabilities; 0.1 as in XLM-R, 0 for tiny runs


@dataclass(frozen=True)
class Seq2SeqShape:
    """A Marian (transformer-base style) encoder-decoder for translation, shared vocabulary."""

    d_model: int  # width; transformer-base 512
    encoder_layers: int  # 6 in transformer-base; more encoder than decoder layers decodes faster
    decoder_layers: int  # 6 in transformer-base
    num_heads: int  # attention heads per layer (encoder and decoder)
    ffn_dim: int  # feed-forward width; 4 x d_model (transformer-big uses 8x less often)
    max_positions: int  # longest source or target, in tokens
    dropout: float  # 0.1 for real data; lower for tiny models that underfit anyway


@dataclass(frozen=True)
class DecoderShape:
    """A Llama / Qwen2 decoder-only causal LM (RMSNorm, SwiGLU, rotary positions, grouped KV)."""

    arch: str  # llama | qwen2 (Qwen2 adds biases to q/k/v); both load with AutoModelForCausalLM
    hidden_size: int  # width; Qwen2.5-0.5B 896, Llama-3.2-1B 2048
    num_layers: int  # decoder blocks
    num_heads: int  # query heads; hidden_size must divide by it
    num_kv_heads: int  # key/value heads (grouped-query attention); num_heads must divide by it
    intermediate_size: int  # SwiGLU width; about 8/3 x hidden_size (Llama) up to 5.4x (Qwen2.5)
    seq_len: int  # packed sequence length of causal-LM training, in tokens
    rope_theta: float  # rotary base; 10k (Llama 2) to 1M (Qwen2.5) for long contexts
    tie_embeddings: bool  # output projection shares the embedding table (small models do)


@dataclass(frozen=True)
class Preset:
    """A named model size with the training defaults that suit it."""

    name: str  # tiny | small | base
    encoder: EncoderShape  # used by mlm, tlm and classification
    seq2seq: Seq2SeqShape  # used by translation (when not warm-started from an encoder)
    seq_len: int  # packed sequence length for MLM/TLM; at most encoder.max_positions
    batch_size: int  # sequences per micro-batch per device; raise grad_accum, not this, to scale
    lr: float  # peak learning rate of AdamW after warmup; small models tolerate larger ones
    warmup_steps: int  # linear warmup, then cosine decay; capped at 10% of max_steps
    max_steps: int  # default optimizer steps of a run
    decoder: DecoderShape  # used by clm and clm-translation


def tiny() -> Preset:
    """Trains in seconds on a CPU: for tests, the demo and smoke runs. Not a useful model."""
    return Preset(
        name="tiny",
        encoder=EncoderShape(
            hidden_size=64,
            num_layers=2,
            num_heads=2,
            intermediate_size=256,
            max_positions=128,
            dropout=0.0,
        ),
        seq2seq=Seq2SeqShape(
            d_model=128,
            encoder_layers=2,
            decoder_layers=2,
            num_heads=4,
            ffn_dim=256,
            max_positions=128,
            dropout=0.0,
        ),
        seq_len=128,
        batch_size=16,
        lr=2e-3,
        warmup_steps=20,
        max_steps=200,
        decoder=DecoderShape(
            arch="llama",
            hidden_size=64,
            num_layers=2,
            num_heads=4,
            num_kv_heads=2,
            intermediate_size=176,
            seq_len=128,
            rope_theta=10_000.0,
            tie_embeddings=True,
        ),
    )


def small() -> Preset:
    """A few hours on one GPU: a model that learns something real from a small corpus."""
    return Preset(
        name="small",
        encoder=EncoderShape(
            hidden_size=256,
            num_layers=4,
            num_heads=4,
            intermediate_size=1024,
            max_positions=256,
            dropout=0.1,
        ),
        seq2seq=Seq2SeqShape(
            d_model=256,
            encoder_layers=4,
            decoder_layers=4,
            num_heads=4,
            ffn_dim=1024,
            max_positions=256,
            dropout=0.1,
        ),
        seq_len=256,
        batch_size=64,
        lr=7e-4,
        warmup_steps=1_000,
        max_steps=50_000,
        decoder=DecoderShape(
            arch="llama",
            hidden_size=512,
            num_layers=8,
            num_heads=8,
            num_kv_heads=4,
            intermediate_size=1408,
            seq_len=1024,
            rope_theta=10_000.0,
            tie_embeddings=True,
        ),
    )


def base() -> Preset:
    """XLM-R base's shape (and transformer-base for translation). Days on GPUs for real data."""
    return Preset(
        name="base",
        encoder=EncoderShape(
            hidden_size=768,
            num_layers=12,
            num_heads=12,
            intermediate_size=3072,
            max_positions=512,
            dropout=0.1,
        ),
        seq2seq=Seq2SeqShape(
            d_model=512,
            encoder_layers=6,
            decoder_layers=6,
            num_heads=8,
            ffn_dim=2048,
            max_positions=512,
            dropout=0.1,
        ),
        seq_len=512,
        batch_size=32,
        lr=6e-4,
        warmup_steps=10_000,
        max_steps=125_000,
        # Qwen2.5-0.5B's shape (about 360M parameters without the embeddings).
        decoder=DecoderShape(
            arch="qwen2",
            hidden_size=896,
            num_layers=24,
            num_heads=14,
            num_kv_heads=2,
            intermediate_size=4864,
            seq_len=2048,
            rope_theta=1_000_000.0,
            tie_embeddings=True,
        ),
    )


PRESETS: dict[str, Callable[[], Preset]] = {"tiny": tiny, "small": small, "base": base}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]()
    except KeyError:
        raise ValueError(f"unknown preset {name!r} (choose from {', '.join(PRESETS)})") from None


# --- builders ---------------------------------------------------------------------------------------


def _ids(tokenizer: Any) -> dict[str, int]:
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }


def encoder_config(shape: EncoderShape, tokenizer: Any, seq_len: int) -> Any:
    from transformers import XLMRobertaConfig

    ids = _ids(tokenizer)
    # RoBERTa numbers positions from pad_token_id + 1, so the table needs that many extra rows.
    positions = max(shape.max_positions, seq_len) + ids["pad_token_id"] + 1
    return XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        num_hidden_layers=shape.num_layers,
        num_attention_heads=shape.num_heads,
        intermediate_size=shape.intermediate_size,
        max_position_embeddings=positions,
        hidden_dropout_prob=shape.dropout,
        attention_probs_dropout_prob=shape.dropout,
        type_vocab_size=1,
        **ids,
    )


def build_encoder(shape: EncoderShape, tokenizer: Any, seq_len: int) -> Any:
    """A randomly initialized ``XLMRobertaForMaskedLM`` of ``shape``."""
    from transformers import XLMRobertaForMaskedLM

    return XLMRobertaForMaskedLM(encoder_config(shape, tokenizer, seq_len))


class MaskedPositionsMLM(torch.nn.Module):
    """An XLM-R/RoBERTa masked LM whose vocabulary projection runs at the masked positions only.

    transformers' ``XLMRobertaForMaskedLM`` projects every position onto the vocabulary and then
    ignores 85% of them in the loss; with XLM-R's 250k vocabulary that projection is the largest
    matmul of the model. Projecting only the selected positions (as fairseq's ``masked_tokens``
    does) gives the same loss for a fraction of the work. The wrapped model is what is saved.
    """

    def __init__(self, mlm: Any) -> None:
        super().__init__()
        self.mlm = mlm
        # FSDP (accelerate's transformer_based_wrap) wraps the blocks the model names here.
        self._no_split_modules = getattr(mlm, "_no_split_modules", None)

    @staticmethod
    def supports(model: Any) -> bool:
        return hasattr(model, "roberta") and hasattr(model, "lm_head")

    def forward(
        self,
        input_ids: torch.Tensor,
        labels: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
    ) -> Any:
        from transformers.modeling_outputs import MaskedLMOutput

        hidden = self.mlm.roberta(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        selected = labels != IGNORE_INDEX
        logits = self.mlm.lm_head(hidden[selected])
        loss = torch.nn.functional.cross_entropy(logits.float(), labels[selected])
        return MaskedLMOutput(loss=loss)


def unwrap_state_dict(
    state: dict[str, torch.Tensor] | None, model: torch.nn.Module
) -> dict[str, torch.Tensor] | None:
    """The transformers model's state dict out of a (possibly wrapped) training module's."""
    if state is None:
        return state
    # torch.compile's wrapper names parameters _orig_mod.<name>.
    state = {k.replace("_orig_mod.", ""): v for k, v in state.items()}
    if isinstance(model, MaskedPositionsMLM):
        return {k.removeprefix("mlm."): v for k, v in state.items()}
    if isinstance(model, PackedCausalLM):
        return {k.removeprefix("lm."): v for k, v in state.items()}
    return state


def build_seq2seq(shape: Seq2SeqShape, tokenizer: Any) -> Any:
    """A randomly initialized ``MarianMTModel`` with one vocabulary shared by both sides."""
    from transformers import MarianConfig, MarianMTModel

    ids = _ids(tokenizer)
    cfg = MarianConfig(
        vocab_size=len(tokenizer),
        decoder_vocab_size=len(tokenizer),
        share_encoder_decoder_embeddings=True,
        d_model=shape.d_model,
        encoder_layers=shape.encoder_layers,
        decoder_layers=shape.decoder_layers,
        encoder_attention_heads=shape.num_heads,
        decoder_attention_heads=shape.num_heads,
        encoder_ffn_dim=shape.ffn_dim,
        decoder_ffn_dim=shape.ffn_dim,
        max_position_embeddings=shape.max_positions,
        dropout=shape.dropout,
        attention_dropout=shape.dropout,
        activation_function="gelu",
        scale_embedding=True,
        # Marian starts decoding from <pad> and must end with </s>.
        decoder_start_token_id=ids["pad_token_id"],
        forced_eos_token_id=ids["eos_token_id"],
        **ids,
    )
    return MarianMTModel(cfg)


def decoder_config(shape: DecoderShape, tokenizer: Any, seq_len: int | None = None) -> Any:
    """A ``LlamaConfig`` or ``Qwen2Config`` of ``shape`` for the tokenizer's vocabulary."""
    from transformers import LlamaConfig, Qwen2Config

    ids = _ids(tokenizer)
    common = {
        "vocab_size": len(tokenizer),
        "hidden_size": shape.hidden_size,
        "num_hidden_layers": shape.num_layers,
        "num_attention_heads": shape.num_heads,
        "num_key_value_heads": shape.num_kv_heads,
        "intermediate_size": shape.intermediate_size,
        "max_position_embeddings": max(shape.seq_len, seq_len or 0),
        "rope_theta": shape.rope_theta,
        "tie_word_embeddings": shape.tie_embeddings,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-6,
        **ids,
    }
    if shape.arch == "qwen2":
        return Qwen2Config(**common)
    if shape.arch == "llama":
        return LlamaConfig(**common)
    raise ValueError(f"unknown decoder arch {shape.arch!r} (llama or qwen2)")


def attention_implementation(requested: str = "auto") -> str:
    """The attention kernel for a decoder: ``auto`` is FlashAttention-2 on a GPU when the
    ``flash_attn`` package is installed, else PyTorch SDPA (CPU: one 4-D block mask per batch)."""
    if requested != "auto":
        return requested
    import importlib.util

    if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def build_decoder(
    shape: DecoderShape, tokenizer: Any, seq_len: int | None = None, attn: str = "auto"
) -> Any:
    """A randomly initialized ``LlamaForCausalLM`` / ``Qwen2ForCausalLM`` of ``shape``."""
    from transformers import AutoModelForCausalLM

    cfg = decoder_config(shape, tokenizer, seq_len)
    return AutoModelForCausalLM.from_config(cfg, attn_implementation=attention_implementation(attn))


class PackedCausalLM(torch.nn.Module):
    """Trains a transformers causal LM on packed rows without attention across documents.

    A packed row holds several documents; ``position_ids`` restart at 0 at each one. transformers
    (5.x) reads those resets when no 2-D attention mask is given and no KV cache is built: SDPA
    and eager attention get a block-diagonal causal 4-D mask, FlashAttention-2 runs its varlen
    kernel on the segments (``cu_seqlens``), flex attention a block mask. ``use_cache=False`` is
    what makes that happen: with a cache the resets are ignored (and every token would see the
    documents before it in the row). The first token of each segment carries no label (the
    packer sets -100), so nothing is predicted across a boundary either. The wrapped model is
    what is saved.
    """

    def __init__(self, lm: Any) -> None:
        super().__init__()
        self.lm = lm
        # FSDP (accelerate's transformer_based_wrap) wraps the blocks the model names here.
        self._no_split_modules = getattr(lm, "_no_split_modules", None)

    def forward(
        self,
        input_ids: torch.Tensor,
        labels: torch.Tensor,
        position_ids: torch.Tensor,
    ) -> Any:
        return self.lm(
            input_ids=input_ids, position_ids=position_ids, labels=labels, use_cache=False
        )


def build_classifier(
    tokenizer: Any,
    labels: list[str],
    *,
    shape: EncoderShape | None = None,
    seq_len: int = 128,
    init_from: str | None = None,
) -> Any:
    """An ``XLMRobertaForSequenceClassification``: from an encoder directory, or from ``shape``."""
    from transformers import AutoModelForSequenceClassification, XLMRobertaForSequenceClassification

    id2label = dict(enumerate(labels))
    label2id = {name: i for i, name in enumerate(labels)}
    if init_from:
        return AutoModelForSequenceClassification.from_pretrained(
            init_from,
            num_labels=len(labels),
            id2label=id2label,
            label2id=label2id,
            local_files_only=True,
            use_safetensors=True,
        )
    if shape is None:
        raise ValueError("build_classifier needs a shape or init_from")
    cfg = encoder_config(shape, tokenizer, seq_len)
    cfg.num_labels, cfg.id2label, cfg.label2id = len(labels), id2label, label2id
    return XLMRobertaForSequenceClassification(cfg)


def warm_start_seq2seq(encoder_dir: str, tokenizer: Any) -> Any:
    """An encoder-decoder whose encoder *and* decoder start from a pretrained encoder (Rothe et
    al. 2020); only the decoder's cross-attention starts random."""
    from transformers import EncoderDecoderModel

    model = EncoderDecoderModel.from_encoder_decoder_pretrained(
        encoder_dir,
        encoder_dir,
        local_files_only=True,
        use_safetensors=True,
    )
    model.config.decoder_start_token_id = tokenizer.bos_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.eos_token_id = tokenizer.eos_token_id
    model.config.vocab_size = model.config.decoder.vocab_size
    gen = model.generation_config
    gen.decoder_start_token_id, gen.pad_token_id = tokenizer.bos_token_id, tokenizer.pad_token_id
    gen.eos_token_id = tokenizer.eos_token_id
    return model


def load_pretrained(path: str, kind: str) -> Any:
    """A model of ``kind`` (encoder | seq2seq | classifier) from a local directory, safetensors only."""
    import transformers as tf

    auto = {
        "encoder": tf.AutoModelForMaskedLM,
        "seq2seq": tf.AutoModelForSeq2SeqLM,
        "classifier": tf.AutoModelForSequenceClassification,
    }[kind]
    return auto.from_pretrained(path, local_files_only=True, use_safetensors=True)


def load_weights(model: Any, directory: str) -> None:
    """Load a checkpoint's safetensors into a model built the same way (the resume path).

    Resuming builds the model exactly like a fresh run and then loads the weights, rather than
    ``from_pretrained``: that keeps parameter structure and ``requires_grad`` flags identical
    (Marian's sinusoidal positions come back trainable from ``from_pretrained``), which the saved
    optimizer state depends on.
    """
    import os

    from safetensors.torch import load_file

    state = load_file(os.path.join(directory, "model.safetensors"))
    missing, unexpected = model.load_state_dict(state, strict=False)
    # save_pretrained stores a tied tensor once (the other names share its storage) and leaves
    # out what is not learned (buffers, Marian's fixed sinusoidal positions).
    current = model.state_dict()
    loaded_ptrs = {t.data_ptr() for name, t in current.items() if name in state}
    params = dict(model.named_parameters(remove_duplicate=False))
    really_missing = [
        k
        for k in missing
        if current[k].data_ptr() not in loaded_ptrs and k in params and params[k].requires_grad
    ]
    if really_missing or unexpected:
        raise ValueError(
            f"{directory}: weights do not fit the model (missing {really_missing[:5]}, "
            f"unexpected {list(unexpected)[:5]})"
        )


def directory_model_type(path: str) -> str | None:
    """``model_type`` of the config.json in a local model directory (None when there is none)."""
    import json
    import os

    cfg = os.path.join(path, "config.json")
    if not os.path.exists(cfg):
        return None
    with open(cfg, encoding="utf-8") as f:
        return json.load(f).get("model_type")


# What a local model directory holds, checked before anything is loaded.
MODEL_KINDS = ("causal", "encoder", "seq2seq")


def model_dir_kind(path: str) -> str:
    """``causal``, ``encoder`` or ``seq2seq``: what a local Hugging Face model directory holds.

    Checks, in order, that ``path`` is a directory with a readable ``config.json`` naming a
    ``model_type`` this transformers knows (remote code is never run), and that its weights are
    safetensors (``model.safetensors`` or a sharded ``model.safetensors.index.json``).

    Raises:
        ValueError: one line naming the directory and what is wrong with it.
    """
    import json
    import os

    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
        MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
    )

    if not os.path.isdir(path):
        raise ValueError(f"{path}: not a local directory")
    cfg_path = os.path.join(path, "config.json")
    if not os.path.exists(cfg_path):
        raise ValueError(f"{path}: no config.json (not a Hugging Face model directory)")
    try:
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: config.json is not readable JSON ({e})") from None
    model_type = cfg.get("model_type") if isinstance(cfg, dict) else None
    if not model_type:
        raise ValueError(f"{path}: config.json has no model_type")
    if model_type not in CONFIG_MAPPING_NAMES:
        raise ValueError(
            f"{path}: model_type {model_type!r} is not one transformers knows (crossling never "
            "runs a model's own code, trust_remote_code)"
        )
    names = set(os.listdir(path))
    if not names & {"model.safetensors", "model.safetensors.index.json"}:
        other = sorted(n for n in names if n.endswith((".bin", ".pt", ".pth", ".ckpt")))
        raise ValueError(
            f"{path}: no model.safetensors"
            + (f" (only {', '.join(other)}: crossling loads safetensors only)" if other else "")
        )
    if (
        model_type in MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES
        or model_type == "encoder-decoder"
    ):
        return "seq2seq"
    # BERT-like encoders also have a *ForCausalLM head; decoder-only models have no masked LM.
    if model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return "encoder"
    if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return "causal"
    raise ValueError(
        f"{path}: model_type {model_type!r} is neither a causal LM, an encoder nor seq2seq"
    )


def load_causal_lm(path: str, attn: str = "auto") -> Any:
    """A causal LM from a local directory: safetensors only, no remote code, fp32 weights."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        path,
        local_files_only=True,
        use_safetensors=True,
        trust_remote_code=False,
        dtype=torch.float32,  # the loop's autocast decides the compute precision
        attn_implementation=attention_implementation(attn),
    )


# --- cost model -------------------------------------------------------------------------------------


def count_parameters(model: Any, *, non_embedding: bool = True) -> int:
    """Parameters, without the (token and position) embedding tables when ``non_embedding``."""
    total = 0
    for name, p in model.named_parameters():
        if non_embedding and "embed" in name:
            continue
        total += p.numel()
    return total


def flops_per_token(model: Any, seq_len: int, head_fraction: float = 1.0) -> float:
    """Training FLOPs per token: 6 N for the weights plus 12 L d T for attention (PaLM, app. B).

    The output projection counts as matmul work even when it is tied to the embeddings, so its
    ``vocab x d`` is added back, times ``head_fraction``: the share of positions projected (0.15
    for :class:`MaskedPositionsMLM`), so MFU counts the work actually needed.
    """
    model = getattr(model, "_orig_mod", model)  # a torch.compile'd module
    if isinstance(model, MaskedPositionsMLM):
        model = model.mlm
    if isinstance(model, PackedCausalLM):
        model = model.lm
    cfg = model.config
    n = count_parameters(model)
    d = getattr(cfg, "hidden_size", None) or getattr(cfg, "d_model", 0)
    layers = getattr(cfg, "num_hidden_layers", None) or (
        getattr(cfg, "encoder_layers", 0) + getattr(cfg, "decoder_layers", 0)
    )
    vocab = getattr(cfg, "vocab_size", 0) or 0
    # An untied output projection (lm_head) is already among the counted parameters.
    head = vocab * d if getattr(cfg, "tie_word_embeddings", True) else 0
    return 6.0 * (n + head_fraction * head) + 12.0 * layers * d * seq_len
