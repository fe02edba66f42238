from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    adjusted_mutual_info_score,
    completeness_score,
    homogeneity_score,
    normalized_mutual_info_score,
)

from cardiofm.errors import ConfigError
from cardiofm.evaluate.bootstrap import Resampler
from cardiofm.evaluate.clustering import (
    METRICS,
    _table_scores,
    bootstrap_cluster_scores,
    cardioprime_k,
    disease_cluster_scores,
    integration_ratio,
    kmeans_clusters,
    top_diseases,
)

SKLEARN = {"nmi": normalized_mutual_info_score, "ami": adjusted_mutual_info_score,
           "homogeneity": homogeneity_score, "completeness": completeness_score}


def _random(n: int = 300, k: int = 6, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    clusters = rng.integers(0, k, n)
    prev = np.linspace(0.05, 0.5, d)
    # disease risk depends a little on the cluster, so the metrics are not all ~0
    risk = np.clip(prev[None, :] * (0.5 + clusters[:, None] / k), 0, 1)
    labels = (rng.random((n, d)) < risk).astype(int)
    return clusters, labels, [f"dx{j}" for j in range(d)]


def _blobs(sizes: tuple[int, ...], seed: int = 0, dim: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=20.0, size=(len(sizes), dim))
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return centres[truth] + rng.normal(size=(truth.size, dim)), truth


def test_cardioprime_k() -> None:
    assert cardioprime_k(10) == 6
    assert [cardioprime_k(n) for n in (1, 2, 3, 11, 20)] == [1, 2, 2, 6, 11]
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(ConfigError, match="n_diseases"):
            cardioprime_k(bad)  # type: ignore[arg-type]


def test_kmeans_finds_planted_clusters() -> None:
    x, truth = _blobs((60, 40), seed=1)
    clusters = kmeans_clusters(x, 2, seed=0)
    assert clusters.shape == (100,) and clusters.dtype == np.int64
    assert adjusted_mutual_info_score(truth, clusters) == pytest.approx(1.0)
    disease = (truth == 1).astype(int)[:, None]  # a disease that is exactly one cluster
    row = disease_cluster_scores(clusters, disease, ["blob1"]).iloc[0]
    for m in METRICS:
        assert row[m] == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_array_equal(clusters, kmeans_clusters(x, 2, seed=0))

    x3, truth3 = _blobs((50, 30, 40), seed=2)
    c3 = kmeans_clusters(x3, cardioprime_k(5), seed=0)  # k = 3
    row = disease_cluster_scores(c3, (truth3 == 0).astype(int)[:, None], ["blob0"]).iloc[0]
    assert row["homogeneity"] == pytest.approx(1.0)  # every cluster is pure
    assert 0.3 < row["completeness"] < 1.0  # the negatives are split over two clusters


def test_kmeans_rejects_bad_input() -> None:
    x, _ = _blobs((10, 10))
    with pytest.raises(ConfigError, match="2-D"):
        kmeans_clusters(x[:, 0], 2)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ConfigError, match="NaN/inf"):
        kmeans_clusters(bad, 2)
    with pytest.raises(ConfigError, match="k: must be an integer >= 2"):
        kmeans_clusters(x, 1)
    with pytest.raises(ConfigError, match="cannot exceed the number of records"):
        kmeans_clusters(x, 21)
    with pytest.raises(ConfigError, match="n_init"):
        kmeans_clusters(x, 2, n_init=0)


def test_top_diseases() -> None:
    labels = np.zeros((10, 6), dtype=int)
    labels[:3, 0] = 1  # 3
    labels[:5, 1] = 1  # 5
    labels[:3, 3] = 1  # 3 (tie with column 0, comes after it)
    labels[:, 4] = 1  # 10
    names = list("abcdef")  # columns 2 and 5 have no positives
    assert top_diseases(labels, names) == [4, 1, 0, 3]
    assert top_diseases(labels, names, n=2) == [4, 1]
    with pytest.raises(ConfigError, match="got 5 names for 6 classes"):
        top_diseases(labels, names[:5])
    with pytest.raises(ConfigError, match="binary"):
        top_diseases(labels * 2, names)


def test_scores_equal_sklearn_and_unscored_is_nan() -> None:
    clusters, labels, names = _random()
    labels[:, 2] = 0  # no positives: not scored
    table = disease_cluster_scores(clusters, labels, names)
    assert list(table.columns) == ["disease", "positives", *METRICS]
    assert table["disease"].tolist() == names
    assert table["positives"].tolist() == labels.sum(axis=0).tolist()
    for j in (0, 1, 3, 4):
        for m, fn in SKLEARN.items():
            assert table.loc[j, m] == pytest.approx(fn(labels[:, j], clusters), abs=1e-12)
    assert table.loc[2, list(METRICS)].isna().all()
    assert table.loc[4, "nmi"] > 0.001  # the planted dependence is visible


def test_scores_reject_bad_input() -> None:
    clusters, labels, names = _random(n=50)
    with pytest.raises(ConfigError, match=r"one cluster label per record, shape \(50,\)"):
        disease_cluster_scores(clusters[:-1], labels, names)
    with pytest.raises(ConfigError, match="unique"):
        disease_cluster_scores(clusters, labels, ["a"] * 5)
    with pytest.raises(ConfigError, match="binary"):
        disease_cluster_scores(clusters, labels + 1, names)


def test_vectorised_kernel_equals_sklearn_on_resamples() -> None:
    clusters, labels, _ = _random(n=200, k=5, d=3, seed=3)
    rng = np.random.default_rng(0)
    for trial in range(60):
        idx = rng.integers(0, 200, 200 + trial)
        c = clusters[idx] if trial % 20 else np.zeros(idx.size, dtype=int)  # also a one-cluster resample
        yt = labels[idx, trial % 3]
        table = np.zeros((1, 2, 5), dtype=np.int64)
        np.add.at(table[0], (yt, c), 1)
        got = _table_scores(table)
        for m, fn in SKLEARN.items():
            assert got[m][0] == pytest.approx(fn(yt, c), abs=1e-10), (trial, m)


def test_bootstrap_matches_explicit_resampling() -> None:
    clusters, labels, names = _random(n=60, k=4, d=2, seed=5)
    out = bootstrap_cluster_scores(clusters, labels, names, n_boot=40, seed=7)
    rows = np.arange(60)
    dist = {m: [] for m in METRICS}
    for counts in Resampler(60, 40, 7):
        for c in counts:
            idx = np.repeat(rows, c)
            for m, fn in SKLEARN.items():
                dist[m].append(fn(labels[idx, 1], clusters[idx]))
    for m in METRICS:
        lo, hi = np.quantile(dist[m], [0.025, 0.975])
        assert out.loc[1, f"{m}_lo"] == pytest.approx(lo, abs=1e-10)
        assert out.loc[1, f"{m}_hi"] == pytest.approx(hi, abs=1e-10)
    assert out.loc[1, "n_valid"] == 40


def test_bootstrap_ci_contains_estimate_and_is_reproducible() -> None:
    x, truth = _blobs((150, 150, 200), seed=4)
    rng = np.random.default_rng(1)
    clusters = kmeans_clusters(x, 3)
    noisy_a = (truth == 0) ^ (rng.random(500) < 0.1)
    labels = np.column_stack([noisy_a, (truth == 2) & (rng.random(500) < 0.6)]).astype(int)
    out = bootstrap_cluster_scores(clusters, labels, ["a", "b"], n_boot=300, seed=3)
    for m in METRICS:
        assert (out[f"{m}_lo"] <= out[m]).all() and (out[m] <= out[f"{m}_hi"]).all(), m
        assert (out[f"{m}_hi"] - out[f"{m}_lo"] > 0).all()
    pd.testing.assert_frame_equal(out, bootstrap_cluster_scores(clusters, labels, ["a", "b"], n_boot=300, seed=3))
    other = bootstrap_cluster_scores(clusters, labels, ["a", "b"], n_boot=300, seed=4)
    assert not np.allclose(other["nmi_lo"], out["nmi_lo"])
    pd.testing.assert_frame_equal(other[["disease", *METRICS]], out[["disease", *METRICS]])


def test_group_bootstrap() -> None:
    clusters, labels, names = _random(n=400, d=3, seed=8)
    groups = np.repeat(np.arange(100), 4)  # 4 records per patient
    out = bootstrap_cluster_scores(clusters, labels, names, n_boot=200, seed=0, groups=groups)
    rec = bootstrap_cluster_scores(clusters, labels, names, n_boot=200, seed=0)
    pd.testing.assert_frame_equal(out[list(METRICS)], rec[list(METRICS)])  # same point estimates
    assert np.isfinite(out[[f"{m}_{s}" for m in METRICS for s in ("lo", "hi")]].to_numpy()).all()
    assert not np.allclose(out["nmi_hi"], rec["nmi_hi"])
    with pytest.raises(ConfigError, match="groups"):
        bootstrap_cluster_scores(clusters, labels, names, n_boot=10, groups=groups[:-1])


def test_bootstrap_skips_one_valued_resamples() -> None:
    clusters, labels, names = _random(n=200, d=2, seed=2)
    labels[:, 1] = 0
    labels[17, 1] = 1  # one positive: absent from ~37 % of resamples
    out = bootstrap_cluster_scores(clusters, labels, names, n_boot=200, seed=0)
    assert out.loc[0, "n_valid"] == 200
    assert 90 < out.loc[1, "n_valid"] < 170
    assert np.isfinite(out.loc[1, "nmi_lo"])
    few = bootstrap_cluster_scores(clusters, labels, names, n_boot=8, seed=0)  # < 10 valid: no interval
    assert np.isfinite(few.loc[1, "nmi"]) and np.isnan(few.loc[1, "nmi_lo"]) and np.isnan(few.loc[1, "ami_hi"])
    labels[:, 1] = 0
    none = bootstrap_cluster_scores(clusters, labels, names, n_boot=20, seed=0)
    assert none.loc[1, "n_valid"] == 0 and np.isnan(none.loc[1, ["nmi", "nmi_lo", "nmi_hi"]].astype(float)).all()


def test_bootstrap_is_fast() -> None:
    clusters, labels, names = _random(n=500, d=10, seed=9)
    start = time.perf_counter()
    bootstrap_cluster_scores(clusters, labels, names, n_boot=1000)
    assert time.perf_counter() - start < 10.0


def _table(values: dict[str, list[float]], diseases: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"disease": diseases, "positives": [5] * len(diseases), **values})


def test_integration_ratio_omits_and_averages() -> None:
    diseases = ["a", "b", "c", "d"]
    base = _table({"nmi": [0.1, 0.2, 0.0, 0.01], "ami": [0.05, -0.1, 0.02, 0.001],
                   "homogeneity": [0.2, 0.2, np.nan, 0.4], "completeness": [0.1, 0.1, 0.1, 0.1]}, diseases)
    integ = _table({"nmi": [0.2, 0.1, 0.3, 2.0], "ami": [0.1, 0.1, 0.06, 0.2],
                    "homogeneity": [0.1, 0.3, 0.5, 0.4], "completeness": [0.0, 0.1, 0.3, 0.05]}, diseases)
    # baseline rows in another order: matched by disease name
    out = integration_ratio(integ, base.iloc[::-1].reset_index(drop=True))
    assert out["disease"].tolist() == [*diseases, "mean"]
    assert list(out.columns) == ["disease", *METRICS]
    expected = np.array([
        [2.0, 2.0, 0.5, 0.0],  # a: a ratio of exactly 0 is kept (only below 0 is omitted)
        [0.5, np.nan, 1.5, 1.0],  # b: 0.1 / -0.1 < 0 omitted
        [np.nan, 3.0, np.nan, 3.0],  # c: 0.3 / 0 and NaN baseline omitted
        [np.nan, np.nan, 1.0, 0.5],  # d: 2.0 / 0.01 = 200 and 0.2 / 0.001 = 200 exceed 100
    ])
    np.testing.assert_allclose(out.iloc[:4, 1:].to_numpy(dtype=float), expected)
    np.testing.assert_allclose(out.iloc[4, 1:].to_numpy(dtype=float), [1.25, 2.5, 1.0, 1.125])
    wide = integration_ratio(integ, base, high=1000.0)
    assert wide.loc[3, "nmi"] == pytest.approx(200.0) and wide.loc[4, "nmi"] == pytest.approx((2 + 0.5 + 200) / 3)


def test_integration_ratio_rejects_bad_tables() -> None:
    t = _table({"nmi": [0.1, 0.2]}, ["a", "b"])
    with pytest.raises(ConfigError, match="only in integrated: \\['b'\\], only in baseline: \\['c'\\]"):
        integration_ratio(t, _table({"nmi": [0.1, 0.2]}, ["a", "c"]))
    with pytest.raises(ConfigError, match="unique"):
        integration_ratio(_table({"nmi": [0.1, 0.2]}, ["a", "a"]), t)
    with pytest.raises(ConfigError, match="share none"):
        integration_ratio(t, _table({"ami": [0.1, 0.2]}, ["a", "b"]))
    with pytest.raises(ConfigError, match="low < high"):
        integration_ratio(t, t, low=5, high=1)
    with pytest.raises(ConfigError, match="'disease' column"):
        integration_ratio(t.drop(columns="disease"), t)
