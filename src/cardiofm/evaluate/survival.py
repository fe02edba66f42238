"""Kaplan-Meier cumulative incidence by (risk) group with log-rank tests, wrapping ``lifelines``.

Groups are any labels, e.g. :func:`cardiofm.evaluate.thresholds.risk_groups` of the predicted
probability (``"high"`` at ``>= 15 %``). An optional administrative ``horizon`` (the paper's 700 days)
censors every subject still followed at the horizon: ``time = min(time, horizon)`` and events after
the horizon become censored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult


@dataclass(frozen=True)
class KMGroup(JsonResult):
    """Kaplan-Meier estimate of one group (step function on ``timeline``, starting at 0).

    ``cumulative_incidence`` = 1 - survival, with the pointwise CI of lifelines (exponential Greenwood).
    ``at_risk[i]`` is the number of subjects with follow-up ``>= at_risk_times[i]``.
    """

    label: str
    n: int
    n_events: int
    timeline: np.ndarray
    survival: np.ndarray
    cumulative_incidence: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    at_risk: np.ndarray

    def incidence_at(self, t: float) -> float:
        """Cumulative incidence at time ``t`` (right-continuous step function)."""
        i = np.searchsorted(self.timeline, t, side="right") - 1
        return float(self.cumulative_incidence[max(i, 0)])



@dataclass(frozen=True)
class SurvivalResult(JsonResult):
    """Kaplan-Meier curves per group and the log-rank test between them.

    ``test`` is ``"logrank"`` for two groups, ``"multivariate logrank"`` for more.
    """

    groups: tuple[KMGroup, ...]
    logrank_statistic: float
    logrank_p: float
    test: str
    at_risk_times: np.ndarray
    horizon: float | None
    level: float

    def group(self, label: str) -> KMGroup:
        """The group called ``label``."""
        for g in self.groups:
            if g.label == label:
                return g
        raise ConfigError(f"no group {label!r}; groups are {[g.label for g in self.groups]}")



def apply_horizon(time: Any, event: Any, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Administrative censoring at ``horizon``: times capped at it, events after it turned into censorings."""
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event).astype(bool)
    if not np.isfinite(horizon) or horizon <= 0:
        raise ConfigError(f"horizon: must be a positive time, got {horizon!r}")
    return np.minimum(t, horizon), e & (t <= horizon)


def _check(time: Any, event: Any, groups: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = _checks.scores(time, "time")
    e = _checks.labels(event, "event")
    g = np.asarray(groups)
    if t.ndim != 1 or e.shape != (t.size, 1) or g.shape != (t.size,):
        raise MetricError(f"time {np.shape(time)}, event {np.shape(event)} and groups {np.shape(groups)} must be "
                          "1-D arrays of the same length")
    if (t < 0).any():
        raise MetricError(f"time: {int((t < 0).sum())} negative follow-up times")
    return t, e[:, 0].astype(bool), g


def kaplan_meier(time: Any, event: Any, groups: Any, *, horizon: float | None = None,
                 at_risk_times: Any = None, order: Sequence[Any] | None = None, level: float = 0.95) -> SurvivalResult:
    """Kaplan-Meier curves (``lifelines.KaplanMeierFitter``) per group and the log-rank test
    (``logrank_test`` for two groups, ``multivariate_logrank_test`` for more).

    Args:
        time: ``(n,)`` follow-up time (e.g. days from the ECG to event or censoring).
        event: ``(n,)`` 1 if the event (e.g. myocardial infarction) was observed at ``time``, 0 if censored.
        groups: ``(n,)`` group label per subject (e.g. ``risk_groups(p, 0.15)``).
        horizon: administrative end of follow-up (e.g. 700): see :func:`apply_horizon`.
        at_risk_times: times of the number-at-risk table (default 6 even steps from 0 to the horizon or
            the last follow-up time).
        order: group labels in the order wanted (default sorted); labels not listed are dropped.
        level: level of the pointwise confidence bands.

    Raises:
        MetricError: shapes, NaN, negative times, or fewer than two non-empty groups.
    """
    level = _checks.level(level)
    t, e, g = _check(time, event, groups)
    if horizon is not None:
        t, e = apply_horizon(t, e, float(horizon))
    labels = list(order) if order is not None else sorted(set(g.tolist()), key=str)
    present = [lab for lab in labels if np.any(g == lab)]
    if len(present) < 2:
        raise MetricError(f"groups: need at least two non-empty groups to compare, got {present}")
    end = float(horizon) if horizon is not None else float(t.max())
    ticks = np.linspace(0.0, end, 6) if at_risk_times is None else np.atleast_1d(np.asarray(at_risk_times, float))
    ticks = np.round(ticks, 6)
    alpha = 1 - level
    fitted = []
    for lab in present:
        m = g == lab
        kmf = KaplanMeierFitter(alpha=alpha).fit(t[m], e[m], label=str(lab))
        ci = kmf.confidence_interval_cumulative_density_.to_numpy()
        fitted.append(KMGroup(str(lab), int(m.sum()), int(e[m].sum()), kmf.timeline.astype(np.float64),
                              kmf.survival_function_.to_numpy()[:, 0], kmf.cumulative_density_.to_numpy()[:, 0],
                              ci[:, 0], ci[:, 1], np.array([int((t[m] >= x).sum()) for x in ticks])))
    keep = np.isin(g, present)
    if len(present) == 2:
        a, b = (g == present[0]), (g == present[1])
        res = logrank_test(t[a], t[b], e[a], e[b])
        test = "logrank"
    else:
        res = multivariate_logrank_test(t[keep], g[keep], e[keep])
        test = "multivariate logrank"
    return SurvivalResult(tuple(fitted), float(res.test_statistic), float(res.p_value), test, ticks,
                          None if horizon is None else float(horizon), level)
