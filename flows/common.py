"""Names the flows imported from here before this module was split by job; new code imports them
from their own modules:

- flows/links.py: ``artifact_key``, ``output_link``, ``OutputLink``, ``NOT_SERVED_NOTE``
- flows/runners.py: ``make_task_runner``
- flows/events.py: ``emit``, ``flow_run_id``
- flows/deployment_flow.py: ``deployment_flow``, ``DeploymentFlow``, ``deep_merge``,
  ``fill_from_deployment``
- flows/api.py: ``prefect_api``, ``ApiSession``, ``ServiceAuthMissing``
"""

from __future__ import annotations

from flows.api import ApiSession, ServiceAuthMissing, prefect_api
from flows.deployment_flow import DeploymentFlow, deep_merge, deployment_flow, fill_from_deployment
from flows.events import emit, flow_run_id
from flows.links import NOT_SERVED_NOTE, OutputLink, artifact_key, output_link
from flows.runners import make_task_runner

__all__ = [
    "NOT_SERVED_NOTE",
    "ApiSession",
    "DeploymentFlow",
    "OutputLink",
    "ServiceAuthMissing",
    "artifact_key",
    "deep_merge",
    "deployment_flow",
    "emit",
    "fill_from_deployment",
    "flow_run_id",
    "make_task_runner",
    "output_link",
    "prefect_api",
]
