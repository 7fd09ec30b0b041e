"""The ``crossling`` command. Each flows module registers its own subcommand."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import sys
import threading
from typing import NoReturn

# Modules that define ``register_cli(subparsers)``; a subcommand sets ``func(args) -> int``.
_COMMAND_MODULES = [
    "flows.corpus",
    "flows.crawl",
    "flows.langid",
    "flows.dedup",
    "flows.demo",
    "flows.train",
    "flows.evaluate",
    "flows.pipeline",
    "flows.backtranslate",
    "flows.compress",
    "flows.serve",
    "flows.trace",
    "flows.quality",
    "flows.tokenizer",
]
# Only the module of the command being run is imported (training imports torch and transformers:
# hundreds of MB that a corpus run should not carry).
_COMMANDS = {
    "corpus": "flows.corpus",
    "crawl": "flows.crawl",
    "langid": "flows.langid",
    "dedup": "flows.dedup",
    "demo": "flows.demo",
    "train": "flows.train",
    "evaluate": "flows.evaluate",
    "serve": "flows.serve",
    "stop": "flows.serve",
    "status": "flows.serve",
    "pipeline": "flows.pipeline",
    "backtranslate": "flows.backtranslate",
    "compress": "flows.compress",
    "trace": "flows.trace",
    "quality-model": "flows.quality",
    "thresholds": "flows.quality",
    "tokenizer": "flows.tokenizer",
}


# The parsed option (its dest: the parameter model's field) that names a command's data root,
# where it is not `root` (corpus, crawl, evaluate, backtranslate and compress spell theirs --out
# or --data, into the field `root`). A command's runs go to the Prefect server `crossling serve`
# runs for that root (ROOT/.serve/serve.json), if any; commands without one (langid) look for
# the service of $CROSSLING_ROOT, else ./data.
_ROOT_OPTIONS = {
    "pipeline": "corpus__root",
    "demo": "out",
    "train": "data_root",
}


class UsageError(Exception):
    """A usage or input error: printed as one line, exit status 2."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crossling",
        description="Build multilingual corpora and train cross-lingual models, as Prefect flows.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [_COMMANDS[command]] if command in _COMMANDS else _COMMAND_MODULES
    for mod_name in modules:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as e:
            if e.name == mod_name:  # not built yet
                continue
            raise
        mod.register_cli(sub)
    return parser


def command_root(args: argparse.Namespace) -> str:
    """The data root a parsed command works on (whose service its runs should go to)."""
    value = getattr(args, _ROOT_OPTIONS.get(args.command, "root"), None)
    if isinstance(value, str) and value:
        return value
    return os.environ.get("CROSSLING_ROOT", "./data")


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status.

    Called without ``argv`` (the ``crossling`` script, ``python -m flows.cli``), it reads
    ``sys.argv`` and ends the process itself (:func:`exit_now`); with ``argv`` (tests, other
    Python code), it returns.
    """
    status = _main(argv)
    if argv is None:
        exit_now(status)
    return status


def _main(argv: list[str] | None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    note = None
    try:
        if not getattr(args, "needs_prefect", True):
            return int(args.func(args) or 0)
        if check := getattr(args, "check", None):
            check(args)  # usage errors before any server is found or started
        # Imports prefect: only the commands that run flows pay for it (`trace` does not).
        from flows.api import ServiceAuthMissing, prefect_api
        from flows.local_server import LocalServerError

        root = command_root(args)
        try:
            with prefect_api(root) as api:
                try:
                    return int(args.func(args) or 0)
                finally:
                    note = api.closing_note(root)
        except ServiceAuthMissing as e:
            raise UsageError(str(e)) from e
        except LocalServerError as e:
            print(f"crossling {args.command}: error: {e}", file=sys.stderr)
            return 1
    except UsageError as e:
        note = None  # nothing ran
        print(f"crossling {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"crossling {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout.flush()
        if note:  # the last line, after the temporary server's own shutdown messages
            print(f"crossling {args.command}: {note}", file=sys.stderr, flush=True)


def exit_now(status: int) -> NoReturn:
    """End the process as a normal exit would, less the interpreter's teardown.

    Threads are joined and exit handlers run (Prefect's, logging's) as usual; then the process
    ends without freeing the thousands of modules a flow command imports, which takes a second
    or more on a busy machine and has nothing left to do.
    """
    with contextlib.suppress(Exception):
        threading._shutdown()  # type: ignore[attr-defined]  # joins non-daemon threads
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    # `python -m flows.cli`: run the importable module's main, so that the UsageError the
    # commands raise (imported from flows.cli) is the class main catches, not __main__'s copy.
    from flows.cli import main as _main

    sys.exit(_main())
