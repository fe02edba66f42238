from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._ranking import prepare, transpose, weighted_auc_ap, weighted_roc
from cardiofm.evaluate.classification import classification_metrics, fmax_score, roc_curves
from cardiofm.evaluate.patients import aggregate_by_patient


def _data(n: int = 400, k: int = 5, seed: int = 0, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    prev = np.linspace(0.05, 0.4, k)
    y = (rng.random((n, k)) < prev).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=(n, k)) + 1.2 * y - 1.0)))
    return y, (np.round(s, 1) if ties else s)


@pytest.mark.parametrize("ties", [False, True])
def test_auroc_auprc_match_sklearn(ties: bool) -> None:
    y, s = _data(ties=ties)
    r = classification_metrics(y, s, n_boot=0)
    np.testing.assert_allclose(r.auroc, roc_auc_score(y, s, average=None))
    np.testing.assert_allclose(r.auprc, average_precision_score(y, s, average=None))
    assert r.macro_auroc == pytest.approx(roc_auc_score(y, s, average="macro"))
    assert r.micro_auroc == pytest.approx(roc_auc_score(y, s, average="micro"))
    assert r.macro_auprc == pytest.approx(average_precision_score(y, s, average="macro"))
    assert r.n_classes_scored == 5 and r.note == "" and r.auroc_ci is None


def test_one_dimensional_input_is_one_class() -> None:
    y, s = _data(k=1)
    r = classification_metrics(y[:, 0], s[:, 0], n_boot=50)
    assert r.auroc[0] == pytest.approx(roc_auc_score(y[:, 0], s[:, 0]))
    assert r.macro_auroc == pytest.approx(r.auroc[0]) == pytest.approx(r.micro_auroc)
    assert r.auroc_ci[0] == pytest.approx(r.macro_auroc_ci)


def test_class_with_one_label_value_is_nan_and_left_out_of_macro() -> None:
    y, s = _data(k=4)
    y[:, 1] = 0  # no positives
    y[:, 3] = 1  # no negatives
    r = classification_metrics(y, s, n_boot=100, class_names=["a", "b", "c", "d"])
    assert np.isnan(r.auroc[1]) and np.isnan(r.auroc[3]) and np.isnan(r.auprc[1])
    assert r.n_classes_scored == 2 and r.scored == (True, False, True, False)
    assert r.macro_auroc == pytest.approx(np.mean([roc_auc_score(y[:, j], s[:, j]) for j in (0, 2)]))
    assert "b (no positives)" in r.note and "d (no negatives)" in r.note
    assert np.isnan(r.auroc_ci[1][0]) and np.isfinite(r.auroc_ci[0][0])
    text = json.dumps(r.to_dict(), allow_nan=False)  # NaN -> null: strict JSON
    assert '"auroc": [' in text and "null" in text


@pytest.mark.parametrize("ties", [False, True])
def test_weighted_kernels_equal_sklearn_on_repeated_rows(ties: bool) -> None:
    y, s = _data(n=150, k=3, seed=3, ties=ties)
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 4, size=(6, y.shape[0]))
    wt = transpose(counts)
    grid = np.linspace(0, 1, 41)
    micro = prepare(y.ravel(), s.ravel(), np.repeat(np.arange(y.shape[0]), 3), n_rows=y.shape[0])
    micro_auc = weighted_auc_ap(wt, micro, ap=False)[0]
    for j in range(3):
        prep = prepare(y[:, j], s[:, j])
        auc, ap = weighted_auc_ap(wt, prep)
        tpr = weighted_roc(wt, prep, grid)
        for b in range(counts.shape[0]):
            idx = np.repeat(np.arange(y.shape[0]), counts[b])
            assert auc[b] == pytest.approx(roc_auc_score(y[idx, j], s[idx, j]), abs=1e-12)
            assert ap[b] == pytest.approx(average_precision_score(y[idx, j], s[idx, j]), abs=1e-12)
            fpr_ref, tpr_ref, _ = roc_curve(y[idx, j], s[idx, j], drop_intermediate=False)
            np.testing.assert_allclose(tpr[b], np.interp(grid, fpr_ref, tpr_ref), atol=1e-12)
            if j == 0:
                assert micro_auc[b] == pytest.approx(roc_auc_score(y[idx], s[idx], average="micro"), abs=1e-12)


def test_ci_fields_and_patient_bootstrap_flag() -> None:
    y, s = _data(n=300, k=3)
    pid = np.arange(300) // 2
    r = classification_metrics(y, s, n_boot=200, seed=1, groups=pid)
    assert r.patient_bootstrap and r.n_boot == 200
    for est, (lo, hi) in [(r.macro_auroc, r.macro_auroc_ci), (r.micro_auroc, r.micro_auroc_ci),
                          (r.macro_auprc, r.macro_auprc_ci), *zip(r.auroc, r.auroc_ci, strict=True)]:
        assert lo < est < hi
    json.dumps(r.to_dict(), allow_nan=False)


def test_roc_curves_band_and_auc_ci_agree_with_metrics() -> None:
    y, s = _data(n=300, k=3)
    curves = roc_curves(y, s, class_names=["x", "y", "z"], n_boot=150, seed=4)
    metrics = classification_metrics(y, s, n_boot=150, seed=4)
    for j, c in enumerate(curves):
        fpr, tpr, _ = roc_curve(y[:, j], s[:, j])
        np.testing.assert_allclose(c.fpr, fpr)
        assert c.auc == pytest.approx(metrics.auroc[j])
        assert c.auc_ci == pytest.approx(metrics.auroc_ci[j])  # same resamples for the same seed
        point = np.interp(c.fpr_grid, fpr, tpr)
        assert np.all(c.tpr_lower <= c.tpr_upper)
        inside = (c.tpr_lower - 1e-9 <= point) & (point <= c.tpr_upper + 1e-9)
        assert inside.mean() > 0.95
    assert curves[0].name == "x"
    assert roc_curves(y, s, n_boot=0)[0].tpr_lower is None


def _fmax_brute(y: np.ndarray, s: np.ndarray, ts: np.ndarray) -> tuple[float, float]:
    best, best_t = -1.0, np.nan
    for t in ts:
        precisions, recalls = [], []
        for i in range(y.shape[0]):
            predicted = {j for j in range(y.shape[1]) if s[i, j] >= t}
            true = {j for j in range(y.shape[1]) if y[i, j] == 1}
            if predicted:
                precisions.append(len(predicted & true) / len(predicted))
            if true:
                recalls.append(len(predicted & true) / len(true))
        if not precisions:
            continue
        p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
        f = 2 * p * r / (p + r) if p + r > 0 else 0.0
        if f > best:
            best, best_t = f, t
    return best, best_t


def test_fmax_matches_brute_force() -> None:
    y, s = _data(n=60, k=6, seed=7)
    y[0] = 0  # a sample without labels: no recall, may still predict
    res = fmax_score(y, s)
    f, t = _fmax_brute(y, s, np.round(np.arange(1, 101) / 100, 2))
    assert res.fmax == pytest.approx(f) and res.threshold == pytest.approx(t)
    assert 2 * res.precision * res.recall / (res.precision + res.recall) == pytest.approx(res.fmax)
    custom = fmax_score(y, s, thresholds=[0.2, 0.5])
    assert custom.fmax == pytest.approx(_fmax_brute(y, s, np.array([0.2, 0.5]))[0])


def test_aggregate_by_patient() -> None:
    y = np.array([[0, 1], [1, 0], [0, 0], [0, 0], [1, 1]])
    s = np.array([[0.1, 0.9], [0.5, 0.2], [0.3, 0.3], [0.2, 0.4], [0.8, 0.6]])
    pid = np.array(["p2", "p2", "p1", "p1", "p3"])
    mean = aggregate_by_patient(y, s, pid, how="mean")
    assert mean.patient_ids.tolist() == ["p2", "p1", "p3"] and mean.n_exams.tolist() == [2, 2, 1]
    np.testing.assert_array_equal(mean.y_true, [[1, 1], [0, 0], [1, 1]])
    np.testing.assert_allclose(mean.y_score, [[0.3, 0.55], [0.25, 0.35], [0.8, 0.6]])
    high = aggregate_by_patient(y, s, pid, how="max")
    np.testing.assert_allclose(high.y_score, [[0.5, 0.9], [0.3, 0.4], [0.8, 0.6]])
    one = aggregate_by_patient(y[:, 0], s[:, 0], pid)
    assert one.y_true.shape == (3,) and one.y_score.shape == (3,)
    classification_metrics(mean.y_true, mean.y_score, n_boot=0)  # the same metrics run on patients
    with pytest.raises(ConfigError, match="how"):
        aggregate_by_patient(y, s, pid, how="sum")
    with pytest.raises(MetricError, match="patient_ids"):
        aggregate_by_patient(y, s, pid[:3])


@pytest.mark.parametrize(("y", "s", "match"), [
    (np.zeros((5, 2)), np.zeros((5, 3)), "must match"),
    (np.array([0, 1, 1, 0]), np.array([0.1, np.nan, 0.3, 0.2]), "non-finite"),
    (np.array([0, 1, 2, 0]), np.array([0.1, 0.2, 0.3, 0.2]), "binary"),
    (np.zeros((0, 2)), np.zeros((0, 2)), "no samples"),
    (np.array(["a", "b"]), np.array([0.1, 0.2]), "0/1"),
])
def test_bad_inputs_raise_metric_error(y: np.ndarray, s: np.ndarray, match: str) -> None:
    with pytest.raises(MetricError, match=match):
        classification_metrics(y, s, n_boot=0)


def test_bad_options_raise_config_error() -> None:
    y, s = _data(n=50, k=2)
    with pytest.raises(ConfigError, match="n_boot"):
        classification_metrics(y, s, n_boot=-1)
    with pytest.raises(ConfigError, match="level"):
        classification_metrics(y, s, level=1.5)
    with pytest.raises(ConfigError, match="class_names"):
        classification_metrics(y, s, class_names=["a"], n_boot=0)
    assert issubclass(MetricError, ConfigError)
    assert _checks.jsonable(float("nan")) is None
