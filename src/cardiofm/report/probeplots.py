"""Probing results as a picture: test metric against the share of training labels, per task and lead."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cardiofm.report.explainplots import _save


def plot_probe(rows: Sequence[dict[str, Any]], out: str | Path | None = None, *, dpi: float = 130) -> Figure:
    """One panel per target; a line per (encoder, lead, mode) with the 95 % CI as error bars.

    ``rows`` are :func:`cardiofm.systems.clef.probe.probe_encoder` rows (``task``, ``lead``, ``fraction``,
    ``mode``, ``encoder``, ``metric``, ``value``, ``ci``).
    """
    targets = sorted({r["task"] for r in rows})
    fig = Figure(figsize=(4.2 * max(len(targets), 1), 3.4), dpi=dpi)
    axes = np.atleast_1d(fig.subplots(1, max(len(targets), 1)))
    for ax, target in zip(axes, targets, strict=False):
        mine = [r for r in rows if r["task"] == target]
        for key in sorted({(r["encoder"], r["lead"], r["mode"]) for r in mine}):
            line = sorted((r for r in mine if (r["encoder"], r["lead"], r["mode"]) == key), key=lambda r: r["fraction"])
            x = np.array([100 * r["fraction"] for r in line])
            y = np.array([np.nan if r["value"] is None else r["value"] for r in line], float)
            lo = np.array([np.nan if r["ci"][0] is None else r["ci"][0] for r in line], float)
            hi = np.array([np.nan if r["ci"][1] is None else r["ci"][1] for r in line], float)
            ax.errorbar(x, y, yerr=np.nan_to_num(np.stack([y - lo, hi - y]), nan=0.0), marker="o", ms=3, capsize=3,
                        label=f"{key[0]} lead {key[1]} ({key[2]})")
        metric = mine[0]["metric"] if mine else ""
        ax.set(xscale="log", xlabel="training labels (% of patients)",
               ylabel="test macro AUROC" if metric == "macro_auroc" else "test MAE", title=target)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, out, dpi)
