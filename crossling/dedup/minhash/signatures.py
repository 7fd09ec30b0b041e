"""MinHash signatures (rensa R-MinHash over the shingle hashes), their Arrow form, and the map's
band keys and band files.

Part of :mod:`crossling.dedup.minhash` (its docstring describes the method).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crossling.dedup.minhash.config import EMPTY_SLOT, NearDedupConfig
from crossling.dedup.minhash.shingles import _BAND_MULT, _mix, shingle_hashes


def _fs(fs: fsspec.AbstractFileSystem | None) -> fsspec.AbstractFileSystem:
    if fs is None:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()
    return fs


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, sort_keys=True)


# --- signatures ---------------------------------------------------------------------------------


def signatures(texts: Sequence[str], config: NearDedupConfig | None = None) -> np.ndarray:
    """MinHash signatures: a ``(len(texts), num_perm)`` uint32 array.

    A text without any shingle (empty, only punctuation) gets every slot ``0xFFFFFFFF``
    (:func:`empty_rows` finds them); such rows never become candidates.
    """
    import rensa

    cfg = config or NearDedupConfig()
    if isinstance(texts, pa.ChunkedArray | pa.Array):
        texts = texts.to_pylist()
    out = np.empty((len(texts), cfg.num_perm), dtype=np.uint32)
    start, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text) if isinstance(text, str) else 0
        if size >= cfg.batch_chars or i == len(texts) - 1:
            batch = texts[start : i + 1]
            h, off = shingle_hashes(batch, cfg)
            if len(h):
                m = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
                    h, off, cfg.num_perm, cfg.seed
                )
                out[start : i + 1] = np.asarray(m.to_rows(), dtype=np.uint32)
            else:
                out[start : i + 1] = EMPTY_SLOT
            start, size = i + 1, 0
    return out


def empty_rows(sigs: np.ndarray) -> np.ndarray:
    """Boolean mask of signatures of documents without shingles."""
    return np.all(sigs == EMPTY_SLOT, axis=1)


def signature_type(num_perm: int) -> pa.DataType:
    """Arrow type of a signature column: ``fixed_size_list<uint32>[num_perm]``."""
    return pa.list_(pa.uint32(), num_perm)


def signature_array(sigs: np.ndarray) -> pa.FixedSizeListArray:
    """A signature matrix as an Arrow column (zero-copy), for tagged work files and indexes."""
    sigs = np.ascontiguousarray(sigs, dtype=np.uint32)
    return pa.FixedSizeListArray.from_arrays(pa.array(sigs.reshape(-1)), sigs.shape[1])


def signatures_from_arrow(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The inverse of :func:`signature_array` (a ``(n, num_perm)`` uint32 array); also reads a
    variable-size ``list<uint32>`` column whose rows all have the same length."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        raise ValueError("signature column has nulls: compute signatures for every row")
    values = column.flatten().to_numpy(zero_copy_only=False).astype(np.uint32, copy=False)
    if pa.types.is_fixed_size_list(column.type):
        return values.reshape(-1, column.type.list_size)
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        raise ValueError("signatures of different lengths in one column")
    return values.reshape(len(column), int(lengths[0]) if len(lengths) else 0)


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of equal min-hashes, row by row (an unbiased estimate of the Jaccard similarity)."""
    return np.mean(a == b, axis=-1)


# --- map: band keys per document ------------------------------------------------------------------


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per band: ``(n, bands)`` uint64 (equal keys = the band's rows all equal)."""
    n = sigs.shape[0]
    x = sigs[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    acc = np.broadcast_to(_BAND_MULT[:bands], (n, bands)).copy()
    for k in range(rows):
        acc ^= x[:, :, k]
        acc *= _BAND_MULT[(k + 1) % len(_BAND_MULT)]
        acc ^= acc >> np.uint64(29)
    return _mix(acc)


def band_column(j: int) -> str:
    return f"b{j:03d}"


def band_table(
    ids: Sequence[str] | pa.Array | pa.ChunkedArray,
    sigs: np.ndarray,
    config: NearDedupConfig,
    rows: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> pa.Table:
    """The map output of one partition: ``id``, ``row``, ``weight``, one uint64 column per band,
    ``signature``.

    Documents without shingles are left out (they cannot be near-duplicates). ``rows`` are the
    positions the filter step will see (default ``0..n-1``, the order of ``ids``); ``weights`` how
    many documents each already stands for (an earlier exact dedup's ``dup_cluster_size``;
    default 1), summed into the representative's ``dup_cluster_size``.
    """
    b, r = config.lsh_params()
    n = sigs.shape[0]
    if len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} signatures")
    rows = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    keep = ~empty_rows(sigs)
    sigs = sigs[keep]
    keys = band_keys(sigs, b, r)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    id_arr = ids if isinstance(ids, pa.Array) else pa.array(list(ids), pa.string())
    w = np.ones(n, dtype=np.int32) if weights is None else np.asarray(weights, dtype=np.int32)
    cols: dict[str, pa.Array] = {
        "id": id_arr.cast(pa.string()).filter(pa.array(keep)),
        "row": pa.array(rows[keep]),
        "weight": pa.array(w[keep], pa.int32()),
    }
    for j in range(b):
        cols[band_column(j)] = pa.array(keys[:, j])
    cols["signature"] = signature_array(sigs)
    meta = {"crossling.minhash": _json({**config.fingerprint(), "bands": b, "rows": r})}
    return pa.table(cols).replace_schema_metadata(meta)


def write_band_file(table: pa.Table, path: str, fs: fsspec.AbstractFileSystem | None = None) -> str:
    """Write a band table atomically (keeps its metadata); returns the path."""
    from crossling.shards import write_shard

    write_shard(_fs(fs), path, table)
    return path
