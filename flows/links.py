"""Artifact keys, and the links artifacts give to outputs: the file server of ``crossling serve``
when it serves the data root, else ``file://`` (or the fsspec URL of a remote root)."""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass

from flows.service import SERVED_DIRS, files_base_url, served_root_of

NOT_SERVED_NOTE = "local file: no `crossling serve` serves this data root"


def artifact_key(*parts: str) -> str:
    """Artifact keys may hold lowercase letters, digits and dashes only."""
    key = "-".join(parts).lower()
    key = re.sub(r"[^a-z0-9-]+", "-", key)
    return re.sub(r"-{2,}", "-", key).strip("-")[:100]


@dataclass(frozen=True)
class OutputLink:
    """Where a user opens one output: the file server's URL, or ``file://`` when not served."""

    url: str
    served: bool

    def label(self, text: str) -> str:
        """Link text; says so when the link is a local file that a browser will not open."""
        return text if self.served else f"{text} ({NOT_SERVED_NOTE})"


def output_link(path: str) -> OutputLink:
    """The link to an output (a file or a folder) under a data root, for artifacts.

    Use it instead of ``DataRoot.uri``. When ``crossling serve`` serves the data root holding
    ``path`` (found by walking up from it) and the path is under one of its served folders
    (corpora, tokenizers, models, eval), the link is the service's read-only file server, which a
    browser opens from the UI. Otherwise it is ``file://`` (a local root) or the fsspec URL (a
    remote root), as before.
    """
    if path.startswith(("http://", "https://")):  # already a link to a server
        return OutputLink(path, served=True)
    if "://" in path and not path.startswith("file://"):
        return OutputLink(path, served=False)
    if path.startswith("file://"):
        path = urllib.parse.unquote(path.removeprefix("file://"))
    local = os.path.abspath(path)
    root = served_root_of(local)
    if root is not None:
        rel = os.path.relpath(local, root).replace(os.sep, "/")
        parts = rel.split("/")
        if (
            parts[0] in SERVED_DIRS
            and not any(p.startswith(".") for p in parts)
            and (base := files_base_url(root))
        ):
            suffix = "/" if os.path.isdir(local) else ""
            return OutputLink(f"{base.rstrip('/')}/{urllib.parse.quote(rel)}{suffix}", served=True)
    return OutputLink("file://" + urllib.parse.quote(local), served=False)
