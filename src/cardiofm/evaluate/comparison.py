"""Paired comparison of two models on the same records: ΔAUROC with a paired bootstrap and DeLong's test.

``compare(scores_a, scores_b, labels)`` gives ΔAUROC = AUROC(a) − AUROC(b), per class and macro,
with a *paired* percentile bootstrap CI (each resample draws the same records, or the same patients
with ``groups``, for both models) and a two-sided bootstrap p-value
``p = min(1, 2 min((#{Δ* <= 0} + 1) / (B + 1), (#{Δ* >= 0} + 1) / (B + 1)))``. Per class it also
runs DeLong's test (DeLong et al. 1988, in the fast midrank form of Sun & Xu 2014) as a cross-check:
ΔAUC, its standard error, z and the two-sided normal p-value. DeLong treats records as independent;
with several exams per patient prefer the patient bootstrap (``groups``).

Classes with too few positives or negatives (``min_pos`` / ``min_neg``, default 2 each) are not
scored, exactly as in :func:`cardiofm.evaluate.classification.classification_metrics`, and the
bootstrap rule is the same (default ``strodthoff``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import norm, rankdata
from sklearn.metrics import roc_auc_score

from cardiofm.errors import MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate import bootstrap as boot
from cardiofm.evaluate._checks import JsonResult
from cardiofm.evaluate._ranking import prepare, resampled_auc_ap
from cardiofm.evaluate.classification import MIN_NEG, MIN_POS, _macro, _nanmean_rows, check_minimum

Pair = tuple[float, float]


@dataclass(frozen=True)
class DeLong(JsonResult):
    """DeLong's test of AUROC(a) − AUROC(b) for one class."""

    auc_a: float
    auc_b: float
    delta: float
    se: float
    z: float
    p_value: float



def _midranks(x: np.ndarray) -> np.ndarray:
    """Midranks along the last axis (ties get the mean of their ranks), 1-based."""
    return rankdata(x, method="average", axis=-1)


def delong_components(y: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUROCs and DeLong's structural components of several scores of one binary problem (Sun & Xu 2014).

    Args:
        y: ``(n,)`` 0/1 labels with at least one positive and one negative.
        scores: ``(n_models, n)`` scores.

    Returns:
        ``(auc, v10, v01)``: AUROC per model ``(n_models,)``; ``v10`` ``(n_models, m)`` the placement of
        each positive (share of negatives scoring below it, ties one half); ``v01`` ``(n_models, n_neg)``
        the share of positives scoring above each negative.
    """
    y = np.asarray(y).astype(bool).ravel()
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    pos, neg = s[:, y], s[:, ~y]
    m, k = pos.shape[1], neg.shape[1]
    if m == 0 or k == 0:
        raise MetricError("delong: need at least one positive and one negative")
    tx, ty = _midranks(pos), _midranks(neg)
    tz = _midranks(np.concatenate([pos, neg], axis=1))
    auc = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2) / k
    v10 = (tz[:, :m] - tx) / k
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return auc, v10, v01


def delong_test(y: Any, score_a: Any, score_b: Any) -> DeLong:
    """DeLong's test of two correlated AUROCs on the same records (two-sided).

    Needs at least two positives and two negatives (the variances of the placements). Where the two
    scores rank every pair alike the variance of Δ is 0: then ``z`` is 0 and ``p`` 1 if Δ is 0.
    """
    auc, v10, v01 = delong_components(y, np.vstack([np.ravel(score_a), np.ravel(score_b)]))
    m, k = v10.shape[1], v01.shape[1]
    if m < 2 or k < 2:
        raise MetricError(f"delong: need >= 2 positives and >= 2 negatives, got {m} and {k}")
    cov = np.cov(v10) / m + np.cov(v01) / k
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    delta = float(auc[0] - auc[1])
    se = float(np.sqrt(max(var, 0.0)))
    if se <= 1e-15:
        z = 0.0 if abs(delta) <= 1e-15 else float(np.sign(delta) * np.inf)
    else:
        z = delta / se
    return DeLong(float(auc[0]), float(auc[1]), delta, se, z, float(2 * norm.sf(abs(z))))


@dataclass(frozen=True)
class Comparison(boot.BootstrapProvenance):
    """ΔAUROC = AUROC(a) − AUROC(b) per class and macro, with paired bootstrap CIs and p-values.

    Per-class tuples follow ``class_names`` (NaN for unscored classes, see ``not_scored``); ``delong``
    holds a :class:`DeLong` per class (``None`` where not scored). ``n_skipped`` counts per class the
    resamples in which the class was one-valued and left out (rule ``strodthoff``).
    """

    class_names: tuple[str, ...]
    n: int
    n_pos: tuple[int, ...]
    scored: tuple[bool, ...]
    n_classes_scored: int
    auroc_a: tuple[float, ...]
    auroc_b: tuple[float, ...]
    delta: tuple[float, ...]
    macro_auroc_a: float
    macro_auroc_b: float
    macro_delta: float
    delong: tuple[DeLong | None, ...]
    not_scored: dict[str, dict[str, Any]] = field(default_factory=dict)
    delta_ci: tuple[Pair, ...] | None = None
    delta_p: tuple[float, ...] | None = None
    macro_delta_ci: Pair | None = None
    macro_delta_p: float | None = None
    min_pos: int = MIN_POS
    min_neg: int = MIN_NEG
    ci_method: str = field(default="percentile (paired bootstrap)", kw_only=True)


def bootstrap_p_value(d: Any) -> float:
    """Two-sided bootstrap p-value of a paired difference from its resampled values ``d`` (NaN ignored)."""
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan")
    b = d.size
    return float(min(1.0, 2 * min((np.sum(d <= 0) + 1) / (b + 1), (np.sum(d >= 0) + 1) / (b + 1))))


def compare(scores_a: Any, scores_b: Any, labels: Any, *, class_names: Sequence[str] | None = None,
            n_boot: int = 1000, seed: int | np.random.Generator | None = 0, groups: Any = None,
            level: float = 0.95, rule: str = "strodthoff", min_pos: int = MIN_POS, min_neg: int = MIN_NEG,
            max_draws: int | None = None) -> Comparison:
    """Compare two models' scores on the same records: ΔAUROC (a − b) with paired bootstrap and DeLong.

    Args:
        scores_a: ``(n, k)`` or ``(n,)`` scores of model a.
        scores_b: scores of model b, same shape.
        labels: 0/1 labels, same shape.
        class_names: names of the k classes.
        n_boot: paired bootstrap resamples (0: DeLong only).
        seed: seed or generator.
        groups: patient id per row: resample patients (cluster bootstrap).
        level: confidence level of the percentile intervals.
        rule: bootstrap rule (``"strodthoff"`` default, or ``"strict"``), as in ``classification_metrics``.
        min_pos: fewest positives of a scored class (default 2).
        min_neg: fewest negatives of a scored class (default 2).
        max_draws: cap on bootstrap draws (see :class:`~cardiofm.evaluate.bootstrap.Resampler`).
    """
    y, a = _checks.pair(labels, scores_a)
    _, b = _checks.pair(labels, scores_b)
    n, k = y.shape
    names = _checks.names(class_names, k)
    level = _checks.level(level)
    n_boot = _checks.positive_int(n_boot, "n_boot", minimum=0)
    rule = boot.check_rule(rule)
    min_pos, min_neg = check_minimum(min_pos, min_neg)
    scored = boot.scored_classes(y, min_pos, min_neg)
    auc_a, auc_b = np.full(k, np.nan), np.full(k, np.nan)
    tests: list[DeLong | None] = [None] * k
    for j in np.flatnonzero(scored):
        auc_a[j] = roc_auc_score(y[:, j], a[:, j])
        auc_b[j] = roc_auc_score(y[:, j], b[:, j])
        tests[j] = delong_test(y[:, j], a[:, j], b[:, j])
    delta = auc_a - auc_b
    result: dict[str, Any] = dict(
        class_names=names, n=n, n_pos=tuple(int(p) for p in y.sum(axis=0)), scored=tuple(bool(x) for x in scored),
        n_classes_scored=int(scored.sum()), auroc_a=tuple(map(float, auc_a)), auroc_b=tuple(map(float, auc_b)),
        delta=tuple(map(float, delta)), macro_auroc_a=_macro(auc_a, scored), macro_auroc_b=_macro(auc_b, scored),
        macro_delta=_macro(delta, scored), delong=tuple(tests),
        not_scored=boot.not_scored(y, names, min_pos, min_neg),
        level=level, rule=rule, min_pos=min_pos, min_neg=min_neg)
    if n_boot == 0 or not scored.any():
        return Comparison(**result)
    sampler = boot.Resampler(n, n_boot, seed, groups=groups, y=y, required=scored, max_draws=max_draws,
                             class_names=names, rule=rule)
    cols = np.flatnonzero(scored)
    # both models' problems side by side: columns j (model a) and k + j (model b) see the same resamples
    preps = {j: prepare(y[:, j], a[:, j]) for j in cols} | {k + j: prepare(y[:, j], b[:, j]) for j in cols}
    dist = resampled_auc_ap(sampler, preps, 2 * k, ap=False)[0]
    d = dist[:, :k] - dist[:, k:]  # NaN where the class is one-valued in that resample (both NaN)
    macro = _nanmean_rows(d[:, scored])  # each resample: the mean over its two-valued classes
    lo, hi = boot.nan_percentile(d, level)
    mlo, mhi = boot.nan_percentile(macro, level)
    result.update(
        delta_ci=tuple((float(x), float(z)) if s else (float("nan"), float("nan"))
                       for x, z, s in zip(lo, hi, scored, strict=True)),
        delta_p=tuple(bootstrap_p_value(d[:, j]) if scored[j] else float("nan") for j in range(k)),
        macro_delta_ci=(float(mlo), float(mhi)), macro_delta_p=bootstrap_p_value(macro), n_boot=n_boot,
        n_rejected=sampler.n_rejected, n_relaxed=sampler.n_relaxed,
        n_skipped=tuple(int(x) if s else 0 for x, s in zip(np.isnan(d).sum(axis=0), scored, strict=True)),
        patient_bootstrap=groups is not None)
    return Comparison(**result)
