"""Heatmaps of the embedding evaluations (cardiofm.report.embeddingplots), on tables from cardiofm.evaluate."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from cardiofm.errors import ConfigError
from cardiofm.evaluate.clustering import METRICS, disease_cluster_scores, integration_ratio
from cardiofm.evaluate.correlation import feature_correlations
from cardiofm.report.embeddingplots import plot_correlation_heatmap, plot_ratio_heatmap, save_figure


def _random(n: int = 300, k: int = 6, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Clusters, disease labels weakly tied to them, and disease names (as in test_eval_clustering)."""
    rng = np.random.default_rng(seed)
    clusters = rng.integers(0, k, n)
    prev = np.linspace(0.05, 0.5, d)
    risk = np.clip(prev[None, :] * (0.5 + clusters[:, None] / k), 0, 1)
    labels = (rng.random((n, d)) < risk).astype(int)
    return clusters, labels, [f"dx{j}" for j in range(d)]


def _planted() -> tuple[np.ndarray, pd.DataFrame]:
    """Embeddings (300, 12) and features tied to dimensions 4 and 9 (as in test_eval_correlation)."""
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(300, 12)) * np.linspace(0.5, 3.0, 12) + 10.0
    features = pd.DataFrame({
        "pr_ms": 160 + 15 * emb[:, 4] + rng.normal(scale=0.5, size=300),
        "qrs_ms": 90 - 4 * emb[:, 9] + rng.normal(scale=0.2, size=300),
        "noise": rng.normal(size=300),
    })
    return emb, features


def test_correlation_heatmap_writes_png(tmp_path: Path) -> None:
    emb, features = _planted()
    corr = feature_correlations(emb, features.assign(flat=1.0))  # a NaN column is drawn grey
    out = plot_correlation_heatmap(corr, tmp_path / "fig" / "corr.png", title="baseline")
    assert out == tmp_path / "fig" / "corr.png" and out.stat().st_size > 5000
    image = mpimg.imread(out)
    assert image.ndim == 3 and image.shape[1] > image.shape[0]  # 12 dimensions wide, 4 features high
    big = feature_correlations(np.random.default_rng(1).normal(size=(50, 40)),
                               pd.DataFrame(np.random.default_rng(2).normal(size=(50, 10))))
    assert plot_correlation_heatmap(big, tmp_path / "big.png").stat().st_size > 0  # not annotated (400 cells)
    with pytest.raises(ConfigError, match="use a file name ending in"):
        plot_correlation_heatmap(corr, tmp_path / "corr.bmp")
    with pytest.raises(ConfigError, match=r"correlations in \[-1, 1\]"):
        plot_correlation_heatmap(corr * 3, tmp_path / "bad.png")


def test_ratio_heatmap_writes_png(tmp_path: Path) -> None:
    clusters, labels, names = _random()
    base = disease_cluster_scores(clusters, labels, names)
    integ = base.copy()
    integ[list(METRICS)] = base[list(METRICS)].to_numpy() * np.linspace(0.5, 2.0, len(names))[:, None]
    integ.loc[0, "ami"] = -1.0  # omitted cell
    ratios = integration_ratio(integ, base)
    assert np.isnan(ratios.loc[0, "ami"])
    out = plot_ratio_heatmap(ratios, tmp_path / "sub" / "ratios.png", title="DEXA")
    assert out == tmp_path / "sub" / "ratios.png" and out.stat().st_size > 5000
    image = mpimg.imread(out)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    all_nan = ratios.copy()
    all_nan[list(METRICS)] = np.nan
    assert plot_ratio_heatmap(all_nan, tmp_path / "nan.png").stat().st_size > 0
    with pytest.raises(ConfigError, match="use a file name ending in"):
        plot_ratio_heatmap(ratios, tmp_path / "ratios.jpg")
    with pytest.raises(ConfigError, match="integration_ratio"):
        plot_ratio_heatmap(pd.DataFrame(), tmp_path / "x.png")


def test_save_figure_rejects_unknown_suffix(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().plot([0, 1], [0, 1])
    assert save_figure(fig, tmp_path / "a" / "b.svg", dpi=50).stat().st_size > 0
    with pytest.raises(ConfigError, match="use a file name ending in"):
        save_figure(fig, tmp_path / "b.gif", dpi=50)
