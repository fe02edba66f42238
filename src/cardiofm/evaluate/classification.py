"""Discrimination metrics for multi-label tasks: AUROC / AUPRC with bootstrap CIs, ROC bands, Fmax.

Inputs are ``y_true`` ``(n, k)`` 0/1 and ``y_score`` ``(n, k)`` scores (1-D for one class). Point
estimates come from scikit-learn; the bootstrap uses the vectorised kernels of
:mod:`cardiofm.evaluate._ranking` on the resamples of :class:`~cardiofm.evaluate.bootstrap.Resampler`.

*Scorable classes.* A class is scored only if it has at least ``min_pos`` positives and ``min_neg``
negatives in the data (default 2 and 2: with one positive an AUROC is the rank of a single record and
no interval is meaningful). Any other class is *not scored*: its AUROC/AUPRC are NaN, it is left out
of the macro averages (``n_classes_scored`` says how many were averaged) and listed in ``not_scored``
as ``{name: {n_pos, n_neg, why}}``. Rare classes never raise.

*Bootstrap rule* (``rule``). ``"strodthoff"`` (default, Strodthoff et al. 2021): a resample is kept if
every scored class has at least one positive in it; a class without a negative in a kept resample
is skipped in it (``n_skipped`` counts this per class) and that resample's macro average uses the
classes that are two-valued in it. ``"strict"``: every scored class must keep both labels (redrawn
otherwise; ``MetricError`` after ``max_draws``). Intervals are percentile intervals at ``level``
(95 % by default; ``ci_method`` says ``"percentile"``). The micro average pools every entry, as sklearn's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from cardiofm.errors import MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult
from cardiofm.evaluate._ranking import prepare, resampled_auc_ap, transpose, weighted_auc_ap, weighted_roc
from cardiofm.evaluate.bootstrap import (
    BootstrapProvenance,
    Resampler,
    check_rule,
    nan_percentile,
    not_scored,
    scored_classes,
)

Pair = tuple[float, float]
MIN_POS = 2  # default minimum positives of a scored class
MIN_NEG = 2  # default minimum negatives of a scored class


@dataclass(frozen=True)
class ClassificationMetrics(BootstrapProvenance):
    """AUROC / AUPRC per class and averaged, with percentile bootstrap CIs when ``n_boot > 0``.

    Per-class tuples follow ``class_names``; unscored classes hold NaN (``None`` in ``to_dict``) and
    are described in ``not_scored``. The ``*_ci`` fields are ``(lower, upper)`` pairs, or ``None``
    without bootstrap; ``n_skipped`` counts, per class, the kept resamples in which that class was
    one-valued and so left out of that resample (rule ``strodthoff``).
    """

    class_names: tuple[str, ...]
    n: int
    n_pos: tuple[int, ...]
    scored: tuple[bool, ...]
    n_classes_scored: int
    auroc: tuple[float, ...]
    auprc: tuple[float, ...]
    macro_auroc: float
    micro_auroc: float
    macro_auprc: float
    note: str = ""
    not_scored: dict[str, dict[str, Any]] = field(default_factory=dict)
    min_pos: int = MIN_POS
    min_neg: int = MIN_NEG
    auroc_ci: tuple[Pair, ...] | None = None
    macro_auroc_ci: Pair | None = None
    micro_auroc_ci: Pair | None = None
    macro_auprc_ci: Pair | None = None


def _note(missing: dict[str, dict[str, Any]]) -> str:
    left = [f"{c} ({d['why']})" for c, d in missing.items()]
    return "" if not left else f"not scored (too few positives or negatives), excluded from macro averages: " \
        f"{', '.join(left)}"


def _macro(values: np.ndarray, scored: np.ndarray) -> float:
    return float(values[scored].mean()) if scored.any() else float("nan")


def _nanmean_rows(a: np.ndarray) -> np.ndarray:
    """Row means over the finite entries (NaN for a row without any)."""
    ok = np.isfinite(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, a, 0.0).sum(axis=1) / ok.sum(axis=1)


def check_minimum(min_pos: Any, min_neg: Any) -> tuple[int, int]:
    """Validated ``(min_pos, min_neg)``, each an integer >= 1."""
    return _checks.positive_int(min_pos, "min_pos"), _checks.positive_int(min_neg, "min_neg")


def classification_metrics(y_true: Any, y_score: Any, *, class_names: Sequence[str] | None = None,
                           n_boot: int = 1000, seed: int | np.random.Generator | None = 0,
                           level: float = 0.95, groups: Any = None, micro: bool = True,
                           max_draws: int | None = None, rule: str = "strodthoff", min_pos: int = MIN_POS,
                           min_neg: int = MIN_NEG) -> ClassificationMetrics:
    """AUROC (per class, macro, micro) and AUPRC (per class, macro) with bootstrap 95 % CIs.

    Args:
        y_true: ``(n, k)`` or ``(n,)`` 0/1 labels.
        y_score: scores of the same shape (probabilities or logits: only their order matters).
        class_names: names of the k classes (default ``"0"``..).
        n_boot: bootstrap resamples; 0 skips the CIs.
        seed: seed or generator.
        level: confidence level of the percentile intervals.
        groups: patient id per row: resample patients (cluster bootstrap), for exam-level data with
            several exams per patient.
        micro: also bootstrap the micro AUROC (pools n*k entries; the slowest part for large k).
        max_draws: cap on bootstrap draws (default ``50 * n_boot``): ``strict`` raises there,
            ``strodthoff`` keeps the remaining draws unconditioned (``n_relaxed``).
        rule: ``"strodthoff"`` (default) or ``"strict"``, see the module docstring.
        min_pos: fewest positives of a scored class (default 2).
        min_neg: fewest negatives of a scored class (default 2).

    Raises:
        MetricError: shapes differ, NaN scores, labels not 0/1, or (rule ``strict`` only) too many
            rejected resamples. Never for a rare class under the default rule.
    """
    y, s = _checks.pair(y_true, y_score)
    n, k = y.shape
    names = _checks.names(class_names, k)
    level = _checks.level(level)
    n_boot = _checks.positive_int(n_boot, "n_boot", minimum=0)
    rule = check_rule(rule)
    min_pos, min_neg = check_minimum(min_pos, min_neg)
    scored = scored_classes(y, min_pos, min_neg)
    missing = not_scored(y, names, min_pos, min_neg)
    n_pos = y.sum(axis=0)
    auroc = np.full(k, np.nan)
    auprc = np.full(k, np.nan)
    if scored.any():  # one sklearn call for all scored columns (its input checks cost more than the metric)
        cols = np.flatnonzero(scored)
        yy, ss = (y[:, cols[0]], s[:, cols[0]]) if cols.size == 1 else (y[:, cols], s[:, cols])
        auroc[cols] = roc_auc_score(yy, ss, average=None)
        auprc[cols] = average_precision_score(yy, ss, average=None)
    pooled = y.ravel()
    micro_auc = float(roc_auc_score(pooled, s.ravel())) if 0 < pooled.sum() < pooled.size else float("nan")
    result = dict(class_names=names, n=n, n_pos=tuple(int(p) for p in n_pos), scored=tuple(bool(x) for x in scored),
                  n_classes_scored=int(scored.sum()), auroc=tuple(map(float, auroc)), auprc=tuple(map(float, auprc)),
                  macro_auroc=_macro(auroc, scored), micro_auroc=micro_auc, macro_auprc=_macro(auprc, scored),
                  note=_note(missing), not_scored=missing, min_pos=min_pos, min_neg=min_neg, level=level, rule=rule)
    if n_boot == 0 or not scored.any():
        return ClassificationMetrics(**result)

    sampler = Resampler(n, n_boot, seed, groups=groups, y=y, required=scored, max_draws=max_draws,
                        class_names=names, rule=rule)
    preps = {j: prepare(y[:, j], s[:, j]) for j in np.flatnonzero(scored)}
    micro_prep = None
    if micro and np.isfinite(micro_auc):
        micro_prep = prepare(pooled, s.ravel(), np.repeat(np.arange(n), k), n_rows=n)
    micros: list[np.ndarray] = []

    def draws() -> Any:  # the resamples, with the micro AUROC taken on the way
        for counts in sampler:
            if micro_prep is not None:
                micros.append(weighted_auc_ap(transpose(counts), micro_prep, ap=False)[0])
            yield counts

    a_dist, p_dist = resampled_auc_ap(draws(), preps, k)

    def ci(dist: np.ndarray) -> Pair:
        lo, hi = nan_percentile(dist, level)
        return float(lo), float(hi)

    lo, hi = nan_percentile(a_dist, level)
    skipped = np.isnan(a_dist).sum(axis=0)
    result.update(
        auroc_ci=tuple((float(a), float(b)) for a, b in zip(lo, hi, strict=True)),
        macro_auroc_ci=ci(_nanmean_rows(a_dist[:, scored])),
        macro_auprc_ci=ci(_nanmean_rows(p_dist[:, scored])),
        micro_auroc_ci=ci(np.concatenate(micros)) if micros else None,
        n_boot=n_boot, n_rejected=sampler.n_rejected, n_relaxed=sampler.n_relaxed,
        n_skipped=tuple(int(x) if sc else 0 for x, sc in zip(skipped, scored, strict=True)),
        patient_bootstrap=groups is not None)
    if sampler.n_relaxed:
        result["note"] = (result["note"] + "; " if result["note"] else "") + (
            f"{sampler.n_relaxed} of {n_boot} resamples kept without the '{rule}' rule after max_draws")
    return ClassificationMetrics(**result)


@dataclass(frozen=True)
class RocCurve(JsonResult):
    """ROC curve of one class, with a pointwise bootstrap band of the TPR on a fixed FPR grid.

    ``fpr``/``tpr``/``thresholds`` are sklearn's ``roc_curve`` points (empty for an unscored class);
    ``tpr_lower``/``tpr_upper`` are quantiles of the resampled TPR at each ``fpr_grid`` value
    (``None`` without bootstrap), ``auc_ci`` the percentile CI of the AUROC from the same resamples.
    """

    name: str
    n: int
    n_pos: int
    auc: float
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    fpr_grid: np.ndarray
    tpr_lower: np.ndarray | None = None
    tpr_upper: np.ndarray | None = None
    auc_ci: Pair | None = None
    level: float = 0.95



def roc_curves(y_true: Any, y_score: Any, *, class_names: Sequence[str] | None = None, n_boot: int = 1000,
               seed: int | np.random.Generator | None = 0, level: float = 0.95, groups: Any = None,
               fpr_grid: Any = None, max_draws: int | None = None, rule: str = "strodthoff",
               min_pos: int = MIN_POS, min_neg: int = MIN_NEG) -> tuple[RocCurve, ...]:
    """One :class:`RocCurve` per class, with bootstrap bands (same resamples and seed rule as
    :func:`classification_metrics`, so ``auc_ci`` matches its ``auroc_ci``).

    Args:
        fpr_grid: FPR values of the band (default 101 points on [0, 1]).
        Others as in :func:`classification_metrics`; an unscored class (too few positives or
        negatives) gets an empty curve, and a resample where a class is one-valued is left out of
        its band.
    """
    y, s = _checks.pair(y_true, y_score)
    n, k = y.shape
    names = _checks.names(class_names, k)
    level = _checks.level(level)
    n_boot = _checks.positive_int(n_boot, "n_boot", minimum=0)
    grid = np.linspace(0.0, 1.0, 101) if fpr_grid is None else np.asarray(fpr_grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or grid.min() < 0 or grid.max() > 1 or np.any(np.diff(grid) <= 0):
        raise MetricError("fpr_grid: need an increasing 1-D grid inside [0, 1]")
    rule = check_rule(rule)
    min_pos, min_neg = check_minimum(min_pos, min_neg)
    scored = scored_classes(y, min_pos, min_neg)
    bands: dict[int, tuple[np.ndarray, np.ndarray, Pair]] = {}
    if n_boot and scored.any():
        sampler = Resampler(n, n_boot, seed, groups=groups, y=y, required=scored, max_draws=max_draws,
                            class_names=names, rule=rule)
        preps = {j: prepare(y[:, j], s[:, j]) for j in np.flatnonzero(scored)}
        tprs: dict[int, list[np.ndarray]] = {j: [] for j in preps}
        aucs: dict[int, list[np.ndarray]] = {j: [] for j in preps}
        for counts in sampler:
            wt = transpose(counts)
            for j, prep in preps.items():
                auc = weighted_auc_ap(wt, prep, ap=False)[0]
                tpr = weighted_roc(wt, prep, grid)
                tpr[np.isnan(auc)] = np.nan  # one-valued in that resample: no ROC curve
                tprs[j].append(tpr)
                aucs[j].append(auc)
        for j in preps:
            lo, hi = nan_percentile(np.concatenate(tprs[j]), level)
            alo, ahi = nan_percentile(np.concatenate(aucs[j]), level)
            bands[j] = (lo, hi, (float(alo), float(ahi)))
    curves = []
    for j in range(k):
        empty = np.empty(0)
        if scored[j]:
            fpr, tpr, thr = roc_curve(y[:, j], s[:, j])
            auc = float(roc_auc_score(y[:, j], s[:, j]))
        else:
            fpr, tpr, thr, auc = empty, empty, empty, float("nan")
        lo, hi, auc_ci = bands.get(j, (None, None, None))
        curves.append(RocCurve(names[j], n, int(y[:, j].sum()), auc, fpr, tpr, thr, grid, lo, hi, auc_ci, level))
    return tuple(curves)


@dataclass(frozen=True)
class FmaxResult(JsonResult):
    """Sample-centric Fmax and the precision/recall curve it was taken from."""

    fmax: float
    threshold: float
    precision: float
    recall: float
    thresholds: np.ndarray
    precision_curve: np.ndarray
    recall_curve: np.ndarray



def fmax_score(y_true: Any, y_score: Any, thresholds: Any = None) -> FmaxResult:
    """Protein-centric (here sample-centric) Fmax of CAFA, as used for PTB-XL by Strodthoff et al. (2021).

    At threshold ``t`` a sample predicts the classes scoring ``>= t``. Precision ``pr(t)`` is averaged
    over the samples predicting at least one class; recall ``rc(t)`` over the samples with at least one
    true label (all samples in PTB-XL; samples without labels have no defined recall and are left out).
    ``Fmax = max_t 2 pr rc / (pr + rc)``; thresholds where no sample predicts anything are skipped.

    Args:
        y_true: ``(n, k)`` 0/1 labels.
        y_score: ``(n, k)`` scores.
        thresholds: grid of ``t`` (default 0.01, 0.02, ..., 1.00, for probabilities).
    """
    y, s = _checks.pair(y_true, y_score)
    ts = np.round(np.arange(1, 101) / 100, 2) if thresholds is None else np.atleast_1d(
        np.asarray(thresholds, dtype=np.float64))
    if ts.ndim != 1 or ts.size == 0 or not np.isfinite(ts).all():
        raise MetricError("thresholds: need a non-empty 1-D grid of finite values")
    true = y.astype(bool)
    n_true = true.sum(axis=1)
    has_true = n_true > 0
    if not has_true.any():
        raise MetricError("fmax_score: no sample has a positive label, so recall is undefined")
    prec = np.full(ts.size, np.nan)
    rec = np.full(ts.size, np.nan)
    for i, t in enumerate(ts):
        pred = s >= t
        n_pred = pred.sum(axis=1)
        tp = (pred & true).sum(axis=1)
        any_pred = n_pred > 0
        if any_pred.any():
            prec[i] = np.mean(tp[any_pred] / n_pred[any_pred])
            rec[i] = np.mean(tp[has_true] / n_true[has_true])
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    f = np.where(np.isnan(prec), np.nan, f)
    if np.isnan(f).all():
        return FmaxResult(float("nan"), float("nan"), float("nan"), float("nan"), ts, prec, rec)
    best = int(np.nanargmax(f))
    return FmaxResult(float(f[best]), float(ts[best]), float(prec[best]), float(rec[best]), ts, prec, rec)
