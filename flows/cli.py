"""The ``crossling`` command. Each flows module registers its own subcommand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Modules that define ``register_cli(subparsers)``; a subcommand sets ``func(args) -> int``.
_COMMAND_MODULES = [
    "flows.corpus",
    "flows.langid",
    "flows.demo",
    "flows.train",
    "flows.evaluate",
    "flows.pipeline",
    "flows.serve",
    "flows.trace",
]
# Only the module of the command being run is imported (training imports torch and transformers:
# hundreds of MB that a corpus run should not carry).
_COMMANDS = {
    "corpus": "flows.corpus",
    "langid": "flows.langid",
    "demo": "flows.demo",
    "train": "flows.train",
    "evaluate": "flows.evaluate",
    "serve": "flows.serve",
    "stop": "flows.serve",
    "pipeline": "flows.pipeline",
    "trace": "flows.trace",
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


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    try:
        if getattr(args, "needs_prefect", True):
            from flows.common import prefect_api  # imports prefect: only for commands that use it

            with prefect_api():
                return int(args.func(args) or 0)
        return int(args.func(args) or 0)
    except UsageError as e:
        print(f"crossling {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"crossling {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
