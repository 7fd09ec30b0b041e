"""Training batches streamed from Parquet shards, resumable to the exact row and token.

The layers, bottom up:

- :class:`RowStream`: the ``split == "train"`` rows of some shards, forever (epochs), in a seeded
  order: files shuffled per epoch, rows shuffled within each read batch. Its position is four
  integers, so resuming never re-reads more than one read batch.
- :class:`ItemStream`: a row stream turned into token-id items (a document, a TLM pair, a
  translation example), tokenized a chunk of rows at a time with the fast tokenizer.
- :class:`Mixture`: picks the source of the next item with temperature sampling,
  p ∝ n ** alpha (XLM-R's alpha = 0.3), from a seeded generator.
- :class:`MLMBatches`, :class:`CLMBatches`, :class:`TranslationBatches`,
  :class:`ClassificationBatches`: the batch sources the training loop pulls from. MLM/TLM
  sequences are *packed*: documents are concatenated (``... </s> next doc ...``) and cut into
  fixed-length sequences, so no position is padding. Causal-LM rows are packed too, with
  ``position_ids`` restarting at every document so attention stays inside it.

Everything that decides what comes next has ``state_dict``/``load_state_dict`` (plain JSON), and
masking draws from a generator seeded by the batch index, so a resumed run sees the same batches,
masked the same way, as one that never stopped. Held-out rows are filtered out when rows are read
and never reach a tokenizer.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch

from crossling.documents import content_hash, split_of
from crossling.tokenizer import BT_TAG, lang_tag
from crossling.train.corpus import TRAIN, Shard, TrainCorpus, read_shard, temperature_probs

IGNORE_INDEX = -100  # labels the loss skips (transformers' convention)
# PAIRS.method values whose (synthetic) source gets the <BT> tag (crossling.augment).
TAGGED_METHODS = frozenset({"bt-tagged"})


@dataclass(frozen=True)
class DataConfig:
    """How training data is read, mixed, packed and masked."""

    # Tokens per packed MLM/TLM sequence, <s> included. 512 is XLM-R's; tiny models use 128.
    seq_len: int = 512
    # Language sampling exponent, p ∝ n ** alpha: 1.0 follows the data, 0.0 is uniform.
    alpha: float = 0.3
    # Share of tokens selected for MLM prediction (BERT/XLM-R: 0.15).
    mlm_probability: float = 0.15
    # Of the selected tokens: this share becomes <mask>, the same share of the rest a random
    # token, and the remainder stays as it is (the 80/10/10 rule).
    mask_replace_share: float = 0.8
    # TLM objective only: share of sequences made of PAIRS (the rest are MLM on DOCS), as XLM
    # alternates MLM and TLM.
    tlm_share: float = 0.5
    # Longest source / target of a translation example, in tokens (specials included).
    max_pair_tokens: int = 128
    # Rows per Parquet read batch: the unit of within-batch shuffling and of re-reading on resume.
    read_rows: int = 1024
    # Rows tokenized per tokenizer call (the fast tokenizer is much faster on batches).
    tokenize_rows: int = 64
    # Seeds file order, row order, language choices and masking.
    seed: int = 0


def _seeded(*parts: Any) -> random.Random:
    # random.Random seeds a str through sha512: stable across processes and PYTHONHASHSEED.
    return random.Random(":".join(str(p) for p in parts))


def _rng_state(r: random.Random) -> list[Any]:
    version, internal, gauss = r.getstate()
    return [version, list(internal), gauss]


def _set_rng_state(r: random.Random, state: list[Any]) -> None:
    r.setstate((state[0], tuple(state[1]), state[2]))


# --- rows ---------------------------------------------------------------------------------------------


class RowStream:
    """Train rows of some shards, forever: a seeded file order per epoch, rows shuffled per batch.

    Shards are files listed by their versions' manifests (:meth:`TrainCorpus.docs_shards`). Rows
    are dicts of ``columns``. With several ranks each keeps every ``world_size``-th row, so ranks
    see disjoint rows. ``where`` keeps rows whose columns equal the given values.
    """

    def __init__(
        self,
        shards: list[Shard],
        columns: list[str],
        *,
        key: str,
        seed: int = 0,
        read_rows: int = 1024,
        where: dict[str, Any] | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not shards:
            raise ValueError(f"row stream {key}: no files")
        self.shards, self.columns, self.key = shards, columns, key
        self.seed, self.read_rows, self.where = seed, read_rows, dict(where or {})
        self.rank, self.world_size = rank, world_size
        # Position: epoch, index in this epoch's file order, read batch in the file, row in it;
        # `seen` counts train rows over all ranks (the sharding counter), `epoch_rows` those of
        # this epoch (an epoch without any means there is nothing to train on).
        self.pos = {"epoch": 0, "file": 0, "batch": 0, "row": 0, "seen": 0, "epoch_rows": 0}
        self._rows: list[dict[str, Any]] | None = None
        self._reader: Iterator[pa.RecordBatch] | None = None
        self._reader_at: tuple[int, int, int] | None = None  # (epoch, file, next batch) it yields

    def __iter__(self) -> RowStream:
        return self

    def _file_order(self, epoch: int) -> list[int]:
        order = list(range(len(self.shards)))
        _seeded(self.seed, self.key, "files", epoch).shuffle(order)
        return order

    def _read_batch(self) -> pa.RecordBatch | None:
        """The current read batch of the current file, or None past the file's end."""
        p = self.pos
        at = (p["epoch"], p["file"], p["batch"])
        if self._reader is None or self._reader_at != at:
            shard = self.shards[self._file_order(p["epoch"])[p["file"]]]
            self._reader = read_shard(
                shard, self.columns, extra=self.where, batch_size=self.read_rows
            )
            for _ in range(p["batch"]):  # resume inside a file: skip whole read batches
                if next(self._reader, None) is None:
                    break
            self._reader_at = at
        batch = next(self._reader, None)
        self._reader_at = (p["epoch"], p["file"], p["batch"] + 1)
        return batch

    def _load(self) -> None:
        batch = self._read_batch()
        p = self.pos
        if batch is None:  # end of file: next file, or next epoch
            p["file"], p["batch"], p["row"] = p["file"] + 1, 0, 0
            if p["file"] == len(self.shards):
                if p["epoch_rows"] == 0:
                    raise ValueError(
                        f"row stream {self.key}: no train rows in {len(self.shards)} file(s)"
                    )
                p["epoch"], p["file"], p["epoch_rows"] = p["epoch"] + 1, 0, 0
            self._rows = None
            return
        for col, value in self.where.items():
            batch = batch.filter(pc.fill_null(pc.equal(batch.column(col), value), False))
        rows = batch.select(self.columns).to_pylist()
        _seeded(self.seed, self.key, "rows", p["epoch"], p["file"], p["batch"]).shuffle(rows)
        self._rows = rows

    def __next__(self) -> dict[str, Any]:
        while True:
            if self._rows is None:
                self._load()
                continue
            p = self.pos
            if p["row"] >= len(self._rows):
                p["batch"], p["row"], self._rows = p["batch"] + 1, 0, None
                continue
            row = self._rows[p["row"]]
            p["row"] += 1
            p["seen"] += 1
            p["epoch_rows"] += 1
            if (p["seen"] - 1) % self.world_size == self.rank:
                return row

    def state_dict(self) -> dict[str, Any]:
        return dict(self.pos)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pos = dict(state)
        self._rows, self._reader, self._reader_at = None, None, None
        row = self.pos["row"]
        if row:  # re-read the batch we were in, then continue at the same row
            self.pos["row"] = 0
            self._load()
            self.pos["row"] = row


# --- items ---------------------------------------------------------------------------------------------


class ItemStream:
    """Token-id items made from a row stream, ``chunk`` rows per tokenizer call.

    The position is the row stream's position at the start of the current chunk plus the items
    of the chunk already handed out: resuming re-tokenizes one chunk, nothing more.
    """

    def __init__(
        self, rows: RowStream, encode: Callable[[list[dict[str, Any]]], list[Any]], chunk: int = 64
    ) -> None:
        self.rows, self.encode, self.chunk = rows, encode, chunk
        self._start: dict[str, Any] | None = None
        self._items: list[Any] = []
        self._used = 0

    def __iter__(self) -> ItemStream:
        return self

    def _refill(self) -> None:
        self._start = self.rows.state_dict()
        batch = [next(self.rows) for _ in range(self.chunk)]
        self._items, self._used = self.encode(batch), 0

    def __next__(self) -> Any:
        while self._used >= len(self._items):  # a chunk may give no items (all rows skipped)
            self._refill()
        item = self._items[self._used]
        self._used += 1
        return item

    def state_dict(self) -> dict[str, Any]:
        if self._start is None:
            return {"rows": self.rows.state_dict(), "used": 0}
        return {"rows": self._start, "used": self._used}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows.load_state_dict(state["rows"])
        self._start, self._items, self._used = None, [], 0
        if state["used"]:
            self._refill()
            self._used = state["used"]


class Mixture:
    """Picks the next item's source with fixed probabilities from a seeded generator."""

    def __init__(self, sources: dict[str, ItemStream], probs: dict[str, float], seed: Any) -> None:
        self.keys = sorted(k for k in probs if probs[k] > 0 and k in sources)
        if not self.keys:
            raise ValueError("nothing to sample from")
        self.sources = sources
        total = sum(probs[k] for k in self.keys)
        self.cum = list(np.cumsum([probs[k] / total for k in self.keys]))
        self.probs = {k: probs[k] / total for k in self.keys}
        self.rng = _seeded("mixture", seed)

    def next_key(self) -> str:
        i = bisect.bisect_right(self.cum, self.rng.random())
        return self.keys[min(i, len(self.keys) - 1)]

    def __next__(self) -> tuple[str, Any]:
        key = self.next_key()
        return key, next(self.sources[key])

    def state_dict(self) -> dict[str, Any]:
        return {
            "rng": _rng_state(self.rng),
            "sources": {k: s.state_dict() for k, s in self.sources.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        _set_rng_state(self.rng, state["rng"])
        for k, s in state["sources"].items():
            self.sources[k].load_state_dict(s)


# --- batches -------------------------------------------------------------------------------------------


@dataclass
class Batch:
    """One micro-batch: the model's keyword arguments and what it holds."""

    inputs: dict[str, torch.Tensor]
    tokens: int  # real (non-pad) input tokens
    slots: int  # all input positions, padding included

    def to(self, device: torch.device | str) -> Batch:
        return Batch(
            {k: v.to(device, non_blocking=True) for k, v in self.inputs.items()},
            self.tokens,
            self.slots,
        )


class BatchSource:
    """What the training loop pulls from: ``next_batch()`` plus a JSON-able position."""

    batch_size: int

    def next_batch(self) -> Batch:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {}


def _token_id(tokenizer: Any, token: str) -> int | None:
    tid = tokenizer.convert_tokens_to_ids(token)
    return None if tid is None or tid == tokenizer.unk_token_id else int(tid)


def _encode_texts(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    if not texts:  # a chunk whose rows were all skipped (rehydration)
        return []
    # verbose=False: documents longer than model_max_length are fine here, packing cuts them.
    return tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]


class MLMBatches(BatchSource):
    """Packed, masked sequences for MLM (DOCS) and TLM (DOCS and PAIRS).

    MLM: documents of the languages mixed with temperature sampling, ``doc </s>`` concatenated
    and cut every ``seq_len - 1`` tokens behind a ``<s>``; a document continues in the next
    sequence, so no position is padding.

    TLM (``objective="tlm"``): a ``tlm_share`` of the sequences are made of translation pairs,
    ``<lang:a> source </s> <lang:b> target </s>``, masked together so the model can look up a
    masked word in the other language (XLM). A pair is never cut in two: when the next one does
    not fit, the rest of that sequence is padding.
    """

    def __init__(
        self,
        corpus: TrainCorpus,
        tokenizer: Any,
        cfg: DataConfig,
        batch_size: int,
        *,
        objective: str = "mlm",
        languages: list[str] | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if objective not in ("mlm", "tlm"):
            raise ValueError(f"MLMBatches: objective must be mlm or tlm, not {objective!r}")
        self.cfg, self.tok, self.batch_size, self.objective = cfg, tokenizer, batch_size, objective
        self.rank = rank
        self.bos, self.eos, self.pad = (
            tokenizer.bos_token_id,
            tokenizer.eos_token_id,
            tokenizer.pad_token_id,
        )
        self.mask_id = tokenizer.mask_token_id
        if None in (self.bos, self.eos, self.pad, self.mask_id):
            raise ValueError("the tokenizer needs <s>, </s>, <pad> and <mask> for masked LM")
        self.special_ids = np.array(sorted(set(tokenizer.all_special_ids)), dtype=np.int64)
        vocab = len(tokenizer)
        self.normal_ids = np.setdiff1d(np.arange(vocab, dtype=np.int64), self.special_ids)

        sizes = corpus.docs_sizes()
        if languages:
            sizes = {k: v for k, v in sizes.items() if k in languages}
        if not sizes:
            raise ValueError(
                f"corpus {corpus.name}@{corpus.version}: no DOCS train rows to train on"
            )
        self.languages = sorted(sizes)
        docs = {
            f"docs:{lang}": ItemStream(
                RowStream(
                    corpus.docs_shards(lang),
                    ["text"],
                    key=f"docs:{lang}",
                    seed=cfg.seed,
                    read_rows=cfg.read_rows,
                    rank=rank,
                    world_size=world_size,
                ),
                self._encode_docs,
                cfg.tokenize_rows,
            )
            for lang in self.languages
        }
        self.docs = Mixture(
            docs,
            {f"docs:{k}": p for k, p in temperature_probs(sizes, cfg.alpha).items()},
            (cfg.seed, rank, "docs"),
        )
        self.pairs: Mixture | None = None
        if objective == "tlm":
            directions = corpus.pair_directions()
            if not directions:
                raise ValueError(
                    f"corpus {corpus.name}@{corpus.version} has no PAIRS: TLM needs them"
                )
            streams = {}
            for d in directions:
                src, tgt = d.split("-", 1)
                streams[f"pairs:{d}"] = ItemStream(
                    RowStream(
                        corpus.pairs_shards([d]),
                        ["src_lang", "tgt_lang", "src_text", "tgt_text"],
                        key=f"pairs:{d}",
                        seed=cfg.seed,
                        read_rows=cfg.read_rows,
                        where={"src_lang": src, "tgt_lang": tgt},
                        rank=rank,
                        world_size=world_size,
                    ),
                    self._encode_pairs,
                    cfg.tokenize_rows,
                )
            probs = temperature_probs(
                {f"pairs:{d}": float(n) for d, n in directions.items()}, cfg.alpha
            )
            self.pairs = Mixture(streams, probs, (cfg.seed, rank, "pairs"))
            self.languages = sorted(
                set(self.languages) | {x for d in directions for x in d.split("-", 1)}
            )
        self.kind_rng = _seeded("kind", cfg.seed, rank)
        self.carry: list[int] = []  # the rest of a document cut at the end of a sequence
        self.pending_pair: list[int] = []  # a pair that did not fit in the last TLM sequence
        self.batches = 0
        self.tokens = 0
        self.slots = 0

    # Encoding of rows into items.
    def _encode_docs(self, rows: list[dict[str, Any]]) -> list[list[int]]:
        return [ids + [self.eos] for ids in _encode_texts(self.tok, [r["text"] for r in rows])]

    def _encode_pairs(self, rows: list[dict[str, Any]]) -> list[list[int]]:
        src = _encode_texts(self.tok, [r["src_text"] for r in rows])
        tgt = _encode_texts(self.tok, [r["tgt_text"] for r in rows])
        half = (self.cfg.seq_len - 1) // 2 - 2  # both sides must fit in one sequence
        out = []
        for r, s, t in zip(rows, src, tgt, strict=True):
            a = [x for x in [_token_id(self.tok, lang_tag(r["src_lang"]))] if x is not None]
            b = [x for x in [_token_id(self.tok, lang_tag(r["tgt_lang"]))] if x is not None]
            out.append(a + s[:half] + [self.eos] + b + t[:half] + [self.eos])
        return out

    # Packing.
    def _docs_sequence(self) -> list[int]:
        seq = [self.bos]
        while len(seq) < self.cfg.seq_len:
            if not self.carry:
                self.carry = next(self.docs)[1]
            take = self.cfg.seq_len - len(seq)
            seq.extend(self.carry[:take])
            self.carry = self.carry[take:]
        return seq

    def _pairs_sequence(self) -> list[int]:
        assert self.pairs is not None
        seq = [self.bos]
        while True:
            if not self.pending_pair:
                self.pending_pair = next(self.pairs)[1]
            if len(seq) + len(self.pending_pair) > self.cfg.seq_len:
                break
            seq.extend(self.pending_pair)
            self.pending_pair = []
        return seq + [self.pad] * (self.cfg.seq_len - len(seq))

    def _mask(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """BERT masking: select 15% of non-special tokens; 80% <mask>, 10% random, 10% unchanged."""
        cfg = self.cfg
        # Seeded by the batch index: the same batch is masked the same way after a resume.
        rng = np.random.default_rng([cfg.seed, self.rank, self.batches])
        maskable = ~np.isin(ids, self.special_ids)
        selected = (rng.random(ids.shape) < cfg.mlm_probability) & maskable
        if not selected.any():  # a loss over zero tokens is NaN
            rows, cols = np.nonzero(maskable)
            if len(rows):
                selected[rows[0], cols[0]] = True
        labels = np.where(selected, ids, IGNORE_INDEX)
        r = rng.random(ids.shape)
        inputs = ids.copy()
        inputs[selected & (r < cfg.mask_replace_share)] = self.mask_id
        random_share = (1.0 - cfg.mask_replace_share) / 2
        rand = (
            selected & (r >= cfg.mask_replace_share) & (r < cfg.mask_replace_share + random_share)
        )
        inputs[rand] = rng.choice(self.normal_ids, size=int(rand.sum()))
        return inputs, labels

    def next_batch(self) -> Batch:
        seqs = []
        for _ in range(self.batch_size):
            use_pairs = self.pairs is not None and self.kind_rng.random() < self.cfg.tlm_share
            seqs.append(self._pairs_sequence() if use_pairs else self._docs_sequence())
        ids = np.array(seqs, dtype=np.int64)
        inputs, labels = self._mask(ids)
        real = ids != self.pad
        n_real = int(real.sum())
        batch = {"input_ids": torch.from_numpy(inputs), "labels": torch.from_numpy(labels)}
        if n_real < ids.size:  # packed MLM has no padding: skip the mask, attention runs dense
            batch["attention_mask"] = torch.from_numpy(real.astype(np.int64))
        self.batches += 1
        self.tokens += n_real
        self.slots += ids.size
        return Batch(batch, n_real, ids.size)

    @property
    def packing_efficiency(self) -> float:
        """Real tokens / all positions of the batches produced so far."""
        return self.tokens / self.slots if self.slots else 0.0

    def describe(self) -> dict[str, Any]:
        d = {
            "objective": self.objective,
            "languages": self.languages,
            "docs_probs": self.docs.probs,
            "seq_len": self.cfg.seq_len,
            "packing_efficiency": round(self.packing_efficiency, 4),
        }
        if self.pairs is not None:
            d["pairs_probs"] = self.pairs.probs
        return d

    def state_dict(self) -> dict[str, Any]:
        return {
            "docs": self.docs.state_dict(),
            "pairs": self.pairs.state_dict() if self.pairs is not None else None,
            "kind_rng": _rng_state(self.kind_rng),
            "carry": list(self.carry),
            "pending_pair": list(self.pending_pair),
            "batches": self.batches,
            "tokens": self.tokens,
            "slots": self.slots,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.docs.load_state_dict(state["docs"])
        if self.pairs is not None and state.get("pairs"):
            self.pairs.load_state_dict(state["pairs"])
        _set_rng_state(self.kind_rng, state["kind_rng"])
        self.carry, self.pending_pair = list(state["carry"]), list(state["pending_pair"])
        self.batches, self.tokens, self.slots = state["batches"], state["tokens"], state["slots"]


# --- causal LM -----------------------------------------------------------------------------------------

# Rehydration (FineWeb-2): a document that stood for n near-duplicates (``dup_cluster_size``) is
# sampled as if it were there ``weight(n)`` times. Keys are the smallest cluster size of a band,
# values its weight; a size takes the weight of the largest key <= it. This table repeats small
# clusters up to 5 times (text that recurs a few times tends to be better text) and counts very
# large clusters (boilerplate, spam) once.
REHYDRATION_UP_TO_5 = {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 5.0, 100: 1.0}
REHYDRATION_TABLES: dict[str, dict[int, float] | None] = {
    "none": None,
    "up-to-5": REHYDRATION_UP_TO_5,
}


def rehydration_weight(table: dict[int, float] | None, cluster_size: int | None) -> float:
    """The sampling weight of a document of ``cluster_size`` under ``table`` (None: 1)."""
    if not table:
        return 1.0
    n = max(1, int(cluster_size or 1))
    keys = sorted(int(k) for k in table)
    i = bisect.bisect_right(keys, n) - 1
    return float(table[keys[max(i, 0)]]) if i >= 0 else 1.0


def _unit_hash(*parts: Any) -> float:
    """A number in [0, 1) fixed by ``parts`` (stable across processes)."""
    return _seeded(*parts).random()


class CLMBatches(BatchSource):
    """Packed rows for causal-LM training: ``input_ids``, ``labels``, ``position_ids``.

    Items are token sequences with a label mask: a document ``<s> text </s>`` (every token
    predicted), or a prompted example whose prompt carries no label (translation fine-tuning, see
    :mod:`crossling.train.causal`). Items are laid side by side in rows of ``seq_len`` tokens;
    ``position_ids`` restart at 0 where an item begins, which keeps attention inside each item
    (:class:`crossling.train.models.PackedCausalLM`), and the first token of each segment gets no
    label, so nothing is predicted from the previous document. A document that does not fit is
    cut, its rest starts the next row as a segment of its own; a prompted example is never cut
    (unless longer than a row): the row is padded and the example starts the next one.

    Documents come from the DOCS languages mixed with p ∝ n^alpha, the size of each language
    counted after rehydration; within a language a document of weight ``w`` (its
    ``dup_cluster_size`` looked up in ``rehydration``) is kept with probability ``w / max(w)``
    per epoch, decided by a hash of (seed, id, epoch), so the draw is the same after a resume.

    Args:
        items: ``key -> item stream`` and its sampling probabilities (built by the caller for
            prompted data); None for documents of ``corpus``.
    """

    def __init__(
        self,
        corpus: TrainCorpus | None,
        tokenizer: Any,
        cfg: DataConfig,
        batch_size: int,
        *,
        languages: list[str] | None = None,
        rehydration: dict[int, float] | None = None,
        mixture: Mixture | None = None,
        cut_items: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.cfg, self.tok, self.batch_size, self.rank = cfg, tokenizer, batch_size, rank
        self.bos, self.eos = tokenizer.bos_token_id, tokenizer.eos_token_id
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos
        if self.eos is None:
            raise ValueError("the tokenizer needs an end-of-text token for causal LM")
        self.rehydration = {int(k): float(v) for k, v in (rehydration or {}).items()} or None
        self.max_weight = max(self.rehydration.values()) if self.rehydration else 1.0
        self.cut_items = cut_items
        self.mean_weight: dict[str, float] = {}
        if mixture is not None:
            self.mixture = mixture
            self.languages = sorted(languages or [])
        else:
            if corpus is None:
                raise ValueError("CLMBatches needs a corpus or a mixture")
            sizes = corpus.docs_sizes()
            if languages:
                sizes = {k: v for k, v in sizes.items() if k in languages}
            if not sizes:
                raise ValueError(
                    f"corpus {corpus.name}@{corpus.version}: no DOCS train rows to train on"
                )
            self.languages = sorted(sizes)
            if self.rehydration:
                for lang in self.languages:  # sizes as if duplicates were put back
                    self.mean_weight[lang] = self._mean_weight(corpus, lang)
                    sizes[lang] *= self.mean_weight[lang]
            streams = {}
            for lang in self.languages:
                rows = RowStream(
                    corpus.docs_shards(lang),
                    ["id", "text", "dup_cluster_size"],
                    key=f"docs:{lang}",
                    seed=cfg.seed,
                    read_rows=cfg.read_rows,
                    rank=rank,
                    world_size=world_size,
                )
                streams[f"docs:{lang}"] = ItemStream(
                    rows, lambda b, r=rows: self._encode_docs(b, r), cfg.tokenize_rows
                )
            self.mixture = Mixture(
                streams,
                {f"docs:{k}": p for k, p in temperature_probs(sizes, cfg.alpha).items()},
                (cfg.seed, rank, "clm"),
            )
        self.carry: tuple[list[int], list[int]] | None = None  # item cut at the end of a row
        self.batches = self.tokens = self.slots = self.label_tokens = 0

    def _mean_weight(self, corpus: TrainCorpus, lang: str) -> float:
        total = n = 0.0
        for b in corpus.docs(langs=[lang], columns=["dup_cluster_size"]):
            for size in b.column("dup_cluster_size").to_pylist():
                total += rehydration_weight(self.rehydration, size)
                n += 1
        return total / n if n else 1.0

    def _encode_docs(
        self, rows: list[dict[str, Any]], stream: RowStream
    ) -> list[tuple[list[int], list[int]]]:
        if self.rehydration:
            epoch = stream.pos["epoch"]
            rows = [
                r
                for r in rows
                if _unit_hash(self.cfg.seed, "rehydrate", r["id"], epoch)
                < rehydration_weight(self.rehydration, r.get("dup_cluster_size")) / self.max_weight
            ]
        bos = [self.bos] if self.bos is not None else []
        out = []
        for ids in _encode_texts(self.tok, [r["text"] for r in rows]):
            seq = bos + ids + [self.eos]
            out.append((seq, seq))
        return out

    def _row(self) -> tuple[list[int], list[int], list[int], int]:
        n = self.cfg.seq_len
        ids: list[int] = []
        labels: list[int] = []
        pos: list[int] = []
        while len(ids) < n:
            if self.carry is None:
                item_ids, item_labels = next(self.mixture)[1]
                if len(item_ids) > n:  # longer than a row: cut, whatever the item
                    item_ids, item_labels = item_ids[:n], item_labels[:n]
                self.carry = (list(item_ids), list(item_labels))
            item_ids, item_labels = self.carry
            room = n - len(ids)
            if len(item_ids) > room and not self.cut_items and ids:
                break  # a prompted example is not split: pad, it starts the next row
            take_ids, take_labels = item_ids[:room], item_labels[:room]
            self.carry = (item_ids[room:], item_labels[room:]) if len(item_ids) > room else None
            ids.extend(take_ids)
            # The segment's first token is predicted from nothing in it: no label.
            labels.extend([IGNORE_INDEX, *take_labels[1:]])
            pos.extend(range(len(take_ids)))
        real = len(ids)
        pad = n - real
        if pad:  # a segment of padding: attends to itself only, never scored
            ids += [self.pad] * pad
            labels += [IGNORE_INDEX] * pad
            pos += list(range(pad))
        return ids, labels, pos, real

    def next_batch(self) -> Batch:
        rows = [self._row() for _ in range(self.batch_size)]
        ids = torch.tensor([r[0] for r in rows], dtype=torch.long)
        labels = torch.tensor([r[1] for r in rows], dtype=torch.long)
        pos = torch.tensor([r[2] for r in rows], dtype=torch.long)
        real = sum(r[3] for r in rows)
        self.batches += 1
        self.tokens += real
        self.slots += ids.numel()
        self.label_tokens += int((labels != IGNORE_INDEX).sum())
        return Batch({"input_ids": ids, "labels": labels, "position_ids": pos}, real, ids.numel())

    @property
    def packing_efficiency(self) -> float:
        """Real tokens / all positions of the rows produced so far."""
        return self.tokens / self.slots if self.slots else 0.0

    def describe(self) -> dict[str, Any]:
        return {
            "objective": "clm",
            "languages": self.languages,
            "probs": self.mixture.probs,
            "seq_len": self.cfg.seq_len,
            "packing_efficiency": round(self.packing_efficiency, 4),
            "rehydration": {str(k): v for k, v in (self.rehydration or {}).items()} or None,
            "rehydration_mean_weight": {k: round(v, 4) for k, v in self.mean_weight.items()},
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "mixture": self.mixture.state_dict(),
            "carry": [list(self.carry[0]), list(self.carry[1])] if self.carry else None,
            "batches": self.batches,
            "tokens": self.tokens,
            "slots": self.slots,
            "label_tokens": self.label_tokens,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mixture.load_state_dict(state["mixture"])
        c = state.get("carry")
        self.carry = (list(c[0]), list(c[1])) if c else None
        self.batches, self.tokens, self.slots = state["batches"], state["tokens"], state["slots"]
        self.label_tokens = state.get("label_tokens", 0)


def _pad(seqs: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


class TranslationBatches(BatchSource):
    """Translation examples from PAIRS, padded per batch, directions mixed by temperature.

    Source: ``<s> <lang:tgt> [<BT>] source </s>`` (the target-language tag tells one multilingual
    model where to go; ``<BT>`` marks back-translated sources, which lets the model tell them from
    real text, Caswell et al. 2019). Target: ``target </s>``. Real pairs train both directions
    (unless ``both_directions`` is off); synthetic pairs only source -> target, since their source
    side is machine output. Synthetic rows get ``<BT>`` when their ``method`` asks for it
    (``bt-tagged``; ``bt-beam`` and ``bt-sample`` rows train untagged).
    """

    def __init__(
        self,
        corpus: TrainCorpus,
        tokenizer: Any,
        cfg: DataConfig,
        batch_size: int,
        *,
        directions: list[str] | None = None,
        both_directions: bool = True,
        use_synthetic: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.cfg, self.tok, self.batch_size = cfg, tokenizer, batch_size
        self.bos, self.eos, self.pad = (
            tokenizer.bos_token_id,
            tokenizer.eos_token_id,
            tokenizer.pad_token_id,
        )
        self.bt_id = _token_id(tokenizer, BT_TAG)
        counts = corpus.pair_counts()  # train rows per (direction, synthetic)
        if not counts:
            raise ValueError(
                f"corpus {corpus.name}@{corpus.version} has no PAIRS to train translation on"
            )
        cols = ["src_lang", "tgt_lang", "src_text", "tgt_text", "synthetic", "method"]
        sizes: dict[str, float] = {}
        streams: dict[str, ItemStream] = {}

        def add(name: str, where: dict[str, Any], reverse: bool, n: float) -> None:
            stored = f"{where['src_lang']}-{where['tgt_lang']}"
            rows = RowStream(
                corpus.pairs_shards([stored]),
                cols,
                key=name,
                seed=cfg.seed,
                read_rows=cfg.read_rows,
                where=where,
                rank=rank,
                world_size=world_size,
            )
            streams[name] = ItemStream(
                rows, lambda b, r=reverse: self._encode(b, r), cfg.tokenize_rows
            )
            sizes[name] = n

        # One stream per (direction, real or synthetic, as stored or reversed) that has rows.
        for (d, synthetic), n in counts.items():
            src, tgt = d.split("-", 1)
            if synthetic and not use_synthetic:
                continue
            kind = "bt" if synthetic else "real"
            if directions is None or d in directions:
                add(
                    f"{d}:{kind}",
                    {"src_lang": src, "tgt_lang": tgt, "synthetic": synthetic},
                    False,
                    n,
                )
            rev = f"{tgt}-{src}"
            # Synthetic pairs only train source -> target: their source side is machine output.
            if not synthetic and both_directions and (directions is None or rev in directions):
                add(
                    f"{rev}:real-reversed",
                    {"src_lang": src, "tgt_lang": tgt, "synthetic": False},
                    True,
                    n,
                )
        if not streams:
            raise ValueError(
                f"none of the directions {directions} in the PAIRS of {corpus.name}@{corpus.version} "
                f"(has {sorted({d for d, _ in counts})})"
            )
        self.directions = sorted({k.split(":")[0] for k in streams})
        self.languages = sorted({x for d in self.directions for x in d.split("-", 1)})
        self.mixture = Mixture(
            streams, temperature_probs(sizes, cfg.alpha), (cfg.seed, rank, "translation")
        )
        self.batches = 0

    def _encode(
        self, rows: list[dict[str, Any]], reverse: bool
    ) -> list[tuple[list[int], list[int]]]:
        a, b = ("tgt", "src") if reverse else ("src", "tgt")
        src = _encode_texts(self.tok, [r[f"{a}_text"] for r in rows])
        tgt = _encode_texts(self.tok, [r[f"{b}_text"] for r in rows])
        n = self.cfg.max_pair_tokens
        out = []
        for r, s, t in zip(rows, src, tgt, strict=True):
            prefix = [self.bos]
            if (tag := _token_id(self.tok, lang_tag(r[f"{b}_lang"]))) is not None:
                prefix.append(tag)
            tagged = r["synthetic"] and r.get("method") in TAGGED_METHODS
            if tagged and not reverse and self.bt_id is not None:
                prefix.append(self.bt_id)
            out.append(((prefix + s)[: n - 1] + [self.eos], t[: n - 1] + [self.eos]))
        return out

    def next_batch(self) -> Batch:
        items = [next(self.mixture)[1] for _ in range(self.batch_size)]
        ids, mask = _pad([s for s, _ in items], self.pad)
        labels, _ = _pad([t for _, t in items], IGNORE_INDEX)
        self.batches += 1
        n = int(mask.sum())
        return Batch({"input_ids": ids, "attention_mask": mask, "labels": labels}, n, ids.numel())

    def describe(self) -> dict[str, Any]:
        return {
            "objective": "translation",
            "directions": self.directions,
            "probs": self.mixture.probs,
        }

    def state_dict(self) -> dict[str, Any]:
        return {"mixture": self.mixture.state_dict(), "batches": self.batches}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mixture.load_state_dict(state["mixture"])
        self.batches = state["batches"]


# --- labeled data (classification) ----------------------------------------------------------------------


def read_labeled(path: str) -> list[dict[str, Any]]:
    """Rows ``{text, label, lang[, id, split]}`` of a JSONL or Parquet file (any fsspec URL)."""
    import fsspec

    fs, p = fsspec.core.url_to_fs(path)
    if p.endswith(".parquet"):
        with fs.open(p, "rb") as f:
            rows = pq.read_table(f).to_pylist()
    else:
        with fs.open(p, "r", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    for r in rows:
        missing = {"text", "label", "lang"} - set(r)
        if missing:
            raise ValueError(f"{path}: a row lacks {sorted(missing)}")
        r["label"] = str(r["label"])
        r["id"] = str(r.get("id") or content_hash(r["text"]))
    return rows


def labeled_train_rows(
    rows: list[dict[str, Any]], train_langs: list[str] | None, heldout_fraction: float = 0.2
) -> list[dict[str, Any]]:
    """The rows a classifier trains on: its training languages, train split only.

    A row's split is its ``split`` field when the file has one, else derived from its id like
    corpus rows, so held-out rows of the training languages stay unseen.
    """
    out = []
    for r in rows:
        if train_langs and r["lang"] not in train_langs:
            continue
        split = r.get("split") or split_of(r["id"], heldout_fraction)
        if split == TRAIN:
            out.append(r)
    return out


class ClassificationBatches(BatchSource):
    """Labeled texts in a seeded order per epoch, truncated to ``max_len`` and padded per batch."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        labels: list[str],
        tokenizer: Any,
        batch_size: int,
        *,
        max_len: int = 128,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not rows:
            raise ValueError("no labeled rows to train on")
        self.tok, self.batch_size, self.seed = tokenizer, batch_size, seed
        self.index = {name: i for i, name in enumerate(labels)}
        self.rows = sorted(rows, key=lambda r: r["id"])[rank::world_size]
        enc = tokenizer([r["text"] for r in self.rows], truncation=True, max_length=max_len)[
            "input_ids"
        ]
        self.items = [(ids, self.index[r["label"]]) for ids, r in zip(enc, self.rows, strict=True)]
        self.pad = tokenizer.pad_token_id
        self.pos = {"epoch": 0, "i": 0}
        self.batches = 0
        self.languages = sorted({r["lang"] for r in self.rows})

    def _order(self, epoch: int) -> list[int]:
        order = list(range(len(self.items)))
        _seeded(self.seed, "labeled", epoch).shuffle(order)
        return order

    def next_batch(self) -> Batch:
        picked = []
        while len(picked) < self.batch_size:
            order = self._order(self.pos["epoch"])
            if self.pos["i"] >= len(order):
                self.pos = {"epoch": self.pos["epoch"] + 1, "i": 0}
                continue
            picked.append(self.items[order[self.pos["i"]]])
            self.pos["i"] += 1
        ids, mask = _pad([x for x, _ in picked], self.pad)
        self.batches += 1
        labels = torch.tensor([y for _, y in picked], dtype=torch.long)
        return Batch(
            {"input_ids": ids, "attention_mask": mask, "labels": labels},
            int(mask.sum()),
            ids.numel(),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "objective": "classification",
            "rows": len(self.items),
            "labels": list(self.index),
            "languages": self.languages,
        }

    def state_dict(self) -> dict[str, Any]:
        return {"pos": dict(self.pos), "batches": self.batches}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pos, self.batches = dict(state["pos"]), state["batches"]
