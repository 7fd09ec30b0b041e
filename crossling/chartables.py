"""Per-code-point tables (one byte for each of the 0x110000 code points), kept on disk.

Building one asks Python about 1.1 million characters (about half a second), once per process and
again in every worker; so a table is kept in the user's cache directory (1.1 MB), under a key made
of whatever defines it (the Unicode version, the rules), and a process loads it in a millisecond.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import numpy as np

SIZE = 0x110000


def cached_table(name: str, definition: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The table ``compute()`` returns, loaded from the cache when ``definition`` (a repr of all
    that defines it) is unchanged; written there otherwise (best effort: a read-only home only
    costs the computing again)."""
    key = hashlib.sha256(definition.encode()).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "crossling", f"{name}-{key}.npy")
    try:
        table = np.load(path, allow_pickle=False)
        if table.shape == (SIZE,) and table.dtype == np.uint8:
            return table
    except (OSError, ValueError):
        pass
    table = compute()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            np.save(f, table, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        pass
    return table
