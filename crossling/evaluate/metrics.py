"""Metric functions: given a loaded model, a tokenizer and texts, return numbers.

Nothing here reads files or knows about checkpoints; ``suite.py`` selects the data, runs the
contamination guard and writes results. Every function is deterministic (no random masking, no
sampling), so two evaluations of one checkpoint on one held-out set give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- masked language modelling -------------------------------------------------------------------


@dataclass
class MaskedLMScore:
    """Pseudo-log-likelihood scoring of a set of texts (Salazar et al., 2020)."""

    tokens: int  # scored tokens (non-special tokens after truncation, at most max_positions a text)
    correct: int  # tokens whose masked-out prediction (argmax) is the original token
    nll: float  # summed negative log-likelihood of the original tokens, each masked in turn
    texts: int
    # The same three numbers per text, in the order of the texts (for paired significance tests).
    per_text: list[tuple[int, int, float]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.tokens if self.tokens else float("nan")

    @property
    def pseudo_perplexity(self) -> float:
        return math.exp(self.nll / self.tokens) if self.tokens else float("nan")


@torch.inference_mode()
def masked_lm_score(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_length: int = 64,
    max_positions: int | None = None,
    batch_size: int = 64,
) -> MaskedLMScore:
    """Mask tokens of every text one at a time and score the model's prediction of each.

    This gives pseudo-perplexity (exp of the mean pseudo-log-likelihood per token) and masked-token
    accuracy (how often the argmax at the masked position is the original token) from the same
    forward passes. Each scored token costs one sequence, so ``max_length`` and ``max_positions``
    bound the cost.

    Args:
        model: a masked LM (``AutoModelForMaskedLM``) in eval mode.
        tokenizer: its tokenizer; must define a mask token.
        texts: the texts to score.
        max_length: tokens per text, special tokens included; longer texts are truncated.
        max_positions: score at most this many positions per text, evenly spaced (always the
            same ones); None scores every token, the exact pseudo-perplexity.
        batch_size: masked sequences per forward pass.
    """
    if tokenizer.mask_token_id is None:
        raise ValueError("the tokenizer has no mask token: not a masked LM checkpoint")
    device = next(model.parameters()).device
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)
    # One masked copy per (text, position) where the position is not a special token.
    jobs: list[tuple[list[int], int]] = []
    owner: list[int] = []  # the text of each job
    for t, ids in enumerate(enc["input_ids"]):
        special = tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
        positions = [pos for pos, s in enumerate(special) if not s]
        if max_positions is not None and len(positions) > max_positions:
            picks = np.linspace(0, len(positions) - 1, max_positions).round().astype(int)
            positions = [positions[i] for i in picks]
        jobs += [(ids, pos) for pos in positions]
        owner += [t] * len(positions)
    per_text = [[0, 0, 0.0] for _ in texts]
    for t in owner:
        per_text[t][0] += 1
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for start in range(0, len(jobs), batch_size):
        batch = jobs[start : start + batch_size]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (ids, _) in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention[row, : len(ids)] = 1
        rows = torch.arange(len(batch))
        positions = torch.tensor([pos for _, pos in batch])
        targets = input_ids[rows, positions].clone()
        input_ids[rows, positions] = tokenizer.mask_token_id
        logits = model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits
        logp = torch.log_softmax(logits[rows, positions].float(), dim=-1).cpu()
        token_nll = (-logp[rows, targets]).tolist()
        hits = (logp.argmax(-1) == targets).tolist()
        for k, (n, hit) in enumerate(zip(token_nll, hits, strict=True)):
            t = per_text[owner[start + k]]
            t[1] += int(hit)
            t[2] += n
    return MaskedLMScore(
        tokens=len(jobs),
        correct=sum(t[1] for t in per_text),
        nll=sum(t[2] for t in per_text),
        texts=len(texts),
        per_text=[(a, b, c) for a, b, c in per_text],
    )


# --- causal language modelling --------------------------------------------------------------------


@dataclass
class BitsPerByteScore:
    """Negative log-likelihood of texts under a causal LM, per UTF-8 byte (tokenizer-free)."""

    nll: float  # summed over every token of every text (nats), end-of-text included
    bytes: int  # UTF-8 bytes of the texts
    tokens: int  # tokens scored (the tokenizer's, for information only)
    # (nll in nats, bytes, tokens) per text, in the order of the texts (paired tests).
    per_text: list[tuple[float, int, int]] = field(default_factory=list)

    @property
    def bits_per_byte(self) -> float:
        return self.nll / math.log(2) / self.bytes if self.bytes else float("nan")


@torch.inference_mode()
def bits_per_byte(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_length: int = 512,
    batch_size: int = 16,
) -> BitsPerByteScore:
    """Bits per byte of ``texts`` under a causal LM: every token of a text is scored.

    A text is ``[<s>] tokens </s>``; one longer than ``max_length`` is scored in consecutive
    windows, each starting again from ``<s>`` (so no token is left out and the byte count is the
    whole text's). Dividing by bytes instead of tokens makes models with different tokenizers
    comparable (Gao et al. 2020, The Pile).
    """
    device = next(model.parameters()).device
    bos = tokenizer.bos_token_id
    eos = tokenizer.eos_token_id
    prefix = [bos] if bos is not None else ([eos] if eos is not None else [])
    if not prefix:
        raise ValueError("the tokenizer has neither <s> nor </s>: cannot score the first token")
    enc = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
    step = max(1, max_length - len(prefix))
    windows: list[tuple[int, list[int]]] = []  # (text, tokens to score)
    for t, ids in enumerate(enc):
        ids = list(ids) + ([eos] if eos is not None else [])
        for i in range(0, len(ids), step):
            windows.append((t, ids[i : i + step]))
    per_text = [[0.0, len(x.encode("utf-8")), 0] for x in texts]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos or 0)
    windows.sort(key=lambda w: len(w[1]))
    for batch in _batches(windows, batch_size):
        width = len(prefix) + max(len(w) for _, w in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, (_, w) in enumerate(batch):
            row = prefix + w
            ids[r, : len(row)] = torch.tensor(row)
            mask[r, : len(row)] = 1
        logits = model(
            input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False
        ).logits
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1).cpu()
        target = ids[:, 1:]
        nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        scored = mask[:, 1:].bool()
        for r, (t, w) in enumerate(batch):
            per_text[t][0] += float(nll[r][scored[r]].sum())
            per_text[t][2] += len(w)
    return BitsPerByteScore(
        nll=sum(p[0] for p in per_text),
        bytes=sum(p[1] for p in per_text),
        tokens=sum(p[2] for p in per_text),
        per_text=[(a, b, c) for a, b, c in per_text],
    )


@torch.inference_mode()
def translate_causal(
    model: torch.nn.Module,
    tokenizer: Any,
    prompts: Sequence[list[int]],
    *,
    max_new_tokens: int = 64,
    length_factor: float | None = None,
    batch_size: int = 16,
) -> list[str]:
    """Greedy continuations of prompts (token ids; left-padded batches) up to end of text."""
    device = next(model.parameters()).device
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out = [""] * len(prompts)
    for batch in _batches(order, batch_size):
        width = max(len(prompts[i]) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, i in enumerate(batch):
            ids[r, width - len(prompts[i]) :] = torch.tensor(prompts[i])
            mask[r, width - len(prompts[i]) :] = 1
        limit = max_new_tokens
        if length_factor is not None:
            limit = min(limit, int(length_factor * max(len(prompts[i]) for i in batch)) + 10)
        gen = model.generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            do_sample=False,
            max_new_tokens=limit,
            eos_token_id=eos,
            pad_token_id=pad,
        )
        texts = tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)
        for i, text in zip(batch, texts, strict=True):
            out[i] = text.strip()
    return out


# --- sentence embeddings and retrieval -----------------------------------------------------------


@torch.inference_mode()
def mean_pooled_embeddings(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_length: int = 128,
    batch_size: int = 32,
) -> np.ndarray:
    """Mean of the last hidden states over the non-padding tokens, one row per text (float32).

    Works for any transformers encoder or encoder head model (``AutoModelForMaskedLM``,
    ``AutoModelForSequenceClassification``) since it asks for ``output_hidden_states``.
    """
    device = next(model.parameters()).device
    out = []
    for batch in _batches(list(texts), batch_size):
        enc = tokenizer(
            list(batch), truncation=True, max_length=max_length, padding=True, return_tensors="pt"
        ).to(device)
        hidden = model(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            output_hidden_states=True,
        ).hidden_states[-1]
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().cpu().numpy())
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(out).astype(np.float32)


def retrieval_hits(
    queries: np.ndarray,
    candidates: np.ndarray,
    candidate_texts: Sequence[str] | None = None,
) -> np.ndarray:
    """Per query: 1 when query i retrieves candidate i by cosine similarity, else 0.

    When ``candidate_texts`` is given, retrieving a different candidate with exactly the gold text
    also counts as correct (held-out sets can hold repeated short sentences).
    """
    if len(queries) == 0:
        return np.zeros(0, dtype=np.int64)
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    c = candidates / np.maximum(np.linalg.norm(candidates, axis=1, keepdims=True), 1e-12)
    best = (q @ c.T).argmax(axis=1)
    hits = best == np.arange(len(q))
    if candidate_texts is not None:
        hits |= np.array([candidate_texts[b] == candidate_texts[i] for i, b in enumerate(best)])
    return hits.astype(np.int64)


def retrieval_top1(
    queries: np.ndarray,
    candidates: np.ndarray,
    candidate_texts: Sequence[str] | None = None,
) -> float:
    """Tatoeba-style top-1 accuracy: the mean of :func:`retrieval_hits`."""
    if len(queries) == 0:
        return float("nan")
    return float(retrieval_hits(queries, candidates, candidate_texts).mean())


# --- classification ------------------------------------------------------------------------------


@torch.inference_mode()
def classify(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_length: int = 128,
    batch_size: int = 32,
) -> list[int]:
    """Predicted class index (argmax of the logits) per text."""
    device = next(model.parameters()).device
    preds: list[int] = []
    for batch in _batches(list(texts), batch_size):
        enc = tokenizer(
            list(batch), truncation=True, max_length=max_length, padding=True, return_tensors="pt"
        ).to(device)
        preds += model(**enc).logits.argmax(-1).cpu().tolist()
    return preds


def accuracy(predicted: Sequence[int], gold: Sequence[int]) -> float:
    if not gold:
        return float("nan")
    return float(np.mean([p == g for p, g in zip(predicted, gold, strict=True)]))


# --- translation ---------------------------------------------------------------------------------


@torch.inference_mode()
def translate(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    prefix: str = "",
    forced_bos_token_id: int | None = None,
    max_length: int = 128,
    max_new_tokens: int = 64,
    length_factor: float | None = None,
    num_beams: int = 1,
    batch_size: int = 16,
) -> list[str]:
    """Translate with ``generate`` (greedy unless ``num_beams > 1``), one output per text.

    Args:
        prefix: prepended to every source text (a target-language tag such as ``>>de<< ``).
        forced_bos_token_id: the first decoder token (mBART / M2M-100 target-language codes).
        max_new_tokens: the longest translation, in tokens.
        length_factor: also at most ``length_factor * source tokens + 10`` tokens (fairseq's
            ``max_len_a``/``max_len_b``), so a model that never stops does not generate
            ``max_new_tokens`` for every short sentence. None: no such cap.
    """
    device = next(model.parameters()).device
    kw: dict[str, Any] = {"num_beams": num_beams}
    if forced_bos_token_id is not None:
        kw["forced_bos_token_id"] = forced_bos_token_id
    sources = [prefix + t for t in texts]
    lengths = [
        len(ids) for ids in tokenizer(sources, truncation=True, max_length=max_length)["input_ids"]
    ]
    # Sources of similar length together: less padding, and the length cap fits each batch.
    order = sorted(range(len(sources)), key=lambda i: lengths[i])
    out: list[str] = [""] * len(sources)
    for batch in _batches(order, batch_size):
        enc = tokenizer(
            [sources[i] for i in batch],
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        ).to(device)
        limit = max_new_tokens
        if length_factor is not None:
            limit = min(limit, int(length_factor * max(lengths[i] for i in batch)) + 10)
        generated = model.generate(**enc, do_sample=False, max_new_tokens=limit, **kw)
        for i, text in zip(
            batch, tokenizer.batch_decode(generated, skip_special_tokens=True), strict=True
        ):
            out[i] = text.strip()
    return out


# sacrebleu's BLEU tokenizer per target language, the one map of crossling: 13a splits on spaces
# and punctuation, which is wrong for scripts written without spaces between words (Chinese,
# Japanese, Thai, Lao, Khmer, Burmese). Korean separates words with spaces, so 13a stays (its
# morpheme tokenizer ko-mecab needs MeCab installed).
BLEU_TOKENIZE = {"zh": "zh", "ja": "char", "th": "char", "lo": "char", "km": "char", "my": "char"}


def bleu_tokenizer_for(lang: str) -> str:
    """sacrebleu's tokenizer name for a target language (``13a`` unless the script needs another)."""
    return BLEU_TOKENIZE.get(lang.split("-")[0].split("_")[0], "13a")


@dataclass
class TranslationScore:
    bleu: float
    chrf: float
    bleu_signature: str  # sacrebleu's signature: the exact recipe, to compare numbers across runs
    chrf_signature: str
    segments: int
    # sacrebleu's sufficient statistics per segment: corpus BLEU / chrF of any subset or resample
    # is the score of their sum (paired significance tests).
    bleu_stats: list[list[int]] = field(default_factory=list)
    chrf_stats: list[list[int]] = field(default_factory=list)


def translation_score(
    hypotheses: Sequence[str], references: Sequence[str], tgt_lang: str
) -> TranslationScore:
    """Corpus BLEU and chrF (sacrebleu) of hypotheses against one reference each."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu = BLEU(tokenize=bleu_tokenizer_for(tgt_lang))
    chrf = CHRF()
    hyps, refs = list(hypotheses), [list(references)]
    b, c = bleu.corpus_score(hyps, refs), chrf.corpus_score(hyps, refs)
    return TranslationScore(
        bleu=float(b.score),
        chrf=float(c.score),
        bleu_signature=str(bleu.get_signature()),
        chrf_signature=str(chrf.get_signature()),
        segments=len(hyps),
        bleu_stats=[[int(x) for x in row] for row in bleu._extract_corpus_statistics(hyps, refs)],
        chrf_stats=[[int(x) for x in row] for row in chrf._extract_corpus_statistics(hyps, refs)],
    )


def bleu_from_stats(stats: Sequence[float]) -> float:
    """Corpus BLEU (sacrebleu's defaults) of summed per-segment statistics."""
    from sacrebleu.metrics import BLEU

    return float(BLEU()._compute_score_from_stats([float(x) for x in stats]).score)


def chrf_from_stats(stats: Sequence[float]) -> float:
    """Corpus chrF (sacrebleu's defaults) of summed per-segment statistics."""
    from sacrebleu.metrics import CHRF

    return float(CHRF()._compute_score_from_stats([float(x) for x in stats]).score)
