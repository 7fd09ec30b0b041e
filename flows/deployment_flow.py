"""The flow class of deployed flows: a deployment run given a partial parameter object keeps the
deployment's own parameters under it (deep-merged), and the run shows what it used."""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable
from typing import Any

from prefect import Flow


def deep_merge(base: Any, override: Any) -> Any:
    """``override`` laid over ``base``: dicts merge key by key (recursively); anything else in
    ``override`` (a list, a scalar, an explicit null) replaces what ``base`` has."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = deep_merge(base[k], v) if k in base else v
        return out
    return override


def _filled_paths(base: Any, override: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields that ``deep_merge(base, override)`` took from ``base``."""
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return []
    out = []
    for k, v in base.items():
        name = f"{prefix}{k}"
        if k not in override:
            out.append(name)
        else:
            out += _filled_paths(v, override[k], f"{name}.")
    return out


def _hydration_free(value: Any) -> bool:
    """False for values the server hydrates when it creates a run (workspace variables, Jinja)."""
    if isinstance(value, dict):
        return "__prefect_kind" not in value and all(_hydration_free(v) for v in value.values())
    if isinstance(value, list):
        return all(_hydration_free(v) for v in value)
    return True


def fill_from_deployment(flow: Flow[..., Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters of this process's deployment run with the deployment's own parameters
    under them, nested objects included.

    The server merges a run's parameters over its deployment's one level deep only:
    ``prefect deployment run corpus/corpus --param params='{"name": "x"}'`` would lose every
    other field of the deployment's ``params`` (its data root above all). This fills them back.
    Only the top-level run of a worker process is filled (``PREFECT__FLOW_RUN_ID`` is set and no
    flow run is active yet); direct calls and subflows are left as they are. The filled
    parameters are written back to the run, so the UI shows what the run used.
    """
    from prefect.context import FlowRunContext

    run_id = os.environ.get("PREFECT__FLOW_RUN_ID")
    if not run_id or FlowRunContext.get() is not None:
        return parameters
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.logging.loggers import flow_run_logger

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(run_id))
        if run.deployment_id is None:
            return parameters
        defaults = client.read_deployment(run.deployment_id).parameters or {}
        merged = dict(parameters)
        filled: list[str] = []
        for name, value in parameters.items():
            base = defaults.get(name)
            if isinstance(base, dict) and isinstance(value, dict) and _hydration_free(base):
                merged[name] = deep_merge(copy.deepcopy(base), value)
                filled += _filled_paths(base, value, f"{name}.")
        if not filled:
            return parameters
        with contextlib.suppress(Exception):  # the run goes on even if the UI shows less
            client.update_flow_run(run.id, parameters=merged)
    flow_run_logger(flow_run=run, flow=flow).info(
        "parameters not given for this run, taken from deployment defaults: %s", ", ".join(filled)
    )
    return merged


class DeploymentFlow(Flow):
    """A Prefect flow whose deployment runs keep the deployment's defaults under partial
    parameter objects (see :func:`fill_from_deployment`). Every deployed crossling flow is one."""

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        return super().validate_parameters(fill_from_deployment(self, parameters))


def deployment_flow(**options: Any) -> Callable[[Callable[..., Any]], DeploymentFlow]:
    """``@deployment_flow(name=...)``: ``@prefect.flow`` for flows that deployments run."""

    def wrap(fn: Callable[..., Any]) -> DeploymentFlow:
        return DeploymentFlow(fn=fn, **options)

    return wrap
