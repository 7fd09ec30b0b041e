"""Storage and shards: atomic writes, version names, manifests' file records."""

import hashlib
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.local import LocalFileSystem

from crossling.shards import ROW_GROUP_ROWS, ShardWriter, write_shard
from crossling.storage import DataRoot, atomic_open, clean_tmp, is_version, new_version, write_json

FS = LocalFileSystem()


def test_atomic_open_leaves_nothing_on_failure(tmp_path):
    path = str(tmp_path / "a" / "f.json")
    with pytest.raises(RuntimeError):
        with atomic_open(FS, path, "w") as f:
            f.write("half")
            raise RuntimeError("boom")
    assert not os.path.exists(path) and os.listdir(tmp_path / "a") == []
    write_json(FS, path, {"x": 1})
    assert open(path).read().strip().startswith("{")


def test_shard_is_invisible_until_closed_and_records_what_it_wrote(tmp_path):
    path = str(tmp_path / "s.parquet")
    schema = pa.schema([("id", pa.string()), ("n", pa.int32())])
    w = ShardWriter(FS, path, schema)
    for k in range(5):  # small writes gathered into full row groups
        w.write(pa.table({"id": [f"{k}-{i}" for i in range(100)], "n": [k] * 100}, schema=schema))
    assert not os.path.exists(path)
    rows, nbytes, sha = w.close()
    assert rows == 500 and nbytes == os.path.getsize(path)
    assert sha == hashlib.sha256(open(path, "rb").read()).hexdigest()
    meta = pq.read_metadata(path)
    assert meta.num_rows == 500 and meta.num_row_groups == 1 and ROW_GROUP_ROWS >= 500


def test_aborted_shard_leaves_no_temporary_file(tmp_path):
    schema = pa.schema([("id", pa.string())])
    w = ShardWriter(FS, str(tmp_path / "s.parquet"), schema)
    w.write(pa.table({"id": ["a"]}, schema=schema))
    w.abort()
    assert os.listdir(tmp_path) == []
    with pytest.raises((pa.ArrowInvalid, ValueError)):  # a table that does not fit the schema
        write_shard(FS, str(tmp_path / "t.parquet"), pa.table({"other": [1]}), schema)
    assert os.listdir(tmp_path) == []


def test_versions_sort_by_time_and_only_complete_ones_count(tmp_path):
    dr = DataRoot(str(tmp_path))
    a, b = new_version("aaaaaaaa"), "29991231T000000Z-bbbbbbbb"
    assert is_version(a) and is_version(b) and not is_version("latest")
    for v in (b, a):
        os.makedirs(dr.version_dir("c", v))
    assert dr.versions("c") == []  # no manifest yet
    write_json(FS, os.path.join(dr.version_dir("c", a), "manifest.json"), {})
    assert dr.versions("c") == [a] and dr.versions("c", complete=False) == [a, b]
    (tmp_path / "corpora" / "c" / a / ".x.tmp-1234").write_text("left over")
    assert clean_tmp(FS, dr.corpus_dir("c")) == 1
