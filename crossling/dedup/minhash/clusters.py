"""The reduce: band files bucketed into candidate pairs (by band group), pairs verified,
connected components, the cluster decisions.

Part of :mod:`crossling.dedup.minhash` (its docstring describes the method).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crossling.dedup.minhash.config import NearDedupConfig
from crossling.dedup.minhash.shingles import jaccard
from crossling.dedup.minhash.signatures import (
    _fs,
    band_column,
    band_keys,
    estimated_jaccard,
    signatures_from_arrow,
)

# --- reduce: buckets -> candidate pairs -> clusters ------------------------------------------------


@dataclass(frozen=True)
class BandSource:
    """One band file (this run) or one earlier version's band index, in the global order."""

    path: str
    rows: int  # documents in the file
    offset: int  # global number of its first document
    partition: int | None  # this run's partition index; None for an earlier version
    version: str | None  # the earlier version's name; None for this run
    bands: int
    band_rows: int


@dataclass(frozen=True)
class ReducePlan:
    """The global numbering of documents: earlier versions first, then this run's partitions."""

    sources: tuple[BandSource, ...]
    n_old: int  # documents of earlier versions (numbers 0 .. n_old-1)
    n_total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [asdict(s) for s in self.sources],
            "n_old": self.n_old,
            "n_total": self.n_total,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReducePlan:
        return cls(tuple(BandSource(**s) for s in d["sources"]), d["n_old"], d["n_total"])

    def locate(self, nodes: np.ndarray) -> np.ndarray:
        """Index into ``sources`` of each global document number."""
        offsets = np.array([s.offset for s in self.sources], dtype=np.int64)
        return np.searchsorted(offsets, nodes, side="right") - 1


def read_minhash_meta(path: str, fs: fsspec.AbstractFileSystem | None = None) -> dict[str, Any]:
    """The settings a band file or index was made with (its Parquet metadata)."""
    import json

    with _fs(fs).open(path, "rb") as f:
        pf = pq.ParquetFile(f)
        meta = pf.schema_arrow.metadata or {}
        rows = pf.metadata.num_rows
    raw = meta.get(b"crossling.minhash")
    if raw is None:
        raise ValueError(f"{path}: not a MinHash band file (no crossling.minhash metadata)")
    return {**json.loads(raw), "num_rows": rows}


class IncompatibleSignatures(ValueError):
    """Band files or indexes made with settings whose signatures cannot be compared."""


def plan_reduce(
    band_files: Sequence[str],
    config: NearDedupConfig,
    index_files: Sequence[tuple[str, str]] = (),
    fs: fsspec.AbstractFileSystem | None = None,
    partitions: Sequence[int] | None = None,
) -> ReducePlan:
    """Number every document: the indexes of earlier versions first, then the band files.

    Args:
        band_files: this run's band files, in partition order.
        config: this run's settings.
        index_files: ``(version, path)`` of earlier versions' band indexes, oldest first
            (:func:`crossling.dedup.index.load_indexes`).
        fs: the filesystem of all paths (default: local).
        partitions: the partition index of each band file (default ``0, 1, ...``); decisions
            name partitions by these.

    Raises:
        IncompatibleSignatures: a file made with other shingle or signature settings.
    """
    want = config.fingerprint()
    sources: list[BandSource] = []
    offset = 0
    parts = list(range(len(band_files))) if partitions is None else list(partitions)
    if len(parts) != len(band_files):
        raise ValueError(f"{len(parts)} partition indexes for {len(band_files)} band files")
    entries = [(v, p, None) for v, p in index_files] + [
        (None, p, i) for i, p in zip(parts, band_files, strict=True)
    ]
    for version, path, part in entries:
        meta = read_minhash_meta(path, fs)
        diff = {k: (meta.get(k), v) for k, v in want.items() if meta.get(k) != v}
        if diff:
            what = ", ".join(f"{k}={a} (this run: {b})" for k, (a, b) in sorted(diff.items()))
            raise IncompatibleSignatures(
                f"{path}: made with {what}; its signatures cannot be compared with this run's. "
                "Keep these settings fixed for a corpus, or rebuild the index "
                "(crossling.dedup.index.build_index)."
            )
        rows = int(meta["num_rows"])
        sources.append(
            BandSource(path, rows, offset, part, version, int(meta["bands"]), int(meta["rows"]))
        )
        offset += rows
    n_old = sum(s.rows for s in sources if s.partition is None)
    return ReducePlan(tuple(sources), n_old, offset)


def band_group_list(config: NearDedupConfig) -> list[list[int]]:
    """The bands split into ``config.band_groups`` contiguous groups (one reduce task each)."""
    b, _ = config.lsh_params()
    groups = np.array_split(np.arange(b), min(b, config.band_groups))
    return [g.tolist() for g in groups if len(g)]


def _read_band_keys(
    src: BandSource,
    bands: Sequence[int],
    config: NearDedupConfig,
    fs: fsspec.AbstractFileSystem,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (``(len(bands), rows)``) with one source's keys, batch by batch; recomputed
    from the signatures when the source was banded with other bands x rows."""
    b, r = config.lsh_params()
    with fs.open(src.path, "rb") as f:
        pf = pq.ParquetFile(f)
        row = 0
        if (src.bands, src.band_rows) == (b, r):
            cols = [band_column(j) for j in bands]
            for batch in pf.iter_batches(columns=cols, batch_size=65536, use_threads=False):
                for i in range(len(bands)):
                    out[i, row : row + batch.num_rows] = batch.column(i).to_numpy()
                row += batch.num_rows
            return
        for batch in pf.iter_batches(columns=["signature"], batch_size=65536, use_threads=False):
            sig = signatures_from_arrow(batch.column(0))
            out[:, row : row + len(sig)] = band_keys(sig, b, r)[:, list(bands)].T
            row += len(sig)


def candidate_edges(
    plan: ReducePlan,
    bands: Sequence[int],
    config: NearDedupConfig,
    fs: fsspec.AbstractFileSystem | None = None,
) -> np.ndarray:
    """Candidate pairs from one group of bands: an ``(k, 2)`` int64 array of global numbers.

    Independent of the other groups, so groups can run as separate tasks. In every bucket (equal
    band key) each document of this run is paired with the bucket's earliest document, and, in
    buckets of at most ``small_bucket`` documents, with every earlier one (so that verification
    has alternatives). Pairs of two documents of earlier versions are never produced.
    Memory: 8 bytes per document and band of the group, plus about 18 per document.
    """
    fs = _fs(fs)
    bands = list(bands)
    keys = np.zeros((len(bands), plan.n_total), dtype=np.uint64)  # a band's keys contiguous
    for src in plan.sources:
        if src.rows:
            _read_band_keys(src, bands, config, fs, keys[:, src.offset : src.offset + src.rows])
    edges: list[np.ndarray] = []
    for j in range(len(bands)):
        edges.append(_bucket_pairs(keys[j], plan.n_old, config.small_bucket))
    del keys
    return unique_edges(edges)


def _bucket_pairs(keys: np.ndarray, n_old: int, small_bucket: int) -> np.ndarray:
    """Pairs (earlier, later) of documents with the same key (see :func:`candidate_edges`).

    Memory: the sort order and the sorted keys (16 bytes per document) and two masks; the
    buckets themselves are worked out on the (few) documents that share a key.
    """
    n = len(keys)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(keys)  # not stable (a stable sort needs more memory): reordered below
    sk = keys[order]
    eq = sk[1:] == sk[:-1]
    del sk
    shared = np.zeros(n, dtype=bool)
    shared[1:] = eq
    shared[:-1] |= eq
    idx = np.flatnonzero(shared)
    if not len(idx):
        return np.zeros((0, 2), dtype=np.int64)
    members = order[idx]  # documents in buckets of 2 or more, bucket by bucket
    start = np.ones(len(idx), dtype=bool)  # first member of its bucket
    start[1:] = ~eq[idx[1:] - 1]
    del order, eq, shared
    m = len(members)
    group = np.cumsum(start) - 1
    members = members[np.lexsort((members, group))]  # each bucket in global order
    first = np.flatnonzero(start)
    size = np.diff(np.append(first, m))[group]
    out = []
    later = ~start & (members >= n_old)  # each member of this run, but the first
    out.append(np.column_stack([members[first[group[later]]], members[later]]))
    small = size <= small_bucket
    largest = int(size[small].max(initial=0))
    for d in range(1, largest - 1):  # pairs (i, i+d) of small buckets, i not the first member
        i = np.flatnonzero(small[: m - d] & ~start[: m - d])
        i = i[(group[i] == group[i + d]) & (members[i + d] >= n_old)]
        if len(i):
            out.append(np.column_stack([members[i], members[i + d]]))
    return np.concatenate(out).astype(np.int64, copy=False)


def unique_edges(edges: Iterable[np.ndarray]) -> np.ndarray:
    """Concatenate pair arrays, orient each pair (smaller first), drop repeats."""
    parts = [e for e in edges if len(e)]
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    e = np.concatenate(parts)
    e = np.sort(e, axis=1)
    e = e[e[:, 0] != e[:, 1]]
    return np.unique(e, axis=0)


def needed_nodes(plan: ReducePlan, edges: np.ndarray) -> dict[int, np.ndarray]:
    """For exact verification: partition -> the global numbers of its documents in ``edges``."""
    nodes = np.unique(edges)
    nodes = nodes[nodes >= plan.n_old]
    which = plan.locate(nodes)
    return {int(plan.sources[si].partition): nodes[which == si] for si in np.unique(which)}


def rows_of(
    plan: ReducePlan, nodes: np.ndarray, fs: fsspec.AbstractFileSystem | None = None
) -> np.ndarray:
    """The partition row (what the filter sees) of each global number of this run."""
    fs = _fs(fs)
    nodes = np.asarray(nodes, dtype=np.int64)
    which = plan.locate(nodes)
    rows = np.zeros(len(nodes), dtype=np.int64)
    for si in np.unique(which):
        sel = which == si
        src = plan.sources[si]
        rows[sel] = _read_column(src, "row", nodes[sel] - src.offset, fs).to_numpy()
    return rows


def _read_column(
    src: BandSource, column: str, local_rows: np.ndarray, fs: fsspec.AbstractFileSystem
) -> pa.Array:
    with fs.open(src.path, "rb") as f:
        col = pq.ParquetFile(f).read(columns=[column]).column(0)
    return col.take(pa.array(local_rows)).combine_chunks()


def _node_values(
    plan: ReducePlan, nodes: np.ndarray, column: str, fs: fsspec.AbstractFileSystem
) -> list[pa.Array]:
    """A column's values for sorted unique global numbers, as one array per source touched."""
    which = plan.locate(nodes)
    return [
        _read_column(plan.sources[si], column, nodes[which == si] - plan.sources[si].offset, fs)
        for si in np.unique(which)
    ]


def verify_edges(
    plan: ReducePlan,
    edges: np.ndarray,
    config: NearDedupConfig,
    fs: fsspec.AbstractFileSystem | None = None,
    exact_sets: dict[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the candidate pairs that pass the configured check.

    With ``expand``, a pair that fails also has each of its documents checked against the other's
    verified partners and cluster: a true pair that shared no band but is close is found, and,
    the check being the same, precision is unchanged.

    Args:
        plan: the numbering.
        edges: candidate pairs (global numbers).
        config: ``verify``, ``threshold``, ``signature_slack``, ``expand``.
        fs: filesystem of the band files.
        exact_sets: for ``verify == 'exact'``: global number -> sorted unique shingle hashes of
            every document of this run in ``edges`` (:func:`needed_nodes`, :func:`rows_of`,
            :func:`shingle_sets`).

    Returns:
        ``(edges, similarity)``: the pairs kept and their similarity (exact, or estimated where
        the check used signatures; NaN when not verified).
    """
    if not len(edges) or config.verify == "none":
        return edges, np.full(len(edges), np.nan, dtype=np.float32)
    fs = _fs(fs)
    sigs = _SignatureCache(plan, fs)
    sim, ok = _check(plan, edges, config, sigs, exact_sets)
    kept, kept_sim = edges[ok], sim[ok]
    if config.expand and (~ok).any() and ok.any():
        extra = _one_step(edges[~ok], kept, edges, config.expand, plan.n_old)
        if len(extra):
            sim2, ok2 = _check(plan, extra, config, sigs, exact_sets)
            kept = np.concatenate([kept, extra[ok2]])
            kept_sim = np.concatenate([kept_sim, sim2[ok2]])
    return kept, kept_sim.astype(np.float32)


class _SignatureCache:
    """Signatures of documents read from the band files on demand (for 'signature' checks)."""

    def __init__(self, plan: ReducePlan, fs: fsspec.AbstractFileSystem):
        self.plan, self.fs = plan, fs
        self.nodes = np.zeros(0, dtype=np.int64)
        self.sigs = np.zeros((0, 0), dtype=np.uint32)

    def get(self, nodes: np.ndarray) -> np.ndarray:
        missing = np.setdiff1d(nodes, self.nodes)
        if len(missing):
            new = np.concatenate(
                [
                    signatures_from_arrow(a)
                    for a in _node_values(self.plan, missing, "signature", self.fs)
                ]
            )
            allnodes = np.concatenate([self.nodes, missing])
            allsigs = np.concatenate([self.sigs, new]) if len(self.sigs) else new
            order = np.argsort(allnodes)
            self.nodes, self.sigs = allnodes[order], allsigs[order]
        return self.sigs[np.searchsorted(self.nodes, nodes)]


def _check(
    plan: ReducePlan,
    edges: np.ndarray,
    config: NearDedupConfig,
    sigs: _SignatureCache,
    exact_sets: dict[int, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, passes) of each pair: exact where both sets are known, else by signatures."""
    sim = np.full(len(edges), np.nan, dtype=np.float64)
    use_sig = np.ones(len(edges), dtype=bool)
    if config.verify == "exact":
        if exact_sets is None:
            raise ValueError("verify='exact' needs the shingle sets of the documents in the pairs")
        both_new = edges[:, 0] >= plan.n_old
        for k in np.flatnonzero(both_new):
            a, b = edges[k]
            sim[k] = jaccard(exact_sets[int(a)], exact_sets[int(b)])
        use_sig = ~both_new
    if use_sig.any():
        sub = edges[use_sig]
        sim[use_sig] = estimated_jaccard(sigs.get(sub[:, 0]), sigs.get(sub[:, 1]))
    t = config.threshold
    floor = np.full(len(edges), t)
    floor[use_sig] = t - config.signature_slack * math.sqrt(t * (1 - t) / config.num_perm)
    return sim, sim >= floor - 1e-9


def _one_step(
    failed: np.ndarray, kept: np.ndarray, tried: np.ndarray, limit: int, n_old: int
) -> np.ndarray:
    """Pairs (a, c) for a failed pair (a, b) and c a verified partner of b, or a member of b's
    cluster of verified pairs (at most ``limit`` of each: the earliest)."""
    from scipy.sparse import coo_matrix  # here: scipy costs workers that never reduce 0.2 s
    from scipy.sparse.csgraph import connected_components

    nodes, inv = np.unique(kept, return_inverse=True)
    inv = inv.reshape(-1, 2)
    m = len(nodes)
    graph = coo_matrix((np.ones(len(inv), dtype=np.int8), (inv[:, 0], inv[:, 1])), shape=(m, m))
    _, label = connected_components(graph, directed=False)
    by_label = np.lexsort((nodes, label))  # members of each cluster together, earliest first
    first_of = np.searchsorted(label[by_label], np.arange(label.max() + 1))
    end_of = np.append(first_of[1:], m)
    both = np.concatenate([inv, inv[:, ::-1]])
    both = both[np.argsort(both[:, 0], kind="stable")]
    p_first = np.searchsorted(both[:, 0], np.arange(m))
    p_end = np.searchsorted(both[:, 0], np.arange(m), side="right")
    out = []
    for a, b in np.concatenate([failed, failed[:, ::-1]]):
        i = np.searchsorted(nodes, b)
        if i == m or nodes[i] != b:
            continue
        c = label[i]
        members = nodes[by_label[first_of[c] : min(end_of[c], first_of[c] + limit)]]
        partners = nodes[both[p_first[i] : min(p_end[i], p_first[i] + limit), 1]]
        near = np.union1d(members, partners)
        near = near[near != a]
        out.append(np.column_stack([np.full(len(near), a), near]))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    extra = unique_edges(out)
    # leave out pairs already checked, and pairs of two documents of earlier versions
    done = {(int(x), int(y)) for x, y in tried}
    keep = [(int(x), int(y)) not in done for x, y in extra]
    extra = extra[np.array(keep, dtype=bool)]
    return extra[extra[:, 1] >= n_old] if len(extra) else extra


CLUSTERS_SCHEMA = pa.schema(
    [
        pa.field("partition", pa.int32(), nullable=False),  # this run's partition index
        pa.field("row", pa.int64(), nullable=False),  # the row the filter sees
        pa.field("id", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string()),  # the kept representative; null = kept
        pa.field("duplicate_of_version", pa.string()),  # its earlier version; null = this run
        pa.field("similarity", pa.float32()),  # of the pair that linked it (NaN: not verified)
        pa.field("dup_cluster_size", pa.int32(), nullable=False),  # kept rows: cluster size
    ]
)


def cluster(
    plan: ReducePlan,
    edges: np.ndarray,
    similarity: np.ndarray | None = None,
    fs: fsspec.AbstractFileSystem | None = None,
) -> pa.Table:
    """Connected components of the (verified) pairs; one representative each (the earliest).

    Returns:
        The decisions (:data:`CLUSTERS_SCHEMA`) for this run's documents that are in a cluster:
        each dropped one with ``duplicate_of`` (and the version it is in, when earlier), each kept
        representative with its ``dup_cluster_size`` (the weights of the documents of this run it
        stands for: each counts what it already stood for, see :func:`band_table`).
        Documents absent from the table are kept with ``dup_cluster_size`` 1.
    """
    fs = _fs(fs)
    if not len(edges):
        return CLUSTERS_SCHEMA.empty_table()
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes, inv = np.unique(edges, return_inverse=True)
    inv = inv.reshape(-1, 2)
    m = len(nodes)
    graph = coo_matrix(
        (np.ones(len(inv), dtype=np.int8), (inv[:, 0], inv[:, 1])), shape=(m, m)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    # nodes are sorted, so the first node of each label is its earliest document
    _, first = np.unique(labels, return_index=True)
    rep = nodes[first][labels]
    new = nodes >= plan.n_old
    weight = np.ones(m, dtype=np.int64)
    if new.any():
        weight[new] = _weights_of(plan, nodes[new], fs)
    sizes = np.bincount(labels, weights=weight).astype(np.int64)[labels]
    # the similarity of the pair that links a dropped document to its cluster (best one)
    sim_of = np.full(m, -1.0, dtype=np.float32)
    if similarity is not None and len(similarity):
        s = np.nan_to_num(similarity.astype(np.float32), nan=-1.0)
        for col in (0, 1):
            np.maximum.at(sim_of, inv[:, col], s)
    sim_of[sim_of < 0] = np.nan
    keep_new = new  # decisions only for this run's documents
    nodes_new = nodes[keep_new]
    rep_new = rep[keep_new]
    dropped = nodes_new != rep_new

    ids = ids_of(plan, nodes_new, fs)
    rep_ids_needed = np.unique(rep_new[dropped])
    rep_id_map = dict(zip(rep_ids_needed.tolist(), ids_of(plan, rep_ids_needed, fs), strict=True))
    which = plan.locate(nodes_new)
    partition = np.array([plan.sources[i].partition for i in which], dtype=np.int32)
    rows = rows_of(plan, nodes_new, fs)
    rep_src = plan.locate(rep_new)
    dup_of = [rep_id_map[int(r)] if d else None for r, d in zip(rep_new, dropped, strict=True)]
    dup_ver = [
        plan.sources[s].version if d else None for s, d in zip(rep_src, dropped, strict=True)
    ]
    cluster_size = np.where(dropped, 1, sizes[keep_new]).astype(np.int32)
    table = pa.table(
        {
            "partition": pa.array(partition, pa.int32()),
            "row": pa.array(rows, pa.int64()),
            "id": pa.array(ids, pa.string()),
            "duplicate_of": pa.array(dup_of, pa.string()),
            "duplicate_of_version": pa.array(dup_ver, pa.string()),
            "similarity": pa.array(np.where(dropped, sim_of[keep_new], np.nan), pa.float32()),
            "dup_cluster_size": pa.array(cluster_size, pa.int32()),
        },
        schema=CLUSTERS_SCHEMA,
    )
    return table


def _weights_of(plan: ReducePlan, nodes: np.ndarray, fs: fsspec.AbstractFileSystem) -> np.ndarray:
    """Each (sorted) node's weight; 1 for band files written before weights existed."""
    out = np.ones(len(nodes), dtype=np.int64)
    which = plan.locate(nodes)
    for si in np.unique(which):
        src = plan.sources[si]
        with fs.open(src.path, "rb") as f:
            if "weight" not in pq.ParquetFile(f).schema_arrow.names:
                continue
        sel = which == si
        out[sel] = _read_column(src, "weight", nodes[sel] - src.offset, fs).to_numpy()
    return out


def ids_of(plan: ReducePlan, nodes: np.ndarray, fs: fsspec.AbstractFileSystem) -> list[str]:
    """The document ids of some nodes (in the order given)."""
    if not len(nodes):
        return []
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    vals = pa.concat_arrays(_node_values(plan, sorted_nodes, "id", fs)).to_pylist()
    out: list[str] = [""] * len(nodes)
    for pos, v in zip(order.tolist(), vals, strict=True):
        out[pos] = v
    return out


def reduce(
    plan: ReducePlan,
    config: NearDedupConfig,
    fs: fsspec.AbstractFileSystem | None = None,
    exact_sets: dict[int, np.ndarray] | None = None,
) -> pa.Table:
    """All of the reduce in one process: every band group, verification, clusters.

    For ``verify == 'exact'`` pass ``exact_sets`` (see :func:`verify_edges`) or use
    :func:`candidate_edges`, :func:`needed_nodes`, :func:`verify_edges`, :func:`cluster` step by
    step (the corpus stage and ``crossling dedup`` do, to spread the work over tasks).
    """
    edges = unique_edges(candidate_edges(plan, g, config, fs) for g in band_group_list(config))
    edges, sim = verify_edges(plan, edges, config, fs, exact_sets)
    return cluster(plan, edges, sim, fs)


def decisions_for(decisions: pa.Table, partition: int) -> pa.Table:
    """The decisions of one partition (what its filter task needs)."""

    return decisions.filter(pc.equal(decisions.column("partition"), partition))
