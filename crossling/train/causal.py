"""Decoder-only causal LM: pretraining on DOCS (``clm``) and prompted translation fine-tuning on
PAIRS (``clm-translation``).

``clm`` trains a Llama/Qwen2-shaped decoder (preset ``decoder`` shapes, built from a transformers
config) or continues any local causal LM directory (``init_from``: a crossling checkpoint, or a
Qwen2.5 / Llama the user put on disk) on packed rows of documents, languages mixed with
p ∝ n^alpha and documents re-weighted by their duplicate-cluster size (rehydration).

``clm-translation`` fine-tunes a causal LM (normally a ``clm`` checkpoint, through ``init_from``)
on prompted translation: ``<prompt> <answer> </s>`` with the loss on the answer only, both
directions of every real pair (and back-translated pairs source -> target), packed without
attention across examples. Evaluation prompts the same way and scores BLEU/chrF.
"""

from __future__ import annotations

from typing import Any

from crossling.train.config import TrainConfig
from crossling.train.corpus import TrainCorpus
from crossling.train.data import (
    IGNORE_INDEX,
    REHYDRATION_TABLES,
    CLMBatches,
    DataConfig,
    TranslationBatches,
    _encode_texts,
)
from crossling.train.models import (
    PackedCausalLM,
    build_decoder,
    get_preset,
    load_causal_lm,
    load_weights,
)


def language_name(code: str) -> str:
    """The English name of a language code (``zh`` -> ``Chinese``), the code itself if unknown."""
    try:
        import langcodes

        name = langcodes.Language.get(code).display_name()
        return name if name and "Unknown" not in name else code
    except Exception:  # noqa: BLE001 - a name is cosmetic; the code always works
        return code


def format_prompt(template: str, src_lang: str, tgt_lang: str, src: str) -> str:
    """The prompt of one translation example as text."""
    return template.format(
        src_name=language_name(src_lang),
        tgt_name=language_name(tgt_lang),
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        src=src,
    )


def encode_prompts(
    tokenizer: Any,
    template: str,
    examples: list[tuple[str, str, str]],
    max_tokens: int,
    *,
    bt_tag: list[bool] | None = None,
) -> list[list[int]]:
    """Token ids of the prompts of ``(src_lang, tgt_lang, source)`` examples, ``<s>`` first.

    Training and evaluation both call this, so a model is prompted exactly as it was trained. A
    prompt over ``max_tokens`` loses the end of its *source* text, never the instruction around
    it or the ``<target language>:`` cue the answer follows.
    """
    from crossling.tokenizer import BT_TAG

    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    bt = tokenizer.convert_tokens_to_ids(BT_TAG)
    bt = None if bt is None or bt == tokenizer.unk_token_id else bt
    texts = [format_prompt(template, a, b, src) for a, b, src in examples]
    out = []
    for i, ids in enumerate(_encode_texts(tokenizer, texts)):
        prefix = bos + ([bt] if bt_tag and bt_tag[i] and bt is not None else [])
        ids = prefix + ids
        if len(ids) > max_tokens:
            src_lang, tgt_lang, src = examples[i]
            # Cut the source by the share of tokens over the budget, then re-encode; repeat.
            while len(ids) > max_tokens and src:
                keep = max(0, int(len(src) * (1 - (len(ids) - max_tokens) / len(ids))) - 1)
                src = src[:keep]
                ids = (
                    prefix
                    + _encode_texts(tokenizer, [format_prompt(template, src_lang, tgt_lang, src)])[
                        0
                    ]
                )
            ids = ids[-max_tokens:]
        out.append(ids)
    return out


def rehydration_table(cfg: TrainConfig) -> dict[int, float] | None:
    """The rehydration table of a config (a named one or the config's own)."""
    if isinstance(cfg.rehydration, dict):
        return {int(k): float(v) for k, v in cfg.rehydration.items()}
    return REHYDRATION_TABLES[cfg.rehydration]


def _model(cfg: TrainConfig, tokenizer: Any, resume_from: str | None) -> Any:
    assert cfg.seq_len is not None
    if cfg.init_from:
        model = load_causal_lm(cfg.init_from, cfg.attn_implementation)
        if model.config.vocab_size < len(tokenizer):
            raise ValueError(
                f"{cfg.init_from}: vocabulary {model.config.vocab_size} < tokenizer's "
                f"{len(tokenizer)}"
            )
    else:
        model = build_decoder(
            get_preset(cfg.preset).decoder, tokenizer, cfg.seq_len, cfg.attn_implementation
        )
    if resume_from:
        load_weights(model, resume_from)
    return model


def build_clm(
    cfg: TrainConfig,
    corpus: TrainCorpus,
    tokenizer: Any,
    *,
    resume_from: str | None,
    rank: int = 0,
    world_size: int = 1,
) -> tuple[Any, CLMBatches, PackedCausalLM]:
    """(model, batch source, training module) of a ``clm`` run for one rank."""
    assert cfg.batch_size is not None and cfg.seq_len is not None
    batches = CLMBatches(
        corpus,
        tokenizer,
        DataConfig(seq_len=cfg.seq_len, alpha=cfg.alpha, seed=cfg.seed),
        cfg.batch_size,
        languages=cfg.languages,
        rehydration=rehydration_table(cfg),
        rank=rank,
        world_size=world_size,
    )
    model = _model(cfg, tokenizer, resume_from)
    return model, batches, PackedCausalLM(model)


class PromptedTranslationBatches(TranslationBatches):
    """Translation pairs as prompted causal-LM examples, packed (:class:`CLMBatches`).

    The directions, real / back-translated streams and their temperature mixture are those of
    :class:`TranslationBatches`; each example becomes ``[<s>] prompt`` (no labels) followed by
    ``target </s>`` (labels). A back-translated example that ``bt-tagged`` marks starts its
    prompt with ``<BT>`` when the tokenizer has it.
    """

    def __init__(
        self,
        corpus: TrainCorpus,
        tokenizer: Any,
        cfg: DataConfig,
        batch_size: int,
        *,
        template: str,
        **kw: Any,
    ) -> None:
        self.template = template
        super().__init__(corpus, tokenizer, cfg, batch_size, **kw)
        self.packer = CLMBatches(
            None,
            tokenizer,
            cfg,
            batch_size,
            languages=self.languages,
            mixture=self.mixture,
            cut_items=False,
        )

    def _encode(
        self, rows: list[dict[str, Any]], reverse: bool
    ) -> list[tuple[list[int], list[int]]]:
        from crossling.train.data import TAGGED_METHODS

        a, b = ("tgt", "src") if reverse else ("src", "tgt")
        half = self.cfg.seq_len // 2
        tagged = [
            bool(r["synthetic"]) and r.get("method") in TAGGED_METHODS and not reverse for r in rows
        ]
        prompts = encode_prompts(
            self.tok,
            self.template,
            [(r[f"{a}_lang"], r[f"{b}_lang"], r[f"{a}_text"]) for r in rows],
            half,
            bt_tag=tagged,
        )
        answers = _encode_texts(self.tok, [r[f"{b}_text"] for r in rows])
        out = []
        for prompt, t in zip(prompts, answers, strict=True):
            answer = t[: self.cfg.seq_len - len(prompt) - 1] + [self.eos]
            out.append((prompt + answer, [IGNORE_INDEX] * len(prompt) + answer))
        return out

    def next_batch(self) -> Any:
        self.batches += 1
        return self.packer.next_batch()

    @property
    def packing_efficiency(self) -> float:
        return self.packer.packing_efficiency

    def describe(self) -> dict[str, Any]:
        return super().describe() | {
            "objective": "clm-translation",
            "seq_len": self.cfg.seq_len,
            "packing_efficiency": round(self.packer.packing_efficiency, 4),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"packer": self.packer.state_dict(), "batches": self.batches}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.packer.load_state_dict(state["packer"])
        self.batches = state["batches"]


def build_clm_translation(
    cfg: TrainConfig,
    corpus: TrainCorpus,
    tokenizer: Any,
    *,
    resume_from: str | None,
    rank: int = 0,
    world_size: int = 1,
) -> tuple[Any, PromptedTranslationBatches, PackedCausalLM]:
    """(model, batch source, training module) of a ``clm-translation`` run for one rank."""
    assert cfg.batch_size is not None and cfg.seq_len is not None
    batches = PromptedTranslationBatches(
        corpus,
        tokenizer,
        DataConfig(seq_len=cfg.seq_len, alpha=cfg.alpha, seed=cfg.seed),
        cfg.batch_size,
        template=cfg.prompt_template,
        directions=cfg.directions,
        both_directions=cfg.both_directions,
        use_synthetic=cfg.use_synthetic,
        rank=rank,
        world_size=world_size,
    )
    model = _model(cfg, tokenizer, resume_from)
    return model, batches, PackedCausalLM(model)
