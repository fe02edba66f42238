"""Paired model comparison: ΔAUROC with paired bootstrap, and DeLong's test against a brute-force reference."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from cardiofm.errors import MetricError
from cardiofm.evaluate import compare
from cardiofm.evaluate.comparison import delong_components, delong_test


def _psi(x: float, y: float) -> float:
    return 1.0 if x > y else 0.5 if x == y else 0.0


def _delong_brute(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """DeLong et al. (1988) by explicit pairwise comparisons: (delta, se, p)."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    m, n = pos.size, neg.size
    v10, v01, aucs = [], [], []
    for s in (a, b):
        psi = np.array([[_psi(s[i], s[j]) for j in neg] for i in pos])  # (m, n)
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))  # placement of each positive
        v01.append(psi.mean(axis=0))  # placement of each negative
    s10 = np.cov(np.array(v10))
    s01 = np.cov(np.array(v01))
    c = np.array([1.0, -1.0])
    var = c @ s10 @ c / m + c @ s01 @ c / n
    delta = aucs[0] - aucs[1]
    se = float(np.sqrt(var))
    return float(delta), se, float(2 * norm.sf(abs(delta / se)))


@pytest.mark.parametrize("seed,ties", [(0, False), (1, True), (2, True), (3, False)])
def test_delong_matches_brute_force_and_sklearn(seed: int, ties: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 40 + 10 * seed
    y = (rng.random(n) < 0.35).astype(int)
    y[:2], y[2:4] = 1, 0
    a = rng.normal(size=n) + y
    b = 0.5 * a + rng.normal(size=n) + 0.3 * y  # correlated with a
    if ties:
        a, b = np.round(a, 0), np.round(b, 0)
    auc, v10, v01 = delong_components(y, np.vstack([a, b]))
    np.testing.assert_allclose(auc, [roc_auc_score(y, a), roc_auc_score(y, b)], atol=1e-12)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    np.testing.assert_allclose(v10[0], [np.mean([_psi(a[i], a[j]) for j in neg]) for i in pos], atol=1e-12)
    np.testing.assert_allclose(v01[1], [np.mean([_psi(b[i], b[j]) for i in pos]) for j in neg], atol=1e-12)
    t = delong_test(y, a, b)
    delta, se, p = _delong_brute(y, a, b)
    assert t.delta == pytest.approx(delta, abs=1e-12)
    assert t.se == pytest.approx(se, rel=1e-9)
    assert t.p_value == pytest.approx(p, rel=1e-7)
    assert t.z == pytest.approx(delta / se, rel=1e-9)


def _two_models(n: int = 400, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, k)) < 0.25).astype(int)
    good = rng.normal(size=y.shape) + 1.5 * y
    weak = rng.normal(size=y.shape) + 0.3 * y
    return y, good, weak


def test_identical_models_give_zero_delta_and_p_one() -> None:
    y, a, _ = _two_models()
    c = compare(a, a.copy(), y, n_boot=300, seed=0)
    assert c.macro_delta == 0.0 and all(d == 0.0 for d in c.delta)
    lo, hi = c.macro_delta_ci
    assert lo <= 0.0 <= hi and c.macro_delta_p == pytest.approx(1.0)
    assert all(p == pytest.approx(1.0) for p in c.delta_p)
    assert all(t.delta == 0.0 and t.p_value == pytest.approx(1.0) for t in c.delong)


def test_clearly_better_model_has_a_ci_excluding_zero() -> None:
    y, good, weak = _two_models()
    c = compare(good, weak, y, class_names=["x", "y", "z"], n_boot=500, seed=1)
    assert c.macro_delta > 0.2 and c.macro_delta_ci[0] > 0 and c.macro_delta_p < 0.01
    assert all(lo > 0 for lo, _ in c.delta_ci) and all(t.p_value < 1e-4 for t in c.delong)
    assert c.macro_auroc_a == pytest.approx(roc_auc_score(y, good, average="macro"))
    assert c.macro_auroc_b == pytest.approx(roc_auc_score(y, weak, average="macro"))
    rev = compare(weak, good, y, n_boot=500, seed=1)  # swapping the models mirrors the interval
    assert rev.macro_delta_ci == pytest.approx((-c.macro_delta_ci[1], -c.macro_delta_ci[0]), abs=1e-12)
    text = json.dumps(c.to_dict(), allow_nan=False)
    assert '"delong": [{' in text and '"ci_method": "percentile (paired bootstrap)"' in text


def test_paired_bootstrap_is_tighter_than_unpaired_for_correlated_models() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(300) < 0.3).astype(int)
    a = rng.normal(size=300) + y
    b = a + 0.3 * rng.normal(size=300)  # nearly the same model
    c = compare(a, b, y, n_boot=400, seed=0)
    width = c.macro_delta_ci[1] - c.macro_delta_ci[0]
    assert width < 0.1 and c.macro_delta_ci[0] < c.macro_delta < c.macro_delta_ci[1]
    assert c.delong[0].se < 0.03


def test_rare_class_groups_and_delong_only() -> None:
    y, a, b = _two_models(k=4, seed=2)
    y[:, 3] = 0
    y[7, 3] = 1
    pid = np.arange(len(y)) // 2
    c = compare(a, b, y, n_boot=200, seed=0, groups=pid)
    assert c.patient_bootstrap and c.scored == (True, True, True, False) and c.delong[3] is None
    assert c.not_scored == {"3": {"n_pos": 1, "n_neg": 399, "why": "1 positive (need >= 2)"}}
    assert np.isnan(c.delta[3]) and np.isnan(c.delta_ci[3][0])
    assert c.macro_delta == pytest.approx(np.mean(c.delta[:3]))
    only = compare(a, b, y, n_boot=0)
    assert only.delta_ci is None and only.delong[0] is not None
    with pytest.raises(MetricError, match="shape"):
        compare(a, b[:10], y)
