from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import generation as gm
from cardiofm.physio.leads import limb_leads, simulate_12lead
from cardiofm.signal.record import LEADS_12


def test_mae_nrmse_hand_computed() -> None:
    real = np.array([[[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]]], dtype=np.float32)  # lead 2 flat
    gen = np.array([[[1.0, 1.0, 2.0, 1.0], [1.5, 0.5, 1.0, 1.0]]], dtype=np.float32)
    # |diff| = [1, 0, 0, 2] and [0.5, 0.5, 0, 0] -> mean 4 / 8
    np.testing.assert_allclose(gm.mae(gen, real), [0.5])
    # lead 1: rmse = sqrt(5/4), range 3; lead 2 has zero range and is skipped
    np.testing.assert_allclose(gm.nrmse(gen, real), [math.sqrt(5 / 4) / 3])
    both = np.concatenate([real, real + 1])
    np.testing.assert_allclose(gm.mae(both, both), [0.0, 0.0])
    flat = np.ones((1, 2, 4))
    assert np.isnan(gm.nrmse(flat, flat)).all()


def test_shape_mismatch_and_nan_raise() -> None:
    a = np.zeros((2, 12, 50))
    with pytest.raises(MetricError, match="must match"):
        gm.mae(a, np.zeros((2, 12, 49)))
    with pytest.raises(MetricError, match="must match"):
        gm.nrmse(a, np.zeros((3, 12, 50)))
    with pytest.raises(MetricError, match=r"\(N, leads, samples\)"):
        gm.mae(np.zeros((12, 50)), np.zeros((12, 50)))
    bad = a.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        gm.mae(bad, a)


def test_mean_ci_drops_nan_and_covers_mean() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(1.0, 0.2, 200)
    with_nan = np.concatenate([v, [np.nan, np.nan]])
    ci = gm.mean_ci(with_nan, n_boot=200, seed=0)
    assert ci.estimate == pytest.approx(v.mean())
    assert ci.lower < v.mean() < ci.upper
    assert ci.upper - ci.lower < 0.1
    gci = gm.mean_ci(with_nan, n_boot=100, groups=np.arange(202) // 2)
    assert gci.estimate == pytest.approx(v.mean())
    with pytest.raises(MetricError, match="no finite"):
        gm.mean_ci([np.nan])


def test_frechet_identical_and_one_dimensional_closed_form() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, (400, 4))
    assert gm.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    x = rng.normal(1.0, 2.0, (20_000, 1))
    y = rng.normal(-0.5, 0.5, (20_000, 1))
    m1, m2 = x.mean(), y.mean()
    s1, s2 = x.std(ddof=1), y.std(ddof=1)
    exact = (m1 - m2) ** 2 + s1**2 + s2**2 - 2 * s1 * s2
    fd = gm.frechet_distance(x, y)
    assert fd == pytest.approx(exact, rel=1e-8)
    assert fd == pytest.approx(1.5**2 + 1.5**2, rel=0.05)  # population value 4.5


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def test_frechet_multivariate_matches_eigen_computation() -> None:
    rng = np.random.default_rng(2)
    d = 5
    a = rng.normal(size=(300, d)) @ rng.normal(size=(d, d))
    b = rng.normal(size=(250, d)) @ rng.normal(size=(d, d)) + 0.7
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ra = _psd_sqrt(ca)
    # Tr sqrt(Ca Cb) = Tr sqrt(Ca^1/2 Cb Ca^1/2) (similar matrices), the latter symmetric PSD
    tr = np.trace(_psd_sqrt(ra @ cb @ ra))
    diff = a.mean(0) - b.mean(0)
    expected = diff @ diff + np.trace(ca) + np.trace(cb) - 2 * tr
    assert gm.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    ci = gm.frechet_ci(a, b, n_boot=30, seed=0)
    assert ci["estimate"] == pytest.approx(expected, rel=1e-6)
    assert ci["lower"] <= ci["upper"]
    assert ci["lower"] < ci["estimate"] * 1.5


def test_frechet_input_errors_and_singular() -> None:
    with pytest.raises(MetricError, match="at least 2"):
        gm.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(MetricError, match="dimensions"):
        gm.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    rng = np.random.default_rng(3)
    low_rank = rng.normal(size=(4, 8))  # n < d: singular covariances
    assert math.isfinite(gm.frechet_distance(low_rank, low_rank + 1.0))


class _Mean(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(2.0))
        self.drop = torch.nn.Dropout(0.9)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(x.mean(dim=2)) * self.scale


def test_embed_batches_in_eval_mode() -> None:
    x = np.random.default_rng(4).normal(size=(7, 3, 10)).astype(np.float32)
    enc = _Mean()
    enc.train()
    z = gm.embed(enc, x, batch_size=3)
    assert z.shape == (7, 3) and not enc.training
    np.testing.assert_allclose(z, 2 * x.mean(axis=2), rtol=1e-5)


def test_recall_at_k_hand_made() -> None:
    scores = np.array([[0.9, 0.1, 0.5, 0.3],
                       [0.2, 0.2, 0.8, 0.1],   # items 0 and 1 tie: item 0 ranks first
                       [0.1, 0.2, 0.3, 0.4]])
    relevant = np.array([[True, False, True, False],   # best relevant rank 1
                         [False, True, False, False],  # rank 3
                         [False, False, False, False]])  # no relevant item: ignored
    r = gm.recall_at_k(scores, relevant, ks=(1, 2, 3, 10))
    assert r == {1: 0.5, 2: 0.5, 3: 1.0, 10: 1.0}
    ci = gm.recall_ci(scores, relevant, k=1, n_boot=50)
    assert ci.estimate == 0.5 and 0.0 <= ci.lower <= ci.upper <= 1.0
    rel = gm.relevance_from_groups(["a", "b"], ["b", "a", "a"])
    np.testing.assert_array_equal(rel, [[False, True, True], [True, False, False]])
    with pytest.raises(MetricError, match="must match"):
        gm.recall_at_k(scores, relevant[:, :3])
    with pytest.raises(MetricError, match="no query"):
        gm.recall_at_k(scores, np.zeros_like(relevant))


def _consistent(n: int = 3, t: int = 200) -> np.ndarray:
    rng = np.random.default_rng(5)
    out = np.empty((n, 12, t))
    for k in range(n):
        i, ii = rng.normal(size=t), rng.normal(size=t)
        out[k, :6] = limb_leads(i, ii)
        out[k, 6:] = rng.normal(size=(6, t))
    return out


def test_lead_residuals_zero_and_known_offset() -> None:
    x = _consistent()
    df = gm.lead_residuals(x)
    assert list(df.columns) == ["einthoven_mv", "goldberger_mv", "relative"]
    np.testing.assert_allclose(df.to_numpy(), 0.0, atol=1e-12)
    y = x.copy()
    y[:, LEADS_12.index("III")] += 0.1
    df = gm.lead_residuals(y)
    np.testing.assert_allclose(df["einthoven_mv"], 0.1, rtol=1e-9)
    np.testing.assert_allclose(df["goldberger_mv"], 0.0, atol=1e-12)
    ref = np.sqrt((x[:, 0] ** 2 + x[:, 1] ** 2).mean(axis=1) / 2)
    np.testing.assert_allclose(df["relative"], np.sqrt(0.01 / 4) / ref, rtol=1e-9)
    assert np.isnan(gm.lead_residuals(np.zeros((1, 12, 10)))["relative"][0])


def test_lead_residuals_reordered_and_missing_leads() -> None:
    x = _consistent(1)
    order = list(reversed(LEADS_12))
    df = gm.lead_residuals(x[:, ::-1], leads=order)
    np.testing.assert_allclose(df.to_numpy(), 0.0, atol=1e-12)
    with pytest.raises(ConfigError, match="aVL"):
        gm.lead_residuals(x[:, [0, 1, 2, 3, 5]], leads=["I", "II", "III", "aVR", "aVF"])


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    rec = simulate_12lead(duration_s=10, fs=500, hr_mean=60, rng=0)
    flat = np.zeros_like(rec.signal)
    return gm.interval_features(np.stack([rec.signal, flat]), fs=500)


def test_interval_features_simulated_and_flat(features: pd.DataFrame) -> None:
    assert list(features.columns) == list(gm.INTERVAL_COLUMNS)
    row = features.iloc[0]
    assert row["hr"] == pytest.approx(60, abs=5)
    assert row["n_beats"] >= 8
    for col in ("pr", "qrs", "qtc_bazett"):
        lo, hi = gm.PLAUSIBLE_RANGES[col]
        assert lo <= row[col] <= hi, col
    assert features.iloc[1].isna().all()


def test_interval_plausibility_and_gap(features: pd.DataFrame) -> None:
    p = gm.interval_plausibility(features)
    assert p["n_records"] == 2 and p["delineated"] == 0.5
    assert p["hr"] == p["pr"] == p["qrs"] == p["qtc_bazett"] == p["all"] == 1.0
    odd = pd.DataFrame({"hr": [60.0, 60.0, np.nan], "pr": [500.0, 160.0, 1.0], "qrs": [90.0, 90.0, 1.0],
                        "qt": [400.0, 400.0, 1.0], "qtc_bazett": [400.0, np.nan, 1.0]})
    p = gm.interval_plausibility(odd)
    assert p["delineated"] == pytest.approx(2 / 3)
    assert (p["hr"], p["pr"], p["qrs"], p["qtc_bazett"], p["all"]) == (1.0, 0.5, 1.0, 0.5, 0.0)
    gap = gm.interval_gap(odd, features)
    assert gap["hr"] == pytest.approx(abs(60 - features["hr"].iloc[0]))
    assert gap["qtc_bazett"] == pytest.approx(abs(200.5 - features["qtc_bazett"].iloc[0]))  # median of 400, 1
    with pytest.raises(ConfigError, match="qtc_bazett"):
        gm.interval_plausibility(odd.drop(columns="qtc_bazett"))


def test_paired_auroc_delta() -> None:
    rng = np.random.default_rng(6)
    y = np.tile([0, 1], 40)
    p_aug = 0.2 + 0.6 * y + rng.uniform(-0.1, 0.1, y.size)  # perfect ranking
    p_base = rng.uniform(size=y.size)
    r = gm.paired_auroc_delta(y, p_base, p_aug, n_boot=200, seed=0)
    assert r["auroc_aug"] == 1.0
    assert r["delta"] == pytest.approx(1.0 - r["auroc_base"])
    assert r["delta"] > 0 and r["lower"] > 0 and r["lower"] <= r["delta"] <= r["upper"]
    same = gm.paired_auroc_delta(y, p_base, p_base, n_boot=100, seed=0)
    assert same["delta"] == 0.0 and same["lower"] == 0.0 and same["upper"] == 0.0
    with pytest.raises(MetricError, match="positives and negatives"):
        gm.paired_auroc_delta(np.ones(10), p_base[:10], p_aug[:10])
    with pytest.raises(MetricError):
        gm.paired_auroc_delta(y, p_base[:-1], p_aug)
