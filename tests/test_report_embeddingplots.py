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
from test_eval_clustering import _random
from test_eval_correlation import planted_data as _planted


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
