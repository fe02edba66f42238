"""Discrimination metrics for multi-label tasks: AUROC / AUPRC with bootstrap CIs, ROC bands, Fmax.

Inputs are ``y_true`` ``(n, k)`` 0/1 and ``y_score`` ``(n, k)`` scores (1-D for one class). Point
estimates come from scikit-learn; the bootstrap uses the vectorised kernels of
:mod:`cardiofm.evaluate._ranking` on the resamples of :class:`~cardiofm.evaluate.bootstrap.Resampler`
(PTB-XL rule: every scored class keeps a positive and a negative). A class with a single label value
in the data is *not scored*: its AUROC/AUPRC are NaN and it is left out of the macro averages
(``n_classes_scored`` says how many were averaged). The micro average pools every entry, as sklearn's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from cardiofm.errors import MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._ranking import prepare, transpose, weighted_auc_ap, weighted_roc
from cardiofm.evaluate.bootstrap import Resampler, scored_classes
from cardiofm.evaluate.intervals import percentile_interval

Pair = tuple[float, float]


@dataclass(frozen=True)
class ClassificationMetrics:
    """AUROC / AUPRC per class and averaged, with percentile bootstrap CIs when ``n_boot > 0``.

    Per-class tuples follow ``class_names``; unscored classes hold NaN (``None`` in ``to_dict``).
    The ``*_ci`` fields are ``(lower, upper)`` pairs, or ``None`` without bootstrap.
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
    auroc_ci: tuple[Pair, ...] | None = None
    macro_auroc_ci: Pair | None = None
    micro_auroc_ci: Pair | None = None
    macro_auprc_ci: Pair | None = None
    level: float = 0.95
    n_boot: int = 0
    n_rejected: int = 0
    patient_bootstrap: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (NaN becomes ``None``)."""
        return _checks.dataclass_dict(self)


def _note(names: tuple[str, ...], scored: np.ndarray, n_pos: np.ndarray) -> str:
    left = [f"{c} ({'no positives' if p == 0 else 'no negatives'})"
            for c, s, p in zip(names, scored, n_pos, strict=True) if not s]
    return "" if not left else f"not scored (one label value), excluded from macro averages: {', '.join(left)}"


def _macro(values: np.ndarray, scored: np.ndarray) -> float:
    return float(values[scored].mean()) if scored.any() else float("nan")


def classification_metrics(y_true: Any, y_score: Any, *, class_names: Sequence[str] | None = None,
                           n_boot: int = 1000, seed: int | np.random.Generator | None = 0,
                           level: float = 0.95, groups: Any = None, micro: bool = True,
                           max_draws: int | None = None) -> ClassificationMetrics:
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
        max_draws: cap on bootstrap draws before ``MetricError`` (default ``50 * n_boot``).

    Raises:
        MetricError: shapes differ, NaN scores, labels not 0/1, or too many rejected resamples.
    """
    y, s = _checks.pair(y_true, y_score)
    n, k = y.shape
    names = _checks.names(class_names, k)
    level = _checks.level(level)
    n_boot = _checks.positive_int(n_boot, "n_boot", minimum=0)
    scored = scored_classes(y)
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
                  note=_note(names, scored, n_pos), level=level)
    if n_boot == 0 or not scored.any():
        return ClassificationMetrics(**result)

    sampler = Resampler(n, n_boot, seed, groups=groups, y=y, max_draws=max_draws, class_names=names)
    preps = {j: prepare(y[:, j], s[:, j]) for j in np.flatnonzero(scored)}
    micro_prep = None
    if micro and np.isfinite(micro_auc):
        micro_prep = prepare(pooled, s.ravel(), np.repeat(np.arange(n), k), n_rows=n)
    aucs, aps, micros = [], [], []
    for counts in sampler:
        wt = transpose(counts)
        a = np.full((counts.shape[0], k), np.nan)
        p = np.full((counts.shape[0], k), np.nan)
        for j, prep in preps.items():
            a[:, j], p[:, j] = weighted_auc_ap(wt, prep)
        aucs.append(a)
        aps.append(p)
        if micro_prep is not None:
            micros.append(weighted_auc_ap(wt, micro_prep, ap=False)[0])
    a_dist, p_dist = np.concatenate(aucs), np.concatenate(aps)

    def ci(dist: np.ndarray) -> Pair:
        lo, hi = percentile_interval(dist, level)
        return float(lo), float(hi)

    lo, hi = percentile_interval(a_dist, level)
    result.update(
        auroc_ci=tuple((float(a), float(b)) for a, b in zip(lo, hi, strict=True)),
        macro_auroc_ci=ci(a_dist[:, scored].mean(axis=1)),
        macro_auprc_ci=ci(p_dist[:, scored].mean(axis=1)),
        micro_auroc_ci=ci(np.concatenate(micros)) if micros else None,
        n_boot=n_boot, n_rejected=sampler.n_drawn - n_boot, patient_bootstrap=groups is not None)
    return ClassificationMetrics(**result)


@dataclass(frozen=True)
class RocCurve:
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (arrays become lists)."""
        return _checks.dataclass_dict(self)


def roc_curves(y_true: Any, y_score: Any, *, class_names: Sequence[str] | None = None, n_boot: int = 1000,
               seed: int | np.random.Generator | None = 0, level: float = 0.95, groups: Any = None,
               fpr_grid: Any = None, max_draws: int | None = None) -> tuple[RocCurve, ...]:
    """One :class:`RocCurve` per class, with bootstrap bands (same resamples and seed rule as
    :func:`classification_metrics`, so ``auc_ci`` matches its ``auroc_ci``).

    Args:
        fpr_grid: FPR values of the band (default 101 points on [0, 1]).
        Others as in :func:`classification_metrics`.
    """
    y, s = _checks.pair(y_true, y_score)
    n, k = y.shape
    names = _checks.names(class_names, k)
    level = _checks.level(level)
    n_boot = _checks.positive_int(n_boot, "n_boot", minimum=0)
    grid = np.linspace(0.0, 1.0, 101) if fpr_grid is None else np.asarray(fpr_grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or grid.min() < 0 or grid.max() > 1 or np.any(np.diff(grid) <= 0):
        raise MetricError("fpr_grid: need an increasing 1-D grid inside [0, 1]")
    scored = scored_classes(y)
    bands: dict[int, tuple[np.ndarray, np.ndarray, Pair]] = {}
    if n_boot and scored.any():
        sampler = Resampler(n, n_boot, seed, groups=groups, y=y, max_draws=max_draws, class_names=names)
        preps = {j: prepare(y[:, j], s[:, j]) for j in np.flatnonzero(scored)}
        tprs: dict[int, list[np.ndarray]] = {j: [] for j in preps}
        aucs: dict[int, list[np.ndarray]] = {j: [] for j in preps}
        for counts in sampler:
            wt = transpose(counts)
            for j, prep in preps.items():
                tprs[j].append(weighted_roc(wt, prep, grid))
                aucs[j].append(weighted_auc_ap(wt, prep, ap=False)[0])
        for j in preps:
            lo, hi = percentile_interval(np.concatenate(tprs[j]), level)
            alo, ahi = percentile_interval(np.concatenate(aucs[j]), level)
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
class FmaxResult:
    """Sample-centric Fmax and the precision/recall curve it was taken from."""

    fmax: float
    threshold: float
    precision: float
    recall: float
    thresholds: np.ndarray
    precision_curve: np.ndarray
    recall_curve: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return _checks.dataclass_dict(self)


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
