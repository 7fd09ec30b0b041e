"""Packed MLM batches against the padded-batch transformers baseline, on the same documents;
with ``--objective clm``, crossling's causal-LM training loop against the transformers Trainer.

    python benchmarks/train.py [--data ROOT --corpus NAME] [--seq-len 512] [--batch-size 8]
    python benchmarks/train.py --objective clm [--check]

Both sides train the same XLM-R-shaped model (preset ``tiny`` by default) with AdamW on the train
split of one corpus version (default: the packaged demo files turned into a corpus version):

- crossling: ``MLMBatches`` (documents concatenated and cut into full ``seq-len`` sequences, no
  padding) and ``MaskedPositionsMLM`` (vocabulary projection at masked positions only);
- ablation: the same packed batches through transformers' full ``XLMRobertaForMaskedLM`` head;
- baseline: what ``run_mlm.py --line_by_line`` does: one document per row, truncated to
  ``seq-len``, ``DataCollatorForLanguageModeling`` padding each batch to its longest row.

Printed: packing efficiency (real tokens / all positions) and real tokens per second of each,
with ratios. Timing alternates the three in rounds and takes medians, so a busy machine slows all
of them alike. ``--check`` exits 1 unless efficiency >= 0.97 and the speed-up >= 1.5x.

Causal LM (``--objective clm``): the same Llama-shaped decoder (preset ``tiny`` by default, same
initial weights) trains for the same number of optimizer steps on the same train-split documents:

- crossling: ``crossling.train.loop.train`` (accelerate, AdamW, warmup + cosine) on
  ``CLMBatches``: documents packed into full rows, ``position_ids`` restarting per document, so
  attention stays inside each document;
- baseline: ``transformers.Trainer`` with ``DataCollatorForLanguageModeling(mlm=False)``: one
  document per row, truncated to ``seq-len``, each batch padded to its longest row.

Printed: packing efficiency (real tokens / positions) and real (non-pad) tokens per second of
optimizer steps, measured per step after a warm-up and alternated in rounds (median), so a busy
machine slows both alike. ``--check`` exits 1 unless efficiency >= 0.97 and the speed-up >= 1.5x.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def demo_corpus(tmp: str) -> tuple[str, str]:
    from tests.train.corpus_fixture import corpus_from_demo

    if corpus_from_demo(tmp, "demo") is None:
        sys.exit("no --data given and the demo files (crossling/data/demo) are missing")
    return tmp, "demo"


def baseline_batches(corpus, tok, seq_len: int, batch_size: int, seed: int):
    """Padded batches the transformers way, over the same train-split documents."""
    import random

    from transformers import DataCollatorForLanguageModeling

    texts = []
    for b in corpus.docs(columns=["text"]):  # the train split of every version read
        texts += b.column("text").to_pylist()
    random.Random(seed).shuffle(texts)
    enc = tok(texts, truncation=True, max_length=seq_len)["input_ids"]
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, return_tensors="pt")
    i = 0
    while True:
        rows = []
        for _ in range(batch_size):
            rows.append({"input_ids": enc[i % len(enc)]})
            i += 1
        batch = collator(rows)
        real = int(batch["attention_mask"].sum())
        yield batch, real, batch["input_ids"].numel()


def packed_batches(corpus, tok, seq_len: int, batch_size: int, seed: int):
    from crossling.train.data import DataConfig, MLMBatches

    src = MLMBatches(corpus, tok, DataConfig(seq_len=seq_len, seed=seed), batch_size)
    while True:
        b = src.next_batch()
        yield b.inputs, b.tokens, b.slots


def time_steps(model, opt, batches, steps: int) -> tuple[float, int, int]:
    """(seconds, real tokens, positions) of ``steps`` optimizer steps; data prep is not timed."""
    ready = [next(batches) for _ in range(steps)]
    real = sum(r for _, r, _ in ready)
    slots = sum(s for _, _, s in ready)
    t0 = time.perf_counter()
    for inputs, _, _ in ready:
        loss = model(**inputs).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t0, real, slots


# --- causal LM: crossling's loop vs transformers' Trainer ---------------------------------------------


class _NullCheckpointer:
    def save(self, step: int, **_: object) -> str:
        return ""


def _decoder(tok, preset: str, seq_len: int):
    from crossling.train.models import build_decoder, get_preset

    torch.manual_seed(0)
    return build_decoder(get_preset(preset).decoder, tok, seq_len, attn="sdpa")


def clm_crossling_round(corpus, tok, args, seed: int) -> tuple[list[float], float]:
    """(real tokens/s of each timed step, packing efficiency) of crossling's loop."""
    from crossling.train.data import CLMBatches, DataConfig
    from crossling.train.loop import LoopConfig, train
    from crossling.train.models import PackedCausalLM

    batches = CLMBatches(corpus, tok, DataConfig(seq_len=args.seq_len, seed=seed), args.batch_size)
    loop = LoopConfig(
        max_steps=args.warmup + args.steps,
        lr=1e-4,
        warmup_steps=0,
        log_every=1,
        save_every=10**9,
        precision="fp32",
        seq_len_for_flops=args.seq_len,
    )
    records: list[dict] = []
    train(
        PackedCausalLM(_decoder(tok, args.preset, args.seq_len)),
        batches,
        loop,
        lambda rank, barrier: _NullCheckpointer(),
        on_log=records.append,
    )
    return [r["tokens_per_s"] for r in records[args.warmup :]], batches.packing_efficiency


def clm_trainer_round(corpus, tok, args, seed: int, tmp: str) -> tuple[list[float], float]:
    """(real tokens/s of each timed step, packing efficiency) of transformers' Trainer."""
    import random

    from transformers import (
        DataCollatorForLanguageModeling,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    texts = []
    for b in corpus.docs(columns=["text"]):
        texts += b.column("text").to_pylist()
    random.Random(seed).shuffle(texts)
    enc = tok(texts, truncation=True, max_length=args.seq_len)["input_ids"]  # <s> doc </s>
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    collate = DataCollatorForLanguageModeling(tok, mlm=False, return_tensors="pt")
    counts: list[tuple[int, int]] = []

    def collator(rows):
        batch = collate(rows)
        counts.append((int(batch["attention_mask"].sum()), batch["input_ids"].numel()))
        return batch

    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            stamps.append(time.perf_counter())

        def on_step_end(self, *a, **k):
            stamps.append(time.perf_counter())

    n = (args.warmup + args.steps) * args.batch_size
    data = [{"input_ids": enc[i % len(enc)]} for i in range(n)]
    targs = TrainingArguments(
        output_dir=os.path.join(tmp, f"trainer-{seed}"),
        per_device_train_batch_size=args.batch_size,
        max_steps=args.warmup + args.steps,
        learning_rate=1e-4,
        lr_scheduler_type="cosine",
        logging_strategy="no",
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
        seed=seed,
    )
    trainer = Trainer(
        model=_decoder(tok, args.preset, args.seq_len),
        args=targs,
        train_dataset=data,
        data_collator=collator,
        callbacks=[Clock()],
    )
    trainer.train()
    # The collator runs before on_step_begin (the dataloader yields first): a step's time is
    # from one step's end to the next's, so batch collation counts for the Trainer as it does
    # for crossling (whose loop builds each batch inside the step).
    ends = stamps[1::2]
    rates = []
    for i in range(args.warmup, len(ends)):
        start = ends[i - 1] if i else stamps[0]
        rates.append(counts[i][0] / (ends[i] - start))
    real = sum(c[0] for c in counts)
    slots = sum(c[1] for c in counts)
    return rates, real / slots


def main_clm(args: argparse.Namespace) -> int:
    from crossling.tokenizer import ensure_tokenizer, load_tokenizer
    from crossling.train.corpus import TrainCorpus

    tmp = tempfile.mkdtemp(prefix="crossling-bench-clm-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    root, name = (args.data, args.corpus) if args.data else demo_corpus(tmp)
    corpus = TrainCorpus.open(root, name, args.version)
    tok = load_tokenizer(ensure_tokenizer(tmp, corpus).path)
    ours: list[float] = []
    theirs: list[float] = []
    eff_ours = eff_theirs = 0.0
    for r in range(args.rounds):  # alternated, so load on the machine hits both alike
        rates, eff_ours = clm_crossling_round(corpus, tok, args, r)
        ours += rates
        rates, eff_theirs = clm_trainer_round(corpus, tok, args, r, tmp)
        theirs += rates
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"causal LM, corpus {corpus.name}@{corpus.version}, preset {args.preset} decoder, seq_len "
        f"{args.seq_len}, batch {args.batch_size} sequences, {args.rounds} rounds x {args.steps} "
        f"timed steps (after {args.warmup} warm-up), torch threads {torch.get_num_threads()}"
    )
    print(f"{'':52s} {'packing eff.':>12s} {'tokens/s':>10s} {'vs Trainer':>11s}")
    print(
        f"{'crossling loop (packed, per-document attention)':52s} {eff_ours:12.3f} {a:10.0f} {a / b:10.2f}x"
    )
    print(
        f"{'transformers Trainer (padded per batch)':52s} {eff_theirs:12.3f} {b:10.0f} {1:10.2f}x"
    )
    ok = eff_ours >= 0.97 and a / b >= 1.5
    print(
        f"packing efficiency {eff_ours:.3f} (target >= 0.97), tokens/s {a / b:.2f}x the Trainer "
        f"(target >= 1.5x): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok or not args.check else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data root (default: the demo files as a corpus version)")
    p.add_argument("--corpus", default="demo")
    p.add_argument("--version", default="latest")
    p.add_argument("--preset", default="tiny", choices=["tiny", "small", "base"])
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=8, help="sequences per batch, both sides")
    p.add_argument("--steps", type=int, default=8, help="timed steps per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--check", action="store_true", help="exit 1 unless the targets are met")
    p.add_argument(
        "--objective",
        choices=["mlm", "clm"],
        default="mlm",
        help="mlm: packed MLM vs padded batches; clm: crossling's loop vs the Trainer",
    )
    p.add_argument("--warmup", type=int, default=2, help="clm: untimed steps per round")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.objective == "clm":
        return main_clm(args)

    from crossling.tokenizer import ensure_tokenizer, load_tokenizer
    from crossling.train.corpus import TrainCorpus
    from crossling.train.models import MaskedPositionsMLM, build_encoder, get_preset

    tmp = tempfile.mkdtemp(prefix="crossling-bench-train-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    root, name = (args.data, args.corpus) if args.data else demo_corpus(tmp)
    corpus = TrainCorpus.open(root, name, args.version)
    tok = load_tokenizer(ensure_tokenizer(tmp, corpus).path)
    shape = get_preset(args.preset).encoder

    def make(kind: str):
        torch.manual_seed(0)
        model = build_encoder(shape, tok, args.seq_len)
        if kind == "crossling":
            model = MaskedPositionsMLM(model)
        model.train()
        return model, torch.optim.AdamW(model.parameters(), lr=1e-4)

    sides = {
        "crossling (packed, masked-positions head)": (
            make("crossling"),
            packed_batches(corpus, tok, args.seq_len, args.batch_size, 0),
        ),
        "ablation (packed, full head)": (
            make("full"),
            packed_batches(corpus, tok, args.seq_len, args.batch_size, 0),
        ),
        "baseline (padded per batch, full head)": (
            make("full"),
            baseline_batches(corpus, tok, args.seq_len, args.batch_size, 0),
        ),
    }
    for (model, opt), batches in sides.values():  # warm up allocators and kernels
        time_steps(model, opt, batches, 2)
    rates: dict[str, list[float]] = {k: [] for k in sides}
    eff: dict[str, tuple[int, int]] = {k: (0, 0) for k in sides}
    for _ in range(args.rounds):
        for name_, ((model, opt), batches) in sides.items():
            secs, real, slots = time_steps(model, opt, batches, args.steps)
            rates[name_].append(real / secs)
            r0, s0 = eff[name_]
            eff[name_] = (r0 + real, s0 + slots)

    print(
        f"corpus {corpus.name}@{corpus.version}, preset {args.preset}, seq_len {args.seq_len}, "
        f"batch {args.batch_size} sequences, {args.rounds} x {args.steps} steps each, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"{'':44s} {'packing eff.':>12s} {'tokens/s':>10s} {'vs baseline':>12s}")
    base_name = "baseline (padded per batch, full head)"
    base_rate = statistics.median(rates[base_name])
    rows = {}
    for name_ in sides:
        real, slots = eff[name_]
        rate = statistics.median(rates[name_])
        rows[name_] = (real / slots, rate)
        print(f"{name_:44s} {real / slots:12.3f} {rate:10.0f} {rate / base_rate:11.2f}x")
    ours_eff, ours_rate = rows["crossling (packed, masked-positions head)"]
    ratio = ours_rate / base_rate
    ok = ours_eff >= 0.97 and ratio >= 1.5
    print(
        f"packing efficiency {ours_eff:.3f} (target >= 0.97), tokens/s {ratio:.2f}x the padded baseline "
        f"(target >= 1.5x): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
