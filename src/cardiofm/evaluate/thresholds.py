"""Operating points: confusion counts, sensitivity / specificity / PPV / NPV with Wilson CIs, sweeps, risk groups.

A sample is called positive (high risk) when its score is ``>= threshold``, as in the AnyECG-CCTA
paper (>= 15 % for LAD/LCX/RCA, >= 1 % for LM).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult
from cardiofm.evaluate.intervals import wilson_interval

RATES: tuple[str, ...] = ("sensitivity", "specificity", "ppv", "npv")


@dataclass(frozen=True)
class Rate(JsonResult):
    """A proportion ``k / n`` with its Wilson interval (NaN when ``n == 0``)."""

    value: float
    lower: float
    upper: float
    k: int
    n: int



@dataclass(frozen=True)
class ThresholdMetrics(JsonResult):
    """Confusion counts at one threshold and the four rates derived from them."""

    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: Rate
    specificity: Rate
    ppv: Rate
    npv: Rate
    level: float

    @property
    def n_flagged(self) -> int:
        """Samples called positive (``tp + fp``)."""
        return self.tp + self.fp



def _counts(y: np.ndarray, s: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, ...]:
    pred = s[None, :] >= ts[:, None]
    pos = y.astype(bool)[None, :]
    tp = (pred & pos).sum(axis=1)
    fp = (pred & ~pos).sum(axis=1)
    fn = pos.sum() - tp
    tn = (~pos).sum() - fp
    return tp, fp, tn, fn


def _rates(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray,
           level: float) -> dict[str, tuple[np.ndarray, ...]]:
    out = {}
    for name, k, n in (("sensitivity", tp, tp + fn), ("specificity", tn, tn + fp),
                       ("ppv", tp, tp + fp), ("npv", tn, tn + fn)):
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        lo, hi = wilson_interval(k, n, level)
        out[name] = (value, lo, hi, k, n)
    return out


def threshold_metrics(y_true: Any, y_score: Any, threshold: float, level: float = 0.95) -> ThresholdMetrics:
    """Confusion counts, sensitivity, specificity, PPV and NPV (each with a Wilson CI) at ``threshold``.

    Args:
        y_true: ``(n,)`` 0/1 labels.
        y_score: ``(n,)`` probabilities in [0, 1].
        threshold: strictly inside (0, 1); score ``>= threshold`` is called positive.
        level: confidence level.

    Raises:
        ConfigError: threshold or level out of range. MetricError: bad labels or scores.
    """
    y, s = _checks.binary_pair(y_true, y_score, probability=True)
    t = _checks.threshold(threshold)
    level = _checks.level(level)
    tp, fp, tn, fn = (int(c[0]) for c in _counts(y, s, np.array([t])))
    rates = _rates(np.array(tp), np.array(fp), np.array(tn), np.array(fn), level)
    made = {name: Rate(float(v), float(lo), float(hi), int(k), int(n)) for name, (v, lo, hi, k, n) in rates.items()}
    return ThresholdMetrics(t, tp, fp, tn, fn, made["sensitivity"], made["specificity"], made["ppv"], made["npv"],
                            level)


def default_threshold_grid() -> np.ndarray:
    """0.01, 0.02, ..., 0.99."""
    return np.round(np.arange(1, 100) / 100, 2)


def threshold_sweep(y_true: Any, y_score: Any, thresholds: Any = None, level: float = 0.95) -> pd.DataFrame:
    """One row per threshold: ``threshold, tp, fp, tn, fn, n_flagged, fraction_flagged`` and for each of
    sensitivity / specificity / ppv / npv the value and its Wilson ``_lower`` / ``_upper`` bounds.

    Args:
        thresholds: grid strictly inside (0, 1) (default :func:`default_threshold_grid`).
    """
    y, s = _checks.binary_pair(y_true, y_score, probability=True)
    ts = default_threshold_grid() if thresholds is None else _checks.thresholds(thresholds)
    level = _checks.level(level)
    tp, fp, tn, fn = _counts(y, s, ts)
    table: dict[str, Any] = {"threshold": ts, "tp": tp, "fp": fp, "tn": tn, "fn": fn, "n_flagged": tp + fp,
                             "fraction_flagged": (tp + fp) / y.size}
    for name, (value, lo, hi, _, _) in _rates(tp, fp, tn, fn, level).items():
        table[name], table[f"{name}_lower"], table[f"{name}_upper"] = value, lo, hi
    return pd.DataFrame(table)


def task_thresholds(y_true: Any, y_score: Any, thresholds: Mapping[str, float], task_names: Sequence[str],
                    level: float = 0.95) -> dict[str, ThresholdMetrics]:
    """Vessel-specific operating points: ``thresholds`` maps task name -> threshold (e.g.
    ``{"LAD": 0.15, "LCX": 0.15, "RCA": 0.15, "LM": 0.01}``) for the columns named by ``task_names``.

    Returns:
        task name -> :class:`ThresholdMetrics`, in the order of ``thresholds``.
    """
    y, s = _checks.pair(y_true, y_score, probability=True)
    names = _checks.names(task_names, y.shape[1])
    unknown = [t for t in thresholds if t not in names]
    if unknown:
        raise ConfigError(f"thresholds: unknown task(s) {unknown}; the tasks are {list(names)}")
    return {task: threshold_metrics(y[:, names.index(task)], s[:, names.index(task)], t, level)
            for task, t in thresholds.items()}


def risk_groups(y_score: Any, threshold: float, labels: tuple[str, str] = ("low", "high")) -> np.ndarray:
    """``labels[1]`` where ``y_score >= threshold``, else ``labels[0]`` (for Kaplan-Meier by risk group)."""
    s = _checks.scores(y_score, probability=True)
    if s.ndim != 1:
        raise MetricError(f"y_score: one task at a time, shape (n,), got {s.shape}")
    t = _checks.threshold(threshold)
    return np.where(s >= t, labels[1], labels[0])
