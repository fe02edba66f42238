"""Calibration of predicted probabilities: reliability curve with Wilson CIs, Brier score, ECE, slope/intercept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult
from cardiofm.evaluate.intervals import wilson_interval

STRATEGIES: tuple[str, ...] = ("uniform", "quantile")
_EPS = 1e-6  # probabilities are clipped to [eps, 1 - eps] before the logit


@dataclass(frozen=True)
class ReliabilityCurve(JsonResult):
    """Per non-empty bin: mean predicted probability, observed fraction of positives with its Wilson CI,
    and count. ``bin_edges`` are all ``n_bins + 1`` edges (empty bins are left out of the other arrays,
    as in ``sklearn.calibration.calibration_curve``)."""

    bin_edges: np.ndarray
    mean_predicted: np.ndarray
    observed: np.ndarray
    observed_lower: np.ndarray
    observed_upper: np.ndarray
    count: np.ndarray
    strategy: str
    level: float



def _bin_edges(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    return np.percentile(p, np.linspace(0, 100, n_bins + 1))


def reliability_curve(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: str = "uniform",
                      level: float = 0.95) -> ReliabilityCurve:
    """Reliability (calibration) curve of one task.

    Binning follows ``sklearn.calibration.calibration_curve`` exactly (bins closed on the right
    except the first; quantile edges from ``np.percentile``), so ``observed`` / ``mean_predicted``
    equal its ``prob_true`` / ``prob_pred``.

    Args:
        y_true: ``(n,)`` 0/1 labels.
        y_prob: ``(n,)`` predicted probabilities in [0, 1].
        n_bins: number of bins.
        strategy: ``"uniform"`` (equal width on [0, 1]) or ``"quantile"`` (equal counts).
        level: level of the Wilson intervals of the observed fractions.
    """
    y, p = _checks.binary_pair(y_true, y_prob, probability=True)
    n_bins = _checks.positive_int(n_bins, "n_bins")
    level = _checks.level(level)
    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy: unknown binning {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    edges = _bin_edges(p, n_bins, strategy)
    ids = np.searchsorted(edges[1:-1], p)
    count = np.bincount(ids, minlength=len(edges) - 1)
    pos = np.bincount(ids, weights=y, minlength=len(edges) - 1)
    total = np.bincount(ids, weights=p, minlength=len(edges) - 1)
    keep = count > 0
    lo, hi = wilson_interval(pos[keep], count[keep], level)
    return ReliabilityCurve(edges, total[keep] / count[keep], pos[keep] / count[keep], lo, hi,
                            count[keep].astype(np.int64), strategy, level)


def brier_score(y_true: Any, y_prob: Any) -> float:
    """Mean squared error of the probabilities (``sklearn.metrics.brier_score_loss``)."""
    y, p = _checks.binary_pair(y_true, y_prob, probability=True)
    return float(brier_score_loss(y, p, pos_label=1))


def expected_calibration_error(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: str = "uniform") -> float:
    """ECE: count-weighted mean over bins of ``|observed - mean predicted|``."""
    curve = reliability_curve(y_true, y_prob, n_bins, strategy)
    return float(np.sum(curve.count * np.abs(curve.observed - curve.mean_predicted)) / curve.count.sum())


@dataclass(frozen=True)
class CalibrationFit(JsonResult):
    """Logistic recalibration ``logit P(y=1) = intercept + slope * logit(p)`` (Cox 1958).

    ``slope`` 1 and ``intercept`` 0 for a calibrated model; ``slope < 1`` means too extreme predictions.
    ``calibration_in_the_large`` is the intercept with the slope fixed at 1 (offset model): > 0 when
    the model under-predicts on average.
    """

    slope: float
    intercept: float
    calibration_in_the_large: float



def calibration_slope_intercept(y_true: Any, y_prob: Any) -> CalibrationFit:
    """Calibration slope and intercept by unpenalised logistic regression of ``y`` on ``logit(p)``.

    Probabilities are clipped to ``[1e-6, 1 - 1e-6]`` first. Needs both classes in ``y_true``.
    """
    y, p = _checks.binary_pair(y_true, y_prob, probability=True)
    if y.min() == y.max():
        raise MetricError(f"calibration slope: y_true has only {'positives' if y[0] else 'negatives'}; "
                          "a logistic fit needs both classes")
    z = logit(np.clip(p, _EPS, 1 - _EPS))
    fit = LogisticRegression(C=np.inf, max_iter=1000).fit(z[:, None], y)
    citl = brentq(lambda a: float(np.sum(y - expit(a + z))), -50.0, 50.0)
    return CalibrationFit(float(fit.coef_[0, 0]), float(fit.intercept_[0]), float(citl))


@dataclass(frozen=True)
class Calibration(JsonResult):
    """Everything a calibration plot of one task shows: curve, Brier, ECE, logistic fit, histogram.

    ``histogram`` counts the predictions in ``histogram_edges`` (fixed 0..1 grid, for the plot).
    """

    curve: ReliabilityCurve
    brier: float
    ece: float
    fit: CalibrationFit | None
    n: int
    n_pos: int
    histogram_edges: np.ndarray
    histogram: np.ndarray



def calibration_metrics(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: str = "uniform", level: float = 0.95,
                hist_bins: int = 50) -> Calibration:
    """Reliability curve, Brier score, ECE and (with both classes present) the logistic calibration fit."""
    y, p = _checks.binary_pair(y_true, y_prob, probability=True)
    curve = reliability_curve(y, p, n_bins, strategy, level)
    ece = float(np.sum(curve.count * np.abs(curve.observed - curve.mean_predicted)) / curve.count.sum())
    fit = calibration_slope_intercept(y, p) if 0 < y.sum() < y.size else None
    counts, edges = np.histogram(p, bins=_checks.positive_int(hist_bins, "hist_bins"), range=(0.0, 1.0))
    brier = float(brier_score_loss(y, p, pos_label=1))
    return Calibration(curve, brier, ece, fit, int(y.size), int(y.sum()), edges, counts)
