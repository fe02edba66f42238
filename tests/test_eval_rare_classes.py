"""Bootstrap rules (strodthoff default, strict), CI coverage, and classes too rare to score."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate.bootstrap import bootstrap_ci
from cardiofm.evaluate.classification import classification_metrics, roc_curves
from cardiofm.evaluate.subgroups import subgroup_auroc


def _rare(n: int = 242, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Five ordinary classes, then one with a single positive, one with none, one with a single negative."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 8)) < 0.2).astype(int)
    y[:, 5:] = 0
    y[3, 5] = 1
    y[:, 7] = 1
    y[9, 7] = 0
    s = rng.normal(size=y.shape) + y
    return y, s


def test_binormal_auroc_interval_covers_the_truth_95_percent_of_the_time() -> None:
    d = 1.0
    truth = norm.cdf(d / np.sqrt(2))  # AUROC of N(d, 1) positives against N(0, 1) negatives
    rng = np.random.default_rng(2021)
    t0 = time.perf_counter()
    hits, widths = [], []
    for i in range(200):
        y = (rng.random(250) < 0.1).astype(int)
        s = rng.normal(size=250) + d * y
        r = classification_metrics(y, s, n_boot=200, seed=i, micro=False)
        lo, hi = r.auroc_ci[0]
        assert r.rule == "strodthoff" and r.level == 0.95 and r.ci_method == "percentile"
        hits.append(lo <= truth <= hi)
        widths.append(hi - lo)
    coverage = float(np.mean(hits))
    print(f"coverage {coverage:.3f}, mean width {np.mean(widths):.3f}, {time.perf_counter() - t0:.1f} s")
    assert 0.90 <= coverage <= 1.00


@pytest.mark.parametrize("rule", ["strodthoff", "strict"])
def test_rare_classes_are_not_scored_and_never_raise(rule: str) -> None:
    y, s = _rare()
    names = [f"c{j}" for j in range(8)]
    r = classification_metrics(y, s, class_names=names, n_boot=200, seed=0, rule=rule)
    assert r.scored == (True,) * 5 + (False,) * 3 and r.n_classes_scored == 5
    assert r.not_scored == {"c5": {"n_pos": 1, "n_neg": 241, "why": "1 positive (need >= 2)"},
                            "c6": {"n_pos": 0, "n_neg": 242, "why": "no positives"},
                            "c7": {"n_pos": 241, "n_neg": 1, "why": "1 negative (need >= 2)"}}
    assert r.macro_auroc == pytest.approx(np.mean([roc_auc_score(y[:, j], s[:, j]) for j in range(5)]))
    lo, hi = r.macro_auroc_ci
    assert lo < r.macro_auroc < hi
    assert all(np.isnan(r.auroc[j]) and np.isnan(r.auroc_ci[j][0]) for j in (5, 6, 7))
    assert "c5 (1 positive (need >= 2))" in r.note
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["not_scored"]["c6"]["why"] == "no positives" and d["rule"] == rule
    one = classification_metrics(y, s, class_names=names, n_boot=50, rule=rule, min_pos=1, min_neg=1)
    assert one.n_classes_scored == 7 and list(one.not_scored) == ["c6"]  # the minimum is configurable
    curves = roc_curves(y, s, class_names=names, n_boot=50, rule=rule)
    assert curves[5].fpr.size == 0 and np.isnan(curves[5].auc) and curves[0].tpr_lower is not None
    table = subgroup_auroc(y[:, 5], s[:, 5], pd.DataFrame({"sex": np.arange(242) % 2}), {"sex": "category"},
                           n_boot=50, rule=rule)
    assert np.isnan(table.overall.auroc) and "not scored" in table.overall.note


def test_many_rare_classes_like_ptbxl_all_do_not_raise() -> None:
    """The 71-label failure: many classes with 2-3 positives in ~240 test records."""
    rng = np.random.default_rng(3)
    n, k = 242, 71
    y = np.zeros((n, k), dtype=int)
    for j in range(k):
        y[rng.choice(n, size=2 + j % 3 if j < 50 else 20 + j, replace=False), j] = 1
    s = rng.normal(size=y.shape) + y
    r = classification_metrics(y, s, n_boot=200, seed=0, micro=False)
    assert r.n_classes_scored == k and np.isfinite(r.macro_auroc_ci).all()
    assert r.n_rejected > 1000 and r.n_relaxed == 0  # ~3 % of the draws have a positive of every class
    # with too few draws allowed, the default rule keeps the rest unconditioned (and says so) ...
    capped = classification_metrics(y, s, n_boot=200, seed=0, micro=False, max_draws=2000)
    assert capped.n_relaxed > 100 and "without the 'strodthoff' rule" in capped.note
    assert np.isfinite(capped.macro_auroc_ci).all() and max(capped.n_skipped) > 0
    with pytest.raises(MetricError, match="rule 'strict'"):  # ... where the strict rule gives up
        classification_metrics(y, s, n_boot=200, seed=0, micro=False, rule="strict", max_draws=2000)


def test_a_class_without_a_negative_in_a_resample_is_skipped_there() -> None:
    rng = np.random.default_rng(4)
    n = 100
    y = (rng.random((n, 3)) < 0.3).astype(int)
    y[:, 2] = 1
    y[[10, 20], 2] = 0  # two negatives: ~13 % of resamples have none
    s = rng.normal(size=y.shape) + y
    r = classification_metrics(y, s, n_boot=300, seed=5, micro=False)
    assert r.n_rejected == 0 and 10 < r.n_skipped[2] < 90 and r.n_skipped[:2] == (0, 0)
    assert np.isfinite(r.auroc_ci[2]).all()

    def per_draw_macro(yt: np.ndarray, ys: np.ndarray) -> float:  # mean over the two-valued classes
        aucs = [roc_auc_score(yt[:, j], ys[:, j]) for j in range(3) if 0 < yt[:, j].sum() < len(yt)]
        return float(np.mean(aucs))

    ref = bootstrap_ci(per_draw_macro, y, s, n_boot=300, seed=5, rule="strodthoff")
    assert r.macro_auroc_ci == pytest.approx((ref.lower, ref.upper), abs=1e-12)
    strict = classification_metrics(y, s, n_boot=300, seed=5, micro=False, rule="strict")
    assert strict.n_rejected > 10 and strict.n_skipped == (0, 0, 0)


def test_patient_bootstrap_with_rare_class() -> None:
    y, s = _rare(seed=1)
    pid = np.arange(len(y)) // 3
    r = classification_metrics(y, s, n_boot=100, seed=0, groups=pid)
    assert r.patient_bootstrap and r.n_classes_scored == 5 and np.isfinite(r.macro_auroc_ci).all()


def test_bad_rule_and_minimum() -> None:
    y, s = _rare()
    with pytest.raises(ConfigError, match="bootstrap rule"):
        classification_metrics(y, s, n_boot=10, rule="ptbxl")
    with pytest.raises(ConfigError, match="min_pos"):
        classification_metrics(y, s, n_boot=10, min_pos=0)


def test_evaluate_config_and_report_row() -> None:
    from cardiofm.report.run_report import bootstrap_line, task_table
    from cardiofm.systems.shared.config import EvaluateConfig
    from cardiofm.systems.shared.evaluation import bootstrap_options

    cfg = EvaluateConfig()
    assert (cfg.bootstrap_rule, cfg.min_positives, cfg.min_negatives) == ("strodthoff", 2, 2)
    assert bootstrap_options({"bootstrap_rule": "strict"}) == {"rule": "strict", "min_pos": 2, "min_neg": 2}
    y, s = _rare()
    codes = [f"c{j}" for j in range(8)]
    c = classification_metrics(y, s, class_names=codes, n_boot=20).to_dict()
    html = task_table({"classification": c, "per_task": {}}, codes, [f"d{j}" for j in range(8)])
    assert "not scored: 1 positive (need &gt;= 2)" in html and "not scored: no positives" in html
    line = bootstrap_line(c)
    assert "95 % percentile bootstrap" in line and "Strodthoff" in line
