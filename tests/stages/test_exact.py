"""Exact dedup: first copy in run order kept, earlier versions win, cluster sizes add up."""

import numpy as np
import pyarrow as pa

from crossling.dedup.exact import PriorIndex, decide, hash_keys
from crossling.documents import content_hash


def _keys(texts):
    return hash_keys([content_hash(t) for t in texts])


def test_first_copy_in_run_order_is_kept_and_counts_its_copies():
    keys = _keys(["a", "b", "a", "c", "a", "b"])
    d = decide(keys, np.ones(6, dtype=np.int64), PriorIndex.empty())
    assert d.dup_of.tolist() == [-1, -1, 0, -1, 0, 1]
    assert d.cluster_size[[0, 1, 3]].tolist() == [3, 2, 1]


def test_cluster_sizes_carried_from_earlier_stages_are_summed():
    keys = _keys(["a", "a"])
    d = decide(keys, np.array([4, 2]), PriorIndex.empty())
    assert d.dup_of.tolist() == [-1, 0] and d.cluster_size[0] == 6


def test_published_copies_win_and_are_named():
    keys, ids = _keys(["b", "z"]), pa.array(["id-of-b", "id-of-z"])
    order = np.argsort(keys)
    prior = PriorIndex(keys[order], ids.take(pa.array(order)))
    keys = _keys(["a", "b", "b"])
    d = decide(keys, np.ones(3, dtype=np.int64), prior)
    assert d.dup_of[0] == -1
    assert d.dup_of[1] <= -2 and d.dup_of[2] <= -2
    assert prior.ids[int(-2 - d.dup_of[1])].as_py() == "id-of-b"


def test_foreign_non_hex_keys_do_not_crash():
    keys = hash_keys(["not-hex!", content_hash("x"), "not-hex!"])
    assert len(keys) == 3 and keys[0] == keys[2] != keys[1]
