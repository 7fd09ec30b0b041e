"""Reading back what flows published, through the Prefect client (shared by the flow tests)."""

from __future__ import annotations

import time

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def artifacts(key: str, *, like: bool = False) -> list:
    """Artifacts with this key (every version), or whose key matches a LIKE pattern, oldest
    first (the session's server is shared: an earlier test may have published the same key)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    key_filter = ArtifactFilterKey(like_=key) if like else ArtifactFilterKey(any_=[key])
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=key_filter))
    return sorted(found, key=lambda a: a.created)


def events(name: str, root: str, expected: int, timeout: float = 20.0) -> list:
    """Events named ``name`` whose payload ``root`` is ``root`` (the session's server is shared),
    polled until ``expected`` arrived (events are sent in the background) or ``timeout`` passed."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

    deadline = time.monotonic() + timeout
    since = EventOccurredFilter(since="2000-01-01T00:00:00Z")
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_events(
                EventFilter(occurred=since, event=EventNameFilter(name=[name])), limit=50
            )
            found = [e for e in page.events if e.payload.get("root") == root]
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.5)
