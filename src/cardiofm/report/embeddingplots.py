"""Heatmaps of CardioPRIME's embedding evaluations (matplotlib ``Figure``, built without pyplot).

* :func:`plot_correlation_heatmap`: a :func:`cardiofm.evaluate.correlation.feature_correlations` table
  (Figure 2: embedding dimensions vs ECG features).
* :func:`plot_ratio_heatmap`: a :func:`cardiofm.evaluate.clustering.integration_ratio` table (disease
  clustering, integrated / baseline).

The metrics themselves live in :mod:`cardiofm.evaluate` (arrays in, tables out); this module only draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.errors import ConfigError
from cardiofm.report.plots import SAVE_FORMATS


def save_figure(fig: Any, path: str | Path, dpi: float) -> Path:
    """Save a matplotlib figure (``.png``, ``.pdf`` or ``.svg``), creating the folder; returns the path."""
    out = Path(path)
    if out.suffix.lower() not in SAVE_FORMATS:
        raise ConfigError(f"path: cannot save {str(path)!r}; use a file name ending in {', '.join(SAVE_FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, facecolor="white")
    return out


def plot_correlation_heatmap(corr: pd.DataFrame, path: str | Path,
                             title: str = "Pearson r of embedding dimensions with ECG features", *,
                             annotate: bool | None = None, dpi: float = 150) -> Path:
    """Heatmap of a :func:`~cardiofm.evaluate.correlation.feature_correlations` table.

    Features are rows, embedding dimensions columns.

    Colours run over ``RdBu_r`` from -1 (blue) to 1 (red), with a colour bar; NaN cells are grey.

    Args:
        corr: ``(E, F)`` correlation frame (dimensions x features).
        path: output file (``.png``, ``.pdf`` or ``.svg``).
        title: figure title.
        annotate: write r in each cell (default: only when there are at most 300 cells).
        dpi: resolution.

    Returns:
        The saved path.
    """
    import matplotlib
    from matplotlib.figure import Figure

    if not isinstance(corr, pd.DataFrame) or corr.empty:
        raise ConfigError("corr: expected a non-empty DataFrame from feature_correlations (dimensions x features)")
    values = corr.to_numpy(dtype=np.float64).T
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < -1 - 1e-9 or finite.max() > 1 + 1e-9):
        raise ConfigError(f"corr: values must be correlations in [-1, 1], got range [{finite.min():.3g}, "
                          f"{finite.max():.3g}]")
    n_feat, n_dim = values.shape
    fig = Figure(figsize=(min(3 + 0.4 * n_dim, 30), min(1.8 + 0.35 * n_feat, 30)), layout="constrained")
    ax = fig.subplots()
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#d9d9d9")
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(n_dim), labels=[str(d) for d in corr.index], rotation=90 if n_dim > 20 else 0, fontsize=8)
    ax.set_yticks(range(n_feat), labels=[str(c) for c in corr.columns], fontsize=8)
    ax.set_xlabel("embedding dimension")
    ax.set_title(title)
    if annotate or (annotate is None and values.size <= 300):
        for i, j in zip(*np.nonzero(np.isfinite(values)), strict=True):
            v = values[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 else "black")
    fig.colorbar(im, ax=ax, label="Pearson r", shrink=0.9)
    return save_figure(fig, path, dpi)


def plot_ratio_heatmap(ratios: pd.DataFrame, path: str | Path,
                       title: str = "Clustering metrics, integrated / baseline", *, dpi: float = 150) -> Path:
    """Heatmap of an :func:`~cardiofm.evaluate.clustering.integration_ratio` table (diseases x metrics).

    The mean row is included, below a rule.

    Diverging ``RdYlGn`` colours centred at 1 (green: integration better), each ratio written in its
    cell; omitted (NaN) ratios are plain grey cells. Saved as ``.png`` (or ``.pdf`` / ``.svg``).
    """
    import matplotlib
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure

    metrics = [c for c in getattr(ratios, "columns", []) if c != "disease"]
    if not isinstance(ratios, pd.DataFrame) or "disease" not in ratios.columns or len(ratios) == 0 or not metrics:
        raise ConfigError("ratios: expected a non-empty DataFrame from integration_ratio ('disease' + metric columns)")
    values = ratios[metrics].to_numpy(dtype=np.float64)
    diseases = ratios["disease"].astype(str).tolist()
    finite = values[np.isfinite(values)]
    vmin = min(float(finite.min()), 0.9) if finite.size else 0.5
    vmax = max(float(finite.max()), 1.1) if finite.size else 1.5
    fig = Figure(figsize=(2.5 + 1.2 * len(metrics), 1.5 + 0.4 * len(diseases)), layout="constrained")
    ax = fig.subplots()
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#d9d9d9")
    norm = TwoSlopeNorm(vcenter=1.0, vmin=vmin, vmax=vmax)
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    for i, j in zip(*np.nonzero(np.isfinite(values)), strict=True):
        ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=8,
                color="white" if abs(float(norm(values[i, j])) - 0.5) > 0.35 else "black",
                fontweight="bold" if diseases[i] == "mean" else "normal")
    labels = [m.upper() if m in ("nmi", "ami") else m.capitalize() for m in metrics]
    ax.set_xticks(range(len(metrics)), labels=labels)
    ax.set_yticks(range(len(diseases)), labels=diseases)
    if diseases[-1] == "mean" and len(diseases) > 1:
        ax.axhline(len(diseases) - 1.5, color="black", linewidth=1.5)
    ax.set_title(title)
    ticks = np.unique(np.round([*np.linspace(vmin, 1, 3), *np.linspace(1, vmax, 4)], 2))
    fig.colorbar(im, ax=ax, label="ratio (integrated / baseline)", ticks=ticks)
    return save_figure(fig, path, dpi)
