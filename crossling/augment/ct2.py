"""The CTranslate2 backend: a transformers model converted once, cached by its sha256.

CTranslate2 runs the same transformer with fused, quantized kernels: int8 weights on a CPU
(``compute_type="int8"``), int8 weights with float16 activations on a GPU (``int8_float16``).
The conversion keeps the original precision and is cached under ``<cache_dir>/<sha256>/`` (written
to a temporary folder, renamed when complete), so one conversion serves every compute type and a
second run starts at once.

crossling's own Marian-shaped models put ``<pad>`` at id 1 (XLM-R's order), not last as OPUS-MT
does; CTranslate2's Marian loader assumes the latter (it drops the last embedding row and starts
decoding from a zero vector). For those models the decoder starts from the ``<pad>`` token itself,
exactly as transformers does, and no row is dropped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Any

import ctranslate2
from ctranslate2.converters import transformers as ct2_tf

from crossling.augment.translate import Decoding, TranslationModel, Translator
from crossling.storage import DataRoot, write_json

CONVERTED_MARKER = "crossling-ct2.json"  # written last: a cached conversion is complete
CT2_FORMAT = "ct2-v1"


def default_cache_dir(root: str | None = None) -> str:
    """``<root>/cache/ct2`` for a local data root, else ``~/.cache/crossling/ct2``."""
    if root and "://" not in root:
        return os.path.join(os.path.abspath(root), "cache", "ct2")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "crossling", "ct2")


def _pad_is_last(model_dir: str) -> bool:
    import json

    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    return cfg.get("pad_token_id") == cfg.get("vocab_size", 0) - 1


class _LocalConverter(ctranslate2.converters.TransformersConverter):
    """A transformers -> CTranslate2 converter that reads local safetensors only."""

    def load_model(self, model_class: Any, path: str, **kw: Any) -> Any:
        return model_class.from_pretrained(path, local_files_only=True, use_safetensors=True, **kw)

    def load_tokenizer(self, tokenizer_class: Any, path: str, **kw: Any) -> Any:
        return tokenizer_class.from_pretrained(path, local_files_only=True, **kw)

    def _load(self) -> Any:
        import torch
        import transformers

        path = self._model_name_or_path
        cfg = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
        if cfg.model_type != "marian" or _pad_is_last(path):
            return super()._load()
        with torch.no_grad():
            model = self.load_model(transformers.MarianMTModel, path)
            tokenizer = self.load_tokenizer(transformers.AutoTokenizer, path)
            return _PadFirstMarianLoader()(model, tokenizer)


class _PadFirstMarianLoader(ct2_tf.MarianMTLoader):
    """Marian with <pad> anywhere: every row is kept and decoding starts from <pad>."""

    def get_model_spec(self, model: Any) -> Any:
        model.config.normalize_before = False
        model.config.normalize_embedding = False
        return ct2_tf.BartLoader.get_model_spec(self, model)

    def set_config(self, config: Any, model: Any, tokenizer: Any) -> None:
        config.bos_token = tokenizer.bos_token
        config.eos_token = tokenizer.eos_token
        config.unk_token = tokenizer.unk_token
        config.decoder_start_token = tokenizer.convert_ids_to_tokens(
            model.config.decoder_start_token_id
        )

    def set_decoder(self, spec: Any, decoder: Any) -> None:
        ct2_tf.BartLoader.set_decoder(self, spec, decoder)

    def get_vocabulary(self, model: Any, tokenizer: Any) -> list[str]:
        return ct2_tf.BartLoader.get_vocabulary(self, model, tokenizer)


def convert(model: TranslationModel, cache_dir: str) -> str:
    """The CTranslate2 conversion of ``model`` (converted now unless cached); returns its folder."""
    out = os.path.join(cache_dir, model.sha256)
    if os.path.exists(os.path.join(out, CONVERTED_MARKER)):
        return out
    os.makedirs(cache_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{model.sha256[:16]}.tmp-", dir=cache_dir)
    try:
        target = os.path.join(tmp, "model")
        _LocalConverter(model.path).convert(target, quantization=None, force=True)
        write_json(
            DataRoot(target).fs,
            os.path.join(target, CONVERTED_MARKER),
            {"format": CT2_FORMAT, "source": model.path, "id": model.id, "sha256": model.sha256},
        )
        if os.path.exists(out):  # an incomplete leftover of a killed conversion
            shutil.rmtree(out)
        os.replace(target, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def resolve_compute_type(compute_type: str, device: str) -> str:
    """``auto``: int8 on a CPU, int8_float16 on a GPU."""
    if compute_type != "auto":
        return compute_type
    return "int8_float16" if device.startswith("cuda") else "int8"


class CT2Translator(Translator):
    """CTranslate2 ``translate_batch``: beam search or top-k sampling, int8 by default."""

    backend = "ct2"

    def __init__(
        self,
        model: TranslationModel,
        src: str,
        tgt: str,
        decoding: Decoding | None = None,
        *,
        device: str = "auto",
        compute_type: str = "auto",
        cache_dir: str | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__(model, src, tgt, decoding, device=device)
        self.model_dir = convert(model, cache_dir or default_cache_dir())
        self.compute_type = resolve_compute_type(compute_type, self.device)
        threads = threads or max(1, os.cpu_count() or 1)
        self.net = ctranslate2.Translator(
            self.model_dir,
            device="cuda" if self.device.startswith("cuda") else "cpu",
            compute_type=self.compute_type,
            intra_threads=threads if self.device == "cpu" else 0,
        )
        ctranslate2.set_random_seed(self.decoding.seed)
        self._target_prefix = [self.convention.tgt_code] if self.convention.tgt_code else None

    def _generate(self, batch: list[list[int]], max_new: int) -> list[tuple[list[int], float]]:
        d = self.decoding
        tokens = [self.tokenizer.convert_ids_to_tokens(ids) for ids in batch]
        kw: dict[str, Any] = {
            "max_decoding_length": max_new,
            # transformers may stop at once (an empty output); CTranslate2 would not by default.
            "min_decoding_length": 0,
            "return_scores": True,
            "max_input_length": 0,  # already truncated by the tokenizer
        }
        if self._target_prefix is not None:
            kw["target_prefix"] = [self._target_prefix] * len(tokens)
        if d.sample:
            kw.update(beam_size=1, sampling_topk=d.top_k, sampling_temperature=d.temperature)
        else:
            kw.update(beam_size=d.beam)
        results = self.net.translate_batch(tokens, **kw)
        out = []
        for r in results:
            hyp = r.hypotheses[0]
            ids = self.tokenizer.convert_tokens_to_ids(hyp)
            # With the default length_penalty of 1 the score is the summed log-probability
            # divided by the length: a mean per token, as the transformers backend reports.
            out.append((ids, float(r.scores[0]) if r.scores else 0.0))
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.net.unload_model()
        del self.net


def export(model_dir: str, out_dir: str, quantization: str | None = "int8") -> str:
    """Convert the transformers seq2seq model in ``model_dir`` into a CTranslate2 model in
    ``out_dir`` with its weights stored as ``quantization`` (int8: a quarter of float32's bytes).

    ``out_dir`` must not exist; it is written under a temporary name and renamed when complete.
    Returns ``out_dir``.
    """
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".ct2-export.tmp-", dir=parent)
    try:
        target = os.path.join(tmp, "model")
        _LocalConverter(model_dir).convert(target, quantization=quantization, force=True)
        os.replace(target, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


class CT2Seq2Seq:
    """A CTranslate2 model behind the part of transformers' seq2seq interface that
    :func:`crossling.evaluate.metrics.translate` uses (``generate`` on tokenized batches), so the
    evaluation scores an exported model exactly as it scores the checkpoint it came from.

    Args:
        model_dir: a CTranslate2 model folder (``model.bin``, ``config.json``, vocabulary).
        tokenizer: the transformers tokenizer of the original model.
        compute_type: CTranslate2 compute type (``int8``: the stored int8 weights, int8 matmuls).
        threads: CPU threads (one by default: tiny models do not gain from more, and the
            evaluation compares speeds at the same thread count).
    """

    def __init__(
        self,
        model_dir: str,
        tokenizer: Any,
        *,
        compute_type: str = "int8",
        threads: int = 1,
        device: str = "cpu",
    ) -> None:
        import torch

        gpu = device.startswith("cuda")
        if gpu and compute_type == "int8":
            compute_type = "int8_float16"  # int8 weights, float16 activations on a GPU
        self.tokenizer = tokenizer
        self.compute_type = compute_type
        self.device = torch.device(device)
        self.net = ctranslate2.Translator(
            model_dir,
            device="cuda" if gpu else "cpu",
            device_index=self.device.index or 0,
            compute_type=compute_type,
            intra_threads=0 if gpu else threads,
        )

    def parameters(self) -> Any:
        """No torch parameters: one empty tensor on the device, for callers that look it up."""
        import torch

        yield torch.zeros(0, device=self.device)

    def eval(self) -> CT2Seq2Seq:
        return self

    def generate(
        self,
        input_ids: Any,
        attention_mask: Any = None,
        *,
        max_new_tokens: int = 64,
        num_beams: int = 1,
        forced_bos_token_id: int | None = None,
        do_sample: bool = False,
        **_: Any,
    ) -> Any:
        """Output token ids, one padded row per input row (greedy or beam search)."""
        import torch

        if do_sample:
            raise ValueError("CT2Seq2Seq.generate decodes greedily or by beam search only")
        rows = input_ids.tolist()
        masks = attention_mask.tolist() if attention_mask is not None else None
        tokens = []
        for i, ids in enumerate(rows):
            kept = [t for t, m in zip(ids, masks[i], strict=True) if m] if masks else ids
            tokens.append(self.tokenizer.convert_ids_to_tokens(kept))
        kw: dict[str, Any] = {
            "beam_size": num_beams,
            "max_decoding_length": max_new_tokens,
            "min_decoding_length": 0,
            "max_input_length": 0,
        }
        if forced_bos_token_id is not None:
            first = self.tokenizer.convert_ids_to_tokens(forced_bos_token_id)
            kw["target_prefix"] = [[first]] * len(tokens)
        results = self.net.translate_batch(tokens, **kw)
        outs = [self.tokenizer.convert_tokens_to_ids(r.hypotheses[0]) for r in results]
        width = max((len(o) for o in outs), default=0) or 1
        pad = self.tokenizer.pad_token_id or 0
        return torch.tensor([o + [pad] * (width - len(o)) for o in outs], dtype=torch.long)
