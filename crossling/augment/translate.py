"""Translation models for back-translation: which model, how it is told the target language, and
the transformers ``generate`` backend. The CTranslate2 backend is in :mod:`crossling.augment.ct2`.

A model is a local directory holding a transformers seq2seq model (safetensors only, never
``trust_remote_code``): a translation checkpoint this project trained (found through the
registry, ``latest`` = the newest one that covers the direction) or any directory the user names
(Marian/OPUS-MT, M2M-100, NLLB, mBART, ...). Its identity is the sha256 of its files
(:func:`model_sha256`): the CTranslate2 conversion is cached under it, and every synthetic row
records it.

Both backends share tokenization and batching (:class:`Translator`): inputs are sorted by length
and cut into batches, so padding is small, and each batch may generate at most
``3 x its longest input + 10`` tokens (capped by ``max_output_tokens``): a model that loops stops
early. Greedy decoding (``beam=1``) of one model gives the same output on both backends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from crossling.langid import canonical
from crossling.tokenizer import lang_tag

log = logging.getLogger(__name__)

Backend = Literal["ct2", "hf"]
# Files that make a model what it is (weights, config, vocabulary); metadata and training state
# are left out of its hash.
_MODEL_FILE = re.compile(
    r".*\.(safetensors|json|model|spm|txt|vocab)$|^(vocab|merges|sentencepiece).*"
)
_NOT_MODEL = {"metadata.json", "loss.png"}
# "xxx_Scrp" (NLLB) and "xx_YY" (mBART-50) language codes in a vocabulary.
_LANG_CODE = re.compile(r"^([a-z]{2,3})_([A-Z][a-z]{3}|[A-Z]{2})$")


class ModelNotFound(ValueError):
    """No translation model matches what the user asked for (one line: what and where)."""


class Decoding(BaseModel):
    """How synthetic sources are generated."""

    beam: int = Field(
        4,
        ge=1,
        description="Beam size (1 = greedy). Ignored when sampling. Beam output with a <BT> tag "
        "works about as well as sampling (Caswell et al. 2019).",
    )
    sample: bool = Field(
        False,
        description="Sample instead of beam search (Edunov et al. 2018): noisier, more diverse "
        "synthetic sources, better than beam for high-resource directions.",
    )
    top_k: int = Field(
        10,
        ge=0,
        description="Sampling: draw from the k most likely tokens (0: the whole distribution).",
    )
    temperature: float = Field(1.0, gt=0, description="Sampling temperature.")
    max_input_tokens: int = Field(
        128, ge=8, description="Longer inputs are truncated (after segmentation, rarely)."
    )
    max_output_tokens: int = Field(
        256, ge=8, description="Upper bound of generated tokens per segment."
    )
    batch_size: int = Field(
        64, ge=1, description="Segments per batch (sorted by length, so padding stays small)."
    )
    seed: int = Field(0, description="Seeds sampling.")

    @property
    def method(self) -> str:
        return "sample" if self.sample else ("greedy" if self.beam == 1 else "beam")


@dataclass
class TranslationModel:
    """A local translation model and what identifies it in lineage."""

    path: str  # local directory
    id: str  # <model>/<run_version>/checkpoint-<step> for crossling checkpoints, else the dir name
    sha256: str  # of the model's files (model_sha256)
    model_type: str | None  # config.json model_type: marian, m2m_100, mbart, ...
    metadata: dict[str, Any] | None = None  # a crossling checkpoint's metadata.json

    @property
    def tag(self) -> str:
        """What PAIRS.model holds: ``<id>@sha256:<hex>``."""
        return f"{self.id}@sha256:{self.sha256}"

    def lineage(self) -> dict[str, Any]:
        """What a back-translated version records about the model that made its rows."""
        out: dict[str, Any] = {
            "id": self.id,
            "path": self.path,
            "sha256": self.sha256,
            "model_type": self.model_type,
        }
        if self.metadata:
            m = self.metadata
            out["checkpoint"] = {
                "model_name": m.get("model_name"),
                "run_version": m.get("run_version"),
                "step": m.get("step"),
                "objective": m.get("objective"),
                "corpus": m.get("corpus"),  # the version it was trained on (earlier rounds too)
                "directions": (m.get("config") or {}).get("directions"),
            }
        return out


def model_sha256(path: str) -> str:
    """sha256 over the model's own files (name and content hash of each, in name order)."""
    h = hashlib.sha256()
    names = sorted(
        n
        for n in os.listdir(path)
        if os.path.isfile(os.path.join(path, n)) and _MODEL_FILE.match(n) and n not in _NOT_MODEL
    )
    if not names:
        raise ModelNotFound(f"{path}: no model files (config.json, *.safetensors)")
    for name in names:
        fh = hashlib.sha256()
        with open(os.path.join(path, name), "rb") as f:
            while block := f.read(1 << 20):
                fh.update(block)
        h.update(f"{name}\0{fh.hexdigest()}\n".encode())
    return h.hexdigest()


def _model_type(path: str) -> str | None:
    cfg = os.path.join(path, "config.json")
    if not os.path.exists(cfg):
        return None
    with open(cfg, encoding="utf-8") as f:
        return json.load(f).get("model_type")


def _covers(meta: dict[str, Any], src: str, tgt: str) -> bool:
    """Whether a crossling translation checkpoint was trained to translate ``src`` into ``tgt``."""
    if meta.get("objective") != "translation":
        return False
    if not {src, tgt} <= set(meta.get("languages") or []):
        return False
    cfg = meta.get("config") or {}
    directions = cfg.get("directions")
    return directions is None or f"{src}-{tgt}" in directions


def resolve_model(spec: str, root: str | None, src: str, tgt: str) -> TranslationModel:
    """The model named by ``spec``: ``latest``, a checkpoint under ``root``, or a local directory.

    ``latest`` is the newest translation checkpoint under ``<root>/models`` trained on the
    direction ``src-tgt`` (by run version, then step).

    Raises:
        ModelNotFound: with a one-line message saying what was looked for, and where.
    """
    from crossling.registry import CHECKPOINT_METADATA, find_checkpoints, resolve_checkpoint

    if spec in ("latest", "", None):
        if root is None:
            raise ModelNotFound("--model latest needs a data root to look for checkpoints in")
        found = [c for c in find_checkpoints(root) if _covers(c.metadata(), src, tgt) and c.path]
        if not found:
            raise ModelNotFound(
                f"no translation checkpoint under {root}/models covers {src}->{tgt}: train one "
                f"(crossling train --objective translation --directions {src}-{tgt}) or pass "
                "--model DIR"
            )
        ref = max(found, key=lambda c: (c.run_version, c.step))
        path = ref.path
    elif root is not None and not os.path.isdir(spec):
        try:
            path = resolve_checkpoint(spec, root).path
        except ValueError:
            raise ModelNotFound(f"--model {spec}: not a directory or checkpoint") from None
    else:
        path = os.path.abspath(spec)
    if not os.path.isdir(path):
        raise ModelNotFound(f"--model {spec}: {path} is not a directory")
    if not os.path.exists(os.path.join(path, "config.json")):
        raise ModelNotFound(f"--model {spec}: {path} has no config.json (not a transformers model)")
    meta = None
    meta_path = os.path.join(path, CHECKPOINT_METADATA)
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("model_kind") not in (None, "seq2seq"):
            raise ModelNotFound(
                f"--model {spec}: a {meta.get('model_kind')} checkpoint, not a translation model"
            )
        model_id = f"{meta['model_name']}/{meta['run_version']}/checkpoint-{meta['step']}"
    else:
        model_id = os.path.basename(path.rstrip("/"))
    return TranslationModel(path, model_id, model_sha256(path), _model_type(path), meta)


# --- telling a model the target language ----------------------------------------------------------


@dataclass(frozen=True)
class Convention:
    """How a model is told the languages: a source prefix, or language-code tokens."""

    prefix: str = ""  # prepended to every source text: crossling's <lang:xx>, Marian's >>xx<<
    src_code: str | None = None  # tokenizer.src_lang (M2M-100, NLLB, mBART-50)
    tgt_code: str | None = None  # the first decoder token (forced BOS / CTranslate2 prefix)


def _find_code(vocab: dict[str, int], lang: str) -> str | None:
    """The vocabulary's code for ``lang``: ``__xx__`` (M2M-100), ``xxx_Scrp`` (NLLB), ``xx_YY``."""
    if f"__{lang}__" in vocab:
        return f"__{lang}__"
    from crossling.langid import default_script

    script = default_script(lang)
    matches = []
    for token in vocab:
        m = _LANG_CODE.match(token)
        if m and canonical(m.group(1))[0] == lang:
            matches.append(token)
    if not matches:
        return None
    # Prefer the language's usual script (zho_Hans over zho_Hant), then the shortest code.
    return sorted(matches, key=lambda t: (not t.endswith(script), len(t), t))[0]


def target_convention(tokenizer: Any, src: str, tgt: str) -> Convention:
    """How to ask ``tokenizer``'s model for ``src`` -> ``tgt`` (ISO 639-1 codes).

    crossling models read ``<lang:tgt>`` right before the source (no space: training saw
    ``<lang:de> ▁Text``); multi-target Marian models read ``>>tgt<< ``; M2M-100, NLLB and
    mBART-50 read a source language code and start the output with the target's. A model with
    none of these translates into its one target language.
    """
    vocab = tokenizer.get_vocab()
    if lang_tag(tgt) in vocab:
        return Convention(prefix=lang_tag(tgt))
    for code in (tgt, *_alpha3(tgt)):
        if f">>{code}<<" in vocab:
            return Convention(prefix=f">>{code}<< ")
    tgt_code = _find_code(vocab, tgt)
    if tgt_code is not None:
        src_code = _find_code(vocab, src)
        if src_code is None:
            raise ModelNotFound(f"the model has a code for {tgt} ({tgt_code}) but none for {src}")
        return Convention(src_code=src_code, tgt_code=tgt_code)
    return Convention()


def _alpha3(lang: str) -> list[str]:
    import langcodes

    try:
        return [langcodes.Language.get(lang).to_alpha3()]
    except (LookupError, ValueError):
        return []


# --- the translators -------------------------------------------------------------------------------


@dataclass
class Translation:
    """One translated segment."""

    text: str
    src_tokens: int  # input tokens without specials and the target-language prefix
    out_ids: list[int]  # output token ids without specials
    score: float  # mean log-probability per generated token, as the backend reports it


@dataclass
class Stats:
    """Work done by a translator (for sentences per second)."""

    sentences: int = 0
    seconds: float = 0.0
    batches: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.seconds if self.seconds else 0.0


def resolve_device(device: str) -> str:
    """``auto``: ``cuda`` when torch sees a GPU, else ``cpu``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Translator:
    """Shared by both backends: tokenization, length-sorted batches, decoding of the outputs."""

    backend: str = ""

    def __init__(
        self,
        model: TranslationModel,
        src: str,
        tgt: str,
        decoding: Decoding | None = None,
        *,
        device: str = "auto",
    ) -> None:
        from crossling.tokenizer import load_tokenizer

        self.model, self.src, self.tgt = model, src, tgt
        self.decoding = decoding or Decoding()
        self.device = resolve_device(device)
        self.tokenizer = load_tokenizer(model.path)
        self.convention = target_convention(self.tokenizer, src, tgt)
        if self.convention.src_code is not None:
            self.tokenizer.src_lang = self.convention.src_code
        self.special_ids = set(self.tokenizer.all_special_ids)
        prefix_ids = (
            self.tokenizer(self.convention.prefix, add_special_tokens=False)["input_ids"]
            if self.convention.prefix
            else []
        )
        self._prefix_len = len([i for i in prefix_ids if i not in self.special_ids])
        self.stats = Stats()

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Source token ids, special tokens included, truncated to ``max_input_tokens``."""
        p = self.convention.prefix
        return self.tokenizer(
            [p + t for t in texts],
            truncation=True,
            max_length=self.decoding.max_input_tokens,
        )["input_ids"]

    def _generate(self, batch: list[list[int]], max_new: int) -> list[tuple[list[int], float]]:
        """(output ids, mean log-probability) per input of one batch."""
        raise NotImplementedError

    def translate(self, texts: list[str]) -> list[Translation]:
        """Translate ``texts`` (results in input order)."""
        if not texts:
            return []
        t0 = time.perf_counter()
        ids = self.encode(texts)
        order = sorted(range(len(texts)), key=lambda i: (len(ids[i]), i))
        out: list[Translation | None] = [None] * len(texts)
        bs = self.decoding.batch_size
        for start in range(0, len(order), bs):
            chunk = order[start : start + bs]
            batch = [ids[i] for i in chunk]
            longest = max(len(x) for x in batch)
            max_new = min(self.decoding.max_output_tokens, 3 * longest + 10)
            for i, (out_ids, score) in zip(chunk, self._generate(batch, max_new), strict=True):
                kept = [t for t in out_ids if t not in self.special_ids]
                n_src = len([t for t in ids[i] if t not in self.special_ids]) - self._prefix_len
                text = self.tokenizer.decode(kept, skip_special_tokens=True).strip()
                out[i] = Translation(text, max(0, n_src), kept, score)
            self.stats.batches += 1
        self.stats.sentences += len(texts)
        self.stats.seconds += time.perf_counter() - t0
        return [t for t in out if t is not None]

    def close(self) -> None:
        """Free the model (GPU memory)."""


class HFTranslator(Translator):
    """transformers ``generate``: beam search or top-k sampling; bf16 on a GPU, fp32 on a CPU."""

    backend = "hf"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        import torch
        from transformers import AutoModelForSeq2SeqLM

        dtype = torch.float32
        if self.device.startswith("cuda") and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
        self.dtype = dtype
        self.net = AutoModelForSeq2SeqLM.from_pretrained(
            self.model.path, local_files_only=True, use_safetensors=True, dtype=dtype
        ).to(self.device)
        self.net.eval()
        self._forced_bos = (
            self.tokenizer.convert_tokens_to_ids(self.convention.tgt_code)
            if self.convention.tgt_code
            else None
        )
        self._gen = torch.Generator(device="cpu").manual_seed(self.decoding.seed)

    def _generate(self, batch: list[list[int]], max_new: int) -> list[tuple[list[int], float]]:
        import torch

        d = self.decoding
        enc = self.tokenizer.pad({"input_ids": batch}, return_tensors="pt").to(self.device)
        kw: dict[str, Any] = {
            "max_new_tokens": max_new,
            # Stop at the limit like CTranslate2 does (no forced </s> in the last position).
            "forced_eos_token_id": None,
            "return_dict_in_generate": True,
            "output_scores": True,
        }
        if self._forced_bos is not None:
            kw["forced_bos_token_id"] = self._forced_bos
        if d.sample:
            kw.update(do_sample=True, num_beams=1, top_k=d.top_k or None, temperature=d.temperature)
            torch.manual_seed(int(self._gen.initial_seed()) + self.stats.batches)
        else:
            kw.update(do_sample=False, num_beams=d.beam)
        with torch.inference_mode():
            out = self.net.generate(**enc, **kw)
            beam = not d.sample and d.beam > 1
            trans = self.net.compute_transition_scores(
                out.sequences,
                out.scores,
                out.beam_indices if beam else None,
                normalize_logits=not beam,
            )
        seqs = out.sequences[:, 1:].tolist()  # drop the decoder start token
        eos = self.tokenizer.eos_token_id
        results = []
        for seq, logp in zip(seqs, trans.float().tolist(), strict=True):
            n = seq.index(eos) + 1 if eos in seq else len(seq)
            steps = logp[:n]
            results.append((seq[:n], sum(steps) / max(1, len(steps))))
        return results

    def close(self) -> None:
        import torch

        del self.net
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()


def make_translator(
    backend: Backend,
    model: TranslationModel,
    src: str,
    tgt: str,
    decoding: Decoding | None = None,
    *,
    device: str = "auto",
    compute_type: str = "auto",
    cache_dir: str | None = None,
    threads: int | None = None,
) -> Translator:
    """A translator of ``model`` from ``src`` into ``tgt`` on ``backend`` (``ct2`` or ``hf``)."""
    if backend == "hf":
        return HFTranslator(model, src, tgt, decoding, device=device)
    if backend == "ct2":
        from crossling.augment.ct2 import CT2Translator

        return CT2Translator(
            model,
            src,
            tgt,
            decoding,
            device=device,
            compute_type=compute_type,
            cache_dir=cache_dir,
            threads=threads,
        )
    raise ValueError(f"unknown backend {backend!r} (ct2 or hf)")
