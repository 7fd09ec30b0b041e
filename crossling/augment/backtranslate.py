"""Back-translation: monolingual documents of a corpus version become synthetic parallel pairs in a
new version derived from it (Sennrich et al. 2016).

Given the DOCS of language ``lang`` (the real side) and a model that translates ``lang`` into
``to``, each train document is cut into sentences (:mod:`crossling.augment.segment`), each
sentence translated (:mod:`crossling.augment.translate`, transformers or CTranslate2), and each
translation checked (:mod:`crossling.augment.filters`). What passes becomes a PAIRS row of the
direction ``to-lang``::

    src_lang = to, src_text = the translation (synthetic), tgt_lang = lang, tgt_text = the sentence,
    origin_id = the DOCS id of the sentence's document, synthetic = true,
    method = bt-tagged | bt-beam | bt-sample, model = <model id>@sha256:<hash>, score, split = train

What does not pass becomes a REJECTS row (stage ``backtranslate``, a :class:`BTReason`), so
``inputs = sentences read = PAIRS + REJECTS``, the conservation check of the manifest. A budget
caps the synthetic rows of a direction at ``budget_ratio`` x the real train pairs between the two
languages; reading stops once it is filled.

The new version is written by :class:`crossling.corpus.VersionWriter` with ``parent`` = the
source version. It holds only the new rows (versions are incremental); reading it with its
ancestors (:meth:`crossling.corpus.CorpusVersion.chain`) gives real and synthetic pairs together.
Its manifest records the model (id, path, sha256 and, for a crossling checkpoint, the corpus
version that checkpoint was trained on), so iterated rounds (a model trained on round k's version
back-translates round k+1) form a chain of lineage. Versions back-translating the same documents
in the same direction share an ``inputs_key``: the newer one replaces the older in the chain.
"""

from __future__ import annotations

import logging
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from crossling.augment.filters import (
    STAGE,
    BTReason,
    FilterConfig,
    check,
    check_languages,
    default_char_ratio,
    round_trip_chrf,
)
from crossling.augment.segment import SegmentConfig, is_translatable, split_sentences
from crossling.augment.translate import (
    Backend,
    Decoding,
    Translation,
    TranslationModel,
    Translator,
    make_translator,
    resolve_model,
)
from crossling.corpus import CorpusVersion, VersionWriter
from crossling.documents import (
    PAIRS_SCHEMA,
    REJECTS_SCHEMA,
    TEXT_PREFIX_CHARS,
    content_hash,
    make_id,
)
from crossling.langid import canonical
from crossling.storage import DataRoot, config_hash, new_version

log = logging.getLogger(__name__)

DERIVED_KIND = "backtranslation"  # manifest["derived"]["kind"] of a back-translated version
METHOD_TAGGED, METHOD_BEAM, METHOD_SAMPLE = "bt-tagged", "bt-beam", "bt-sample"
SAMPLE_PAIRS = 20  # random kept pairs shown in the summary (and the flow's artifact)


class BacktranslateConfig(BaseModel):
    """A back-translation run: which documents, which model, how to decode and filter."""

    lang: str = Field(
        description="Language of the monolingual documents (ISO 639-1): the real, target side."
    )
    to: str = Field(description="Language the documents are translated into: the synthetic side.")
    model: str = Field(
        "latest",
        description="'latest' (the newest translation checkpoint under the data root trained on "
        "lang->to), a checkpoint under <root>/models, or a local transformers seq2seq directory.",
    )
    backend: Backend = Field(
        "ct2",
        description="ct2: CTranslate2 (converted once, int8 on CPU, int8_float16 on GPU); hf: "
        "transformers generate (bf16 on GPU).",
    )
    decoding: Decoding = Field(default_factory=Decoding, description="Beam or sampling.")
    tag: bool = Field(
        True,
        description="Mark the rows bt-tagged: training then puts a <BT> token before their "
        "source (Caswell et al. 2019). Off: bt-beam / bt-sample rows, trained untagged.",
    )
    segment: SegmentConfig = Field(default_factory=SegmentConfig, description="Sentences.")
    filters: FilterConfig = Field(default_factory=FilterConfig, description="Output checks.")
    budget_ratio: float | None = Field(
        2.0,
        ge=0,
        description="Largest synthetic / real ratio of the direction (real: train pairs between "
        "the two languages, either way). None: no budget.",
    )
    max_segments: int | None = Field(
        None, ge=1, description="Read at most this many sentences (a quick look at a corpus)."
    )
    device: str = Field("auto", description="auto (cuda when available), cpu or cuda[:N].")
    compute_type: str = Field(
        "auto",
        description="CTranslate2 compute type: auto (int8 on CPU, int8_float16 on GPU), float32, "
        "int8_float32, float16, bfloat16, ...",
    )
    threads: int | None = Field(None, ge=1, description="CPU threads (default: all cores).")
    cache_dir: str | None = Field(
        None, description="Where CTranslate2 conversions are cached (default <root>/cache/ct2)."
    )
    chunk_segments: int = Field(
        2048, ge=1, description="Sentences translated and filtered at a time."
    )
    rows_per_part: int = Field(
        200_000, ge=1, description="Input sentences per written part (file) of the version."
    )
    round: int = Field(1, ge=1, description="Iteration of iterative back-translation (lineage).")

    @property
    def method(self) -> str:
        if self.tag:
            return METHOD_TAGGED
        return METHOD_SAMPLE if self.decoding.sample else METHOD_BEAM

    def identity(self) -> dict[str, Any]:
        """What changes the rows (hashed into the version name); not where or how fast."""
        d = self.model_dump(
            mode="json", exclude={"model", "device", "threads", "cache_dir", "chunk_segments"}
        )
        d["decoding"].pop("batch_size", None)
        return d


@dataclass
class _Budget:
    real: int  # real train pairs between the two languages, either way
    existing: int  # synthetic rows of the direction already in the chain
    limit: int | None  # synthetic rows this version may add (None: no budget)

    def to_dict(self) -> dict[str, Any]:
        return {"real_pairs": self.real, "existing_synthetic": self.existing, "limit": self.limit}


@dataclass
class _Run:
    """What one run accumulates while it reads, translates and writes."""

    source: str
    model: TranslationModel
    cfg: BacktranslateConfig
    limit: int | None
    expected_ratio: float  # characters of an output per character of its input
    inputs: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    docs_read: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    pairs: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return self.limit is not None and self.kept >= self.limit

    def pair_id(self, doc_id: str, index: int) -> str:
        return make_id(f"bt:{self.model.sha256}", f"{doc_id}:{index}")

    def reject(
        self,
        pid: str,
        reason: BTReason,
        detail: str,
        src: str,
        out: str | None = None,
        duplicate_of: str | None = None,
    ) -> None:
        self.dropped[str(reason)] += 1
        prefix = src if out is None else f"{src} ||| {out}"
        self.rejects.append(
            {
                "id": pid,
                "source": self.source,
                "url": None,
                "stage": STAGE,
                "reason": str(reason),
                "detail": detail,
                "duplicate_of": duplicate_of,
                "text_prefix": prefix[:TEXT_PREFIX_CHARS],
                "lang": self.cfg.lang,
            }
        )

    def keep(self, pid: str, doc_id: str, src: str, out: str, score: float) -> None:
        self.kept += 1
        row = {
            "id": pid,
            "src_lang": self.cfg.to,
            "tgt_lang": self.cfg.lang,
            "src_text": out,
            "tgt_text": src,
            "origin_id": doc_id,
            "source": self.source,
            "synthetic": True,
            "method": self.cfg.method,
            "model": self.model.tag,
            "score": score,
            "split": "train",
        }
        self.pairs.append(row)
        # Reservoir sample of the kept pairs, for the summary.
        if len(self.samples) < SAMPLE_PAIRS:
            self.samples.append(row)
        else:
            j = self.rng.randrange(self.kept)
            if j < SAMPLE_PAIRS:
                self.samples[j] = row


def _chain_docs(chain: list[CorpusVersion], lang: str) -> Iterator[tuple[str, str]]:
    """(id, text) of the train DOCS of ``lang`` in the chain, newest version first."""
    for v in chain:
        for b in v.docs(split="train", langs=[lang], columns=["id", "text"]):
            yield from zip(b.column("id").to_pylist(), b.column("text").to_pylist(), strict=True)


@dataclass
class _RealPairs:
    """What the chain's pairs between ``lang`` and ``to`` tell a back-translation run."""

    train: int = 0  # real train pairs, either way
    synthetic: int = 0  # synthetic to->lang train rows (of versions this one does not replace)
    hashes: set[str] = field(default_factory=set)  # of every real pair's lang side, both splits
    char_ratios: list[float] = field(default_factory=list)  # len(to side) / len(lang side)

    def expected_ratio(self, lang: str, to: str) -> float:
        """Median characters of ``to`` per character of ``lang`` (a default without pairs)."""
        if len(self.char_ratios) < 20:
            return default_char_ratio(lang, to)
        return float(statistics.median(self.char_ratios))


_MAX_RATIO_SAMPLES = 20_000


def _real_pairs(chain: list[CorpusVersion], lang: str, to: str, inputs_key: str) -> _RealPairs:
    """Count and measure the pairs between ``lang`` and ``to`` in the chain.

    The hashes are of every real pair's ``lang`` side, both splits: a monolingual sentence equal
    to one of them is not back-translated (it would put a held-out reference into training).
    Synthetic rows of versions this one replaces (same ``inputs_key``) do not count.
    """
    out = _RealPairs()
    cols = ["src_lang", "tgt_lang", "src_text", "tgt_text", "synthetic", "split"]
    for v in chain:
        replaced = v.manifest.get("inputs_key") == inputs_key
        for b in v.pairs(directions=[f"{lang}-{to}", f"{to}-{lang}"], columns=cols):
            for s_lang, _, s, t, syn, split in zip(
                *(b.column(c).to_pylist() for c in cols), strict=True
            ):
                if syn:
                    if not replaced and s_lang == to and split == "train":
                        out.synthetic += 1
                    continue
                if split == "train":
                    out.train += 1
                mono, other = (s, t) if s_lang == lang else (t, s)
                out.hashes.add(content_hash(mono))
                if len(out.char_ratios) < _MAX_RATIO_SAMPLES and mono:
                    out.char_ratios.append(len(other) / len(mono))
    return out


_PARENT_KEYS = ("parent", "parent_manifest_sha256")


def find_version(
    parent: CorpusVersion, cfg_hash: str, ident: dict[str, Any]
) -> CorpusVersion | None:
    """A complete back-translation the same as this one, if there is one.

    Either a version made from ``parent`` with the same config hash, or ``parent`` itself (or a
    derived ancestor, up to the first version that is not derived) when it was made with the same
    config and model: running the same back-translation on ``latest`` twice finds the first run.
    """
    for v in reversed(parent.root.versions(parent.name)):
        if v.endswith(f"-{cfg_hash}"):
            cv = CorpusVersion.open(parent.root, parent.name, v)
            if cv.parent_version == parent.version:
                return cv
    same = {k: x for k, x in ident.items() if k not in _PARENT_KEYS}
    for cv in parent.chain():
        if not cv.manifest.get("derived"):
            break
        other = (cv.manifest.get("config") or {}).get("identity") or {}
        if {k: x for k, x in other.items() if k not in _PARENT_KEYS} == same:
            return cv
    return None


def _translate_chunk(
    run: _Run,
    chunk: list[tuple[str, str, str]],
    translator: Translator,
    reverse: Translator | None,
    lid: Any,
) -> None:
    """Translate, filter and record one chunk of (pair id, doc id, sentence)."""
    cfg = run.cfg
    if run.full:
        for pid, _, src in chunk:
            run.reject(pid, BTReason.OVER_BUDGET, f"budget of {run.limit} pairs reached", src)
        return
    outs: list[Translation] = translator.translate([s for _, _, s in chunk])
    verdicts: list[tuple[BTReason, str] | None] = [
        check(src, t, cfg.filters, run.expected_ratio)
        for (_, _, src), t in zip(chunk, outs, strict=True)
    ]
    if cfg.filters.check_language:
        todo = [i for i, v in enumerate(verdicts) if v is None]
        for i, v in zip(
            todo,
            check_languages([outs[i].text for i in todo], cfg.to, cfg.filters, lid),
            strict=True,
        ):
            verdicts[i] = v
    scores = [t.score for t in outs]
    if reverse is not None:
        todo = [i for i, v in enumerate(verdicts) if v is None]
        back = reverse.translate([outs[i].text for i in todo])
        chrfs = round_trip_chrf([chunk[i][2] for i in todo], [b.text for b in back])
        for i, c in zip(todo, chrfs, strict=True):
            scores[i] = c / 100.0
            if c < cfg.filters.min_round_trip_chrf:
                verdicts[i] = (
                    BTReason.ROUND_TRIP_LOW,
                    f"round-trip chrF {c:.1f} < {cfg.filters.min_round_trip_chrf}",
                )
    for (pid, doc_id, src), t, v, score in zip(chunk, outs, verdicts, scores, strict=True):
        if v is not None:
            run.reject(pid, v[0], v[1], src, t.text)
        elif run.full:
            run.reject(pid, BTReason.OVER_BUDGET, f"budget of {run.limit} pairs reached", src)
        else:
            run.keep(pid, doc_id, src, t.text, float(score))


def backtranslate(
    root: str,
    corpus: str,
    cfg: BacktranslateConfig,
    *,
    version: str = "latest",
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Back-translate the ``cfg.lang`` documents of ``corpus@version`` into a new derived version.

    Returns a summary (version, kept and dropped by reason, budget, sentences per second, 20
    random pairs, the model's lineage). A version made earlier from the same parent with the
    same config and model is found and returned (``new`` false) instead of being made again.

    Raises:
        crossling.corpus.CorpusNotFound: no such corpus or version.
        crossling.augment.translate.ModelNotFound: no such model.
        ValueError: the corpus has no documents in ``lang``, or no real pairs while a budget is set.
    """
    t0 = time.perf_counter()
    lang, to = canonical(cfg.lang)[0], canonical(cfg.to)[0]
    if lang == to:
        raise ValueError(f"--lang and --to are the same language ({lang})")
    cfg = cfg.model_copy(update={"lang": lang, "to": to})
    parent = CorpusVersion.open(root, corpus, version).check()
    chain = parent.chain()
    if not any(v.files("docs", split="train", langs=[lang]) for v in chain):
        raise ValueError(
            f"corpus {corpus}@{parent.version} has no train documents in {lang} to back-translate"
        )
    model = resolve_model(cfg.model, root, lang, to)
    ident = {
        "kind": DERIVED_KIND,
        "config": cfg.identity(),
        "parent": parent.version,
        "parent_manifest_sha256": parent.manifest_sha256,
        "model_sha256": model.sha256,
    }
    cfg_hash = config_hash(ident)
    done = find_version(parent, cfg_hash, ident)
    if done is not None:
        log.info("%s@%s already holds this back-translation", corpus, done.version)
        return summary_of(done, new=False, seconds=time.perf_counter() - t0)

    docs_versions = [v.version for v in chain if v.files("docs", split="train", langs=[lang])]
    inputs_key = config_hash({"kind": DERIVED_KIND, "docs": docs_versions, "lang": lang, "to": to})
    real_pairs = _real_pairs(chain, lang, to, inputs_key)
    real, existing, real_hashes = real_pairs.train, real_pairs.synthetic, real_pairs.hashes
    expected_ratio = real_pairs.expected_ratio(lang, to)
    if cfg.budget_ratio is None:
        budget = _Budget(real, existing, None)
    else:
        if real == 0:
            raise ValueError(
                f"corpus {corpus}@{parent.version} has no real {lang}-{to} train pairs: a budget of "
                f"{cfg.budget_ratio} x real allows no synthetic pairs (set budget_ratio to None "
                "for no budget)"
            )
        budget = _Budget(real, existing, max(0, int(cfg.budget_ratio * real) - existing))

    name = new_version(cfg_hash)
    writer = VersionWriter(DataRoot(root).url, corpus, name)
    source = f"bt:{model.id}"
    run = _Run(
        source,
        model,
        cfg,
        budget.limit,
        expected_ratio,
        rng=random.Random(cfg.decoding.seed),
    )
    translator = make_translator(
        cfg.backend,
        model,
        lang,
        to,
        cfg.decoding,
        device=cfg.device,
        compute_type=cfg.compute_type,
        cache_dir=cfg.cache_dir or _default_cache(root),
        threads=cfg.threads,
    )
    reverse = None
    if cfg.filters.round_trip:
        back_model = (
            resolve_model(cfg.filters.round_trip_model, root, to, lang)
            if cfg.filters.round_trip_model
            else model
        )
        reverse = make_translator(
            cfg.backend,
            back_model,
            to,
            lang,
            Decoding(beam=1, batch_size=cfg.decoding.batch_size),
            device=cfg.device,
            compute_type=cfg.compute_type,
            cache_dir=cfg.cache_dir or _default_cache(root),
            threads=cfg.threads,
        )
    lid = None
    if cfg.filters.check_language:
        from crossling.langid import LanguageIdentifier

        lid = LanguageIdentifier(cfg.filters.langid_model, mode="doc")

    parts: list[dict[str, Any]] = []
    part_index = 0
    pw = writer.part(part_index)
    part_inputs = 0
    seen: dict[str, str] = {}  # content hash of a sentence -> the first pair id it got
    chunk: list[tuple[str, str, str]] = []

    def flush_rows() -> None:
        if run.pairs:
            pw.pairs(pa.Table.from_pylist(run.pairs, schema=PAIRS_SCHEMA))
            run.pairs.clear()
        if run.rejects:
            pw.rejects(pa.Table.from_pylist(run.rejects, schema=REJECTS_SCHEMA))
            run.rejects.clear()

    def process() -> None:
        nonlocal chunk
        if chunk:
            _translate_chunk(run, chunk, translator, reverse, lid)
            chunk = []
        flush_rows()
        if on_progress is not None:
            on_progress(_progress(run, translator))

    try:
        for doc_id, text in _chain_docs(chain, lang):
            if run.full or (cfg.max_segments is not None and run.inputs >= cfg.max_segments):
                break
            run.docs_read += 1
            for i, sent in enumerate(split_sentences(text, lang, cfg.segment.max_chars)):
                if cfg.max_segments is not None and run.inputs >= cfg.max_segments:
                    break
                run.inputs += 1
                part_inputs += 1
                pid = run.pair_id(doc_id, i)
                h = content_hash(sent)
                if not is_translatable(sent, cfg.segment.min_chars):
                    run.reject(pid, BTReason.TOO_SHORT, f"{len(sent)} characters", sent)
                elif h in real_hashes:
                    run.reject(pid, BTReason.EXACT_DUPLICATE, "same text as a real pair", sent)
                elif h in seen:
                    run.reject(
                        pid,
                        BTReason.EXACT_DUPLICATE,
                        "same sentence as an earlier one",
                        sent,
                        duplicate_of=seen[h],
                    )
                else:
                    seen[h] = pid
                    chunk.append((pid, doc_id, sent))
            if len(chunk) >= cfg.chunk_segments:
                process()
            if part_inputs >= cfg.rows_per_part:
                process()
                parts.append(pw.close())
                part_index += 1
                pw, part_inputs = writer.part(part_index), 0
        process()
        parts.append(pw.close())
    except BaseException:
        pw.__exit__(*sys.exc_info())
        raise
    finally:
        translator.close()
        if reverse is not None:
            reverse.close()

    seconds = time.perf_counter() - t0
    stats = {
        "lang": lang,
        "to": to,
        "direction": f"{to}-{lang}",
        "round": cfg.round,
        "method": cfg.method,
        "decoding": cfg.decoding.method,
        "backend": cfg.backend,
        "compute_type": getattr(translator, "compute_type", None),
        "device": translator.device,
        "model": model.lineage(),
        "inputs": run.inputs,
        "kept": run.kept,
        "dropped": dict(sorted(run.dropped.items())),
        "docs_read": run.docs_read,
        "budget": budget.to_dict(),
        "expected_length_ratio": round(expected_ratio, 4),
        "budget_reached": run.full,
        "sentences_translated": translator.stats.sentences,
        "translate_seconds": round(translator.stats.seconds, 3),
        "sentences_per_s": round(translator.stats.sentences_per_s, 2),
        "seconds": round(seconds, 3),
        "score": "round_trip_chrf" if reverse is not None else "mean_log_prob",
        "samples": run.samples,
    }
    manifest = writer.commit(
        parts,
        parent=parent.version,
        config={"backtranslate": cfg.model_dump(mode="json"), "identity": ident},
        inputs=[parent.uri],
        inputs_by_source={source: run.inputs},
        inputs_key=inputs_key,
        extra={
            "derived": {"kind": DERIVED_KIND, "from": parent.version},
            "backtranslation": stats,
        },
    )
    log.info(
        "%s@%s: %d of %d sentences kept (%s), %.1f sentences/s",
        corpus,
        name,
        run.kept,
        run.inputs,
        dict(run.dropped),
        translator.stats.sentences_per_s,
    )
    return _summary(corpus, name, parent.version, manifest, stats, new=True)


def _default_cache(root: str) -> str:
    from crossling.augment.ct2 import default_cache_dir

    return default_cache_dir(root)


def _progress(run: _Run, translator: Translator) -> dict[str, Any]:
    return {
        "inputs": run.inputs,
        "kept": run.kept,
        "dropped": sum(run.dropped.values()),
        "limit": run.limit,
        "sentences_per_s": translator.stats.sentences_per_s,
    }


def _summary(
    corpus: str,
    version: str,
    parent: str | None,
    manifest: dict[str, Any],
    stats: dict[str, Any],
    *,
    new: bool,
) -> dict[str, Any]:
    return {
        "name": corpus,
        "version": version,
        "parent": parent,
        "new": new,
        "counts": manifest["counts"],
        "conservation": manifest["conservation"],
        **stats,
    }


def summary_of(v: CorpusVersion, *, new: bool = False, seconds: float = 0.0) -> dict[str, Any]:
    """The summary of an existing back-translated version, from its manifest."""
    stats = dict(v.manifest.get("backtranslation") or {})
    stats["seconds"] = round(seconds, 3)
    return _summary(v.name, v.version, v.parent_version, v.manifest, stats, new=new)


def is_derived(v: CorpusVersion) -> bool:
    """Whether ``v`` was derived from its parent (its rows add to the parent's, not replace)."""
    return bool(v.manifest.get("derived"))
