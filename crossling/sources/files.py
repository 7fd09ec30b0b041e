"""Documents from files: JSONL (also .gz), plain-text folders, Parquet, WARC, HF datasets on disk.

Inputs are cut into *partitions*, the unit of parallel work and of resume: a byte range of a large
JSONL file, a row-group range of a Parquet file, a whole WARC or gzip file, a group of text files,
a row range of a Hugging Face dataset. Readers stream: memory stays bounded whatever the input size.

A reader yields a :class:`Document` or a :class:`Reject` for every input record, so that the
number of records read is exactly the number of DOCS + PAIRS + REJECTS rows in the end.
"""

from __future__ import annotations

import dataclasses
import glob
import gzip
import json
import os
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from crossling.documents import REJECTS_SCHEMA, Document, Reason, Reject, Stage, make_id
from crossling.sources.extract import DecodeError, decode_bytes, looks_binary
from crossling.sources.remote import (
    RemoteConfig,
    RemoteReadError,
    expand_remote,
    is_path_list,
    is_url,
    open_input,
    read_path_list,
    redact_url,
)

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
GZ_JSONL_SUFFIXES = (".jsonl.gz", ".ndjson.gz", ".json.gz", ".jsonl.zst")
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wet", ".wet.gz")  # WET: WARC of text
PARQUET_SUFFIXES = (".parquet",)
TEXT_SUFFIXES = (".txt",)
TEXT_FIELDS = ("text", "content", "raw_content")
REJECTS_COLUMNS = {"id", "source", "stage", "reason"}  # a Parquet file of REJECTS rows


@dataclasses.dataclass(frozen=True)
class Partition:
    """A unit of work: one input, or a range of it. JSON-able, so it travels as a task argument."""

    index: int
    kind: str  # jsonl | jsonl_gz | parallel | txt | parquet | warc | hf
    uri: str  # file or directory, or a URL (http(s)://, s3://: one remote file)
    start: int = 0  # byte offset (jsonl), row group (parquet), row (hf)
    end: int = -1  # exclusive; -1 = to the end
    files: tuple[str, ...] = ()  # txt: the files of this group

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Partition:
        return cls(**{**d, "files": tuple(d.get("files") or ())})

    @property
    def weight(self) -> int:
        """About how much work the partition is (its input bytes), to start the largest first."""
        if self.kind in ("jsonl", "parallel") and self.end >= 0:
            return self.end - self.start
        paths = self.files or (self.uri,)
        try:
            return sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
        except OSError:
            return 0

    @property
    def label(self) -> str:
        rng = "" if self.end == -1 and self.start == 0 else f"[{self.start}:{self.end}]"
        return f"{os.path.basename(self.uri.rstrip('/'))}{rng}"


@dataclasses.dataclass
class InputError:
    input: str
    error: str


def display_name(path: str) -> str:
    """A file's name as it is stored in ``source`` columns: undecodable bytes in file names
    (surrogate escapes) become U+FFFD, since Parquet strings must be valid UTF-8."""
    from crossling.clean import strip_surrogates

    return strip_surrogates(os.path.basename(path))


class InputNotFound(FileNotFoundError):
    """A source given on the command line does not exist."""


def _is_hf_dataset(path: str) -> bool:
    return os.path.isdir(path) and any(
        os.path.exists(os.path.join(path, f))
        for f in ("dataset_info.json", "state.json", "dataset_dict.json")
    )


def _peek_json_keys(path: str, remote: RemoteConfig | None = None) -> set[str]:
    try:
        with open_input(path, remote) as raw:
            f = gzip.GzipFile(fileobj=raw) if path.endswith(".gz") else raw
            line = f.readline(1 << 20)
        obj = json.loads(line)
        return set(obj) if isinstance(obj, dict) else set()
    except Exception:
        return set()


def plan_partitions(
    sources: list[str],
    *,
    partition_bytes: int = 64 << 20,
    files_per_group: int = 2000,
    remote: RemoteConfig | None = None,
) -> tuple[list[Partition], list[InputError]]:
    """Expand sources (files, folders, globs, URLs, path lists) into partitions, in a
    deterministic order. A remote file (``http(s)://``, ``s3://``...) is one partition."""
    parts: list[dict[str, Any]] = []
    errors: list[InputError] = []
    txt_files: list[str] = []

    def add(kind: str, uri: str, **kw: Any) -> None:
        parts.append({"kind": kind, "uri": uri, **kw})

    def visit(path: str) -> None:
        low = path.lower()
        if is_path_list(path):
            urls, error = read_path_list(path, remote)
            if error:
                errors.append(InputError(redact_url(path), error))
            for url in urls:
                visit_remote(url)
        elif _is_hf_dataset(path):
            _plan_hf(path, add, errors)
        elif os.path.isdir(path):
            for entry in sorted(os.listdir(path)):
                if not entry.startswith("."):
                    visit(os.path.join(path, entry))
        elif low.endswith(WARC_SUFFIXES):
            add("warc", path)
        elif low.endswith(GZ_JSONL_SUFFIXES):
            kind = "parallel" if "src_text" in _peek_json_keys(path) else "jsonl_gz"
            add(kind, path)
        elif low.endswith(JSONL_SUFFIXES):
            size = os.path.getsize(path)
            if size == 0:
                errors.append(InputError(path, "empty file: no records"))
                return
            kind = "parallel" if "src_text" in _peek_json_keys(path) else "jsonl"
            for start in range(0, size, partition_bytes):
                add(kind, path, start=start, end=min(size, start + partition_bytes))
        elif low.endswith(PARQUET_SUFFIXES):
            _plan_parquet(path, add, errors, partition_bytes)
        elif low.endswith(TEXT_SUFFIXES):
            txt_files.append(path)
        else:
            errors.append(
                InputError(
                    path,
                    "unknown file type (expected .jsonl[.gz], .parquet, "
                    ".warc[.gz], .txt, or a saved HF dataset folder)",
                )
            )

    def visit_remote(url: str) -> None:
        low = urlsplit(url).path.lower()
        if low.endswith(WARC_SUFFIXES):
            add("warc", url)
        elif low.endswith(GZ_JSONL_SUFFIXES) or low.endswith(JSONL_SUFFIXES):
            kind = "parallel" if "src_text" in _peek_json_keys(url, remote) else "jsonl"
            add("jsonl_gz" if kind == "jsonl" and low.endswith(".gz") else kind, url)
        elif low.endswith(PARQUET_SUFFIXES):
            add("parquet", url, start=0, end=-1)  # row groups: all of them
        else:
            errors.append(
                InputError(
                    redact_url(url),
                    "unknown remote file type (expected .warc[.gz], .wet[.gz], .jsonl[.gz], "
                    ".parquet, or a .paths[.gz] list)",
                )
            )

    for src in sources:
        if is_url(src):
            if is_path_list(src):
                visit(src)
                continue
            for url in expand_remote(src, remote):  # FileNotFoundError: names nothing
                if is_path_list(url):
                    visit(url)
                else:
                    visit_remote(url)
            continue
        matches = sorted(glob.glob(src)) if any(c in src for c in "*?[") else [src]
        if not matches or not all(os.path.exists(m) for m in matches):
            raise InputNotFound(f"{src}: no such file or directory")
        for m in matches:
            visit(os.path.abspath(m))

    # Text files: one document each, grouped so that a folder of small files is not one task each.
    group: list[str] = []
    group_bytes = 0
    for path in txt_files:
        group.append(path)
        group_bytes += os.path.getsize(path)
        if len(group) >= files_per_group or group_bytes >= partition_bytes:
            add("txt", os.path.dirname(path), files=tuple(group))
            group, group_bytes = [], 0
    if group:
        add("txt", os.path.dirname(group[0]), files=tuple(group))

    return [Partition(index=i, **p) for i, p in enumerate(parts)], errors


def _plan_parquet(path: str, add, errors: list[InputError], partition_bytes: int) -> None:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as e:
        errors.append(InputError(path, f"not a readable Parquet file: {e}"))
        add("parquet", path, start=0, end=0)  # the reader turns this into a read_error row
        return
    start, acc = 0, 0
    for rg in range(meta.num_row_groups):
        acc += meta.row_group(rg).total_byte_size
        if acc >= partition_bytes:
            add("parquet", path, start=start, end=rg + 1)
            start, acc = rg + 1, 0
    if start < meta.num_row_groups or meta.num_row_groups == 0:
        add("parquet", path, start=start, end=meta.num_row_groups)


def _plan_hf(path: str, add, errors: list[InputError], rows_per_part: int = 200_000) -> None:
    import datasets

    try:
        ds = datasets.load_from_disk(path)
    except Exception as e:
        errors.append(InputError(path, f"not a loadable Hugging Face dataset: {e}"))
        return
    splits = ds.items() if isinstance(ds, datasets.DatasetDict) else [("", ds)]
    for split, d in splits:
        uri = os.path.join(path, split) if split else path
        for start in range(0, max(len(d), 1), rows_per_part):
            add("hf", uri, start=start, end=min(len(d), start + rows_per_part))


# --- readers -----------------------------------------------------------------------------------


def read_partition(
    part: Partition, *, max_doc_bytes: int = 8 << 20, remote: RemoteConfig | None = None
) -> Iterator[Any]:
    """Yield a Document, a Reject, or (parallel files) a pair dict for every record of ``part``.

    ``remote``: retries and timeouts for a partition whose ``uri`` is a URL.
    """
    if is_url(part.uri):
        yield from _read_remote(part, max_doc_bytes, remote or RemoteConfig())
        return
    readers = {
        "jsonl": _read_jsonl,
        "jsonl_gz": _read_jsonl,
        "parallel": _read_jsonl,
        "txt": _read_txt,
        "parquet": _read_parquet,
        "warc": _read_warc,
        "hf": _read_hf,
    }
    yield from readers[part.kind](part, max_doc_bytes)


def _read_warc(part: Partition, max_doc_bytes: int) -> Iterator[Document | Reject]:
    from crossling.sources.warc import read_warc

    yield from read_warc(part.uri, max_doc_bytes=max_doc_bytes)


def _read_remote(part: Partition, max_doc_bytes: int, cfg: RemoteConfig) -> Iterator[Any]:
    """A remote partition, streamed (WARC/WET, JSONL, Parquet); a file that cannot be opened or
    stops answering mid-way is one ``read_error`` row for what was not read."""
    from crossling.sources.warc import read_warc

    if part.kind == "warc":
        yield from read_warc(part.uri, max_doc_bytes=max_doc_bytes, remote=cfg)
        return
    name = display_name(urlsplit(part.uri).path)
    source = f"file:{name}"
    shown = redact_url(part.uri)
    try:
        if part.kind == "parquet":
            yield from _read_parquet(part, max_doc_bytes, remote=cfg)
        else:
            yield from _read_jsonl(part, max_doc_bytes, remote=cfg)
    except (RemoteReadError, FileNotFoundError) as e:
        yield _read_error(source, f"{name}:unreadable", f"{shown}: {e}; the rest was not read")


def _read_error(
    source: str,
    key: str,
    detail: str,
    url: str | None = None,
    reason: Reason = Reason.READ_ERROR,
    prefix: str | None = None,
) -> Reject:
    return Reject(
        id=make_id(source, key),
        source=source,
        url=url,
        stage=str(Stage.READ),
        reason=str(reason),
        detail=detail[:1000],
        text_prefix=prefix,
    )


def _iter_lines(
    part: Partition, max_doc_bytes: int, remote: RemoteConfig | None = None
) -> Iterator[tuple[int, bytes | None]]:
    """(byte offset, line) for each line that starts inside the partition's range.

    A line longer than ``max_doc_bytes`` is skipped in chunks (never held in memory) and reported as
    ``(offset, None)``.
    """
    gz = part.kind == "jsonl_gz" or part.uri.endswith(".gz")
    raw = open_input(part.uri, remote)
    f = gzip.GzipFile(fileobj=raw) if gz else raw
    with raw, f:
        pos = part.start
        if not gz and part.start > 0:
            # The line that straddles our start belongs to the previous partition.
            f.seek(part.start - 1)
            pos = part.start - 1 + _skip_line(f)
        end = part.end if (part.end >= 0 and not gz) else None
        while end is None or pos < end:
            line = f.readline(max_doc_bytes + 1)
            if not line:
                return
            offset = pos
            if len(line) > max_doc_bytes and not line.endswith(b"\n"):
                rest = _skip_line(f)
                pos += len(line) + rest
                yield offset, None
                continue
            pos += len(line)
            yield offset, line


def _skip_line(f, chunk: int = 1 << 20) -> int:
    """Read to the end of the current line in chunks, never holding it whole; returns its length."""
    n = 0
    while True:
        piece = f.readline(chunk)
        n += len(piece)
        if not piece or piece.endswith(b"\n"):
            return n


def _read_jsonl(
    part: Partition, max_doc_bytes: int, remote: RemoteConfig | None = None
) -> Iterator[Any]:
    name = display_name(urlsplit(part.uri).path if is_url(part.uri) else part.uri)
    source = f"file:{name}"
    lines = _iter_lines(part, max_doc_bytes, remote)
    while True:
        try:
            item = next(lines)
        except StopIteration:
            return
        except RemoteReadError:
            raise  # the caller names what could not be read
        except (EOFError, OSError, zlib.error) as e:  # truncated / corrupt gzip
            yield _read_error(
                source,
                f"{name}:truncated",
                f"{part.uri}: compressed stream "
                f"ends early or is corrupt ({type(e).__name__}: {e}); records "
                "before this point were read",
            )
            return
        offset, line = item
        key = f"{name}:{offset}"
        if line is None:
            yield _read_error(
                source,
                key,
                f"{part.uri} at byte {offset}: line longer than {max_doc_bytes} bytes",
                reason=Reason.TOO_LONG,
            )
            continue
        if not line.strip():
            continue  # blank lines are not records
        if looks_binary(line):
            yield _read_error(
                source,
                key,
                f"{part.uri} at byte {offset}: binary data (NUL bytes)",
                reason=Reason.BINARY,
            )
            continue
        try:
            raw = line.decode("utf-8")
        except UnicodeDecodeError:
            try:
                raw, _ = decode_bytes(line)
            except DecodeError as e:
                yield _read_error(
                    source, key, f"{part.uri} at byte {offset}: {e}", reason=Reason.DECODE_ERROR
                )
                continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            yield _read_error(
                source, key, f"{part.uri} at byte {offset}: invalid JSON: {e}", prefix=raw[:500]
            )
            continue
        if not isinstance(obj, dict):
            yield _read_error(
                source,
                key,
                f"{part.uri} at byte {offset}: a JSON {type(obj).__name__}, expected an object",
                prefix=raw[:500],
            )
            continue
        if part.kind == "parallel":
            yield _pair_record(obj, source, key, part.uri, offset)
            continue
        text = next((obj[f] for f in TEXT_FIELDS if isinstance(obj.get(f), str)), None)
        # The key is the file and byte offset (unique and stable), never a user-given id: ids in
        # the wild repeat, and two records must never share a DOCS/REJECTS id.
        rec_key = key
        if text is None:
            yield _read_error(
                source,
                rec_key,
                f"{part.uri} at byte {offset}: no string field 'text' (keys: {sorted(obj)[:10]})",
                url=obj.get("url"),
                prefix=raw[:500],
            )
            continue
        doc = Document(
            id=make_id(source, rec_key),
            text=text,
            source=source,
            url=obj.get("url") if isinstance(obj.get("url"), str) else None,
        )
        if isinstance(obj.get("lang"), str):
            doc.meta["declared_lang"] = obj["lang"]
        if obj.get("id") is not None and not isinstance(obj["id"], dict | list):
            doc.meta["input_id"] = str(obj["id"])  # the record's own id: kept apart, never `id`
        yield doc


def _pair_record(obj: dict, source: str, key: str, uri: str, offset: int) -> dict | Reject:
    """A parallel-data row (src_lang, tgt_lang, src_text, tgt_text) as a partial PAIRS dict."""
    need = ("src_lang", "tgt_lang", "src_text", "tgt_text")
    rec_key = key
    missing = [k for k in need if not isinstance(obj.get(k), str) or not obj.get(k).strip()]
    if missing:
        return _read_error(
            source, rec_key, f"{uri} at byte {offset}: parallel row without {', '.join(missing)}"
        )
    rec = {"id": make_id(source, rec_key), "source": source, **{k: obj[k] for k in need}}
    # Optional: the aligner's score and the DOCS id of the source side (crawled translations).
    if isinstance(obj.get("score"), int | float) and not isinstance(obj["score"], bool):
        rec["score"] = float(obj["score"])
    for key in ("origin_id", "split_key"):  # split_key: pairs sharing it share the split
        if isinstance(obj.get(key), str):
            rec[key] = obj[key]
    return rec


def _read_txt(part: Partition, max_doc_bytes: int) -> Iterator[Document | Reject]:
    base = part.uri
    for path in part.files:
        rel = os.path.relpath(path, os.path.dirname(base))
        source = f"file:{display_name(base)}"
        key = rel
        size = os.path.getsize(path)
        if size > max_doc_bytes:
            yield _read_error(
                source,
                key,
                f"{path}: {size} bytes, more than {max_doc_bytes}",
                reason=Reason.TOO_LONG,
            )
            continue
        with open(path, "rb") as f:
            data = f.read()
        if looks_binary(data):
            yield _read_error(source, key, f"{path}: binary data (NUL bytes)", reason=Reason.BINARY)
            continue
        try:
            text, _ = decode_bytes(data)
        except DecodeError as e:
            yield _read_error(source, key, f"{path}: {e}", reason=Reason.DECODE_ERROR)
            continue
        yield Document(id=make_id(source, key), text=text, source=source)


def _read_parquet(
    part: Partition, max_doc_bytes: int, remote: RemoteConfig | None = None
) -> Iterator[Document | Reject]:
    import pyarrow.parquet as pq

    name = display_name(urlsplit(part.uri).path if is_url(part.uri) else part.uri)
    source = f"file:{name}"
    try:
        pf = pq.ParquetFile(open_input(part.uri, remote) if is_url(part.uri) else part.uri)
    except Exception as e:
        yield _read_error(source, f"{name}:file", f"{part.uri}: not a readable Parquet file: {e}")
        return
    columns = pf.schema_arrow.names
    if REJECTS_COLUMNS <= set(columns) and "text" not in columns:
        # A REJECTS file (e.g. a crawl's): each row passes through as a Reject of its source.
        yield from _read_rejects(pf, part)
        return
    text_col = next((c for c in TEXT_FIELDS if c in columns), None)
    if text_col is None:
        # A file with the wrong columns: one row for the whole file (its rows are not documents).
        yield _read_error(
            source,
            f"{name}:file",
            f"{part.uri}: no text column (expected one of "
            f"{list(TEXT_FIELDS)}; found {columns[:20]}); {pf.metadata.num_rows} "
            "rows not read",
        )
        return
    cols = [c for c in (text_col, "url", "lang", "id") if c in columns]
    if part.end < 0:  # a remote file: every row group
        part = dataclasses.replace(part, end=pf.metadata.num_row_groups)
    row = sum(pf.metadata.row_group(i).num_rows for i in range(part.start))
    groups = list(range(part.start, part.end))
    if not groups:
        return
    for batch in pf.iter_batches(batch_size=4096, row_groups=groups, columns=cols):
        d = batch.to_pydict()
        for i, text in enumerate(d[text_col]):
            rid = f"{name}:{row}"
            url = d["url"][i] if "url" in d else None
            row += 1
            if not isinstance(text, str):
                yield _read_error(
                    source, str(rid), f"{part.uri} row {row - 1}: text is null", url=url
                )
                continue
            doc = Document(id=make_id(source, str(rid)), text=text, source=source, url=url)
            if "lang" in d and d["lang"][i]:
                doc.meta["declared_lang"] = d["lang"][i]
            if "id" in d and d["id"][i] is not None:
                doc.meta["input_id"] = str(d["id"][i])
            yield doc


def _read_rejects(pf, part: Partition) -> Iterator[Reject]:
    cols = [c for c in REJECTS_SCHEMA.names if c in pf.schema_arrow.names]
    groups = list(range(part.start, part.end))
    if not groups:
        return
    name = os.path.basename(part.uri)
    n = 0
    for batch in pf.iter_batches(batch_size=4096, row_groups=groups, columns=cols):
        for row in batch.to_pylist():
            rec = Reject(**{k: row.get(k) for k in cols})
            # Required fields missing in a hand-made file: still one row, never a failed run.
            rec.source = rec.source if isinstance(rec.source, str) else f"file:{name}"
            rec.id = rec.id if isinstance(rec.id, str) else make_id(rec.source, f"{name}:{n}")
            rec.stage = rec.stage if isinstance(rec.stage, str) else str(Stage.READ)
            rec.reason = rec.reason if isinstance(rec.reason, str) else str(Reason.READ_ERROR)
            rec.detail = rec.detail if isinstance(rec.detail, str) else ""
            n += 1
            yield rec


def _read_hf(part: Partition, max_doc_bytes: int) -> Iterator[Document | Reject]:
    import datasets

    root = part.uri
    split = ""
    if not _is_hf_dataset(root):  # <dataset>/<split>
        root, split = os.path.dirname(part.uri), os.path.basename(part.uri)
    ds = datasets.load_from_disk(root)
    if split:
        ds = ds[split]
    name = display_name(root.rstrip("/")) + (f"/{split}" if split else "")
    source = f"hf:{name}"
    text_col = next((c for c in TEXT_FIELDS if c in ds.column_names), None)
    if text_col is None:
        yield _read_error(
            source,
            f"{name}:{part.start}",
            f"{part.uri}: no text column "
            f"(found {ds.column_names[:20]}); rows {part.start}-{part.end} not read",
        )
        return
    for start in range(part.start, part.end, 2048):
        batch = ds[start : min(part.end, start + 2048)]
        for i, text in enumerate(batch[text_col]):
            row = start + i
            rid = f"{name}:{row}"
            if not isinstance(text, str):
                yield _read_error(source, str(rid), f"{part.uri} row {row}: text is not a string")
                continue
            yield Document(
                id=make_id(source, str(rid)),
                text=text,
                source=source,
                url=batch["url"][i] if "url" in batch else None,
            )
