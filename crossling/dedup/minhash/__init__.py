"""MinHash LSH near-duplicate detection: script-aware shingles, signatures, bands, clusters.

One module per topic: config (settings, S-curve), shingles, signatures (and band keys),
clusters (the reduce), filter; everything is importable from this package.

A global stage in three parts, each a plain function over arrays and Parquet files:

- **map** (per partition): :func:`signatures` of the texts (or read back from the tagged work
  files, where the tag pass stored :func:`signature_array`), then :func:`band_table` -> one band
  file per partition (:func:`write_band_file`).
- **reduce** (once, corpus-wide, but split into independent band groups): :func:`plan_reduce`
  lists the band files of this run after the band indexes of earlier versions;
  :func:`candidate_edges` buckets one group of bands (several tasks can run side by side);
  :func:`cluster` optionally verifies the candidate pairs and finds connected components with
  ``scipy.sparse.csgraph``, giving the decisions: for every dropped document its
  ``duplicate_of``, for every kept representative its ``dup_cluster_size``.
- **filter** (per partition): :func:`filter_partition` applies the decisions to a partition's rows.

Shingles (``SHINGLING_VERSION`` ``minhash_v2``). Text is lowercased; punctuation, symbols and
whitespace are separators. With ``shingles='chars'`` (the default) every letter, mark and digit is
a token and a shingle is ``char_ngram`` consecutive tokens, in every script (separators skipped,
so a changed space or comma changes nothing, and a typo changes only ``char_ngram`` of the ~one
shingle per letter; benchmarks/dedup.py measured recall 0.97 against 0.71 with word shingles on
lightly edited copies, docs/near-dedup.md). With ``shingles='words'`` (``minhash_v1``'s
definition) digits become ``0``; in scripts that separate words with spaces a token is a word and a
shingle is ``ngram`` consecutive words; in Han, Kana, Hangul, Thai, Lao, Khmer and Myanmar every
character is a token and a shingle is ``char_ngram`` consecutive characters (these scripts write
words without spaces); a document mixing both gets both kinds. A document with fewer tokens than
``n`` gets one shingle of all of them; one without any letter or digit gets no shingle and is
never a near-duplicate (exact dedup handles those). The shingle hashes are computed over whole
batches (compiled, or numpy: the same numbers).

Signatures. ``num_perm`` 32-bit min-hashes per document, from rensa's R-MinHash over our 64-bit
shingle hashes (``RMinHash.digest_matrix_from_flat_token_hashes``). Chosen by measurement
(benchmarks/dedup.py, 4,000 real documents of 2.2 KB, 112 min-hashes, documents per CPU-second on
the same shingle hashes): rensa 129,000, numpy multiply-shift permutations over 64-bit hashes
8,600, datasketch 780; our numpy shingling runs at 20,000, so with rensa the signature is a
small part of the map. rensa's estimates are unbiased with the expected band-collision
probability ``s**r`` and, on small sets, a lower variance than independent permutations.
Signatures are only comparable for the same ``num_perm``, ``seed``, shingle settings,
:data:`SHINGLING_VERSION` and rensa ``ALGORITHM_VERSION`` (:meth:`NearDedupConfig.fingerprint`).

The S-curve. With ``b`` bands of ``r`` rows, two documents of Jaccard similarity ``s`` become
candidates with probability ``P(s) = 1 - (1 - s**r)**b`` (:func:`s_curve`); the curve is steepest
near ``(1/b)**(1/r)``. Unless given, ``b`` and ``r`` are chosen (``b*r <= num_perm``) to minimize
``(1-w)*FP + w*FN`` where ``FP = integral of P over [0, t]``, ``FN = integral of 1-P over [t, 1]``,
``t = threshold`` and ``w = recall_weight``: verification removes false candidates afterwards, so
the default leans to recall. Defaults (``threshold=0.8``, ``num_perm=128``, ``w=0.99``) give
18 bands x 7 rows (chosen with benchmarks/dedup.py: docs/near-dedup.md):

    s     0.50   0.60   0.70   0.75   0.80   0.85   0.90   0.95
    P(s)  0.132  0.400  0.787  0.924  0.986  0.999  1.000  1.000

(datatrove's 14 x 8 on 112 permutations: 0.053 0.211 0.565 0.772 0.924 0.988 1.0 1.0.)

Representatives. The earliest document of a cluster is kept: published versions (oldest first)
before this run, then the order of the band files (partition order), then the row order. So the
result never depends on which worker finished first, and documents of earlier versions are never
removed (checkpoints were trained on them).
"""

from __future__ import annotations

from crossling.dedup.minhash.clusters import (
    CLUSTERS_SCHEMA,
    BandSource,
    IncompatibleSignatures,
    ReducePlan,
    band_group_list,
    candidate_edges,
    cluster,
    decisions_for,
    ids_of,
    needed_nodes,
    plan_reduce,
    read_minhash_meta,
    reduce,
    rows_of,
    unique_edges,
    verify_edges,
)
from crossling.dedup.minhash.config import (
    EMPTY_SLOT,
    NEAR_DUPLICATE,
    SHINGLING_VERSION,
    NearDedupConfig,
    optimal_bands,
    s_curve,
)
from crossling.dedup.minhash.filter import (
    REJECT_COLUMNS,
    PartitionDecisions,
    filter_partition,
    partition_decisions,
)

# (_hash_pieces: the compiled shingling; _hash_pieces_py: its definition; the property tests
# compare them)
from crossling.dedup.minhash.shingles import (  # noqa: F401
    CHAR,
    DIGIT,
    SEP,
    WORD,
    _hash_pieces,
    _hash_pieces_py,
    _signals,
    _sorted_unique,
    char_classes,
    jaccard,
    set_column,
    shingle_classes,
    shingle_hashes,
    shingle_sets,
)
from crossling.dedup.minhash.signatures import (
    band_column,
    band_keys,
    band_table,
    empty_rows,
    estimated_jaccard,
    signature_array,
    signature_type,
    signatures,
    signatures_from_arrow,
    write_band_file,
)

__all__ = [
    "CHAR",
    "DIGIT",
    "SEP",
    "WORD",
    "BandSource",
    "CLUSTERS_SCHEMA",
    "EMPTY_SLOT",
    "IncompatibleSignatures",
    "NEAR_DUPLICATE",
    "NearDedupConfig",
    "PartitionDecisions",
    "REJECT_COLUMNS",
    "ReducePlan",
    "SHINGLING_VERSION",
    "band_column",
    "band_group_list",
    "band_keys",
    "band_table",
    "candidate_edges",
    "char_classes",
    "cluster",
    "decisions_for",
    "empty_rows",
    "estimated_jaccard",
    "filter_partition",
    "ids_of",
    "jaccard",
    "needed_nodes",
    "optimal_bands",
    "partition_decisions",
    "plan_reduce",
    "read_minhash_meta",
    "reduce",
    "rows_of",
    "s_curve",
    "set_column",
    "shingle_classes",
    "shingle_hashes",
    "shingle_sets",
    "signature_array",
    "signature_type",
    "signatures",
    "signatures_from_arrow",
    "unique_edges",
    "verify_edges",
    "write_band_file",
]
