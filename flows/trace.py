"""``crossling trace URL|ID|--text FILE``: where a document is, and which checkpoints trained on it.

Reads the data root directly (corpus manifests and shards, checkpoint metadata and train ids);
it starts no Prefect server (``needs_prefect`` is off), so it answers in well under a second on a
small root. The work is ``crossling.trace``'s.
"""

from __future__ import annotations

import argparse
import json
import os

DEFAULT_ROOT = os.environ.get("CROSSLING_ROOT", "./data")


def _cmd_trace(args: argparse.Namespace) -> int:
    from crossling.storage import DataRoot
    from crossling.trace import Query, format_trace, trace
    from flows.cli import UsageError

    data = DataRoot(args.data)
    if not data.fs.exists(data.path):
        raise UsageError(f"data root {args.data} does not exist")
    text = None
    if args.text is not None:
        if args.document is not None:
            raise UsageError("give a URL or id, or --text FILE, not both")
        try:
            with open(args.text, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError as e:
            raise UsageError(f"--text {args.text}: {e.strerror or e}") from None
    try:
        query = Query.parse(args.document, text=text)
    except ValueError as e:
        raise UsageError(str(e)) from None
    corpora = [c.strip() for c in args.corpus.split(",") if c.strip()] if args.corpus else None
    result = trace(args.data, query, corpora=corpora)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_trace(result))
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crossling trace URL|ID|--text FILE [--data ROOT]``."""
    p = subparsers.add_parser(
        "trace",
        help="which corpus versions hold a document, and which checkpoints trained on it",
        description="Find a document (by URL, DOCS/PAIRS id, or the text in a file) in every "
        "corpus version under ROOT (with its split), and every training run whose data "
        "included it, with its checkpoints. For takedown requests.",
    )
    p.add_argument("document", nargs="?", metavar="URL|ID", help="a document URL or id")
    p.add_argument("--text", metavar="FILE", help="find the text in FILE (normalized, hashed)")
    p.add_argument(
        "--data",
        default=DEFAULT_ROOT,
        metavar="ROOT",
        help="data root (default: $CROSSLING_ROOT or ./data)",
    )
    p.add_argument("--corpus", metavar="NAMES", help="only these corpora (comma-separated)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_cmd_trace, needs_prefect=False)
