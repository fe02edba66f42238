"""Decision-curve analysis (Vickers & Elkin 2006): net benefit of acting on the model over threshold probabilities.

At threshold probability ``t`` the model treats the samples scoring ``>= t``::

    net benefit = TP / n - FP / n * t / (1 - t)

"Treat all" treats everyone (``prevalence - (1 - prevalence) * t / (1 - t)``), "treat none" no one (0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult
from cardiofm.evaluate.thresholds import _counts, default_threshold_grid


@dataclass(frozen=True)
class DecisionCurve(JsonResult):
    """Net benefit of the model, of treating all and of treating none, per threshold."""

    thresholds: np.ndarray
    net_benefit: np.ndarray
    treat_all: np.ndarray
    treat_none: np.ndarray
    prevalence: float
    n: int



def net_benefit(y_true: Any, y_score: Any, thresholds: Any) -> np.ndarray:
    """Net benefit of treating the samples with ``y_score >= t``, for each ``t`` in ``thresholds``."""
    y, s = _checks.binary_pair(y_true, y_score, probability=True)
    ts = _checks.thresholds(thresholds)
    tp, fp, _, _ = _counts(y, s, ts)
    return tp / y.size - fp / y.size * ts / (1 - ts)


def decision_curve(y_true: Any, y_score: Any, thresholds: Any = None) -> DecisionCurve:
    """Decision curve of one task.

    Args:
        y_true: ``(n,)`` 0/1 outcomes.
        y_score: ``(n,)`` predicted probabilities.
        thresholds: threshold probabilities strictly inside (0, 1) (default 0.01 ... 0.99).
    """
    y, s = _checks.binary_pair(y_true, y_score, probability=True)
    ts = default_threshold_grid() if thresholds is None else _checks.thresholds(thresholds)
    prevalence = float(y.mean())
    odds = ts / (1 - ts)
    return DecisionCurve(ts, net_benefit(y, s, ts), prevalence - (1 - prevalence) * odds, np.zeros_like(ts),
                         prevalence, int(y.size))
