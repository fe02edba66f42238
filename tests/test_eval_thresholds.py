from __future__ import annotations

import json

import numpy as np
import pytest

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate.decision import decision_curve, net_benefit
from cardiofm.evaluate.intervals import wilson_interval
from cardiofm.evaluate.thresholds import risk_groups, task_thresholds, threshold_metrics, threshold_sweep

Y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
S = np.array([0.9, 0.2, 0.6, 0.7, 0.1, 0.05, 0.3, 0.15])


def test_threshold_metrics_hand_confusion_matrix() -> None:
    m = threshold_metrics(Y, S, 0.15)  # called positive: score >= 0.15
    assert (m.tp, m.fp, m.tn, m.fn) == (4, 2, 2, 0)
    assert m.sensitivity.value == 1.0 and m.specificity.value == 0.5
    assert m.ppv.value == pytest.approx(4 / 6) and m.npv.value == 1.0
    assert (m.ppv.k, m.ppv.n) == (4, 6) and m.n_flagged == 6
    lo, hi = wilson_interval(4, 6)
    assert (m.ppv.lower, m.ppv.upper) == pytest.approx((float(lo), float(hi)))
    m = threshold_metrics(Y, S, 0.65)
    assert (m.tp, m.fp, m.tn, m.fn) == (1, 1, 3, 3)
    assert m.sensitivity.value == 0.25 and m.npv.value == 0.5
    json.dumps(m.to_dict(), allow_nan=False)


def test_nothing_flagged_gives_nan_ppv() -> None:
    m = threshold_metrics(Y, S, 0.95)
    assert m.n_flagged == 0 and np.isnan(m.ppv.value) and np.isnan(m.ppv.lower)
    assert m.to_dict()["ppv"]["value"] is None


def test_sweep_agrees_with_single_thresholds() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.2).astype(int)
    s = np.clip(rng.random(300) * 0.6 + 0.3 * y, 0, 1)
    table = threshold_sweep(y, s, thresholds=[0.01, 0.15, 0.5])
    assert list(table["threshold"]) == [0.01, 0.15, 0.5]
    for _, row in table.iterrows():
        m = threshold_metrics(y, s, row["threshold"])
        assert (row["tp"], row["fp"], row["tn"], row["fn"]) == (m.tp, m.fp, m.tn, m.fn)
        for rate in ("sensitivity", "specificity", "ppv", "npv"):
            assert row[rate] == pytest.approx(getattr(m, rate).value)
            assert row[f"{rate}_lower"] == pytest.approx(getattr(m, rate).lower)
    full = threshold_sweep(y, s)
    assert len(full) == 99 and full["sensitivity"].is_monotonic_decreasing
    assert full["fraction_flagged"].iloc[0] == pytest.approx((s >= 0.01).mean())


def test_vessel_specific_thresholds_and_risk_groups() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random((200, 4)) < [0.2, 0.2, 0.02, 0.2]).astype(int)
    y[0, 2] = 1
    s = rng.random((200, 4)) * [0.6, 0.6, 0.05, 0.6]
    thr = {"LAD": 0.15, "LCX": 0.15, "LM": 0.01, "RCA": 0.15}
    out = task_thresholds(y, s, thr, ["LAD", "LCX", "LM", "RCA"])
    assert list(out) == ["LAD", "LCX", "LM", "RCA"]
    assert out["LM"].threshold == 0.01 and out["LM"].n_flagged == int((s[:, 2] >= 0.01).sum())
    groups = risk_groups(s[:, 2], 0.01)
    assert set(groups) == {"low", "high"} and ((groups == "high") == (s[:, 2] >= 0.01)).all()
    with pytest.raises(ConfigError, match="unknown task"):
        task_thresholds(y, s, {"LADD": 0.1}, ["LAD", "LCX", "LM", "RCA"])


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.2, 1.5, float("nan"), "0.15", True])
def test_thresholds_outside_unit_interval_raise(bad: object) -> None:
    with pytest.raises(ConfigError, match="threshold"):
        threshold_metrics(Y, S, bad)  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="thresholds"):
        threshold_sweep(Y, S, thresholds=[0.1, 1.2])
    with pytest.raises(MetricError, match="probabilities"):
        threshold_metrics(Y, S * 4, 0.5)
    with pytest.raises(MetricError, match="binary"):
        threshold_metrics(Y * 2, S, 0.5)
    with pytest.raises(MetricError, match="one task"):
        threshold_metrics(np.column_stack([Y, Y]), np.column_stack([S, S]), 0.5)


def test_decision_curve_hand_case() -> None:
    y = np.array([1, 1, 0, 0, 0])
    s = np.array([0.9, 0.4, 0.6, 0.2, 0.1])
    dc = decision_curve(y, s, thresholds=[0.3, 0.5])
    # t = 0.3: treat 0.9, 0.4, 0.6 -> TP 2, FP 1: 2/5 - 1/5 * 0.3/0.7
    # t = 0.5: treat 0.9, 0.6 -> TP 1, FP 1: 1/5 - 1/5 * 1
    np.testing.assert_allclose(dc.net_benefit, [0.4 - 0.2 * 3 / 7, 0.0])
    np.testing.assert_allclose(dc.treat_all, [0.4 - 0.6 * 3 / 7, 0.4 - 0.6])
    np.testing.assert_array_equal(dc.treat_none, [0.0, 0.0])
    assert dc.prevalence == 0.4 and dc.n == 5
    np.testing.assert_allclose(net_benefit(y, s, [0.3]), dc.net_benefit[:1])
    full = decision_curve(y, s)
    assert full.thresholds.size == 99 and full.net_benefit[0] == pytest.approx(0.4 - 0.6 / 99)
    json.dumps(dc.to_dict(), allow_nan=False)
    with pytest.raises(ConfigError, match="thresholds"):
        decision_curve(y, s, thresholds=[0.0, 0.5])
