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
