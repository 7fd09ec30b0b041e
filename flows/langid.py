"""``crossling langid IN --out OUT``: fastText language ID over a JSONL or Parquet file, as a flow."""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from typing import Any, Literal

import pyarrow.parquet as pq
from prefect import flow
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from crossling.langid import LABEL_SCHEMA, LanguageIdentifier, label_files
from crossling.storage import atomic_open
from flows.cli_params import Opt, add_options, build
from flows.links import artifact_key


class LangIDParams(BaseModel):
    input: str = Field(
        ..., description="Any corpus input: JSONL (`text`, optional `id`), Parquet, WARC, .txt."
    )
    output: str = Field(..., description="Parquet or JSONL output, chosen by suffix.")
    mode: Literal["doc", "line"] = Field("doc", description="Per document, or per line.")
    model_path: str | None = Field(None, description="fastText LID model; default lid.176.ftz.")
    batch_size: int = Field(2048, ge=1, description="Records per fastText call.")


@flow(name="langid", log_prints=True)
def langid_flow(params: LangIDParams) -> dict[str, Any]:
    """Label every record of a file with language, script and score."""
    ident = LanguageIdentifier(params.model_path, mode=params.mode)
    counts: Counter[str] = Counter()
    n = errors = 0
    as_parquet = params.output.endswith(".parquet")
    with atomic_open(_local_fs(), os.path.abspath(params.output), "wb") as f:
        writer = pq.ParquetWriter(f, LABEL_SCHEMA, compression="zstd") if as_parquet else None
        for table in label_files([params.input], ident, params.batch_size):
            n += table.num_rows
            errors += table.num_rows - table.column("error").null_count
            counts.update(x for x in table.column("lang").to_pylist() if x is not None)
            if writer is not None:
                writer.write_table(table)
            else:
                f.write(
                    "".join(
                        json.dumps(
                            {k: v for k, v in r.items() if v is not None}, ensure_ascii=False
                        )
                        + "\n"
                        for r in table.to_pylist()
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


# How each parameter is spelled on the command line; help, types, choices and defaults come from
# LangIDParams (the UI's form).
CLI_OPTIONS = [
    Opt("input", positional=True, metavar="IN"),
    Opt("output", flag="--out", metavar="OUT"),
    Opt("mode"),
    Opt("model_path", flag="--model", metavar="PATH"),
    Opt("batch_size", metavar="N"),
]


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "langid",
        help="identify the language of each record of a file",
        description="fastText language ID over JSONL (`text`, optional `id`) or "
        "Parquet; writes id, lang, script, lang_score to Parquet or JSONL.",
    )
    add_options(p, LangIDParams, CLI_OPTIONS)
    p.set_defaults(func=_cli, check=_params)


def _params(args: argparse.Namespace) -> LangIDParams:
    from flows.cli import UsageError

    params = build(LangIDParams, CLI_OPTIONS, args)
    if not os.path.exists(params.input):
        raise UsageError(f"{params.input}: no such file or directory")
    if not params.output.endswith((".jsonl", ".parquet")):
        raise UsageError(f"{params.output}: output must end in .parquet or .jsonl")
    if params.model_path and not os.path.isfile(params.model_path):
        raise UsageError(f"{params.model_path}: no such fastText model")
    return params


def _cli(args: argparse.Namespace) -> int:
    from flows.cli import UsageError

    params = _params(args)
    try:
        result = langid_flow(params)
    except ValueError as e:
        raise UsageError(str(e)) from None
    langs = ", ".join(f"{k} {v}" for k, v in list(result["languages"].items())[:12])
    print(
        f"{result['records']} records -> {params.output} ({result['errors']} unreadable); {langs}"
    )
    return 0
