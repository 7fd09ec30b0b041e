"""Back-translation speed: CTranslate2 int8 against transformers ``generate``, side by side.

    python benchmarks/backtranslate.py [--sentences 256] [--beams 1 4] [--device cpu|cuda]

Same model, same inputs (English sentences of the demo's monolingual documents), same batch size
(32, sorted by length) and beam size on both backends, through crossling's own translators (so
tokenization and batching are identical and only ``generate`` differs). Two models:

- ``tiny``: crossling's tiny preset (Marian shape, d_model 128, 2+2 layers), trained here for a few
  hundred steps on the demo's zh-en data: the model the demo back-translates with.
- ``base``: a Marian transformer-base shape (d_model 512, 6+6 layers, 8 heads, FFN 2048, shared
  32k vocabulary; 60.5M parameters, the shape of OPUS-MT models) built from a config with random
  weights and saved locally. Random weights rarely produce </s>, so outputs run to the length
  limit on both backends: the same number of tokens is decoded by each (checked and printed).

Each measurement runs after a warm-up batch and is repeated, the two backends taking turns (best
of ``--repeats`` each); the load average is printed. CTranslate2 picks its own CPU kernels (oneDNN
on this AMD EPYC; forcing Intel MKL with ``CT2_USE_MKL=1`` made it 3-6x slower here). On a GPU (``--device cuda``) transformers runs in bf16 and CTranslate2 in
int8_float16.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import time
from importlib import resources

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from crossling import pipeline  # noqa: E402
from crossling.augment.translate import (  # noqa: E402
    Decoding,
    make_translator,
    resolve_model,
)

CORPUS = "demo-zh-en"
BASE_VOCAB = 32_000


def sentences(n: int) -> list[str]:
    path = resources.files("crossling") / "data" / "demo" / "en.mono.jsonl.gz"
    out: list[str] = []
    with gzip.open(str(path), "rt", encoding="utf-8") as f:
        for line in f:
            out += [s for s in re.split(r"(?<=[.?]) ", json.loads(line)["text"]) if s]
            if len(out) >= n:
                break
    return out[:n]


def tiny_model(root: str, steps: int) -> str:
    """crossling's tiny preset trained on the demo's zh-en corpus (both directions)."""
    from crossling.train.config import TrainConfig
    from crossling.train.run import run_training

    demo = resources.files("crossling") / "data" / "demo"
    sources = [str(demo / "zh-en.parallel.jsonl.gz"), str(demo / "en.mono.jsonl.gz")]
    manifest = pipeline.run_local(
        sources, root, CORPUS, pipeline.load_config(None, heldout_fraction=0.1)
    )
    s = run_training(
        TrainConfig(
            data_root=root,
            corpus=CORPUS,
            version=manifest["version"],
            objective="translation",
            preset="tiny",
            max_steps=steps,
            batch_size=64,
            save_every=steps,
            log_every=steps,
            model_name="bench-tiny",
        )
    )
    return s["checkpoint"]


def base_model(tiny_dir: str, out: str) -> str:
    """A transformer-base Marian with random weights, and the tiny model's tokenizer padded to a
    32k vocabulary (the extra pieces are never in the inputs; the model may emit them)."""
    import torch
    from transformers import MarianConfig, MarianMTModel

    from crossling.tokenizer import load_tokenizer

    tok = load_tokenizer(tiny_dir)
    tok.add_tokens([f"<bench_{i}>" for i in range(BASE_VOCAB - len(tok))])
    cfg = MarianConfig(
        vocab_size=len(tok),
        decoder_vocab_size=len(tok),
        share_encoder_decoder_embeddings=True,
        d_model=512,
        encoder_layers=6,
        decoder_layers=6,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=2048,
        decoder_ffn_dim=2048,
        max_position_embeddings=512,
        activation_function="swish",
        scale_embedding=True,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.bos_token_id,
        decoder_start_token_id=tok.pad_token_id,
        forced_eos_token_id=tok.eos_token_id,
    )
    torch.manual_seed(0)
    model = MarianMTModel(cfg)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def _timed(translator, texts: list[str]) -> tuple[float, list]:
    translator.stats.sentences, translator.stats.seconds = 0, 0.0
    out = translator.translate(texts)
    return translator.stats.seconds, out


def run_model(name: str, path: str, texts: list[str], args, cache: str) -> list[dict]:
    """Both backends on the same inputs, repeats interleaved (hf, ct2, hf, ct2, ...) so a change
    of machine load hits both alike; the best time of each counts."""
    model = resolve_model(path, None, "en", "zh")
    rows = []
    for beam in args.beams:
        d = Decoding(beam=beam, batch_size=args.batch_size, max_output_tokens=args.max_tokens)
        hf = make_translator("hf", model, "en", "zh", d, device=args.device)
        ct = make_translator(
            "ct2", model, "en", "zh", d, device=args.device, cache_dir=cache, threads=args.threads
        )
        for t in (hf, ct):
            t.translate(texts[:8])  # warm-up: first-call allocations, kernel selection
        best: dict[str, tuple[float, list]] = {}
        for _ in range(args.repeats):
            for key, t in (("hf", hf), ("ct2", ct)):
                seconds, out = _timed(t, texts)
                if key not in best or seconds < best[key][0]:
                    best[key] = (seconds, out)
        (h_s, h_out), (c_s, c_out) = best["hf"], best["ct2"]
        h_tok, c_tok = sum(len(t.out_ids) for t in h_out), sum(len(t.out_ids) for t in c_out)
        row = {
            "model": name,
            "beam": beam,
            "hf_sentences_per_s": round(len(texts) / h_s, 1),
            "ct2_sentences_per_s": round(len(texts) / c_s, 1),
            "ratio": round(h_s / c_s, 2),
            "hf_tokens": h_tok,
            "ct2_tokens": c_tok,
            "hf": str(getattr(hf, "dtype", "fp32")).replace("torch.", ""),
            "ct2": ct.compute_type,
            "same_output": round(
                sum(a.text == b.text for a, b in zip(h_out, c_out, strict=True)) / len(texts), 3
            ),
        }
        hf.close()
        ct.close()
        rows.append(row)
        print(
            f"{name:>5} beam {beam}: transformers {row['hf']} {row['hf_sentences_per_s']:>8.1f} "
            f"sent/s ({h_tok} tokens) | CTranslate2 {row['ct2']} "
            f"{row['ct2_sentences_per_s']:>8.1f} sent/s ({c_tok} tokens) | "
            f"x{row['ratio']:.2f} | same output {row['same_output']:.0%} | "
            f"load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=256)
    ap.add_argument("--base-sentences", type=int, default=96, help="fewer: the base model is slow")
    ap.add_argument("--beams", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=64, help="longest output, in tokens")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tiny-steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--models", nargs="+", default=["tiny", "base"])
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    import torch

    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    args.threads = threads
    print(
        f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {threads} threads; "
        f"device {args.device}; torch {torch.__version__}"
    )
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-bt-") as tmp:
        cache = os.path.join(tmp, "ct2")
        t0 = time.perf_counter()
        tiny = tiny_model(os.path.join(tmp, "root"), args.tiny_steps)
        print(f"tiny model trained in {time.perf_counter() - t0:.0f}s: {tiny}")
        if "tiny" in args.models:
            rows += run_model("tiny", tiny, sentences(args.sentences), args, cache)
        if "base" in args.models:
            base = base_model(tiny, os.path.join(tmp, "base"))
            rows += run_model("base", base, sentences(args.base_sentences), args, cache)
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
