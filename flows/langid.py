"""``crossling langid IN --out OUT``: fastText language ID over a JSONL or Parquet file, as a flow."""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from prefect import flow
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from crossling.langid import LanguageIdentifier
from crossling.storage import atomic_open
from flows.common import artifact_key

OUT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("lang", pa.string()),
        ("script", pa.string()),
        ("lang_score", pa.float32()),
        ("lang_mixed", pa.bool_()),
        ("lang2", pa.string()),
        ("lang2_share", pa.float32()),
        ("error", pa.string()),
    ]
)


class LangIDParams(BaseModel):
    input: str = Field(..., description="JSONL (field `text`, optional `id`) or Parquet.")
    output: str = Field(..., description="Parquet or JSONL output, chosen by suffix.")
    mode: Literal["doc", "line"] = Field("doc", description="Per document, or per line.")
    model_path: str | None = Field(None, description="fastText LID model; default lid.176.ftz.")
    batch_size: int = Field(2048, ge=1)


class LangIDInputError(ValueError):
    pass


def _records(path: str, batch_size: int) -> Iterator[list[tuple[str, str | None, str | None]]]:
    """Batches of (id, text or None, error or None)."""
    if path.endswith(".parquet"):
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        if "text" not in names:
            raise LangIDInputError(f"{path}: no `text` column (found {names[:20]})")
        cols = ["text"] + (["id"] if "id" in names else [])
        row = 0
        for b in pf.iter_batches(batch_size=batch_size, columns=cols):
            d = b.to_pydict()
            ids = [
                str(x) if x is not None else str(row + i)
                for i, x in enumerate(d.get("id", [None] * b.num_rows))
            ]
            yield [
                (i, t, None if isinstance(t, str) else "text is null")
                for i, t in zip(ids, d["text"], strict=True)
            ]
            row += b.num_rows
        return
    batch: list[tuple[str, str | None, str | None]] = []
    with open(path, "rb") as f:
        for n, line in enumerate(f):
            if not line.strip():
                continue
            rid, text, err = str(n), None, None
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
                rid = str(obj["id"]) if obj.get("id") is not None else rid
                text = obj.get("text")
                if not isinstance(text, str):
                    text, err = None, "no string field `text`"
            except ValueError as e:
                err = f"line {n + 1}: {e}"[:200]
            batch.append((rid, text, err))
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


@flow(name="langid", log_prints=True)
def langid_flow(params: LangIDParams) -> dict[str, Any]:
    """Label every record of a file with language, script and score."""
    ident = LanguageIdentifier(params.model_path, mode=params.mode)
    counts: Counter[str] = Counter()
    n = errors = 0
    as_parquet = params.output.endswith(".parquet")
    with atomic_open(_local_fs(), os.path.abspath(params.output), "wb") as f:
        writer = pq.ParquetWriter(f, OUT_SCHEMA, compression="zstd") if as_parquet else None
        for batch in _records(params.input, params.batch_size):
            ok = [(i, t) for i, t, e in batch if e is None]
            preds = iter(ident.predict([t for _, t in ok]))
            rows = []
            for rid, _text, err in batch:
                if err is not None:
                    errors += 1
                    rows.append({"id": rid, "error": err})
                    continue
                p = next(preds)
                counts[p.lang] += 1
                rows.append(
                    {
                        "id": rid,
                        "lang": p.lang,
                        "script": p.script,
                        "lang_score": round(p.score, 4),
                        "lang_mixed": p.mixed,
                        "lang2": p.lang2,
                        "lang2_share": p.lang2_share,
                        "error": None,
                    }
                )
            n += len(rows)
            if writer is not None:
                writer.write_table(pa.Table.from_pylist(rows, schema=OUT_SCHEMA))
            else:
                f.write(
                    "".join(
                        json.dumps(
                            {k: v for k, v in r.items() if v is not None}, ensure_ascii=False
                        )
                        + "\n"
                        for r in rows
                    ).encode()
                )
            print(f"{n} records labelled")
        if writer is not None:
            writer.close()
    table = [{"lang": k, "records": v} for k, v in counts.most_common()]
    create_table_artifact(
        key=artifact_key("langid", os.path.basename(params.input)),
        table=table or [{"lang": "-", "records": 0}],
        description=f"Languages of {params.input} ({params.mode} mode)",
    )
    return {
        "records": n,
        "errors": errors,
        "languages": dict(counts.most_common()),
        "output": params.output,
    }


def _local_fs():
    from fsspec.implementations.local import LocalFileSystem

    return LocalFileSystem()


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "langid",
        help="identify the language of each record of a file",
        description="fastText language ID over JSONL (`text`, optional `id`) or "
        "Parquet; writes id, lang, script, lang_score to Parquet or JSONL.",
    )
    p.add_argument("input", metavar="IN")
    p.add_argument("--out", required=True, metavar="OUT", help=".parquet or .jsonl")
    p.add_argument("--mode", choices=["doc", "line"], default="doc")
    p.add_argument("--model", help="a fastText LID model path (default: lid.176.ftz)")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    if not os.path.isfile(args.input):
        raise UsageError(f"{args.input}: no such file")
    if not args.input.endswith((".jsonl", ".json", ".ndjson", ".parquet")):
        raise UsageError(f"{args.input}: expected a .jsonl or .parquet file")
    if not args.out.endswith((".jsonl", ".parquet")):
        raise UsageError(f"{args.out}: output must end in .parquet or .jsonl")
    if args.model and not os.path.isfile(args.model):
        raise UsageError(f"{args.model}: no such fastText model")
    try:
        result = langid_flow(
            LangIDParams(input=args.input, output=args.out, mode=args.mode, model_path=args.model)
        )
    except LangIDInputError as e:
        raise UsageError(str(e)) from None
    langs = ", ".join(f"{k} {v}" for k, v in list(result["languages"].items())[:12])
    print(f"{result['records']} records -> {args.out} ({result['errors']} unreadable); {langs}")
    return 0
