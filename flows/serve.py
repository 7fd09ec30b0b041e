"""``crossling serve`` / ``crossling stop``: run crossling as a service (server, deployments,
workers, the outputs' file server).

``crossling serve`` parses and checks its options here, then becomes the launcher program
(``python -m deployments.serve``): flows/ imports nothing of deployments/. ``stop`` and
``status`` read the records (flows/service.py, flows/local_server.py). See README.md
("Running crossling as a service").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

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
        help="stop the Prefect server of a data root (the local one, or what `serve` started)",
        description="Stop the local Prefect server that commands started for ROOT, and the "
        "workers, file server and Prefect server started by `crossling serve` for ROOT (flow runs "
        "in progress are stopped too). The runs stay in ROOT/.prefect/prefect.db.",
    )
    s.add_argument(
        "--root", default=DEFAULT_ROOT, help="data root (default: $CROSSLING_ROOT or ./data)"
    )
    s.set_defaults(func=_stop, needs_prefect=False)

    st = sub.add_parser(
        "status",
        help="say whether a Prefect server runs for a data root, its URL and how many runs it holds",
        description="Whether a Prefect server runs for ROOT (the one `crossling serve` started, or "
        "the local one commands start on first use), its UI address and how many flow runs it "
        "holds. Exit status 0 when one runs, 1 when none does.",
    )
    st.add_argument(
        "--root", default=DEFAULT_ROOT, help="data root (default: $CROSSLING_ROOT or ./data)"
    )
    st.add_argument("--json", action="store_true", help="print the state as JSON")
    st.set_defaults(func=_status, needs_prefect=False)


def _serve(args: argparse.Namespace) -> int:
    from flows import service
    from flows.cli import UsageError

    if "://" in args.root:
        raise UsageError(
            f"serve needs a local data root for its database and state, not {args.root}"
        )
    if args.status:
        try:
            state = service.status(args.root)
        except service.ServiceStateError as e:
            raise UsageError(str(e)) from None
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
    if why := service.bind_refusal(args.host):
        raise UsageError(why)
    options = {
        "root": args.root,
        "host": args.host,
        "port": args.port,
        "files_port": args.files_port,
        "gpu": args.gpu,
        "cpu_worker": not args.no_worker,
        "quiet": args.json,
    }
    # The launcher (deployments/serve.py) is a program of its own: this process becomes it, so
    # flows/ imports nothing of deployments/ (which builds on flows/), and --wait keeps the PID.
    argv = [sys.executable, "-m", "deployments.serve", json.dumps(options)]
    argv += ["--wait"] * args.wait + ["--json"] * args.json
    repo = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])),
    }
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


def _stop(args: argparse.Namespace) -> int:
    from flows import local_server, service
    from flows.cli import UsageError

    if "://" in args.root:
        raise UsageError(f"{args.root}: only a local data root has a server to stop")
    try:
        result = service.stop(args.root)
    except service.ServiceStateError as e:
        raise UsageError(str(e)) from None
    local = local_server.stop(args.root)
    if local is not None:
        print(f"local server of {args.root}: {local}")
    if not result and local is None:
        print(f"nothing was served for {args.root}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from flows import local_server, service
    from flows.cli import UsageError

    if "://" in args.root:
        raise UsageError(f"{args.root}: only a local data root has a server")
    try:
        served = service.status(args.root)
    except service.ServiceStateError as e:
        raise UsageError(str(e)) from None
    local = local_server.status(args.root)
    out: dict = {"root": os.path.abspath(args.root), "running": False}
    if served is not None:
        up = local_server.healthy(served["api_url"])
        out.update(
            kind="service",
            running=up,
            ui_url=served["ui_url"],
            api_url=served["api_url"],
            runs=local_server.count_flow_runs(served["api_url"]) if up else None,
            processes=served["processes"],
        )
    elif local is not None:
        out.update(
            kind="local",
            running=local["running"],
            ui_url=local["ui_url"],
            api_url=local["api_url"],
            runs=local["runs"],
            pid=local["server_pid"],
            clients=local["clients"],
            idle_stop_s=local.get("idle_stop_s"),
            stale=local.get("stale"),
        )
    if args.json:
        print(json.dumps(out, indent=2))
    elif out.get("kind") is None:
        print(f"no Prefect server runs for {args.root}")
    elif out["running"]:
        what = "`crossling serve`" if out["kind"] == "service" else "local server"
        busy = f", {len(out['clients'])} command(s) using it" if out.get("clients") else ""
        print(f"{what} of {args.root}: running at {out['ui_url']}, {out['runs']} flow runs{busy}")
    else:
        why = out.get("stale") or "a process is not running"
        print(f"{args.root}: a server is recorded at {out['ui_url']} but {why}")
    return 0 if out["running"] else 1
