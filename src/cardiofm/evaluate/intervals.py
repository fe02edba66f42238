"""Confidence intervals for proportions (Wilson score) and from bootstrap distributions (percentile)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from cardiofm.errors import MetricError
from cardiofm.evaluate import _checks


def wilson_interval(k: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the proportion ``k / n`` (vectorised over arrays of counts).

    Unlike the normal (Wald) interval it stays inside [0, 1] and behaves at ``k = 0`` and ``k = n``.
    It equals ``scipy.stats.binomtest(k, n).proportion_ci(level, method="wilson")``, written out so
    that whole tables of counts are done at once.

    Args:
        k: number of successes (scalar or array).
        n: number of trials, broadcastable with ``k``; where ``n == 0`` the interval is NaN.
        level: confidence level.

    Returns:
        ``(lower, upper)`` as float arrays (0-d for scalar input).
    """
    level = _checks.level(level)
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if (k < 0).any() or (k > n).any():
        raise MetricError(f"wilson_interval: need 0 <= k <= n, got k={k.tolist()}, n={n.tolist()}")
    z = norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lower = np.clip(np.fmin(centre - half, p), 0.0, 1.0)  # fmin/fmax: rounding at k = 0 or n, NaN kept
        upper = np.clip(np.fmax(centre + half, p), 0.0, 1.0)
    return lower, upper


def percentile_interval(distribution: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval: the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles over axis 0.

    A column holding NaN (a metric undefined on the data, e.g. a class with no positives) gives NaN.
    """
    level = _checks.level(level)
    dist = np.asarray(distribution, dtype=np.float64)
    lo, hi = np.quantile(dist, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi
