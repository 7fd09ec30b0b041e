"""Compression of trained models: int8 export and sequence-level knowledge distillation.

Three methods, each turning a *teacher* into a smaller or faster model:

- ``int8`` of a translation checkpoint: exported to CTranslate2 with int8 weights
  (:func:`crossling.augment.ct2.export`), a quarter of the bytes of float32, run by int8 kernels.
- ``int8`` of a causal LM (any local transformers causal-LM directory): torch's dynamic
  quantization of every ``Linear`` layer (int8 weights per output channel, activations quantized
  on the fly), saved as safetensors (:func:`quantize_causal_lm`, :func:`load_int8_causal_lm`).
- ``distill`` (Kim and Rush 2016, sequence-level knowledge distillation): the teacher translates
  monolingual text of its corpus (train DOCS of each source language, and the source side of the
  real train pairs) with beam search; its outputs become the targets of synthetic PAIRS (method
  ``distilled``) in a version derived from the teacher's corpus version, and a student a fraction
  of the teacher's size is trained on the real and distilled pairs.

A compressed translation model is a registered checkpoint (the same layout and ``metadata.json``
as a trained one, so the evaluation scores it as any other) under ``<root>/models/<teacher
model>-int8`` or ``-distilled``, with ``metadata.json["teacher"]`` naming the checkpoint it came
from and ``metadata.json["compression"]`` what was done. :func:`compare` puts a teacher's and a
compressed model's evaluation results side by side: size, sentences per second, BLEU and chrF.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from crossling.registry import CheckpointRef, resolve_checkpoint
from crossling.storage import DataRoot, config_hash, file_sha256, new_version, write_json

log = logging.getLogger(__name__)

Method = Literal["int8", "distill"]
CT2_SUBDIR = "ctranslate2"  # the CTranslate2 model inside an int8 translation checkpoint
INT8_WEIGHTS = "model.int8.safetensors"  # a quantized causal LM's weights
QUANTIZATION_FILE = "quantization.json"  # how they were quantized (read by the loader)
DISTILLED = "distilled"  # PAIRS.method of a teacher's translations
DERIVED_KIND = "distillation"  # manifest["derived"]["kind"] of the version holding them
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "generation_config.json",
)


class CompressConfig(BaseModel):
    """How a teacher is compressed."""

    method: Method = Field(
        "int8",
        description="int8: CTranslate2 int8 export (translation) or torch dynamic int8 "
        "quantization (causal LM); distill: sequence-level knowledge distillation of a "
        "translation teacher into a smaller student.",
    )
    model_name: str | None = Field(
        None, description="Name of the result under models/ (default <teacher>-int8 / -distilled)."
    )
    student_layers: int = Field(
        1, ge=1, description="Distill: encoder and decoder layers of the student (each)."
    )
    student_width: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Distill: the student's hidden and feed-forward sizes as a share of the "
        "teacher's (rounded to a multiple of its attention heads). Half width with a tiny "
        "teacher's 600 steps learned next to nothing in 300 steps (0.7 BLEU).",
    )
    steps: int = Field(
        900,
        ge=1,
        description="Distill: the student's optimizer steps (more than the teacher's: it learns "
        "from more pairs, with fewer layers).",
    )
    batch_size: int = Field(32, ge=1, description="Distill: the student's batch size.")
    lr: float | None = Field(None, gt=0, description="Distill: peak learning rate (preset's).")
    seed: int = Field(0, description="Distill: seeds the student's initialization and data.")
    max_sentences: int = Field(
        2000,
        ge=1,
        description="Distill: most monolingual sentences the teacher translates per direction "
        "(DOCS first, then the source side of real train pairs).",
    )
    beam: int = Field(2, ge=1, description="Distill: the teacher's beam size.")
    threads: int | None = Field(None, ge=1, description="CPU threads of the teacher's decoding.")


# --- checkpoints ---------------------------------------------------------------------------------


def _dir_bytes(path: str, names: tuple[str, ...] | None = None) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            if names is None or f in names:
                total += os.path.getsize(os.path.join(dirpath, f))
    return total


def weights_bytes(checkpoint_dir: str) -> int:
    """Bytes of a model directory's weights (safetensors, a CTranslate2 model.bin, int8 file)."""
    return _dir_bytes(checkpoint_dir, ("model.safetensors", "model.bin", INT8_WEIGHTS)) or (
        _dir_bytes(checkpoint_dir)
    )


def _teacher_entry(ref: CheckpointRef, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "checkpoint": ref.data_root.uri(ref.path),
        "model_name": ref.model_name,
        "run_version": ref.run_version,
        "step": ref.step,
        "objective": meta.get("objective"),
        "weights_bytes": weights_bytes(ref.path),
    }


def _write_checkpoint(
    root: str, model_name: str, run_version: str, step: int, fill: Callable[[str], dict[str, Any]]
) -> CheckpointRef:
    """Write ``<root>/models/<model_name>/<run_version>/checkpoint-<step>/``: ``fill(tmp_dir)``
    writes the files and returns metadata.json, written last; the folder is renamed into place."""
    data = DataRoot(root)
    run_dir = os.path.join(data.path, "models", model_name, run_version)
    final = os.path.join(run_dir, f"checkpoint-{step}")
    os.makedirs(run_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".checkpoint-{step}.tmp-", dir=run_dir)
    try:
        meta = fill(tmp)
        write_json(data.fs, os.path.join(tmp, "metadata.json"), meta)
        if os.path.exists(final):
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_json(data.fs, os.path.join(run_dir, "metadata.json"), meta)
    return resolve_checkpoint(final, root)


def _copy_tokenizer(src: str, dst: str) -> None:
    for name in _TOKENIZER_FILES:
        if os.path.exists(os.path.join(src, name)):
            shutil.copy2(os.path.join(src, name), os.path.join(dst, name))


def is_ct2_checkpoint(meta: dict[str, Any]) -> bool:
    """Whether a checkpoint's weights are a CTranslate2 model (an int8 export)."""
    return (meta.get("compression") or {}).get("format") == "ctranslate2"


def _int8_target(
    teacher: CheckpointRef, cfg: CompressConfig, kind: str, needs: str
) -> tuple[dict[str, Any], str, CheckpointRef | None]:
    """The teacher's metadata, the int8 model's name (``<teacher>-int8`` or ``cfg.model_name``)
    and its existing export, if any (same run version and step as the teacher).

    Raises:
        ValueError: the teacher is not a ``kind`` checkpoint (``needs`` says what is needed).
    """
    meta = teacher.metadata()
    if meta.get("model_kind") != kind:
        raise ValueError(f"{teacher.name}: {needs} checkpoint, not {meta.get('model_kind')!r}")
    name = cfg.model_name or f"{teacher.model_name}-int8"
    done = os.path.join(
        DataRoot(teacher.root).path,
        "models",
        name,
        teacher.run_version,
        f"checkpoint-{teacher.step}",
    )
    found = (
        resolve_checkpoint(done, teacher.root)
        if os.path.exists(os.path.join(done, "metadata.json"))
        else None
    )
    return meta, name, found


def int8_translation(teacher: CheckpointRef, cfg: CompressConfig) -> CheckpointRef:
    """The teacher exported to CTranslate2 with int8 weights, as a registered checkpoint.

    Same run version and step as the teacher under ``<teacher>-int8`` (or ``cfg.model_name``);
    an existing export is returned as it is.
    """
    from crossling.augment.ct2 import export

    meta, name, found = _int8_target(
        teacher, cfg, "seq2seq", "int8 export to CTranslate2 needs a translation (seq2seq)"
    )
    if found is not None:
        return found

    def fill(tmp: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        export(teacher.path, os.path.join(tmp, CT2_SUBDIR), quantization="int8")
        _copy_tokenizer(teacher.path, tmp)
        shutil.copy2(os.path.join(teacher.path, "config.json"), os.path.join(tmp, "config.json"))
        return {
            **meta,
            "model_name": name,
            "created_at": _now(),
            "teacher": _teacher_entry(teacher, meta),
            "compression": {
                "method": "int8",
                "format": "ctranslate2",
                "path": CT2_SUBDIR,
                "quantization": "int8",
                "compute_type": "int8",
                "weights_bytes": weights_bytes(os.path.join(tmp, CT2_SUBDIR)),
                "seconds": round(time.perf_counter() - t0, 3),
            },
        }

    return _write_checkpoint(teacher.root, name, teacher.run_version, teacher.step, fill)


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


# --- int8 causal LM ------------------------------------------------------------------------------


def _is_causal_lm(path: str) -> bool:
    import transformers as tf

    cfg = tf.AutoConfig.from_pretrained(path, local_files_only=True)
    return type(cfg) in tf.MODEL_FOR_CAUSAL_LM_MAPPING and not getattr(
        cfg, "is_encoder_decoder", False
    )


def _dynamic_int8(model: Any) -> Any:
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    return quantize_dynamic(
        model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=False
    )


def _quantized_linears(model: Any) -> Iterator[tuple[str, Any]]:
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    for name, mod in model.named_modules():
        if isinstance(mod, QLinear):
            yield name, mod


def quantize_causal_lm(src: str, out: str) -> dict[str, Any]:
    """Dynamic int8 quantization of the causal LM in the local directory ``src`` into ``out``.

    Every ``Linear`` layer keeps int8 weights with one scale per output channel (symmetric);
    activations are quantized per batch at run time. ``out`` gets ``model.int8.safetensors``
    (``<layer>.weight.int8``, ``.weight.scale``, ``.weight.zero_point``, ``.bias`` and every
    other tensor in float), the config, the tokenizer files and ``quantization.json``. Load it
    with :func:`load_int8_causal_lm`. Returns what quantization.json says.

    Raises:
        ValueError: ``src`` is not a causal LM directory with safetensors weights.
    """
    if not os.path.exists(os.path.join(src, "config.json")):
        raise ValueError(f"{src}: not a model directory (no config.json)")
    if not _is_causal_lm(src):
        raise ValueError(f"{src}: not a causal LM (its config maps to no causal-LM class)")
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".int8.tmp-", dir=parent)
    try:
        info = _write_int8(src, tmp)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return info


def _write_int8(src: str, dst: str) -> dict[str, Any]:
    """Quantize the causal LM in ``src`` into the existing directory ``dst`` (see
    :func:`quantize_causal_lm`); returns what quantization.json says."""
    import torch
    import transformers as tf
    from safetensors.torch import save_file

    model = tf.AutoModelForCausalLM.from_pretrained(
        src, local_files_only=True, use_safetensors=True, dtype=torch.float32
    ).eval()
    q = _dynamic_int8(model)
    tensors: dict[str, torch.Tensor] = {}
    layers = []
    for name, mod in _quantized_linears(q):
        w = mod.weight()
        tensors[f"{name}.weight.int8"] = w.int_repr().contiguous()
        tensors[f"{name}.weight.scale"] = w.q_per_channel_scales().float().contiguous()
        tensors[f"{name}.weight.zero_point"] = w.q_per_channel_zero_points().contiguous()
        if (b := mod.bias()) is not None:
            tensors[f"{name}.bias"] = b.detach().contiguous()
        layers.append(name)
    for name, t in q.state_dict().items():
        if isinstance(t, torch.Tensor) and not t.is_quantized and name not in tensors:
            if any(name.startswith(layer + ".") for layer in layers):
                continue  # packed params of a quantized layer, saved above
            tensors[name] = t.detach().contiguous().clone()
    save_file(tensors, os.path.join(dst, INT8_WEIGHTS))
    model.config.save_pretrained(dst)
    _copy_tokenizer(src, dst)
    info = {
        "method": "torch-dynamic-int8",
        "format": "torch-dynamic",
        "weights": INT8_WEIGHTS,
        "quantized_layers": layers,
        "per_channel": True,
        "torch": torch.__version__,
        "source": os.path.abspath(src),
        "source_weights_bytes": weights_bytes(src),
        "weights_bytes": os.path.getsize(os.path.join(dst, INT8_WEIGHTS)),
    }
    with open(os.path.join(dst, QUANTIZATION_FILE), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
    return info


def is_int8_causal_checkpoint(meta: dict[str, Any]) -> bool:
    """Whether a checkpoint's weights are a dynamically quantized causal LM (an int8 export)."""
    return (meta.get("compression") or {}).get("format") == "torch-dynamic"


def int8_causal(teacher: CheckpointRef, cfg: CompressConfig) -> CheckpointRef:
    """A crossling causal-LM checkpoint quantized to int8 (:func:`quantize_causal_lm`), as a
    registered checkpoint: ``<teacher>-int8`` (or ``cfg.model_name``), the teacher's run version
    and step, its metadata (corpus lineage, languages, objective) plus ``teacher`` and
    ``compression``. The evaluation loads it with :func:`load_int8_causal_lm`. An existing export
    is returned as it is.
    """
    meta, name, found = _int8_target(
        teacher, cfg, "causal", "int8 quantization of a causal LM needs a causal"
    )
    if found is not None:
        return found

    def fill(tmp: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        info = _write_int8(teacher.path, tmp)
        return {
            **meta,
            "model_name": name,
            "created_at": _now(),
            "teacher": _teacher_entry(teacher, meta),
            "compression": {
                "method": "int8",
                "format": "torch-dynamic",
                "path": INT8_WEIGHTS,
                "quantization": "int8",
                "quantized_layers": len(info["quantized_layers"]),
                "weights_bytes": info["weights_bytes"],
                "seconds": round(time.perf_counter() - t0, 3),
            },
        }

    return _write_checkpoint(teacher.root, name, teacher.run_version, teacher.step, fill)


def load_int8_causal_lm(path: str) -> Any:
    """The dynamically quantized causal LM written by :func:`quantize_causal_lm` (CPU, eval)."""
    import torch
    import transformers as tf
    from safetensors.torch import load_file

    with open(os.path.join(path, QUANTIZATION_FILE), encoding="utf-8") as f:
        info = json.load(f)
    config = tf.AutoConfig.from_pretrained(path, local_files_only=True)
    model = tf.AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    q = _dynamic_int8(model)
    tensors = load_file(os.path.join(path, info["weights"]))
    for name, mod in _quantized_linears(q):
        w = torch._make_per_channel_quantized_tensor(
            tensors.pop(f"{name}.weight.int8"),
            tensors.pop(f"{name}.weight.scale").double(),
            tensors.pop(f"{name}.weight.zero_point"),
            0,
        )
        mod.set_weight_bias(w, tensors.pop(f"{name}.bias", None))
    params, buffers = dict(q.named_parameters()), dict(q.named_buffers())
    with torch.no_grad():
        for name, t in tensors.items():
            target = params.get(name, buffers.get(name))
            if target is None:
                raise ValueError(f"{path}: tensor {name} is not in the model")
            target.copy_(t)
    return q.eval()


def measure_causal_lm(model: Any, tokenizer: Any, texts: list[str], max_len: int = 128) -> dict:
    """Bits per byte (UTF-8) and tokens per second of a causal LM on ``texts`` (one at a time)."""
    import math

    import torch

    nll = 0.0
    tokens = 0
    nbytes = 0
    t0 = time.perf_counter()
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_len)
            n = ids["input_ids"].shape[1]
            if n < 2:
                continue
            out = model(**ids, labels=ids["input_ids"])
            nll += float(out.loss) * (n - 1)
            tokens += n
            nbytes += len(tokenizer.decode(ids["input_ids"][0][1:]).encode("utf-8")) or 1
    seconds = time.perf_counter() - t0
    return {
        "texts": len(texts),
        "tokens": tokens,
        "bits_per_byte": nll / math.log(2) / max(1, nbytes),
        "tokens_per_s": tokens / seconds if seconds else 0.0,
    }


def compress_causal_lm(src: str, out: str, texts: list[str] | None = None) -> dict[str, Any]:
    """Quantize the causal LM in ``src`` into ``out`` and measure both: weights bytes, tokens/s and
    bits per byte on ``texts`` (the same texts, one thread each, side by side). Writes
    ``compression.json`` in ``out`` and returns it."""
    import torch
    import transformers as tf

    info = quantize_causal_lm(src, out)
    result: dict[str, Any] = {
        "method": "int8",
        "teacher": {"path": os.path.abspath(src), "weights_bytes": info["source_weights_bytes"]},
        "weights_bytes": info["weights_bytes"],
        "size_ratio": info["source_weights_bytes"] / max(1, info["weights_bytes"]),
    }
    if texts:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            tok = tf.AutoTokenizer.from_pretrained(src, local_files_only=True)
            teacher = tf.AutoModelForCausalLM.from_pretrained(
                src, local_files_only=True, use_safetensors=True, dtype=torch.float32
            ).eval()
            a = measure_causal_lm(teacher, tok, texts)
            del teacher
            b = measure_causal_lm(load_int8_causal_lm(out), tok, texts)
        finally:
            torch.set_num_threads(before)
        result.update(
            teacher_eval=a,
            eval=b,
            speed_ratio=b["tokens_per_s"] / a["tokens_per_s"] if a["tokens_per_s"] else None,
            bits_per_byte_increase=b["bits_per_byte"] - a["bits_per_byte"],
        )
    with open(os.path.join(out, "compression.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return result


# --- sequence-level knowledge distillation -------------------------------------------------------


def _student_config(teacher_config: Any, cfg: CompressConfig) -> Any:
    c = teacher_config.__class__.from_dict(teacher_config.to_dict())
    heads = max(1, min(c.encoder_attention_heads, c.decoder_attention_heads))
    width = max(heads, int(round(c.d_model * cfg.student_width / heads)) * heads)
    c.d_model = width
    c.encoder_ffn_dim = max(heads, int(c.encoder_ffn_dim * cfg.student_width))
    c.decoder_ffn_dim = max(heads, int(c.decoder_ffn_dim * cfg.student_width))
    c.encoder_layers = c.decoder_layers = cfg.student_layers
    c.num_hidden_layers = cfg.student_layers
    return c


def build_student(teacher_dir: str, out: str, cfg: CompressConfig) -> dict[str, Any]:
    """An untrained student shaped after the teacher (``student_layers``, ``student_width``),
    with the teacher's tokenizer, saved in ``out``. Returns its shape and parameter counts."""
    import torch
    import transformers as tf

    teacher_cfg = tf.AutoConfig.from_pretrained(teacher_dir, local_files_only=True)
    if not getattr(teacher_cfg, "is_encoder_decoder", False):
        raise ValueError(f"{teacher_dir}: distillation needs an encoder-decoder teacher")
    scfg = _student_config(teacher_cfg, cfg)
    torch.manual_seed(cfg.seed)
    model = tf.AutoModelForSeq2SeqLM.from_config(scfg)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    _copy_tokenizer(teacher_dir, tmp)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
    return {
        "d_model": scfg.d_model,
        "layers": cfg.student_layers,
        "ffn_dim": scfg.encoder_ffn_dim,
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def _directions(meta: dict[str, Any], chain: list[Any]) -> list[str]:
    """The directions a translation checkpoint trained on: its config's, else every direction
    of the real pairs of its corpus (both ways round)."""
    configured = (meta.get("config") or {}).get("directions")
    if configured:
        return sorted(configured)
    langs = set(meta.get("languages") or [])
    found: set[str] = set()
    cols = ("src_lang", "tgt_lang", "synthetic")
    for v in chain:
        for b in v.pairs(split="train", columns=list(cols)):
            for s, t, syn in zip(*(b.column(c).to_pylist() for c in cols), strict=True):
                if not syn:
                    found.add(f"{s}-{t}")
    both = found | {f"{d.split('-', 1)[1]}-{d.split('-', 1)[0]}" for d in found}
    return sorted(d for d in both if not langs or set(d.split("-", 1)) <= langs)


def heldout_hashes(chain: list[Any]) -> set[str]:
    """Content hashes of every held-out text of the chain (DOCS, and both sides of PAIRS): no
    distilled pair may hold one, or the evaluation would score the student on its training data."""
    from crossling.documents import content_hash

    out: set[str] = set()
    for v in chain:
        for b in v.docs(split="heldout", columns=["content_hash"]):
            out.update(x for x in b.column("content_hash").to_pylist() if x)
        for b in v.pairs(split="heldout", columns=["src_text", "tgt_text"]):
            for c in ("src_text", "tgt_text"):
                out.update(content_hash(x) for x in b.column(c).to_pylist() if x)
    return out


def _source_sentences(
    chain: list[Any], src: str, tgt: str, limit: int, exclude: set[str]
) -> list[tuple[str, str]]:
    """(origin id, sentence) in ``src`` to distill: train DOCS sentences, then the ``src`` side of
    the real train pairs, distinct and not held out (``exclude``), at most ``limit``."""
    from crossling.augment.segment import is_translatable, split_sentences
    from crossling.documents import content_hash

    out: list[tuple[str, str]] = []
    seen: set[str] = set(exclude)

    def add(origin: str, text: str) -> bool:
        h = content_hash(text)
        if h not in seen and is_translatable(text, 2):
            seen.add(h)
            out.append((origin, text))
        return len(out) >= limit

    for v in chain:
        for b in v.docs(split="train", langs=[src], columns=["id", "text"]):
            for doc_id, text in zip(
                b.column("id").to_pylist(), b.column("text").to_pylist(), strict=True
            ):
                for s in split_sentences(text, src, 400):
                    if add(doc_id, s):
                        return out
    cols = ["id", "src_lang", "tgt_lang", "src_text", "tgt_text", "synthetic"]
    for v in chain:
        for b in v.pairs(split="train", directions=[f"{src}-{tgt}", f"{tgt}-{src}"], columns=cols):
            for r in b.to_pylist():
                if r["synthetic"]:
                    continue
                text = r["src_text"] if r["src_lang"] == src else r["tgt_text"]
                if add(r["id"], text):
                    return out
    return out


def distillation_version(
    teacher: CheckpointRef, cfg: CompressConfig, cache_dir: str | None = None
) -> dict[str, Any]:
    """The teacher's translations of monolingual text as a version derived from its corpus
    version (PAIRS method ``distilled``: source = the text, target = the teacher's output;
    outputs the back-translation filters reject are REJECTS rows). Returns its summary."""
    import pyarrow as pa

    from crossling.augment.ct2 import default_cache_dir
    from crossling.augment.filters import STAGE, BTReason, check, default_char_ratio
    from crossling.augment.translate import Decoding, make_translator, resolve_model
    from crossling.corpus import CorpusVersion, VersionWriter
    from crossling.documents import (
        PAIRS_SCHEMA,
        REJECTS_SCHEMA,
        TEXT_PREFIX_CHARS,
        content_hash,
        make_id,
    )

    meta = teacher.metadata()
    corpus = meta["corpus"]
    root = teacher.root  # as the evaluation: the corpus under the checkpoint's own data root
    parent = CorpusVersion.open(root, corpus["name"], corpus["version"]).check()
    chain = parent.chain()
    directions = _directions(meta, chain)
    heldout = heldout_hashes(chain)
    ident = {
        "kind": DERIVED_KIND,
        "teacher": teacher.name,
        "teacher_sha256": file_sha256(
            teacher.data_root.fs, os.path.join(teacher.path, "model.safetensors")
        ),
        "parent": parent.version,
        "directions": directions,
        "max_sentences": cfg.max_sentences,
        "beam": cfg.beam,
    }
    h = config_hash(ident)
    for v in reversed(parent.root.versions(parent.name)):
        if v.endswith(f"-{h}"):
            done = CorpusVersion.open(root, parent.name, v)
            return {"version": done.version, "new": False, **done.manifest.get(DERIVED_KIND, {})}
    name = new_version(h)
    writer = VersionWriter(DataRoot(root).url, parent.name, name)
    source = f"distill:{teacher.name}"
    stats: dict[str, Any] = {"directions": {}, "teacher": teacher.name}
    pw = writer.part(0)
    inputs = 0
    t0 = time.perf_counter()
    with pw:
        for d in directions:
            src, tgt = d.split("-", 1)
            sentences = _source_sentences(chain, src, tgt, cfg.max_sentences, heldout)
            if not sentences:
                continue
            model = resolve_model(teacher.path, None, src, tgt)
            tr = make_translator(
                "ct2",
                model,
                src,
                tgt,
                Decoding(beam=cfg.beam),
                device="cpu",
                compute_type="int8",
                cache_dir=cache_dir or default_cache_dir(root),
                threads=cfg.threads,
            )
            try:
                outs = tr.translate([s for _, s in sentences])
            finally:
                tr.close()
            ratio = default_char_ratio(src, tgt)
            pairs, rejects = [], []
            for (origin, s), t in zip(sentences, outs, strict=True):
                pid = make_id(source, f"{d}:{origin}:{s}")
                verdict = check(s, t, cfg_filters(), ratio)
                if verdict is None and content_hash(t.text) in heldout:
                    verdict = (BTReason.EXACT_DUPLICATE, "output equals a held-out text")
                if verdict is None:
                    pairs.append(
                        {
                            "id": pid,
                            "src_lang": src,
                            "tgt_lang": tgt,
                            "src_text": s,
                            "tgt_text": t.text,
                            "origin_id": origin,
                            "source": source,
                            "synthetic": True,
                            "method": DISTILLED,
                            "model": model.tag,
                            "score": float(t.score),
                            "split": "train",
                        }
                    )
                else:
                    rejects.append(
                        {
                            "id": pid,
                            "source": source,
                            "url": None,
                            "stage": STAGE,
                            "reason": str(verdict[0]),
                            "detail": verdict[1],
                            "duplicate_of": None,
                            "text_prefix": f"{s} ||| {t.text}"[:TEXT_PREFIX_CHARS],
                            "lang": src,
                        }
                    )
            if pairs:
                pw.pairs(pa.Table.from_pylist(pairs, schema=PAIRS_SCHEMA))
            if rejects:
                pw.rejects(pa.Table.from_pylist(rejects, schema=REJECTS_SCHEMA))
            inputs += len(sentences)
            stats["directions"][d] = {
                "sentences": len(sentences),
                "kept": len(pairs),
                "dropped": len(rejects),
                "sentences_per_s": round(tr.stats.sentences_per_s, 2),
            }
    stats["seconds"] = round(time.perf_counter() - t0, 3)
    writer.commit(
        [pw.close()],
        parent=parent.version,
        config={"distillation": cfg.model_dump(mode="json"), "identity": ident},
        inputs=[parent.uri],
        inputs_by_source={source: inputs},
        extra={"derived": {"kind": DERIVED_KIND, "from": parent.version}, DERIVED_KIND: stats},
    )
    return {"version": name, "new": True, **stats}


def cfg_filters() -> Any:
    """The back-translation output checks, without the language check (no fastText here)."""
    from crossling.augment.filters import FilterConfig

    return FilterConfig(check_language=False)


TrainFn = Callable[[Any], dict[str, Any]]


def distill(
    teacher: CheckpointRef, cfg: CompressConfig, *, train_fn: TrainFn | None = None
) -> tuple[CheckpointRef, dict[str, Any]]:
    """Sequence-level knowledge distillation of a translation teacher; returns the student's
    checkpoint (registered, ``metadata.json`` names the teacher) and the distillation summary."""
    from crossling.train.config import TrainConfig

    meta = teacher.metadata()
    if meta.get("model_kind") != "seq2seq":
        raise ValueError(
            f"{teacher.name}: distillation needs a translation (seq2seq) teacher, "
            f"not {meta.get('model_kind')!r}"
        )
    data = distillation_version(teacher, cfg)
    corpus = meta["corpus"]
    root = teacher.root
    init = os.path.join(
        DataRoot(root).path, "cache", "distill", config_hash([teacher.name, cfg.model_dump()])
    )
    shape = build_student(teacher.path, init, cfg)
    name = cfg.model_name or f"{teacher.model_name}-distilled"
    tcfg = TrainConfig(
        data_root=root,
        out_root=root,
        corpus=corpus["name"],
        version=data["version"],
        objective="translation",
        preset=meta.get("preset") or "tiny",
        model_name=name,
        mode="full",
        init_from=init,
        include_distilled=True,  # the student's data: read the teacher's translations
        max_steps=cfg.steps,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        seed=cfg.seed,
        save_every=cfg.steps,
        log_every=max(1, cfg.steps // 5),
    )
    if train_fn is None:
        from crossling.train.run import run_training

        train_fn = run_training
    out = train_fn(tcfg)
    ref = resolve_checkpoint(out["checkpoint"], root)
    smeta = ref.metadata()
    smeta["teacher"] = _teacher_entry(teacher, meta)
    smeta["compression"] = {
        "method": "distill",
        "format": "transformers",
        "student": shape,
        "distillation_version": data["version"],
        "weights_bytes": weights_bytes(ref.path),
    }
    fs = ref.data_root.fs
    write_json(fs, os.path.join(ref.path, "metadata.json"), smeta)
    write_json(fs, os.path.join(os.path.dirname(ref.path), "metadata.json"), smeta)
    return ref, data


def compress(
    checkpoint: str, root: str, cfg: CompressConfig, *, train_fn: TrainFn | None = None
) -> dict[str, Any]:
    """Compress a registered checkpoint: a translation one (``int8`` or ``distill``) or a causal
    LM (``int8``); returns
    ``{"teacher", "checkpoint", "method", "distillation"?}`` (checkpoint names under models/).

    Raises:
        ValueError: not a registered checkpoint, or not one the method applies to.
    """
    teacher = resolve_checkpoint(checkpoint, root)
    if teacher.metadata().get("model_kind") == "causal":
        if cfg.method != "int8":
            raise ValueError(f"{teacher.name}: a causal LM is compressed with int8 only")
        ref = int8_causal(teacher, cfg)
        return {"method": "int8", "teacher": teacher.path, "checkpoint": ref.path}
    if cfg.method == "int8":
        ref = int8_translation(teacher, cfg)
        return {"method": "int8", "teacher": teacher.path, "checkpoint": ref.path}
    ref, data = distill(teacher, cfg, train_fn=train_fn)
    return {
        "method": "distill",
        "teacher": teacher.path,
        "checkpoint": ref.path,
        "distillation": data,
    }


# --- side by side --------------------------------------------------------------------------------


def compare(teacher: dict[str, Any], compressed: dict[str, Any]) -> dict[str, Any]:
    """A teacher's and a compressed model's evaluation results side by side: weights bytes and
    their ratio, speed (translation: sentences per second; causal LM: tokens per second of the
    bits-per-byte scoring) and its ratio, and per metric (BLEU/chrF per direction, bits per byte
    per language) the change with its paired-bootstrap interval (on the held-out rows both
    scored)."""
    from crossling.evaluate.significance import paired_test

    def size(r: dict[str, Any]) -> int | None:
        return ((r.get("details") or {}).get("model") or {}).get("weights_bytes")

    def speed(r: dict[str, Any], key: str) -> float | None:
        return ((r.get("details") or {}).get("speed") or {}).get(key)

    a, b = size(teacher), size(compressed)
    unit = "sentences_per_s"
    if speed(compressed, unit) is None and speed(compressed, "tokens_per_s") is not None:
        unit = "tokens_per_s"
    sa, sb = speed(teacher, unit), speed(compressed, unit)
    metrics = {}
    for m, v in sorted((compressed.get("metrics") or {}).items()):
        fam = m.split("/", 1)[0]
        if fam not in COMPARED or m.endswith("/avg") or m not in teacher.get("metrics", {}):
            continue
        t = paired_test(m, teacher, compressed, higher_is_better=COMPARED[fam])
        metrics[m] = {
            "teacher": teacher["metrics"][m],
            "compressed": v,
            "change": v - teacher["metrics"][m],
            "ci": [t.ci_low, t.ci_high] if t else None,
        }
    return {
        "teacher": f"{teacher['model_name']}/{teacher['run_version']}/checkpoint-{teacher['step']}",
        "compressed": (
            f"{compressed['model_name']}/{compressed['run_version']}/"
            f"checkpoint-{compressed['step']}"
        ),
        "weights_bytes": {"teacher": a, "compressed": b},
        "size_x": a / b if a and b else None,
        "speed_unit": unit,
        unit: {"teacher": sa, "compressed": sb},
        "speed_x": sb / sa if sa and sb else None,
        "metrics": metrics,
    }


# Metric families compare() puts side by side, and whether higher is better.
COMPARED = {"bleu": True, "chrf": True, "bits_per_byte": False}
