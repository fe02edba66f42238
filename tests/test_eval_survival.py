from __future__ import annotations

import json

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate.survival import apply_horizon, kaplan_meier
from cardiofm.evaluate.thresholds import risk_groups


def _cohort(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.random(n) * 0.4
    group = risk_groups(p, 0.15)
    t_event = rng.exponential(np.where(group == "high", 500.0, 1500.0))
    t_cens = rng.uniform(200, 1200, n)
    return np.minimum(t_event, t_cens), (t_event <= t_cens).astype(int), group


def test_km_hand_case() -> None:
    time = np.array([2, 3, 3, 5, 8, 1, 4, 6])
    event = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    group = np.array(["a"] * 5 + ["b"] * 3)
    res = kaplan_meier(time, event, group, at_risk_times=[0, 3, 5, 9])
    a = res.group("a")
    # S(2) = 4/5; at 3: 4 at risk, 1 event -> 0.6; at 5: 2 at risk, 1 event -> 0.3
    assert [a.incidence_at(t) for t in (0, 2, 2.5, 3, 5, 8)] == pytest.approx([0, 0.2, 0.2, 0.4, 0.7, 0.7])
    assert a.at_risk.tolist() == [5, 4, 2, 0] and (a.n, a.n_events) == (5, 3)
    assert np.all(a.ci_lower <= a.cumulative_incidence + 1e-12)
    assert np.all(a.cumulative_incidence <= a.ci_upper + 1e-12)
    assert [g.label for g in res.groups] == ["a", "b"] and res.test == "logrank"


def test_km_and_logrank_match_lifelines() -> None:
    time, event, group = _cohort()
    res = kaplan_meier(time, event, group, level=0.9)
    hi, lo = group == "high", group == "low"
    ref = logrank_test(time[hi], time[lo], event[hi], event[lo])
    assert res.logrank_p == pytest.approx(ref.p_value) and res.logrank_statistic == pytest.approx(ref.test_statistic)
    assert res.logrank_p < 0.01
    kmf = KaplanMeierFitter(alpha=0.1).fit(time[hi], event[hi])
    g = res.group("high")
    np.testing.assert_allclose(g.timeline, kmf.timeline)
    np.testing.assert_allclose(g.survival, kmf.survival_function_.to_numpy()[:, 0])
    np.testing.assert_allclose(g.cumulative_incidence, 1 - kmf.survival_function_.to_numpy()[:, 0])
    np.testing.assert_allclose(g.ci_lower, kmf.confidence_interval_cumulative_density_.to_numpy()[:, 0])
    assert res.group("high").incidence_at(600) > res.group("low").incidence_at(600)
    json.dumps(res.to_dict(), allow_nan=False)


def test_700_day_horizon_censors_later_events() -> None:
    t, e = apply_horizon([100, 800, 650, 700, 1200], [1, 1, 0, 1, 0], 700)
    np.testing.assert_array_equal(t, [100, 700, 650, 700, 700])
    np.testing.assert_array_equal(e, [True, False, False, True, False])

    time, event, group = _cohort(seed=1)
    res = kaplan_meier(time, event, group, horizon=700)
    ct, ce = np.minimum(time, 700), (event == 1) & (time <= 700)
    hi, lo = group == "high", group == "low"
    assert res.logrank_p == pytest.approx(logrank_test(ct[hi], ct[lo], ce[hi], ce[lo]).p_value)
    g = res.group("high")
    assert g.timeline.max() <= 700 and g.n_events == int(ce[hi].sum()) < int(event[hi].sum())
    assert res.horizon == 700 and res.at_risk_times.tolist() == [0, 140, 280, 420, 560, 700]
    assert g.at_risk[-1] == int((ct[hi] >= 700).sum())


def test_three_groups_use_the_multivariate_logrank_test() -> None:
    time, event, _ = _cohort(seed=2)
    groups = np.array(["q1", "q2", "q3"])[np.arange(time.size) % 3]
    res = kaplan_meier(time, event, groups, order=["q3", "q1", "q2"])
    assert res.test == "multivariate logrank" and [g.label for g in res.groups] == ["q3", "q1", "q2"]
    assert res.logrank_p == pytest.approx(multivariate_logrank_test(time, groups, event).p_value)


def test_survival_errors() -> None:
    time, event, group = _cohort(50)
    with pytest.raises(MetricError, match="two non-empty groups"):
        kaplan_meier(time, event, np.full(50, "low"))
    with pytest.raises(MetricError, match="same length"):
        kaplan_meier(time[:10], event, group)
    with pytest.raises(MetricError, match="negative"):
        kaplan_meier(-time, event, group)
    with pytest.raises(MetricError, match="binary"):
        kaplan_meier(time, event * 2, group)
    with pytest.raises(ConfigError, match="horizon"):
        kaplan_meier(time, event, group, horizon=-1)
    with pytest.raises(ConfigError, match="no group"):
        kaplan_meier(time, event, group).group("medium")
