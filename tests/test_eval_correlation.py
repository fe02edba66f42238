from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from cardiofm.errors import ConfigError
from cardiofm.evaluate.correlation import best_dimensions, feature_correlations


def planted_data() -> tuple[np.ndarray, pd.DataFrame]:
    """Embeddings (300, 12) and features: pr_ms follows dimension 4, qrs_ms is minus dimension 9, noise is not."""
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(300, 12)) * np.linspace(0.5, 3.0, 12) + 10.0
    features = pd.DataFrame({
        "pr_ms": 160 + 15 * emb[:, 4] + rng.normal(scale=0.5, size=300),
        "qrs_ms": 90 - 4 * emb[:, 9] + rng.normal(scale=0.2, size=300),
        "noise": rng.normal(size=300),
    })
    return emb, features


@pytest.fixture()
def planted() -> tuple[np.ndarray, pd.DataFrame]:
    return planted_data()


def test_correlations_equal_corrcoef(planted: tuple[np.ndarray, pd.DataFrame]) -> None:
    emb, features = planted
    corr = feature_correlations(emb, features)
    assert corr.shape == (12, 3)
    assert corr.index.name == "dimension" and corr.index.tolist() == list(range(12))
    assert corr.columns.tolist() == ["pr_ms", "qrs_ms", "noise"]
    full = np.corrcoef(np.column_stack([emb, features.to_numpy()]), rowvar=False)[:12, 12:]
    np.testing.assert_allclose(corr.to_numpy(), full, atol=1e-12)
    assert corr.loc[4, "pr_ms"] > 0.99 and corr.loc[9, "qrs_ms"] < -0.99
    assert corr["noise"].abs().max() < 0.25


def test_best_dimensions_finds_planted_relation(planted: tuple[np.ndarray, pd.DataFrame]) -> None:
    emb, features = planted
    best = best_dimensions(emb, features)
    assert list(best.columns) == ["feature", "dimension", "r", "abs_r", "n", "p_value"]
    assert best["feature"].tolist() == ["pr_ms", "qrs_ms", "noise"]
    assert best.loc[0, "dimension"] == 4 and best.loc[1, "dimension"] == 9
    assert best.loc[0, "r"] > 0.99 and best.loc[1, "r"] < -0.99
    np.testing.assert_allclose(best["abs_r"], best["r"].abs())
    assert best["n"].tolist() == [300, 300, 300]
    for _, row in best.iterrows():
        ref = pearsonr(emb[:, row["dimension"]], features[row["feature"]])
        assert row["r"] == pytest.approx(ref.statistic, abs=1e-12)
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    assert best.loc[0, "p_value"] < 1e-100 and best.loc[2, "p_value"] > 1e-4
    corr = feature_correlations(emb, features)
    assert best.loc[2, "dimension"] == int(corr["noise"].abs().to_numpy().argmax())


def test_missing_feature_values_use_pairwise_rows(planted: tuple[np.ndarray, pd.DataFrame]) -> None:
    emb, features = planted
    features = features.copy()
    features.loc[::3, "pr_ms"] = np.nan
    features.loc[5, "qrs_ms"] = np.inf  # inf counts as missing too
    corr = feature_correlations(emb, features)
    keep = features["pr_ms"].notna().to_numpy()
    for d in (0, 4, 11):
        assert corr.loc[d, "pr_ms"] == pytest.approx(np.corrcoef(emb[keep, d], features["pr_ms"][keep])[0, 1])
    rows = np.arange(300) != 5
    assert corr.loc[9, "qrs_ms"] == pytest.approx(pearsonr(emb[rows, 9], features["qrs_ms"][rows]).statistic)
    np.testing.assert_allclose(corr["noise"], feature_correlations(emb, features[["noise"]])["noise"])
    best = best_dimensions(emb, features)
    assert best["n"].tolist() == [200, 299, 300]
    assert best.loc[0, "dimension"] == 4
    nullable = features.assign(grade=pd.array([1, 2, None] * 100, dtype="Int64"))
    assert np.isfinite(feature_correlations(emb, nullable)["grade"]).all()


def test_constant_and_too_short_columns_give_nan(planted: tuple[np.ndarray, pd.DataFrame]) -> None:
    emb, features = planted
    emb = emb.copy()
    emb[:, 2] = 0.1  # constant dimension
    features = features.assign(flat=0.3, sparse=np.nan)
    features.loc[:1, "sparse"] = [1.0, 2.0]  # two finite values: below the minimum of three
    corr = feature_correlations(emb, features)
    assert corr.loc[2].isna().all()
    assert corr[["flat", "sparse"]].isna().all().all()
    assert corr.drop(index=2)[["pr_ms", "qrs_ms", "noise"]].notna().all().all()
    best = best_dimensions(emb, features).set_index("feature")
    assert best.loc["flat", "dimension"] is pd.NA and np.isnan(best.loc["flat", "p_value"])
    assert best.loc["sparse", "n"] == 2
    assert best["dimension"].dtype == "Int64"


def test_bad_input_messages(planted: tuple[np.ndarray, pd.DataFrame]) -> None:
    emb, features = planted
    with pytest.raises(ConfigError, match="features has 299 rows but embeddings has 300"):
        feature_correlations(emb, features.iloc[:-1])
    with pytest.raises(ConfigError, match="expected a pandas DataFrame"):
        feature_correlations(emb, features.to_numpy())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"non-numeric columns \['rhythm'\]"):
        feature_correlations(emb, features.assign(rhythm="sinus"))
    with pytest.raises(ConfigError, match="2-D"):
        best_dimensions(emb[:, 0], features)
    bad = emb.copy()
    bad[7, 3] = np.nan
    with pytest.raises(ConfigError, match="NaN/inf values in 1 rows"):
        feature_correlations(bad, features)
    with pytest.raises(ConfigError, match="duplicated column"):
        feature_correlations(emb, pd.concat([features, features["noise"]], axis=1))
