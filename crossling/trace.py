"""Lineage both ways: which corpus versions hold a document, and which checkpoints trained on it.

A document is named by its URL, its id (a DOCS or PAIRS id) or its text. Every complete version
of every corpus under the data root is searched through :class:`crossling.corpus.CorpusVersion`:
DOCS rows by ``url``, ``id`` or ``content_hash`` (of the normalized text, as the pipeline computes
it), PAIRS rows by ``id``, by ``origin_id`` (pairs made from the document, e.g. back-translations)
or by the content hash of either side. Then every training run's ``train_ids.parquet`` (the ids and
content hashes of every row its weights could have seen, inherited ones included) is searched for
the ids and content hashes found; all checkpoints of a run that matches are listed. This is what a
takedown request needs: where the text is, and which models would have to be retrained without it.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossling import registry
from crossling.corpus import CorpusVersion
from crossling.documents import content_hash
from crossling.storage import DataRoot

URL, ID, TEXT = "url", "id", "text"


@dataclass(frozen=True)
class Query:
    """What to look for: a URL, an id, or a text (matched by the content hash of its normal form)."""

    kind: str  # url | id | text
    value: str

    @classmethod
    def parse(cls, value: str | None = None, *, text: str | None = None) -> Query:
        """``value`` is a URL when it has a scheme (``https://...``), else an id; or ``text``.

        Raises:
            ValueError: neither or both given, or an empty one.
        """
        if (value is None) == (text is None):
            raise ValueError("give a URL or id, or a text, not both")
        if text is not None:
            from crossling.clean import normalize_text

            normal = normalize_text(text)
            if not normal:
                raise ValueError("the text is empty after normalization")
            return cls(TEXT, normal)
        value = (value or "").strip()
        if not value:
            raise ValueError("empty URL or id")
        return cls(URL if "://" in value else ID, value)

    @property
    def content_hash(self) -> str | None:
        return content_hash(self.value) if self.kind == TEXT else None


@dataclass
class Holding:
    """One row of a corpus version that is (or is made from) the document."""

    corpus: str
    version: str
    kind: str  # docs | pairs
    split: str  # train | heldout
    id: str
    lang: str | None = None  # docs: the language; pairs: "<src>-<tgt>"
    url: str | None = None
    matched_by: str = ""  # url | id | origin_id | content_hash
    content_hash: str | None = None  # docs: of the row's text (the same text under other ids)


@dataclass
class TrainedOn:
    """A training run whose data included the document, and its checkpoints."""

    model_name: str
    run_version: str
    checkpoints: list[str]  # checkpoint directories, by step
    rows: int  # matching rows of its train ids
    kinds: list[str]  # docs | pairs-src | pairs-tgt | labeled
    versions: list[str]  # corpus versions the matching rows were read from (when recorded)


@dataclass
class Trace:
    query: Query
    holdings: list[Holding] = field(default_factory=list)
    trained_on: list[TrainedOn] = field(default_factory=list)
    searched: dict[str, int] = field(default_factory=dict)  # versions, runs

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": asdict(self.query),
            "holdings": [asdict(h) for h in self.holdings],
            "trained_on": [asdict(t) for t in self.trained_on],
            "searched": self.searched,
        }


def _is_in(col: pa.Array, values: Iterable[str]) -> pa.Array:
    return pc.fill_null(pc.is_in(col, pa.array(sorted(set(values)), pa.string())), False)


def _search_version(v: CorpusVersion, q: Query, ids: set[str]) -> list[Holding]:
    out = []
    doc_cols = ["id", "url", "content_hash", "split", "lang"]
    for b in v.docs(columns=doc_cols):
        if q.kind == URL:
            mask, how = pc.fill_null(pc.equal(b.column("url"), q.value), False), URL
        elif q.kind == ID:
            mask, how = pc.fill_null(pc.equal(b.column("id"), q.value), False), ID
        else:
            mask, how = _is_in(b.column("content_hash"), [q.content_hash]), "content_hash"
        for r in b.filter(mask).to_pylist():
            out.append(
                Holding(
                    v.name,
                    v.version,
                    "docs",
                    r["split"],
                    r["id"],
                    r["lang"],
                    r["url"],
                    how,
                    r["content_hash"],
                )
            )
    found = ids | {h.id for h in out}
    pair_cols = ["id", "origin_id", "src_lang", "tgt_lang", "src_text", "tgt_text", "split"]
    for b in v.pairs(columns=pair_cols):
        masks = []
        if found:
            masks += [
                (_is_in(b.column("id"), found), ID),
                (_is_in(b.column("origin_id"), found), "origin_id"),
            ]
        if q.kind == TEXT:
            sides = [
                pa.array([content_hash(t) for t in b.column(c).to_pylist()], pa.string())
                for c in ("src_text", "tgt_text")
            ]
            masks.append((pc.or_(*(_is_in(s, [q.content_hash]) for s in sides)), "content_hash"))
        seen: set[str] = set()
        for mask, how in masks:
            for r in b.filter(mask).to_pylist():
                if r["id"] in seen:
                    continue
                seen.add(r["id"])
                out.append(
                    Holding(
                        v.name,
                        v.version,
                        "pairs",
                        r["split"],
                        r["id"],
                        f"{r['src_lang']}-{r['tgt_lang']}",
                        None,
                        how,
                    )
                )
    return out


def _train_ids_path(meta: dict[str, Any], checkpoint: str) -> str | None:
    p = meta.get("train_ids_path")
    if not p:
        return None
    if "://" in p or os.path.isabs(p):
        return p
    return posixpath.join(posixpath.dirname(checkpoint.rstrip("/")), p)


def _search_train_ids(path: str, ids: set[str], hashes: set[str]) -> tuple[int, set, set]:
    fs, p = fsspec.core.url_to_fs(path)
    if not fs.exists(p):
        return 0, set(), set()
    n, kinds, versions = 0, set(), set()
    with fs.open(p, "rb") as f:
        pf = pq.ParquetFile(f)
        cols = [c for c in ("id", "content_hash", "kind", "version") if c in pf.schema_arrow.names]
        for b in pf.iter_batches(columns=cols, batch_size=65536):
            mask = _is_in(b.column("id"), ids) if ids else None
            if hashes:
                by_hash = _is_in(b.column("content_hash"), hashes)
                mask = by_hash if mask is None else pc.or_(mask, by_hash)
            if mask is None:
                continue
            hit = b.filter(mask)
            n += hit.num_rows
            if hit.num_rows:
                if "kind" in cols:
                    kinds |= set(hit.column("kind").to_pylist())
                if "version" in cols:
                    versions |= {x for x in hit.column("version").to_pylist() if x}
    return n, kinds, versions


def trace(root: str, query: Query, *, corpora: list[str] | None = None) -> Trace:
    """Every corpus version (and split) under ``root`` that holds the document, and every
    training run (with its checkpoints) whose data included it."""
    data = DataRoot(root)
    result = Trace(query)
    n_versions = 0
    for name in corpora or data.corpora():
        for version in data.versions(name):
            v = CorpusVersion.open(data, name, version)
            n_versions += 1
            result.holdings += _search_version(
                v, query, {query.value} if query.kind == ID else set()
            )
    ids = {h.id for h in result.holdings}
    if query.kind == ID:
        ids.add(query.value)
    hashes: set[str] = set()
    if query.kind == TEXT and query.content_hash:
        hashes.add(query.content_hash)
    # DOCS rows found carry their own content hash: the same text under another id counts too.
    hashes |= {h.content_hash for h in result.holdings if h.content_hash}
    runs: dict[tuple[str, str], list[registry.CheckpointRef]] = {}
    for ref in registry.find_checkpoints(root):
        runs.setdefault((ref.model_name, ref.run_version), []).append(ref)
    for (model, run_version), refs in sorted(runs.items()):
        newest = refs[-1]
        path = _train_ids_path(newest.metadata(), newest.path)
        if path is None:
            continue
        n, kinds, versions = _search_train_ids(path, ids, hashes)
        # checkpoint-0 holds the weights the run started from (untrained, or those of the
        # checkpoint it continued, which is listed with its own run): not trained on this data.
        trained = [r for r in sorted(refs, key=lambda r: r.step) if r.step > 0]
        if n and trained:
            result.trained_on.append(
                TrainedOn(
                    model,
                    run_version,
                    [r.path for r in trained],
                    n,
                    sorted(kinds),
                    sorted(versions),
                )
            )
    result.searched = {"corpus_versions": n_versions, "training_runs": len(runs)}
    return result


def format_trace(t: Trace) -> str:
    """The trace as text for the terminal."""
    q = t.query
    shown = q.value if q.kind != TEXT else f"text with content hash {q.content_hash}"
    lines = [f"{q.kind}: {shown}"]
    if t.holdings:
        lines.append(f"held by {len(t.holdings)} row(s) of corpus versions:")
        for h in t.holdings:
            where = f"{h.kind}/{h.lang}" if h.lang else h.kind
            extra = f"  url {h.url}" if h.url else ""
            lines.append(
                f"  {h.corpus} {h.version}  {where}  split {h.split}  id {h.id}"
                f"  (by {h.matched_by}){extra}"
            )
    else:
        lines.append(
            f"no corpus version holds it ({t.searched.get('corpus_versions', 0)} searched)"
        )
    if t.trained_on:
        lines.append(f"trained on by {len(t.trained_on)} run(s):")
        for r in t.trained_on:
            steps = ", ".join(posixpath.basename(p) for p in r.checkpoints)
            via = f" from {', '.join(r.versions)}" if r.versions else ""
            lines.append(
                f"  {r.model_name}/{r.run_version}: {steps}  ({r.rows} row(s): "
                f"{', '.join(r.kinds)}{via})"
            )
    else:
        lines.append(
            f"no checkpoint trained on it ({t.searched.get('training_runs', 0)} run(s) searched)"
        )
    return "\n".join(lines)
