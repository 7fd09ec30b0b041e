"""The training loop: one for every objective, on accelerate (CPU, one GPU, DDP or FSDP).

It pulls micro-batches from a :class:`~crossling.train.data.BatchSource` in the main process (no
DataLoader: its prefetching would move the data position ahead of what was trained on, and the
position must be exact to resume), accumulates gradients, clips, steps AdamW and a warmup + cosine
schedule, logs loss / tokens/s / MFU, and checkpoints every ``save_every`` steps. Everything a
restart needs (weights, optimizer, scheduler, RNG, data position, loss history) goes into the
checkpoint, and a resumed run continues bit-for-bit where the saved one was.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from crossling.train.checkpoint import Checkpointer, load_train_state, set_rng_state
from crossling.train.data import BatchSource
from crossling.train.models import flops_per_token

log = logging.getLogger(__name__)

# Dense bf16 peak of common accelerators, for MFU. Override with CROSSLING_PEAK_TFLOPS.
PEAK_BF16_TFLOPS = {
    "H200": 989.0,
    "H100": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10": 125.0,
    "4090": 165.0,
    "3090": 71.0,
    "V100": 125.0,
    "T4": 65.0,
}


@dataclass(frozen=True)
class LoopConfig:
    """How the optimizer steps; the run's TrainConfig resolves into this."""

    max_steps: int  # optimizer steps in total (a resumed run stops at the same step)
    lr: float  # peak learning rate, reached after warmup
    warmup_steps: int  # linear warmup from 0; then cosine decay to min_lr_ratio * lr
    min_lr_ratio: float = 0.1  # floor of the cosine; 0 decays to zero
    weight_decay: float = 0.01  # decoupled (AdamW); never on biases and LayerNorm weights
    betas: tuple[float, float] = (0.9, 0.98)  # RoBERTa's; 0.999 is less stable with large batches
    eps: float = 1e-6
    max_grad_norm: float = 1.0  # clip the global gradient norm; 0 = off
    grad_accum: int = 1  # micro-batches per optimizer step: the batch grows, memory does not
    save_every: int = 100  # steps between checkpoints (plus one at the end)
    log_every: int = 10  # steps between log lines and loss points (one GPU sync each)
    precision: str = "auto"  # auto | bf16 | fp32
    distributed: str = "ddp"  # ddp | fsdp (only with several processes)
    seq_len_for_flops: int = 512  # sequence length in the attention term of the FLOPs estimate
    head_fraction: float = 1.0  # share of positions projected onto the vocabulary (FLOPs estimate)
    save_initial: bool = False  # also checkpoint the untrained weights (checkpoint-0): a baseline
    compile: bool = False  # torch.compile (inductor) through accelerate; GPUs only pay it back


@dataclass
class LoopResult:
    """What a run did, for metadata, artifacts and tests."""

    step: int
    tokens_seen: int
    losses: list[dict[str, Any]] = field(
        default_factory=list
    )  # {step, loss, lr, tokens_per_s, mfu?}
    checkpoints: list[str] = field(default_factory=list)  # written by this process's run
    resumed_from: str | None = None
    tokens_per_s: float | None = None  # mean over this process's run
    mfu: float | None = None  # GPU only
    packing_efficiency: float | None = None


def use_bf16(precision: str) -> bool:
    if precision == "fp32":
        return False
    ok = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if precision == "bf16" and not ok:
        raise ValueError("precision bf16 needs a GPU with bf16 support")
    return ok


def peak_flops() -> float | None:
    """Peak dense bf16 FLOP/s of this process's GPU, or None when unknown (or on CPU)."""
    if env := os.environ.get("CROSSLING_PEAK_TFLOPS"):
        return float(env) * 1e12
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    for key, tflops in PEAK_BF16_TFLOPS.items():
        if key in name:
            return tflops * 1e12
    return None


def make_accelerator(cfg: LoopConfig) -> Any:
    from accelerate import Accelerator

    kwargs: dict[str, Any] = {
        "mixed_precision": "bf16" if use_bf16(cfg.precision) else "no",
        # Without a GPU, say so: accelerate then runs several torchrun processes as DDP over
        # gloo (how the distributed path is tested on CPU) instead of N independent runs.
        "cpu": not torch.cuda.is_available(),
    }
    if cfg.compile:
        # accelerate compiles in prepare() and unwraps the compiled module when saving.
        kwargs["dynamo_backend"] = "inductor"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if cfg.distributed == "fsdp" and world > 1:
        from accelerate.utils import FullyShardedDataParallelPlugin

        # One FSDP unit per transformer block (the model's _no_split_modules); full state dicts
        # gathered on rank 0 for saving, so checkpoints stay plain safetensors models.
        kwargs["fsdp_plugin"] = FullyShardedDataParallelPlugin(
            auto_wrap_policy="transformer_based_wrap",
            state_dict_type="FULL_STATE_DICT",
            use_orig_params=True,
        )
    return Accelerator(**kwargs)


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def lr_lambda(cfg: LoopConfig) -> Callable[[int], float]:
    """Linear warmup to 1, then half a cosine down to ``min_lr_ratio``."""

    def f(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / (cfg.warmup_steps + 1)
        progress = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
        return cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * cosine

    return f


def _is_fsdp(acc: Any) -> bool:
    from accelerate.utils import DistributedType

    return acc.distributed_type == DistributedType.FSDP


def _optimizer_state(acc: Any, model: Any, optimizer: Any) -> dict[str, Any] | None:
    """The full optimizer state, on rank 0 (collective under FSDP, which has to gather it)."""
    if not _is_fsdp(acc):  # single process or DDP: every rank holds the same full state
        return optimizer.state_dict() if acc.is_main_process else None
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    opt = getattr(optimizer, "optimizer", optimizer)  # accelerate's wrapper around the torch one
    sd = get_optimizer_state_dict(
        model, opt, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
    )
    return sd if acc.is_main_process else None


def _load_optimizer_state(acc: Any, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
    if not _is_fsdp(acc):
        optimizer.load_state_dict(state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    opt = getattr(optimizer, "optimizer", optimizer)
    set_optimizer_state_dict(model, opt, state, options=StateDictOptions(full_state_dict=True))


def train(
    model: torch.nn.Module,
    batches: BatchSource,
    cfg: LoopConfig,
    checkpointer_factory: Callable[[int, Callable[[], None]], Checkpointer],
    *,
    resume_from: str | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    on_checkpoint: Callable[[str, int], None] | None = None,
    accelerator: Any = None,
) -> LoopResult:
    """Train ``model`` on ``batches`` up to ``cfg.max_steps``; resume from a checkpoint if given.

    Args:
        model: built (or loaded from ``resume_from``) on CPU; the loop moves and wraps it.
        batches: this rank's batch source.
        checkpointer_factory: ``(rank, barrier) -> Checkpointer`` for this run.
        resume_from: a checkpoint folder with ``train_state/`` to continue from.
        on_log: called on rank 0 with each log record.
        on_checkpoint: called on rank 0 with (path, step) after each checkpoint.
    """
    acc = accelerator or make_accelerator(cfg)
    rank = acc.process_index
    ckpt = checkpointer_factory(rank, acc.wait_for_everyone)
    fused = acc.device.type == "cuda"  # one kernel for the whole update instead of one per tensor
    optimizer = torch.optim.AdamW(
        _param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, fused=fused
    )
    model, optimizer = acc.prepare(model, optimizer)
    # Not prepared: accelerate would step it once per process per step.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg))

    step, tokens_seen, losses = 0, 0, []
    # The current log window: loss summed on the device (read once per window), steps, tokens.
    window_loss, window_steps, window_tokens = torch.zeros((), device=acc.device), 0, 0
    if resume_from:
        state = load_train_state(resume_from, rank)
        if state["loop"].get("world_size", 1) != acc.num_processes:
            raise ValueError(
                f"{resume_from} was trained with {state['loop'].get('world_size')} process(es), "
                f"this run has {acc.num_processes}: resume with the same number"
            )
        _load_optimizer_state(acc, model, optimizer, state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        batches.load_state_dict(state["data"])
        loop = state["loop"]
        step, tokens_seen, losses = loop["step"], loop["tokens_seen"], loop["losses"]
        window_loss = torch.tensor(loop["window"]["loss"], device=acc.device)
        window_steps, window_tokens = loop["window"]["steps"], loop["window"]["tokens"]
        # Last: everything above may draw random numbers; the run continues from the saved ones.
        set_rng_state(state["rng"])
        log.info("resumed from %s at step %d", resume_from, step)

    flops = flops_per_token(acc.unwrap_model(model), cfg.seq_len_for_flops, cfg.head_fraction)
    peak = peak_flops() if use_bf16(cfg.precision) else None
    result = LoopResult(step, tokens_seen, losses, resumed_from=resume_from)
    run_tokens, train_time = 0, 0.0
    window_start = time.perf_counter()

    def save(step: int) -> None:
        loop_state = {
            "step": step,
            "tokens_seen": tokens_seen,
            "losses": losses,
            "world_size": acc.num_processes,
            "window": {
                "loss": float(window_loss),
                "steps": window_steps,
                "tokens": window_tokens,
            },
        }
        path = ckpt.save(
            step,
            model_state=acc.get_state_dict(model),
            optimizer_state=_optimizer_state(acc, model, optimizer),
            scheduler_state=scheduler.state_dict(),
            data_state=batches.state_dict(),
            loop_state=loop_state,
        )
        result.checkpoints.append(path)
        if acc.is_main_process and on_checkpoint:
            on_checkpoint(path, step)

    if cfg.save_initial and step == 0:
        save(0)  # the untrained model: what evaluation compares the trained ones against
    model.train()
    while step < cfg.max_steps:
        step_start = time.perf_counter()
        for micro in range(cfg.grad_accum):
            batch = batches.next_batch().to(acc.device)
            # Gradients are all-reduced once per optimizer step, on the last micro-batch.
            sync = micro == cfg.grad_accum - 1
            with contextlib.nullcontext() if sync else acc.no_sync(model):
                loss = model(**batch.inputs).loss / cfg.grad_accum
                acc.backward(loss)
            window_loss += loss.detach()  # stays on the device: no sync per step
            window_tokens += batch.tokens
            run_tokens += batch.tokens
        if cfg.max_grad_norm > 0:
            acc.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        window_steps += 1
        last = step == cfg.max_steps

        if step % cfg.log_every == 0 or last:
            # One sync point per log interval: the loss leaves the GPU and ranks agree on it.
            stats = torch.stack(
                [
                    window_loss.double() / window_steps,
                    torch.tensor(float(window_tokens), device=acc.device, dtype=torch.float64),
                ]
            )
            stats = acc.reduce(stats, "sum")
            loss_value = float(stats[0]) / acc.num_processes
            tokens = int(stats[1])
            elapsed = max(1e-9, time.perf_counter() - window_start)
            tps = tokens / elapsed
            tokens_seen += tokens
            record = {
                "step": step,
                "loss": round(loss_value, 6),
                "lr": scheduler.get_last_lr()[0],
                "tokens_per_s": round(tps, 1),
            }
            if peak:
                record["mfu"] = round(flops * tps / (peak * acc.num_processes), 4)
            losses.append(record)
            if acc.is_main_process:
                log.info(
                    "step %d loss %.4f lr %.2e tokens/s %.0f%s",
                    step,
                    loss_value,
                    record["lr"],
                    tps,
                    f" mfu {record['mfu']:.1%}" if "mfu" in record else "",
                )
                if on_log:
                    on_log(record)
            window_loss, window_steps, window_tokens = torch.zeros((), device=acc.device), 0, 0
            window_start = time.perf_counter()
        train_time += time.perf_counter() - step_start

        if step % cfg.save_every == 0 or last:
            save_start = time.perf_counter()
            save(step)
            window_start += time.perf_counter() - save_start  # saving is not training time

    result.step, result.tokens_seen, result.losses = step, tokens_seen, losses
    if run_tokens and train_time > 0:
        result.tokens_per_s = run_tokens * acc.num_processes / train_time
        if peak:
            result.mfu = flops * result.tokens_per_s / (peak * acc.num_processes)
    eff = getattr(batches, "packing_efficiency", None)
    result.packing_efficiency = float(eff) if eff is not None else None
    return result
