"""Clinical evaluation: metrics with confidence intervals on arrays (scikit-learn style, no models).

* ``classification``: AUROC / AUPRC per class, macro, micro with bootstrap CIs; ROC bands; Fmax.
* ``bootstrap``: resampling rules (``strodthoff`` default, ``strict``), patient (cluster) bootstrap,
  generic ``bootstrap_ci``.
* ``comparison``: ``compare``, two models on the same records: ΔAUROC with paired bootstrap CI and p,
  DeLong's test.
* ``patients``: exam-level -> patient-level arrays.
* ``calibration``: reliability curve with Wilson CIs, Brier, ECE, calibration slope / intercept.
* ``trend``: Spearman trend over an ordinal grade, box-plot summaries.
* ``thresholds``: sensitivity / specificity / PPV / NPV with Wilson CIs at thresholds, sweeps, risk groups.
* ``decision``: decision-curve analysis (net benefit).
* ``survival``: Kaplan-Meier cumulative incidence by group, log-rank, administrative horizon.
* ``subgroups``: AUROC with CI per declared subgroup (forest plots).
* ``clustering``: CardioPRIME's k-means disease clustering (NMI, AMI, homogeneity, completeness per disease,
  bootstrap CIs) and the integrated / baseline ratio table.
* ``correlation``: Pearson correlation between embedding dimensions and ECG features, best dimension per feature.

Plots of these results live in :mod:`cardiofm.report.evalplots` (clinical metrics) and
:mod:`cardiofm.report.embeddingplots` (clustering ratio and correlation heatmaps); this package draws
nothing and imports no data, model or training code (``tests/test_evaluate_is_arrays_only.py``).
Names are imported lazily, so ``import cardiofm.evaluate`` does not load lifelines or scikit-learn.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

_EXPORTS: dict[str, str] = {
    "classification_metrics": "classification", "ClassificationMetrics": "classification",
    "roc_curves": "classification", "RocCurve": "classification",
    "fmax_score": "classification", "FmaxResult": "classification",
    "bootstrap_ci": "bootstrap", "bootstrap_counts": "bootstrap", "BootstrapCI": "bootstrap",
    "compare": "comparison", "Comparison": "comparison", "bootstrap_p_value": "comparison",
    "delong_test": "comparison", "DeLong": "comparison",
    "aggregate_by_patient": "patients", "PatientLevel": "patients",
    "wilson_interval": "intervals", "percentile_interval": "intervals",
    "calibration_metrics": "calibration", "Calibration": "calibration", "reliability_curve": "calibration",
    "brier_score": "calibration", "expected_calibration_error": "calibration",
    "calibration_slope_intercept": "calibration",
    "spearman_trend": "trend", "TrendResult": "trend",
    "threshold_metrics": "thresholds", "threshold_sweep": "thresholds", "task_thresholds": "thresholds",
    "risk_groups": "thresholds", "ThresholdMetrics": "thresholds",
    "decision_curve": "decision", "net_benefit": "decision", "DecisionCurve": "decision",
    "kaplan_meier": "survival", "apply_horizon": "survival", "SurvivalResult": "survival",
    "subgroup_auroc": "subgroups", "Cut": "subgroups", "Categories": "subgroups", "SubgroupTable": "subgroups",
    "cardioprime_k": "clustering", "kmeans_clusters": "clustering", "top_diseases": "clustering",
    "disease_cluster_scores": "clustering", "bootstrap_cluster_scores": "clustering",
    "integration_ratio": "clustering",
    "feature_correlations": "correlation", "best_dimensions": "correlation",
}

__all__ = [*sorted(_EXPORTS), "by_task"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def by_task(fn: Callable[..., Any], y_true: Any, y_score: Any, task_names: Sequence[str], **kwargs: Any
            ) -> dict[str, Any]:
    """Run a one-task metric on every column: ``{task: fn(y_true[:, j], y_score[:, j], **kwargs)}``.

    For the multi-task (grid) plots, e.g. ``by_task(calibration_metrics, y, p, ["LAD", "LCX", "LM", "RCA"])``.
    """
    from cardiofm.evaluate import _checks

    y, s = _checks.pair(y_true, y_score)
    names = _checks.names(task_names, y.shape[1])
    return {name: fn(y[:, j], s[:, j], **kwargs) for j, name in enumerate(names)}
