from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import brier_score_loss, roc_auc_score

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate.bootstrap import Resampler, bootstrap_ci, bootstrap_counts
from cardiofm.evaluate.classification import classification_metrics


def _data(n: int, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, k)) < 0.3).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=(n, k)) + y)))
    return y, s


def _macro_auc(y: np.ndarray, s: np.ndarray) -> float:
    return float(roc_auc_score(y, s, average="macro"))


def test_ci_contains_estimate_and_narrows_with_n() -> None:
    widths = []
    for n in (150, 1500):
        y, s = _data(n)
        r = classification_metrics(y, s, n_boot=300, seed=0)
        (lo, hi), est = r.macro_auroc_ci, r.macro_auroc
        assert lo < est < hi
        assert est == pytest.approx(_macro_auc(y, s))
        widths.append(hi - lo)
    assert widths[1] < 0.6 * widths[0]  # ~ 1/sqrt(10) expected
    y, s = _data(150)
    ci = bootstrap_ci(_macro_auc, y, s, n_boot=100, seed=0)
    assert ci.lower < ci.estimate < ci.upper and ci.estimate == pytest.approx(_macro_auc(y, s))


def test_same_seed_same_ci_other_seed_other_ci() -> None:
    y, s = _data(300)
    a = classification_metrics(y, s, n_boot=200, seed=3)
    b = classification_metrics(y, s, n_boot=200, seed=3)
    c = classification_metrics(y, s, n_boot=200, seed=4)
    assert a.macro_auroc_ci == b.macro_auroc_ci and a.auroc_ci == b.auroc_ci
    assert a.macro_auroc_ci != c.macro_auroc_ci


def test_generic_and_vectorised_bootstrap_use_the_same_resamples() -> None:
    y, s = _data(250)
    fast = classification_metrics(y, s, n_boot=100, seed=9, micro=False)
    slow = bootstrap_ci(_macro_auc, y, s, n_boot=100, seed=9)
    assert fast.macro_auroc_ci == pytest.approx((slow.lower, slow.upper), abs=1e-12)
    per_class = bootstrap_ci(lambda a, b: roc_auc_score(a, b, average=None), y, s, n_boot=100, seed=9)
    np.testing.assert_allclose(np.array(fast.auroc_ci), np.column_stack([per_class.lower, per_class.upper]))


def test_single_positive_class_is_never_scored_from_one_label_value() -> None:
    y, s = _data(120, k=2, seed=5)
    y[:, 1] = 0
    y[17, 1] = 1  # one positive: ~37 % of plain resamples miss it
    seen: list[tuple[int, int]] = []

    def instrumented(yt: np.ndarray, ys: np.ndarray) -> np.ndarray:
        seen.append((int(yt[:, 1].sum()), int((1 - yt[:, 1]).sum())))
        return roc_auc_score(yt, ys, average=None)

    ci = bootstrap_ci(instrumented, y, s, n_boot=200, seed=0)
    resampled = seen[1:]  # the first call is the full-data estimate
    assert len(resampled) == 200 and all(pos >= 1 and neg >= 1 for pos, neg in resampled)
    assert ci.n_rejected > 30  # the redraw rule really was exercised
    counts = bootstrap_counts(y, 200, seed=0)  # default rule: a positive of every class is required too
    assert (counts[:, 17] >= 1).all()
    r = classification_metrics(y, s, n_boot=200, seed=0, rule="strict", min_pos=1)
    assert r.n_rejected == ci.n_rejected and np.isfinite(r.auroc_ci[1]).all()


def test_classes_without_both_labels_are_not_required() -> None:
    y, s = _data(100, k=2)
    y[:, 1] = 0
    counts = bootstrap_counts(y, 50, seed=0)  # would be impossible if class 1 were required
    assert counts.shape == (50, 100) and (counts.sum(axis=1) == 100).all()


def test_impossible_redraws_give_a_clear_error() -> None:
    n, k = 40, 12
    y = np.zeros((n, k), dtype=int)
    y[np.arange(k), np.arange(k)] = 1  # twelve classes, one positive each: P(all kept) ~ 0.6 %
    with pytest.raises(MetricError, match=r"only .* resamples .* max_draws"):
        bootstrap_counts(y, 100, seed=0, max_draws=500, rule="strict")
    sampler = Resampler(n, 100, 0, y=y, max_draws=500)  # the default rule relaxes instead of failing
    counts = sampler.all()
    assert counts.shape == (100, n) and sampler.n_relaxed > 0 and sampler.n_drawn == 500 + sampler.n_relaxed


def test_patient_bootstrap_draws_whole_patients() -> None:
    rng = np.random.default_rng(2)
    pid = np.repeat(np.arange(60), rng.integers(1, 5, size=60))
    n = pid.size
    y = (rng.random(n) < 0.3).astype(int)
    counts = bootstrap_counts(y, 100, seed=1, groups=pid)
    for p in np.unique(pid):
        rows = counts[:, pid == p]
        assert (rows == rows[:, :1]).all()  # every exam of a patient appears equally often
    per_patient = np.stack([counts[:, pid == p][:, 0] for p in np.unique(pid)], axis=1)
    assert (per_patient.sum(axis=1) == 60).all()  # 60 patients drawn each time, not n exams

    s = rng.random(n) + y
    seen = []

    def record(yt: np.ndarray, ys: np.ndarray) -> float:
        seen.append(ys.copy())
        return float(roc_auc_score(yt, ys))

    bootstrap_ci(record, y, s, n_boot=20, seed=1, groups=pid)
    row_of = {v: i for i, v in enumerate(s)}
    for ys in seen[1:]:
        c = np.bincount([row_of[v] for v in ys], minlength=n)
        for p in np.unique(pid):
            assert len(set(c[pid == p])) == 1


def test_generic_bootstrap_without_class_rule_and_nan_metric() -> None:
    y, s = _data(200, k=1)
    brier = bootstrap_ci(lambda a, b: brier_score_loss(a[:, 0], b[:, 0]), y, s, n_boot=100,
                         require_both_classes=False)
    assert brier.lower < brier.estimate < brier.upper and brier.n_rejected == 0
    nan = bootstrap_ci(lambda a, b: np.array([np.nan, 1.0]), y, s, n_boot=20)
    assert np.isnan(nan.lower[0]) and nan.lower[1] == 1.0
    assert "distribution" not in brier.to_dict()
    grade = np.random.default_rng(0).integers(0, 4, 200)
    with pytest.raises(MetricError, match="require_both_classes=False"):
        bootstrap_ci(lambda g, p: 0.0, grade, s[:, 0], n_boot=10)
    rho = bootstrap_ci(lambda g, p: spearmanr(g, p).statistic, grade, s[:, 0] + 0.1 * grade, n_boot=50,
                       require_both_classes=False)
    assert rho.lower < rho.estimate < rho.upper


def test_bad_bootstrap_options() -> None:
    y, s = _data(30)
    with pytest.raises(ConfigError, match="n_boot"):
        bootstrap_ci(_macro_auc, y, s, n_boot=0)
    with pytest.raises(MetricError, match="shape"):
        bootstrap_ci(_macro_auc, y, s[:10])
    with pytest.raises(MetricError, match="groups"):
        Resampler(30, 10, groups=np.arange(10))


def test_vectorised_bootstrap_is_fast() -> None:
    rng = np.random.default_rng(0)
    n, k = 2000, 71
    y = (rng.random((n, k)) < rng.uniform(0.01, 0.3, k)).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=(n, k)) + y - 1.5)))
    t0 = time.perf_counter()
    r = classification_metrics(y, s, n_boot=1000, seed=0)
    elapsed = time.perf_counter() - t0
    print(f"1000 resamples, n={n}, k={k}, per-class + macro + micro AUROC and AUPRC: {elapsed:.2f} s")
    assert r.n_classes_scored == k and r.micro_auroc_ci is not None
    assert elapsed < 30  # ~1-3 s on 2 shared cores; a per-resample sklearn loop takes minutes
