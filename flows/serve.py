"""``crossling serve`` / ``crossling stop``: run crossling as a service (server, deployments,
workers, the outputs' file server).

The work is done by the launcher in ``deployments/serve.py`` (imported when the command runs); it
imports nothing of this module or of the CLI, so the two never import each other. See README.md
("Running crossling as a service").
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time

DEFAULT_ROOT = os.environ.get("CROSSLING_ROOT", "./data")


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="start the Prefect server, deployments and workers (the UI)",
        description="Start `prefect server start` on loopback (SQLite under ROOT/.prefect, or "
        "PostgreSQL when PREFECT_SERVER_DATABASE_CONNECTION_URL is set), a read-only file server "
        "of ROOT's outputs (which the artifacts link to), create the work pools, deploy "
        "deployments/prefect.yaml, start the workers and print the UI address. crossling "
        "commands on ROOT then run against this server. Stop with `crossling stop`.",
    )
    p.add_argument(
        "--root",
        default=DEFAULT_ROOT,
        help="data root, also the default root of the deployments "
        "(default: $CROSSLING_ROOT or ./data)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; anything beyond loopback needs "
        "PREFECT_SERVER_API_AUTH_STRING)",
    )
    p.add_argument("--port", type=int, default=4200, help="server port (default 4200)")
    p.add_argument(
        "--files-port",
        type=int,
        help="port of the outputs' file server (default: --port + 1, else any free port)",
    )
    p.add_argument("--gpu", action="store_true", help="also start a worker on the gpu pool here")
    p.add_argument(
        "--no-worker", action="store_true", help="start no cpu worker (workers run elsewhere)"
    )
    p.add_argument(
        "--wait", action="store_true", help="stay in the foreground; Ctrl-C stops everything"
    )
    p.add_argument("--status", action="store_true", help="show what is served for ROOT and exit")
    p.add_argument("--json", action="store_true", help="print the state as JSON")
    p.set_defaults(func=_serve, needs_prefect=False)

    s = sub.add_parser(
        "stop",
        help="stop what `crossling serve` started",
        description="Stop the workers and the Prefect server started by "
        "`crossling serve` for ROOT (flow runs in progress are stopped too).",
    )
    s.add_argument("--root", default=DEFAULT_ROOT, help="data root given to serve")
    s.set_defaults(func=_stop, needs_prefect=False)


def _serve(args: argparse.Namespace) -> int:
    from deployments import serve as launcher
    from flows.cli import UsageError

    try:
        if args.status:
            state = launcher.status(args.root)
            if state is None:
                print(f"nothing is served for {args.root}")
                return 1
            if args.json:
                print(json.dumps(state, indent=2))
            else:
                print(f"UI {state['ui_url']} (root {state['root']}, database {state['database']})")
                if state.get("files_url"):
                    print(f"outputs {state['files_url']}/")
                for p in state["processes"]:
                    print(
                        f"  {p['name']}: pid {p['pid']} "
                        f"{'running' if p['alive'] else 'NOT RUNNING'} (log {p['log']})"
                    )
            return 0 if all(p["alive"] for p in state["processes"]) else 1
        for port in (args.port, args.files_port):
            if port is not None and not 0 < port < 65536:
                raise UsageError(f"invalid port {port}")
        opts = launcher.ServeOptions(
            root=args.root,
            host=args.host,
            port=args.port,
            files_port=args.files_port,
            gpu=args.gpu,
            cpu_worker=not args.no_worker,
            quiet=args.json,
        )
        os.makedirs(args.root, exist_ok=True)
        state = launcher.start(opts)
    except launcher.ServeError as e:
        raise UsageError(str(e)) from None
    if args.json:
        print(json.dumps(state, indent=2))
    if not args.wait:
        return 0
    stop_now = []
    signal.signal(signal.SIGTERM, lambda *_: stop_now.append(1))
    try:
        while not stop_now:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    launcher.stop(args.root)
    return 0


def _stop(args: argparse.Namespace) -> int:
    from deployments import serve as launcher
    from flows.cli import UsageError

    try:
        result = launcher.stop(args.root)
    except launcher.ServeError as e:
        raise UsageError(str(e)) from None
    if not result:
        print(f"nothing was served for {args.root}")
    return 0
