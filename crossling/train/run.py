"""A whole training run: resolve it once (:func:`prepare_run`), then execute it on each rank.

``prepare_run`` happens in one process before anything is launched: it opens the corpus version,
trains or reuses the tokenizer of that version, picks the run (a run trained with the same resolved
config is resumed, a finished one is returned as it is), and writes the ids of every row training
could read. The result is a :class:`RunPlan`, plain JSON, which ``torchrun`` workers read back.

``execute`` builds the model and this rank's batches for the objective, finds the newest checkpoint
to resume from, and runs :func:`crossling.train.loop.train`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from crossling.storage import DataRoot, file_sha256, new_version
from crossling.tokenizer import TokenizerConfig, ensure_tokenizer, load_tokenizer
from crossling.train import finetune, pretrain
from crossling.train.checkpoint import (
    TRAIN_IDS,
    Checkpointer,
    code_version,
    find_run,
    latest_checkpoint,
    list_checkpoints,
    read_metadata,
    run_config_hash,
)
from crossling.train.config import TrainConfig, hashed_fields, resolve
from crossling.train.corpus import TrainCorpus
from crossling.train.loop import LoopConfig, make_accelerator, train
from crossling.train.models import MaskedPositionsMLM, model_kind, unwrap_state_dict

log = logging.getLogger(__name__)


@dataclasses.dataclass
class RunPlan:
    """A resolved run: what every process needs to train it, as JSON."""

    config: dict[str, Any]  # the resolved TrainConfig
    config_hash: str  # of the fields that change the weights, plus corpus and tokenizer identity
    model_name: str
    run_version: str  # <UTC timestamp>-<config_hash>
    run_dir: str  # <out_root>/models/<model_name>/<run_version>
    model_kind: str  # encoder | seq2seq | classifier
    corpus: dict[str, Any]  # lineage: root, name, version, manifest_sha256
    tokenizer: dict[str, str]  # lineage: path, sha256
    languages: list[str]  # codes the run trains on
    train_ids_path: str  # URI of the Parquet of ids / content hashes training could read
    labels: list[str] | None = None  # classification: label names by id
    flow_run_id: str | None = None

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig(**self.config)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> RunPlan:
        return cls(**json.loads(text))

    def finished_step(self) -> int | None:
        """The step of the final checkpoint when the run is already complete."""
        latest = latest_checkpoint(self.run_dir)
        if latest and latest[0] >= int(self.config["max_steps"]):
            return latest[0]
        return None


def _tokenizer_for(cfg: TrainConfig, corpus: TrainCorpus) -> dict[str, str]:
    """Lineage of the tokenizer a run uses: the init_from directory's own, else the corpus's."""
    if cfg.init_from and any(
        os.path.exists(os.path.join(cfg.init_from, f))
        for f in ("tokenizer.json", "tokenizer_config.json")
    ):
        name = next(
            f
            for f in ("sentencepiece.bpe.model", "tokenizer.json", "tokenizer_config.json")
            if os.path.exists(os.path.join(cfg.init_from, f))
        )
        return {
            "path": cfg.init_from,
            "sha256": file_sha256(DataRoot(cfg.init_from).fs, os.path.join(cfg.init_from, name)),
        }
    assert cfg.out_root is not None
    info = ensure_tokenizer(
        cfg.out_root, corpus, TokenizerConfig(vocab_size=cfg.tokenizer_vocab_size, seed=cfg.seed)
    )
    return info.lineage()


def validate(cfg: TrainConfig) -> TrainCorpus:
    """Cheap checks that the config fits the data, before anything is trained; returns the corpus.

    Raises:
        crossling.train.corpus.CorpusNotFound: the corpus or version does not exist.
        ValueError: the objective needs data the corpus or config does not have (one line).
    """
    corpus = TrainCorpus.open(cfg.data_root, cfg.corpus, cfg.version)
    where = f"corpus {corpus.name}@{corpus.version}"
    if cfg.init_from and not os.path.isdir(cfg.init_from):
        raise ValueError(f"init_from {cfg.init_from!r} is not a local directory")
    if cfg.objective in ("mlm", "tlm") and not pretrain.languages(cfg, corpus):
        raise ValueError(
            f"{where} has no DOCS train rows" + (f" in {cfg.languages}" if cfg.languages else "")
        )
    if cfg.objective in ("tlm", "translation") and not corpus.pair_counts():
        raise ValueError(f"{where} has no PAIRS train rows: {cfg.objective} needs parallel data")
    if cfg.objective == "translation" and not finetune.translation_languages(cfg, corpus):
        raise ValueError(f"{where} has no PAIRS in the directions {cfg.directions}")
    if cfg.objective == "classification":
        finetune.classification_data(cfg)
    return corpus


def prepare_run(cfg: TrainConfig, *, flow_run_id: str | None = None) -> RunPlan:
    """Resolve a run: corpus, tokenizer, run version (resumed when possible), training ids.

    Raises:
        crossling.train.corpus.CorpusNotFound: the corpus or version does not exist.
        ValueError: the config does not fit the data (e.g. TLM without PAIRS).
    """
    cfg = resolve(cfg)
    corpus = validate(cfg)
    cfg = cfg.model_copy(update={"version": corpus.version})
    tokenizer = _tokenizer_for(cfg, corpus)
    labels = None
    if cfg.objective in ("mlm", "tlm"):
        languages = pretrain.languages(cfg, corpus)
        if not languages:
            raise ValueError(
                f"corpus {corpus.name}@{corpus.version} has no DOCS languages to train on"
            )
    elif cfg.objective == "translation":
        languages = finetune.translation_languages(cfg, corpus)
        if not languages:
            raise ValueError(
                f"corpus {corpus.name}@{corpus.version} has no PAIRS for the requested directions"
            )
    else:
        rows, labels = finetune.classification_data(cfg)
        languages = sorted({r["lang"] for r in rows})

    identity = {
        "config": hashed_fields(cfg),
        "corpus": corpus.lineage() | {"root": None},
        "tokenizer_sha256": tokenizer["sha256"],
    }
    cfg_hash = run_config_hash(identity)
    assert cfg.out_root is not None and cfg.model_name is not None
    out = DataRoot(cfg.out_root)
    model_dir = out.join("models", cfg.model_name)
    run_version = (find_run(model_dir, cfg_hash) if cfg.resume else None) or new_version(cfg_hash)
    run_dir = os.path.join(model_dir, run_version)
    os.makedirs(run_dir, exist_ok=True)

    ids_path = os.path.join(run_dir, TRAIN_IDS)
    if not os.path.exists(ids_path):
        if cfg.objective == "classification":
            _write_labeled_ids(ids_path, finetune.labeled_train_ids(rows))
        elif cfg.objective == "translation":
            corpus.write_train_ids(ids_path, docs_langs=[], pairs=True)
        else:
            corpus.write_train_ids(ids_path, docs_langs=languages, pairs=cfg.objective == "tlm")
    return RunPlan(
        config=cfg.model_dump(),
        config_hash=cfg_hash,
        model_name=cfg.model_name,
        run_version=run_version,
        run_dir=run_dir,
        model_kind=model_kind(cfg.objective),
        corpus=corpus.lineage(),
        tokenizer=tokenizer,
        languages=languages,
        train_ids_path=out.uri(ids_path),
        labels=labels,
        flow_run_id=flow_run_id,
    )


def _write_labeled_ids(path: str, rows: list[tuple[str, str, str]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crossling.storage import atomic_open

    schema = pa.schema([("id", pa.string()), ("content_hash", pa.string()), ("kind", pa.string())])
    table = pa.table(
        [list(c) for c in zip(*rows, strict=True)] if rows else [[], [], []], schema=schema
    )
    with atomic_open(DataRoot(os.path.dirname(path)).fs, path, "wb") as f:
        pq.write_table(table, f)


def _metadata_fn(plan: RunPlan) -> Callable[[int, int, list[dict[str, Any]]], dict[str, Any]]:
    cfg = plan.config

    def metadata(step: int, tokens_seen: int, losses: list[dict[str, Any]]) -> dict[str, Any]:
        meta = {
            "model_name": plan.model_name,
            "run_version": plan.run_version,
            "step": step,
            "objective": cfg["objective"],
            "model_kind": plan.model_kind,
            "preset": cfg["preset"],
            "config": cfg,
            "corpus": plan.corpus,
            "tokenizer": plan.tokenizer,
            "tokens_seen": tokens_seen,
            "losses": [{"step": r["step"], "loss": r["loss"]} for r in losses],
            "code_version": code_version(),
            "flow_run_id": plan.flow_run_id,
            "created_at": datetime.now(UTC).isoformat(),
            "train_ids_path": plan.train_ids_path,
            "languages": plan.languages,
            "world_size": int(os.environ.get("WORLD_SIZE", "1")),
            "throughput": [
                {k: r[k] for k in ("step", "tokens_per_s", "mfu", "lr") if k in r} for r in losses
            ],
        }
        if plan.labels is not None:
            meta["labels"] = plan.labels
        return meta

    return metadata


def _resume_point(plan: RunPlan) -> str | None:
    if not plan.config.get("resume", True):
        return None
    latest = latest_checkpoint(plan.run_dir, with_train_state=True)
    return latest[1] if latest else None


def execute(
    plan: RunPlan,
    *,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    on_checkpoint: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Train the planned run in this process (one rank of it under torchrun); returns a summary.

    A finished run (its last checkpoint is at ``max_steps``) is not trained again.
    """
    import torch
    import transformers
    from accelerate.utils import set_seed

    cfg = plan.train_config
    assert cfg.max_steps is not None and cfg.lr is not None and cfg.warmup_steps is not None
    if (done := plan.finished_step()) is not None:
        log.info(
            "%s/%s is complete at step %d: nothing to train",
            plan.model_name,
            plan.run_version,
            done,
        )
        return summary(plan, None)
    loop_cfg = LoopConfig(
        max_steps=cfg.max_steps,
        lr=cfg.lr,
        warmup_steps=cfg.warmup_steps,
        min_lr_ratio=cfg.min_lr_ratio,
        weight_decay=cfg.weight_decay,
        betas=(0.9, cfg.adam_beta2),
        max_grad_norm=cfg.max_grad_norm,
        grad_accum=cfg.grad_accum,
        save_every=cfg.save_every,
        log_every=cfg.log_every,
        precision=cfg.precision,
        distributed=cfg.distributed,
        seq_len_for_flops=cfg.seq_len if cfg.objective in ("mlm", "tlm") else cfg.max_len,
    )
    # Per-checkpoint "Writing model shards" bars would drown the training log.
    transformers.utils.logging.disable_progress_bar()
    acc = make_accelerator(loop_cfg)
    training_module = None
    rank, world = acc.process_index, acc.num_processes
    # Same initial weights on every rank (DDP also broadcasts them), different data per rank.
    set_seed(cfg.seed)
    resume_from = _resume_point(plan)
    tok = load_tokenizer(resume_from or plan.tokenizer["path"])
    corpus = TrainCorpus.open(cfg.data_root, cfg.corpus, cfg.version)
    if cfg.objective in ("mlm", "tlm"):
        model, batches = pretrain.build(
            cfg, corpus, tok, resume_from=resume_from, rank=rank, world_size=world
        )
        if cfg.sparse_mlm_head and MaskedPositionsMLM.supports(model):
            training_module = MaskedPositionsMLM(model)
            loop_cfg = dataclasses.replace(loop_cfg, head_fraction=cfg.mlm_probability)
    elif cfg.objective == "translation":
        model, batches = finetune.build_translation(
            cfg, corpus, tok, resume_from=resume_from, rank=rank, world_size=world
        )
    else:
        model, batches, _ = finetune.build_classification(
            cfg, tok, resume_from=resume_from, rank=rank, world_size=world
        )

    module = training_module if training_module is not None else model

    def save_model(path: str, state: dict[str, torch.Tensor] | None) -> None:
        model.save_pretrained(path, state_dict=unwrap_state_dict(state, module))
        tok.save_pretrained(path)

    def checkpointer(rank: int, barrier: Callable[[], None]) -> Checkpointer:
        return Checkpointer(
            plan.run_dir,
            save_model,
            _metadata_fn(plan),
            keep_train_state=cfg.keep_train_state,
            rank=rank,
            barrier=barrier,
        )

    threads = torch.get_num_threads()
    if acc.device.type == "cpu" and (n := cfg.cpu_threads or (1 if cfg.preset == "tiny" else None)):
        torch.set_num_threads(n)
    try:
        result = train(
            module,
            batches,
            loop_cfg,
            checkpointer,
            resume_from=resume_from,
            on_log=on_log,
            on_checkpoint=on_checkpoint,
            accelerator=acc,
        )
    finally:
        torch.set_num_threads(threads)
    out = summary(plan, result)
    out["data"] = batches.describe()
    return out


def summary(plan: RunPlan, result: Any | None) -> dict[str, Any]:
    """What a run produced: checkpoints, losses, throughput (from the last metadata when idle)."""
    ckpts = [p for _, p in list_checkpoints(plan.run_dir)]
    meta = read_metadata(ckpts[-1]) if ckpts else {}
    losses = result.losses if result is not None else meta.get("throughput", [])
    if result is None and meta:
        by_step = {r["step"]: r for r in losses}
        losses = [{**by_step.get(r["step"], {}), **r} for r in meta.get("losses", [])]
    return {
        "model_name": plan.model_name,
        "run_version": plan.run_version,
        "run_dir": plan.run_dir,
        "objective": plan.config["objective"],
        "model_kind": plan.model_kind,
        "preset": plan.config["preset"],
        "corpus": plan.corpus,
        "step": result.step if result is not None else meta.get("step", 0),
        "tokens_seen": result.tokens_seen if result is not None else meta.get("tokens_seen", 0),
        "losses": losses,
        "checkpoints": ckpts,
        "checkpoint": ckpts[-1] if ckpts else None,
        "new_checkpoints": result.checkpoints if result is not None else [],
        "resumed_from": result.resumed_from if result is not None else None,
        "trained": result is not None,
        "tokens_per_s": result.tokens_per_s if result is not None else None,
        "mfu": result.mfu if result is not None else None,
        "packing_efficiency": result.packing_efficiency if result is not None else None,
        "train_ids_path": plan.train_ids_path,
        "languages": plan.languages,
    }


def run_training(
    cfg: TrainConfig,
    *,
    flow_run_id: str | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    on_checkpoint: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Prepare and execute a run in this process (CPU or one GPU)."""
    plan = prepare_run(cfg, flow_run_id=flow_run_id)
    return execute(plan, on_log=on_log, on_checkpoint=on_checkpoint)
