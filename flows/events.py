"""Prefect events the flows emit (names in tasks/events.py), and the current flow run's id."""

from __future__ import annotations

from typing import Any


def emit(
    event: str,
    resource_id: str,
    payload: dict[str, Any],
    name: str | None = None,
    labels: dict[str, str] | None = None,
) -> None:
    """Emit a Prefect event (no-op without an API: events then go nowhere, runs still succeed).

    ``labels`` become resource labels, which triggers can ``match`` (payload fields they cannot).
    """
    from prefect.events import emit_event

    resource = {"prefect.resource.id": resource_id, **(labels or {})}
    if name:
        resource["prefect.resource.name"] = name
    emit_event(event=event, resource=resource, payload=payload)


def flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return str(flow_run.id) if flow_run.id else None
