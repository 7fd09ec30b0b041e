"""The two kinds of stage a corpus run is made of.

A :class:`Step` works on one document at a time, in two halves (dolma's tagger and mixer,
datatrove's ``label_only``):

- ``measure`` runs in the *tag* pass, once per document and per measuring config: it may rewrite
  the text (normalization), fill Document fields (language) or write *signals*, typed columns of
  the tagged work files. It never drops anything. Measuring is the expensive half (fastText, regex
  statistics), so its outputs are kept and reused by later runs whose thresholds differ.
- ``decide`` runs in the cheap *decide* pass over the tagged rows (without their text): keep the
  document (``None``) or drop it with a reason and a detail. Changing a threshold reruns only this.

A :class:`GlobalStage` decides across the whole corpus in three parts (datatrove's MinHash stages,
NeMo Curator's fuzzy dedup): ``map`` per partition (in parallel) writes what it measured, one
``reduce`` decides, and the decisions are applied per partition while the shards are written
(``decisions``). ``index`` lets a stage keep what later versions need (e.g. the hashes of what
this version published).

Each Step and GlobalStage owns one section of the corpus config: ``config_key`` names it (the
key users write in their config files, e.g. ``quality``) and ``config_model`` is its pydantic
model. The run builds ``CorpusConfig`` from the registered classes' sections
(crossling/run/config.py) and hands each instance only its own section.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
from pydantic import BaseModel

from crossling.documents import Document, Reason, Stage

if TYPE_CHECKING:
    from crossling.storage import DataRoot

Verdict = tuple[Reason | str, str] | None  # None: keep; else (reason, detail)


class Step:
    """A per-document step: ``measure`` (tag pass) then ``decide`` (decide pass).

    Subclasses set ``name`` (also the prefix of their counters), ``stage`` (the stage label
    written to REJECTS), ``signals`` (the tag columns they write into ``doc.signals``; names must
    be unique across steps), their config section (``config_key``, ``config_model``) and
    implement what they need of :meth:`measure`, :meth:`measure_config` and :meth:`decide`.
    """

    name: ClassVar[str] = "step"
    stage: ClassVar[Stage] = Stage.NORMALIZE
    signals: ClassVar[list[pa.Field]] = []
    # Tagged columns `decide` reads besides the signals (text is never read by decide).
    decide_columns: ClassVar[list[str]] = []
    # The config section this step owns: its key in CorpusConfig and its model (None: no config).
    config_key: ClassVar[str | None] = None
    config_model: ClassVar[type[BaseModel] | None] = None

    def __init__(self, config: Any = None):
        self.config = config

    @classmethod
    def from_config(cls, corpus_config: BaseModel) -> Step:
        """The step with its own section of a corpus config (and nothing else of it)."""
        return cls(section_of(cls, corpus_config))

    def measure_config(self) -> dict[str, Any]:
        """The part of the config that changes what :meth:`measure` writes (hashed into the tags'
        key: change it and the tag pass runs again). Thresholds do not belong here."""
        return {}

    def measure(self, docs: list[Document]) -> None:
        """Measure a batch of documents in place (fields and ``doc.signals``). Never drops."""

    def decide(self, doc: Document) -> Verdict:
        """Keep (None) or drop (reason, detail). ``doc.text`` is empty here; signals are set."""
        return None

    def decide_rows(self, rows: TaggedRows, idx: np.ndarray) -> dict[int, Verdict]:
        """Decide the rows ``idx`` of a batch of tagged rows at once; returns the dropped ones
        (row number -> verdict). This asks :meth:`decide` document by document; a step may
        override it to decide column by column (it must give what :meth:`decide` gives)."""
        out: dict[int, Verdict] = {}
        for i in idx.tolist():
            verdict = self.decide(rows.document(i))
            if verdict is not None:
                out[i] = verdict
        return out

    @classmethod
    def decides(cls) -> bool:
        """Whether the step decides anything (it overrides :meth:`decide` or :meth:`decide_rows`)."""
        return cls.decide is not Step.decide or cls.decide_rows is not Step.decide_rows


class TaggedRows:
    """A batch of tagged rows as the decide pass gives it to the steps: columns as numpy arrays
    or Python lists (converted once, when first asked for), and Documents without text for steps
    that decide one document at a time."""

    def __init__(self, batch: pa.RecordBatch, signal_names: list[str]):
        self.batch, self.signal_names = batch, signal_names
        self.num_rows = batch.num_rows
        self._lists: dict[str, list[Any] | None] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._docs: dict[int, Document] = {}

    def has(self, name: str) -> bool:
        return name in self.batch.schema.names

    def list(self, name: str) -> list[Any] | None:
        """A column as a Python list (None when the batch does not have it)."""
        if name not in self._lists:
            self._lists[name] = self.batch.column(name).to_pylist() if self.has(name) else None
        return self._lists[name]

    def array(self, name: str) -> np.ndarray | None:
        """A column without nulls as a numpy array (None when it is absent or has nulls: the
        caller then decides row by row). Floats come as float64, the values Python sees: numpy
        compares a float32 array with a Python float in float32 (0.1 would equal float32 0.1,
        which is larger than 0.1), so thresholds would cut elsewhere than in :meth:`decide`."""
        if name not in self._arrays:
            col = self.batch.column(name) if self.has(name) else None
            if col is None or col.null_count:
                return None
            arr = col.to_numpy(zero_copy_only=False)
            self._arrays[name] = arr.astype(np.float64) if arr.dtype.kind == "f" else arr
        return self._arrays[name]

    def document(self, i: int) -> Document:
        doc = self._docs.get(i)
        if doc is None:
            get = self.list
            sources, urls, langs = get("source"), get("url"), get("lang")
            scripts, scores = get("script"), get("lang_score")
            doc = self._docs[i] = Document(
                id=self.list("id")[i],
                text="",
                source=(sources[i] if sources else None) or "",
                url=urls[i] if urls else None,
                lang=langs[i] if langs else None,
                script=scripts[i] if scripts else None,
                lang_score=(scores[i] if scores else None) or 0.0,
                signals={k: self.list(k)[i] for k in self.signal_names if self.has(k)},
            )
        return doc


@dataclass
class StageContext:
    """Where a run's global stages keep their work, and what came before this version."""

    root: str
    name: str  # corpus name
    version: str
    work_dir: str  # <version>/_work
    # Published versions this one is deduplicated against (oldest first; not its siblings).
    prior_versions: list[str] = field(default_factory=list)

    @property
    def data(self) -> DataRoot:
        from crossling.storage import DataRoot

        return DataRoot(self.root)

    def stage_dir(self, stage: str) -> str:
        return posixpath.join(self.work_dir, f"stage-{stage}")


# The columns of a stage's decisions for one partition and one kind (docs | pairs): one row per
# row it drops or changes. ``reason`` null = kept; ``dup_cluster_size`` / ``split`` null = unchanged.
DECISIONS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("duplicate_of", pa.string()),
        ("dup_cluster_size", pa.int32()),
        ("split", pa.string()),
    ]
)


class GlobalStage:
    """A corpus-wide decision: ``map`` per partition, one ``reduce``, then ``decisions`` applied
    per partition as the shards are written.

    ``map`` is given the rows still kept (after every per-document step and every earlier global
    stage), with the columns it asks for in ``columns[kind]`` plus ``id``, ``dup_cluster_size`` and
    ``split`` as they stand. Everything a stage writes goes under ``ctx.stage_dir(name)``.
    """

    name: ClassVar[str] = "global"
    stage: ClassVar[Stage] = Stage.DEDUP
    kinds: ClassVar[tuple[str, ...]] = ("docs",)
    columns: ClassVar[dict[str, list[str]]] = {}
    # The config section this stage owns (see Step); a None key with a model: the model's fields
    # sit at the top level of CorpusConfig.
    config_key: ClassVar[str | None] = None
    config_model: ClassVar[type[BaseModel] | None] = None
    # Columns the stage's decisions add to DECISIONS_SCHEMA (null: unchanged); they reach DOCS
    # and PAIRS rows of the same name.
    decision_columns: ClassVar[list[pa.Field]] = []

    def __init__(self, config: Any, ctx: StageContext):
        self.config, self.ctx = config, ctx

    @classmethod
    def from_config(cls, corpus_config: BaseModel, ctx: StageContext) -> GlobalStage:
        """The stage with its own section of a corpus config (and nothing else of it)."""
        return cls(section_of(cls, corpus_config), ctx)

    @property
    def fs(self):
        return self.ctx.data.fs

    @property
    def dir(self) -> str:
        return self.ctx.stage_dir(self.name)

    def enabled(self) -> bool:
        return True

    def map(self, part: int, kind: str, rows: pa.Table) -> dict[str, Any]:
        """Measure one partition's kept rows; write what the reduce needs; return small stats."""
        return {}

    def reduce(self, maps: list[dict[str, Any]]) -> dict[str, Any]:
        """Decide across the corpus from every partition's map output; return statistics."""
        raise NotImplementedError

    def decisions(self, part: int, kind: str) -> pa.Table | None:
        """This stage's decisions for one partition (DECISIONS_SCHEMA), or None for none."""
        return None

    def index(self, part: int, kind: str, kept: pa.Table) -> None:
        """Called with each partition's final kept rows (all tag columns) as they are written."""


def section_of(cls: type[Step] | type[GlobalStage], corpus_config: BaseModel) -> Any:
    """A step's or stage's own section of a corpus config: the field ``config_key``, or (key
    None, model set) the model's fields read from the top level; None without a model."""
    if cls.config_model is None:
        return None
    if cls.config_key is not None:
        return getattr(corpus_config, cls.config_key)
    names = cls.config_model.model_fields
    return cls.config_model.model_validate({k: getattr(corpus_config, k) for k in names})


def count(stats: Counter, name: str, verdict: Verdict) -> None:
    stats[f"{name}/total"] += 1
    if verdict is None:
        stats[f"{name}/kept"] += 1
    else:
        stats[f"{name}/dropped:{verdict[0]}"] += 1
