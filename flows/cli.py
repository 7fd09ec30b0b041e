"""The ``crossling`` command. Each flows module registers its own subcommand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

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
    "pipeline": "flows.pipeline",
    "backtranslate": "flows.backtranslate",
    "compress": "flows.compress",
    "trace": "flows.trace",
}


# The option that names a command's data root, where it is not `--root`. A command's runs go to
# the Prefect server `crossling serve` runs for that root (ROOT/.serve/serve.json), if any;
# commands without one (langid) look for the service of $CROSSLING_ROOT, else ./data.
_ROOT_OPTIONS = {
    "corpus": "out",
    "crawl": "out",
    "pipeline": "out",
    "demo": "out",
    "train": "data",
    "evaluate": "data",
    "backtranslate": "data",
    "compress": "data",
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
        # Imports prefect: only the commands that run flows pay for it (`trace` does not).
        from flows.common import ServiceAuthMissing, prefect_api

        root = command_root(args)
        try:
            with prefect_api(root) as api:
                try:
                    return int(args.func(args) or 0)
                finally:
                    note = api.closing_note(root)
        except ServiceAuthMissing as e:
            raise UsageError(str(e)) from e
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


if __name__ == "__main__":
    # `python -m flows.cli`: run the importable module's main, so that the UsageError the
    # commands raise (imported from flows.cli) is the class main catches, not __main__'s copy.
    from flows.cli import main as _main

    sys.exit(_main())
