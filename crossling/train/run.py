"""A whole training run: resolve it once (:func:`prepare_run`), then execute it on each rank.

``prepare_run`` happens in one process before anything is launched: it finds where the run starts
(a checkpoint to continue from, see :func:`starting_point`), opens the corpus versions it reads,
trains or reuses the tokenizer, picks the run (a run with the same resolved config, data and
starting point is resumed, a finished one is returned as it is), and writes the ids of every row
the weights could have seen. The result is a :class:`RunPlan`, plain JSON, which ``torchrun``
workers read back.

``execute`` builds the model and this rank's batches through the objective's registry entry
(``crossling.train.objectives``), finds the newest checkpoint to resume from, and runs
:func:`crossling.train.loop.train`.

Retraining modes (``TrainConfig.mode``, docs/CONTRACTS.md): ``continue`` starts from the newest
checkpoint of the model that has not seen the corpus version and reads only the versions it has
not seen; ``full`` trains a new model on the corpus as it stands. Either way the checkpoint's
``corpus_versions`` lists every version its weights have seen.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from crossling import registry
from crossling.corpus import CorpusVersion
from crossling.storage import DataRoot, file_sha256, new_version
from crossling.tokenizer import TokenizerConfig, ensure_tokenizer, load_tokenizer
from crossling.train.checkpoint import (
    METADATA,
    TRAIN_IDS,
    Checkpointer,
    code_version,
    find_run,
    latest_checkpoint,
    list_checkpoints,
    read_metadata,
    run_config_hash,
)
from crossling.train.config import (
    CAUSAL_OBJECTIVES,
    CONTINUE,
    TrainConfig,
    hashed_fields,
    resolve,
)
from crossling.train.corpus import SKIPPED_METHODS, TrainCorpus
from crossling.train.loop import LoopConfig, make_accelerator, train
from crossling.train.models import model_dir_kind, unwrap_state_dict
from crossling.train.objectives import get_objective

log = logging.getLogger(__name__)


@dataclasses.dataclass
class RunPlan:
    """A resolved run: what every process needs to train it, as JSON."""

    config: dict[str, Any]  # the resolved TrainConfig (init_from: the starting point, if any)
    config_hash: str  # of the fields that change the weights, data read, tokenizer, start
    model_name: str
    run_version: str  # <UTC timestamp>-<config_hash>
    run_dir: str  # <out_root>/models/<model_name>/<run_version>
    model_kind: str  # encoder | seq2seq | classifier | causal
    corpus: dict[str, Any]  # lineage of the head version: root, name, version, manifest_sha256
    tokenizer: dict[str, str]  # lineage: path, sha256
    languages: list[str]  # codes trained on (continuing: this run's and its start's)
    train_ids_path: str  # URI of the Parquet of ids / content hashes the weights could have seen
    labels: list[str] | None = None  # classification: label names by id
    flow_run_id: str | None = None
    # {name, version, manifest_sha256} of every corpus version the weights have seen, oldest
    # first (the starting point's, then this run's), and of the versions this run reads.
    corpus_versions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    trained_on: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    parent_checkpoint: str | None = None  # the checkpoint this run continues from

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


# --- where a run starts ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StartPoint:
    """A model directory a run starts from: a crossling checkpoint (with its metadata) or not."""

    path: str
    metadata: dict[str, Any]  # empty for a directory that is not a crossling checkpoint

    @property
    def seen(self) -> list[dict[str, Any]]:
        """Every corpus version its weights have seen (older metadata: the one it trained on)."""
        m = self.metadata
        if m.get("corpus_versions"):
            return list(m["corpus_versions"])
        return [m["corpus"]] if m.get("corpus") else []

    def seen_versions(self, corpus: str) -> set[str]:
        return {v["version"] for v in self.seen if v.get("name") == corpus}


def _lineage_entry(v: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get(k) for k in ("name", "version", "manifest_sha256")}


def _checkpoint_metadata(path: str) -> dict[str, Any]:
    return read_metadata(path) if os.path.exists(os.path.join(path, METADATA)) else {}


def starting_point(cfg: TrainConfig, head: str | None = None) -> StartPoint | None:
    """Where a run starts: ``init_from``; else, in ``continue`` mode, the newest checkpoint of the
    model that has not seen corpus version ``head`` (only older ones); else nowhere (a new model).

    Args:
        cfg: a resolved config.
        head: the corpus version the run is for (default: ``cfg.version``).
    """
    if cfg.init_from:
        return StartPoint(cfg.init_from, _checkpoint_metadata(cfg.init_from))
    objective = get_objective(cfg.objective)
    if cfg.mode != CONTINUE or not objective.continues:
        return None
    head = head or cfg.version
    assert cfg.out_root is not None and cfg.model_name is not None
    for ref in reversed(registry.find_checkpoints(cfg.out_root, cfg.model_name)):
        meta = ref.metadata()
        start = StartPoint(ref.path, meta)
        seen = start.seen_versions(cfg.corpus)
        if (
            meta.get("objective") == cfg.objective
            and (meta.get("corpus") or {}).get("name") == cfg.corpus
            and seen
            and head not in seen
            and max(seen) < head  # versions are sortable timestamps: only older data
        ):
            return start
    return None


def open_corpus(cfg: TrainConfig, start: StartPoint | None) -> TrainCorpus:
    """The versions a run reads: the chain at ``cfg.version``, minus what ``start`` has seen when
    it was trained with the same objective (an MLM checkpoint fine-tuned for translation reads
    the PAIRS of every version: it has not trained on them)."""
    same = start is not None and start.metadata.get("objective") == cfg.objective
    exclude = start.seen_versions(cfg.corpus) if same else set()
    return TrainCorpus.open(
        cfg.data_root, cfg.corpus, cfg.version, exclude=exclude, skip_methods=skip_methods(cfg)
    )


def skip_methods(cfg: TrainConfig) -> frozenset[str]:
    """PAIRS methods a run does not read: distilled pairs unless ``include_distilled``."""
    return frozenset() if cfg.include_distilled else SKIPPED_METHODS


def _tokenizer_for(
    cfg: TrainConfig, corpus: TrainCorpus, start: StartPoint | None = None
) -> dict[str, str]:
    """Lineage of the tokenizer a run uses: the init_from directory's own, else the corpus's.

    A crossling checkpoint keeps the identity (sha256) of the tokenizer it was trained with; its
    directory holds a copy, which is what the run loads.
    """
    known = (start.metadata.get("tokenizer") or {}).get("sha256") if start else None
    if cfg.init_from and known:
        return {"path": cfg.init_from, "sha256": known}
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


def _check_local_out(cfg: TrainConfig) -> None:
    """Training writes tokenizers and checkpoints to a local root (``save_pretrained`` and renames
    need one); the corpus it reads may be on an object store."""
    out = cfg.out_root or cfg.data_root
    if "://" in out and not out.startswith("file://"):
        raise ValueError(
            f"out root {out!r}: training writes its tokenizer and checkpoints to a local folder; "
            "give a local out root (--out DIR; the corpus may stay on the object store) and copy "
            "the run up with crossling.storage.upload_tree to evaluate it there"
        )


def check_init_from(cfg: TrainConfig) -> None:
    """``init_from`` must be a model directory the objective can start from.

    A crossling checkpoint (it has metadata.json) is checked when it is loaded; any other
    directory must be a Hugging Face model with safetensors weights of a kind the objective
    trains (:func:`crossling.train.models.model_dir_kind`).

    Raises:
        ValueError: one line naming the directory and the problem.
    """
    if not cfg.init_from:
        return
    if not os.path.isdir(cfg.init_from):
        raise ValueError(f"init_from {cfg.init_from!r} is not a local directory")
    objective = get_objective(cfg.objective)
    kind = model_dir_kind(cfg.init_from)
    if objective.init_kinds and kind not in objective.init_kinds:
        raise ValueError(
            f"{cfg.init_from}: holds a{'n' if kind[0] in 'aeiou' else ''} {kind} model; "
            f"objective {cfg.objective} starts from "
            f"{' or '.join(objective.init_kinds)} models"
        )


def validate(cfg: TrainConfig) -> TrainCorpus:
    """Cheap checks that a resolved config fits the data, before anything is trained; returns the
    corpus versions the run would read.

    Raises:
        crossling.corpus.CorpusNotFound: the corpus or version does not exist.
        ValueError: the objective needs data the corpus or config does not have (one line).
    """
    objective = get_objective(cfg.objective)
    check_init_from(cfg)
    _check_local_out(cfg)
    head = CorpusVersion.open(cfg.data_root, cfg.corpus, cfg.version)
    corpus = open_corpus(cfg, starting_point(cfg, head.version))
    objective.check(cfg, corpus)
    return corpus


def prepare_run(cfg: TrainConfig, *, flow_run_id: str | None = None) -> RunPlan:
    """Resolve a run: start, corpus versions, tokenizer, run version (resumed when possible),
    training ids.

    Raises:
        crossling.corpus.CorpusNotFound: the corpus or version does not exist.
        ValueError: the config does not fit the data (e.g. TLM without PAIRS).
    """
    cfg = resolve(cfg)
    _check_local_out(cfg)
    objective = get_objective(cfg.objective)
    check_init_from(cfg)
    head = CorpusVersion.open(cfg.data_root, cfg.corpus, cfg.version)
    cfg = cfg.model_copy(update={"version": head.version})
    start = starting_point(cfg)
    corpus = open_corpus(cfg, start)
    objective.check(cfg, corpus)
    if start is not None:
        cfg = cfg.model_copy(update={"init_from": start.path})
    tokenizer = _tokenizer_for(cfg, corpus, start)
    labels = objective.labels(cfg)
    languages = objective.languages(cfg, corpus)
    if not languages:
        raise ValueError(f"corpus {corpus.name}@{corpus.version}: nothing to train {cfg.objective}")
    trained_on = corpus.versions_lineage() if objective.reads_corpus else []
    inherited = start.seen if start else []
    seen_keys = {(v.get("name"), v.get("version")) for v in inherited}
    corpus_versions = [_lineage_entry(v) for v in inherited] + [
        v for v in trained_on if (v["name"], v["version"]) not in seen_keys
    ]
    if start and start.metadata.get("objective") == cfg.objective:  # a continued model
        languages = sorted(set(languages) | set(start.metadata.get("languages") or []))

    identity = {
        "config": hashed_fields(cfg),
        "corpus": corpus.lineage() | {"root": None},
        "trained_on": trained_on,
        "tokenizer_sha256": tokenizer["sha256"],
        "start": start.path if start else None,
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
        parent_ids = (start.metadata.get("train_ids_path") if start else None) or None
        objective.write_train_ids(cfg, corpus, ids_path, inherited=parent_ids)
    if start:
        log.info("%s continues from %s", cfg.model_name, start.path)
    return RunPlan(
        config=cfg.model_dump(),
        config_hash=cfg_hash,
        model_name=cfg.model_name,
        run_version=run_version,
        run_dir=run_dir,
        model_kind=objective.model_kind,
        corpus=corpus.lineage(),
        tokenizer=tokenizer,
        languages=languages,
        train_ids_path=out.uri(ids_path),
        labels=labels,
        flow_run_id=flow_run_id,
        corpus_versions=corpus_versions,
        trained_on=trained_on,
        parent_checkpoint=start.path if start and start.metadata else None,
    )


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
            "corpus_versions": plan.corpus_versions,
            "trained_on": plan.trained_on,
            "parent_checkpoint": plan.parent_checkpoint,
            "mode": cfg.get("mode", CONTINUE),
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
        if cfg["objective"] in CAUSAL_OBJECTIVES:
            # How documents were drawn (FineWeb-2 style rehydration, language sampling).
            meta["sampling"] = {
                "alpha": cfg.get("alpha"),
                "rehydration": cfg.get("rehydration"),
                "prompt_template": cfg.get("prompt_template")
                if cfg["objective"] == "clm-translation"
                else None,
            }
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
    objective = get_objective(cfg.objective)
    # Per-checkpoint "Writing model shards" bars would drown the training log.
    transformers.utils.logging.disable_progress_bar()
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
        seq_len_for_flops=objective.flops_seq_len(cfg),
        save_initial=cfg.save_initial,
        compile=cfg.compile == "on"
        or (
            cfg.compile == "auto"
            and cfg.objective in CAUSAL_OBJECTIVES
            and torch.cuda.is_available()
        ),
    )
    acc = make_accelerator(loop_cfg)
    rank, world = acc.process_index, acc.num_processes
    # Same initial weights on every rank (DDP also broadcasts them), different data per rank.
    set_seed(cfg.seed)
    resume_from = _resume_point(plan)
    tok = load_tokenizer(resume_from or plan.tokenizer["path"])
    corpus = (
        TrainCorpus.open(
            cfg.data_root,
            cfg.corpus,
            cfg.version,
            exclude=_excluded(plan, cfg.corpus),
            skip_methods=skip_methods(cfg),
        )
        if objective.reads_corpus
        else None
    )
    model, batches, module = objective.build(
        cfg, corpus, tok, resume_from=resume_from, rank=rank, world_size=world
    )
    loop_cfg = dataclasses.replace(loop_cfg, head_fraction=objective.head_fraction(cfg, module))

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


def _excluded(plan: RunPlan, corpus: str) -> set[str]:
    """Versions of ``corpus`` the run does not read: those seen before it (not in trained_on)."""
    read = {v["version"] for v in plan.trained_on}
    return {
        v["version"]
        for v in plan.corpus_versions
        if v["name"] == corpus and v["version"] not in read
    }


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
        "corpus_versions": plan.corpus_versions,
        "trained_on": plan.trained_on,
        "parent_checkpoint": plan.parent_checkpoint,
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
