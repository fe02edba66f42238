from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import expit, logit
from scipy.stats import binomtest, spearmanr
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate.calibration import (
    brier_score,
    calibration_metrics,
    calibration_slope_intercept,
    expected_calibration_error,
    reliability_curve,
)
from cardiofm.evaluate.intervals import wilson_interval
from cardiofm.evaluate.trend import spearman_trend


def _calibrated(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(-1.0, 1.2, n))
    return (rng.random(n) < p).astype(int), p


def test_brier_matches_sklearn() -> None:
    y, p = _calibrated(500)
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p))
    assert brier_score(np.zeros(3), [0.1, 0.2, 0.0]) == pytest.approx((0.01 + 0.04) / 3)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_curve_matches_sklearn(strategy: str) -> None:
    y, p = _calibrated(800)
    p[:5] = [0.1, 0.2, 0.3, 0.0, 1.0]  # values on bin edges
    curve = reliability_curve(y, p, n_bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(curve.observed, prob_true)
    np.testing.assert_allclose(curve.mean_predicted, prob_pred)
    assert curve.count.sum() == 800
    assert np.all((curve.observed_lower <= curve.observed) & (curve.observed <= curve.observed_upper))


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(8, 10)
    assert (float(lo), float(hi)) == pytest.approx((0.4902, 0.9433), abs=1e-4)  # textbook value for 8/10
    z = 1.959963984540054
    p, n = 0.8, 10
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert float(lo) == pytest.approx(centre - half) and float(hi) == pytest.approx(centre + half)
    ks, ns = np.array([0, 3, 10, 47]), np.array([10, 10, 10, 200])
    lo, hi = wilson_interval(ks, ns, level=0.9)
    for k, n, a, b in zip(ks, ns, lo, hi, strict=True):
        ref = binomtest(int(k), int(n)).proportion_ci(0.9, method="wilson")
        assert (a, b) == pytest.approx((ref.low, ref.high))
    lo, hi = wilson_interval(np.zeros(40), np.arange(1, 41))  # k = 0: lower bound exactly 0, never above p
    assert (lo == 0).all() and (hi > 0).all()
    lo, hi = wilson_interval(np.arange(1, 41), np.arange(1, 41))
    assert (hi == 1).all()
    lo, hi = wilson_interval(0, 0)
    assert np.isnan(lo) and np.isnan(hi)
    with pytest.raises(MetricError):
        wilson_interval(5, 3)


def test_ece_hand_case() -> None:
    y = np.array([0, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.85, 0.95])  # bins [0,.1]: obs 0 vs .05; (.1,.2]: 1 vs .15; (.8,.9]; (.9,1]
    expected = (0.05 + 0.85 + 0.15 + 0.05) / 4
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(expected)


def test_calibration_slope_and_intercept() -> None:
    y, p = _calibrated(20000, seed=1)
    fit = calibration_slope_intercept(y, p)
    assert fit.slope == pytest.approx(1.0, abs=0.08) and fit.intercept == pytest.approx(0.0, abs=0.08)
    assert fit.calibration_in_the_large == pytest.approx(0.0, abs=0.05)
    overconfident = expit(2 * logit(p))
    assert calibration_slope_intercept(y, overconfident).slope == pytest.approx(0.5, abs=0.05)
    under = expit(logit(p) - 1.0)  # predicts too low on average
    assert calibration_slope_intercept(y, under).calibration_in_the_large == pytest.approx(1.0, abs=0.08)
    with pytest.raises(MetricError, match="both classes"):
        calibration_slope_intercept(np.zeros(5), np.full(5, 0.2))


def test_calibration_summary_and_errors() -> None:
    y, p = _calibrated(300)
    cal = calibration_metrics(y, p, n_bins=5, strategy="quantile")
    assert cal.brier == pytest.approx(brier_score_loss(y, p)) and cal.histogram.sum() == 300
    assert cal.n_pos == y.sum() and cal.fit is not None
    json.dumps(cal.to_dict(), allow_nan=False)
    assert calibration_metrics(np.zeros(10), np.full(10, 0.1)).fit is None
    with pytest.raises(MetricError, match=r"\[0, 1\]"):
        reliability_curve(y, p * 3)
    with pytest.raises(ConfigError, match="strategy"):
        reliability_curve(y, p, strategy="kmeans")
    with pytest.raises(MetricError, match="non-finite"):
        brier_score([0, 1], [0.2, np.nan])


def test_spearman_trend_and_grade_summaries() -> None:
    rng = np.random.default_rng(0)
    grade = rng.integers(0, 4, 400)
    score = expit(rng.normal(size=400) + 0.5 * grade - 2)
    tr = spearman_trend(score, grade, ["none", "mild", "moderate", "severe"])
    ref = spearmanr(score, grade)
    assert tr.rho == pytest.approx(ref.statistic) and tr.p_value == pytest.approx(ref.pvalue)
    assert [g.label for g in tr.grades] == ["none", "mild", "moderate", "severe"]
    for g in tr.grades:
        x = score[grade == g.grade]
        assert g.n == x.size and g.med == pytest.approx(np.median(x))
        assert (g.q1, g.q3) == pytest.approx(tuple(np.percentile(x, [25, 75])))
        assert g.whislo >= g.q1 - 1.5 * (g.q3 - g.q1) and g.whishi <= g.q3 + 1.5 * (g.q3 - g.q1)
        assert g.fliers.size == np.sum((x < g.whislo) | (x > g.whishi))
    assert tr.rho > 0.3 and tr.p_value < 1e-6
    partial = spearman_trend(score[grade != 2], grade[grade != 2], ["none", "mild", "moderate", "severe"])
    assert [g.label for g in partial.grades] == ["none", "mild", "severe"]
    named = spearman_trend(score, grade, {0: "a", 1: "b", 2: "c", 3: "d"})
    assert named.grades[3].label == "d"
    json.dumps(tr.to_dict(), allow_nan=False)
    with pytest.raises(MetricError, match="one grade"):
        spearman_trend(score, np.zeros(400))
    with pytest.raises(MetricError, match="grade"):
        spearman_trend(score, np.where(grade == 0, np.nan, grade))
    with pytest.raises(MetricError, match="shape"):
        spearman_trend(score[:10], grade)
