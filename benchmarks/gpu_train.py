"""Tokens/s and MFU of MLM or causal-LM pretraining for the ``base`` preset in bf16, on one GPU.

    python benchmarks/gpu_train.py [--preset base] [--steps 40] [--batch-size 32] [--seq-len 512]
    python benchmarks/gpu_train.py --objective clm [--attn auto|sdpa|flex_attention|...]

Runs the real training loop (accelerate, bf16 autocast, fused AdamW, packed batches from the demo
files, masked-positions MLM head) for ``--steps`` optimizer steps and prints the median tokens/s
and MFU over the log windows after the first (which holds kernel selection and allocator warm-up).
The vocabulary is XLM-R's size (250,002) by default, so the FLOPs are those of XLM-R base; pass
``--tokenizer-vocab`` to use the demo tokenizer's own small vocabulary instead.

MFU = (training FLOPs per token x tokens/s) / peak dense bf16 FLOP/s of the GPU, with FLOPs per
token = 6 N + 12 L d T (PaLM appendix B; the vocabulary projection counted at the masked share).
The peak comes from the device name (H100/H200: 989 TFLOP/s) or CROSSLING_PEAK_TFLOPS.

``--objective clm`` trains the preset's decoder (``base``: Qwen2.5-0.5B's shape, vocabulary
151,936 by default) on packed rows of 2048 tokens with per-document attention (position resets:
FlashAttention-2 varlen when ``flash_attn`` is installed, else SDPA with a block-diagonal mask, or
``--attn flex_attention``), compiled with torch.compile unless ``--no-compile``; FLOPs per token
count the full vocabulary projection and attention over the whole row (an upper bound for packed
documents, as usually reported).

Without a CUDA GPU it says so and exits 0 (nothing to measure on a CPU).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

XLMR_VOCAB = 250_002
QWEN_VOCAB = 151_936


class NullCheckpointer:
    """Measures training only: checkpoints are not written."""

    def save(self, step: int, **_: object) -> str:
        return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objective", default="mlm", choices=["mlm", "clm"])
    p.add_argument("--preset", default="base", choices=["tiny", "small", "base"])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch-size", type=int, help="sequences per step (default 32 mlm, 8 clm)")
    p.add_argument("--seq-len", type=int, help="tokens per row (default 512 mlm, 2048 clm)")
    p.add_argument(
        "--attn",
        default="auto",
        choices=["auto", "sdpa", "flash_attention_2", "flex_attention", "eager"],
        help="clm: attention kernel (auto: FlashAttention-2 if installed, else SDPA)",
    )
    p.add_argument("--no-compile", action="store_true", help="clm: skip torch.compile")
    p.add_argument("--log-every", type=int, default=5)
    p.add_argument(
        "--tokenizer-vocab", action="store_true", help="keep the demo tokenizer's vocabulary"
    )
    p.add_argument(
        "--full-head", action="store_true", help="transformers' full-vocabulary MLM head"
    )
    p.add_argument(
        "--smoke",
        action="store_true",
        help="run on a CPU in fp32 (checks the script itself; the numbers mean nothing)",
    )
    args = p.parse_args(argv)
    clm = args.objective == "clm"
    args.batch_size = args.batch_size or (8 if clm else 32)
    args.seq_len = args.seq_len or (2048 if clm else 512)

    import torch

    if not torch.cuda.is_available() and not args.smoke:
        print(
            "benchmarks/gpu_train.py: no CUDA GPU on this machine; it measures bf16 tokens/s and MFU "
            "of the base preset and only runs where a GPU is available. Nothing to do."
        )
        return 0

    from crossling.tokenizer import ensure_tokenizer, load_tokenizer
    from crossling.train.corpus import TrainCorpus
    from crossling.train.data import DataConfig, MLMBatches
    from crossling.train.loop import LoopConfig, peak_flops, train
    from crossling.train.models import MaskedPositionsMLM, encoder_config, get_preset
    from tests.train.corpus_fixture import corpus_from_demo

    tmp = tempfile.mkdtemp(prefix="crossling-gpu-bench-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    if corpus_from_demo(tmp, "demo") is None:
        sys.exit("the demo files (crossling/data/demo) are missing")
    corpus = TrainCorpus.open(tmp, "demo")
    tok = load_tokenizer(ensure_tokenizer(tmp, corpus).path)
    preset = get_preset(args.preset)

    from transformers import AutoModelForCausalLM, XLMRobertaForMaskedLM

    from crossling.train.data import CLMBatches
    from crossling.train.models import PackedCausalLM, attention_implementation, decoder_config

    torch.manual_seed(0)
    if clm:
        cfg = decoder_config(preset.decoder, tok, args.seq_len)
        if not args.tokenizer_vocab:
            cfg.vocab_size = max(cfg.vocab_size, QWEN_VOCAB)  # Qwen2.5's embedding size
        attn = attention_implementation(args.attn)
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation=attn)
        module = PackedCausalLM(model)
        batches = CLMBatches(corpus, tok, DataConfig(seq_len=args.seq_len), args.batch_size)
    else:
        attn = "sdpa"
        cfg = encoder_config(preset.encoder, tok, args.seq_len)
        if not args.tokenizer_vocab:
            cfg.vocab_size = max(cfg.vocab_size, XLMR_VOCAB)  # XLM-R base's embedding size
        model = XLMRobertaForMaskedLM(cfg)
        module = model if args.full_head else MaskedPositionsMLM(model)
        batches = MLMBatches(corpus, tok, DataConfig(seq_len=args.seq_len), args.batch_size)
    loop = LoopConfig(
        max_steps=args.steps,
        lr=1e-4,
        warmup_steps=min(10, args.steps // 4),
        log_every=args.log_every,
        save_every=10**9,
        precision="fp32" if args.smoke else "bf16",
        seq_len_for_flops=args.seq_len,
        head_fraction=1.0 if args.full_head or clm else 0.15,
        compile=clm and not args.no_compile and not args.smoke,
    )
    records: list[dict] = []
    result = train(
        module, batches, loop, lambda rank, barrier: NullCheckpointer(), on_log=records.append
    )
    later = records[1:] or records
    tps = statistics.median(r["tokens_per_s"] for r in later)
    mfu = statistics.median(r["mfu"] for r in later) if all("mfu" in r for r in later) else None
    n_params = sum(p.numel() for p in model.parameters())
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu (smoke run)"
    peak = peak_flops()
    print(
        f"device {device}, peak {peak / 1e12 if peak else float('nan'):.0f} "
        f"TFLOP/s bf16; preset {args.preset} ({n_params / 1e6:.0f}M parameters, vocab {cfg.vocab_size}), "
        f"seq_len {args.seq_len}, batch {args.batch_size}, {args.steps} steps, "
        + (
            f"causal LM, attention {attn}, compile {loop.compile}"
            if clm
            else f"{'full' if args.full_head else 'masked-positions'} MLM head"
        )
    )
    for r in records:
        print(
            f"  step {r['step']:4d} loss {r['loss']:.3f} tokens/s {r['tokens_per_s']:,.0f}"
            + (f" MFU {r['mfu']:.1%}" if "mfu" in r else "")
        )
    print(
        f"median tokens/s {tps:,.0f}"
        + (
            f", MFU {mfu:.1%}"
            if mfu is not None
            else ", MFU unknown (peak FLOP/s of this GPU not known: set CROSSLING_PEAK_TFLOPS)"
        )
    )
    memory = (
        torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float("nan")
    )
    print(f"peak memory {memory:.1f} GiB; packing efficiency {result.packing_efficiency:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
