"""Trend of predicted probability over an ordinal grade (e.g. stenosis none / mild / moderate / severe)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from cardiofm.errors import MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult


@dataclass(frozen=True)
class GradeSummary(JsonResult):
    """Box-plot statistics of the scores of one grade (Tukey whiskers at 1.5 IQR).

    The field names ``med``, ``q1``, ``q3``, ``whislo``, ``whishi``, ``fliers`` are those of
    ``matplotlib.axes.Axes.bxp``.
    """

    grade: float
    label: str
    n: int
    mean: float
    med: float
    q1: float
    q3: float
    whislo: float
    whishi: float
    fliers: np.ndarray



@dataclass(frozen=True)
class TrendResult(JsonResult):
    """Spearman rank correlation between score and grade, and per-grade summaries (ascending grade)."""

    rho: float
    p_value: float
    n: int
    grades: tuple[GradeSummary, ...]



def _summary(grade: float, label: str, x: np.ndarray) -> GradeSummary:
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    iqr = q3 - q1
    inside = x[(x >= q1 - 1.5 * iqr) & (x <= q3 + 1.5 * iqr)]
    lo, hi = float(inside.min()), float(inside.max())
    return GradeSummary(float(grade), label, int(x.size), float(x.mean()), float(med), float(q1), float(q3), lo, hi,
                        np.sort(x[(x < lo) | (x > hi)]))


def spearman_trend(y_score: Any, grade: Any, grade_labels: Sequence[str] | Mapping[Any, str] | None = None
                   ) -> TrendResult:
    """Spearman rho and two-sided p (``scipy.stats.spearmanr``) between scores and an ordinal grade.

    Args:
        y_score: ``(n,)`` predicted probabilities (or any scores).
        grade: ``(n,)`` ordinal codes (e.g. 0 = no, 1 = mild, 2 = moderate, 3 = severe stenosis).
        grade_labels: names of the grades: a sequence indexed by the codes 0..m-1 (or, for other codes,
            one name per grade present, ascending), or a mapping grade -> name (default: the codes).

    Raises:
        MetricError: lengths differ, NaN scores or grades, or fewer than two distinct grades.
    """
    s = _checks.scores(y_score)
    g = _checks.scores(grade, "grade")
    if s.ndim != 1 or g.ndim != 1 or s.shape != g.shape:
        raise MetricError(f"y_score has shape {np.shape(y_score)} and grade {np.shape(grade)}; need two equal 1-D "
                          "arrays (one task at a time)")
    levels = np.unique(g)
    if levels.size < 2:
        raise MetricError(f"grade: only one grade ({levels[0]:g}) in the data; a trend needs at least two")
    if grade_labels is None:
        names = [f"{v:g}" for v in levels]
    elif isinstance(grade_labels, Mapping):
        missing = [v for v in levels if v not in grade_labels]
        if missing:
            raise MetricError(f"grade_labels: no name for grade(s) {missing}")
        names = [str(grade_labels[v]) for v in levels]
    else:
        seq = [str(x) for x in grade_labels]
        if np.all(levels == np.round(levels)) and levels.min() >= 0 and levels.max() < len(seq):
            names = [seq[int(v)] for v in levels]  # codes 0..m-1 index the names; absent grades are fine
        elif len(seq) == levels.size:
            names = seq
        else:
            raise MetricError(f"grade_labels: {len(seq)} names for grades {levels.tolist()}; give one name per "
                              "grade (codes 0..m-1 index the names) or a mapping grade -> name")
    res = spearmanr(s, g)
    return TrendResult(float(res.statistic), float(res.pvalue), int(s.size),
                       tuple(_summary(v, name, s[g == v]) for v, name in zip(levels, names, strict=True)))
