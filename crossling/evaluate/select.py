"""Which checkpoints an evaluation run scores."""

from __future__ import annotations

from crossling import registry


def select_checkpoints(
    root: str, checkpoints: list[str] | None, *, overwrite: bool = False
) -> list[registry.CheckpointRef]:
    """The named checkpoints; when none are named, every checkpoint under ``root`` without
    results (every checkpoint at all with ``overwrite``).

    Args:
        root: the data root.
        checkpoints: checkpoint directories (paths or URIs), or
            ``<model>/<run_version>/checkpoint-<step>`` under ``<root>/models``.
        overwrite: select checkpoints that already have results too.

    Raises:
        ValueError: a name does not resolve to a complete checkpoint (one line naming it).
    """
    if not checkpoints:
        return registry.find_checkpoints(root) if overwrite else registry.pending_checkpoints(root)
    return sorted({registry.resolve_checkpoint(c, root) for c in checkpoints})
