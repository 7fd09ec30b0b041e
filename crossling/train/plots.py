"""The loss curve of a run as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import os
from typing import Any


def plot_losses(losses: list[dict[str, Any]], path: str, title: str) -> str:
    """Write the training loss (and tokens/s when logged) over steps to ``path``; returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in losses]
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    ax.plot(
        steps,
        [r["loss"] for r in losses],
        marker="o",
        markersize=3,
        linewidth=1.5,
        color="tab:blue",
    )
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss", color="tab:blue")
    ax.grid(True, alpha=0.3)
    tps = [(r["step"], r["tokens_per_s"]) for r in losses if r.get("tokens_per_s")]
    if tps:
        ax2 = ax.twinx()
        ax2.plot([s for s, _ in tps], [v for _, v in tps], color="tab:gray", alpha=0.5, linewidth=1)
        ax2.set_ylabel("tokens/s", color="tab:gray")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, format="png")
    plt.close(fig)
    os.replace(tmp, path)
    return path
