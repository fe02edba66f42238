from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from cardiofm.errors import ConfigError
from cardiofm.evaluate import by_task
from cardiofm.evaluate.calibration import calibration_metrics
from cardiofm.evaluate.classification import roc_curves
from cardiofm.evaluate.decision import decision_curve
from cardiofm.evaluate.subgroups import Cut, subgroup_auroc
from cardiofm.evaluate.survival import kaplan_meier
from cardiofm.evaluate.thresholds import risk_groups, threshold_sweep
from cardiofm.evaluate.trend import spearman_trend
from cardiofm.report import evalplots

TASKS = ["LAD", "LCX", "LM", "RCA"]
THRESHOLDS = {"LAD": 0.15, "LCX": 0.15, "LM": 0.01, "RCA": 0.15}


@pytest.fixture(scope="module")
def case() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 240
    prev = np.array([0.2, 0.15, 0.05, 0.2])
    y = (rng.random((n, 4)) < prev).astype(int)
    p = 1 / (1 + np.exp(-(rng.normal(size=(n, 4)) + 1.2 * y + np.log(prev / (1 - prev)))))
    grade = np.clip(3 * y - rng.integers(0, 2, (n, 4)) * y + rng.integers(0, 3, (n, 4)) * (1 - y) // 2, 0, 3)
    t_event = rng.exponential(900, n)
    t_cens = rng.uniform(100, 1000, n)
    return {"y": y, "p": p, "grade": grade, "time": np.minimum(t_event, t_cens), "event": t_event <= t_cens,
            "age": rng.integers(35, 90, n), "sex": rng.choice(["female", "male"], n)}


def _check_png(fig: Figure, path: Path) -> None:
    assert isinstance(fig, Figure)
    assert path.exists() and path.stat().st_size > 5000
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    assert image[..., :3].std() > 0.05  # not a blank canvas


def _texts(fig: Figure) -> str:
    parts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return "\n".join(p for p in parts if isinstance(p, str))


def test_roc_plot(case: dict, tmp_path: Path) -> None:
    curves = roc_curves(case["y"], case["p"], class_names=TASKS, n_boot=40)
    fig = evalplots.plot_roc({"internal": curves, "normal ECG": curves[:2]}, tmp_path / "roc.png")
    _check_png(fig, tmp_path / "roc.png")
    assert f"LAD: AUC {curves[0].auc:.3f} ({curves[0].auc_ci[0]:.3f}–" in _texts(fig)
    _check_png(evalplots.plot_roc(curves, tmp_path / "roc1.png"), tmp_path / "roc1.png")


def test_calibration_plot(case: dict, tmp_path: Path) -> None:
    cals = by_task(calibration_metrics, case["y"], case["p"], TASKS, n_bins=5)
    fig = evalplots.plot_calibration(cals, tmp_path / "cal.png")
    _check_png(fig, tmp_path / "cal.png")
    assert f"Brier {cals['LM'].brier:.3f}" in _texts(fig)
    assert len(fig.axes) == 8  # curve + histogram per task


def test_trend_plot(case: dict, tmp_path: Path) -> None:
    trends = {t: spearman_trend(case["p"][:, j], case["grade"][:, j], ["none", "mild", "moderate", "severe"])
              for j, t in enumerate(TASKS)}
    fig = evalplots.plot_trend(trends, tmp_path / "trend.png")
    _check_png(fig, tmp_path / "trend.png")
    assert "Spearman ρ" in _texts(fig)


def test_decision_curve_plot(case: dict, tmp_path: Path) -> None:
    curves = by_task(decision_curve, case["y"], case["p"], TASKS)
    fig = evalplots.plot_decision_curve(curves, tmp_path / "dca.png")
    _check_png(fig, tmp_path / "dca.png")
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["model", "treat all", "treat none"]


def test_kaplan_meier_plot(case: dict, tmp_path: Path) -> None:
    results = {t: kaplan_meier(case["time"], case["event"], risk_groups(case["p"][:, j], THRESHOLDS[t]),
                               horizon=700)
               for j, t in enumerate(TASKS)}
    fig = evalplots.plot_kaplan_meier(results, tmp_path / "km.png")
    _check_png(fig, tmp_path / "km.png")
    text = _texts(fig)
    assert "log-rank p" in text and "number at risk" in text
    assert str(results["LAD"].group("high").at_risk[0]) in text
    single = evalplots.plot_kaplan_meier(results["LM"], tmp_path / "km1.pdf")
    assert (tmp_path / "km1.pdf").stat().st_size > 0 and len(single.axes) == 2


def test_forest_plot(case: dict, tmp_path: Path) -> None:
    frame = pd.DataFrame({"age": case["age"], "sex": case["sex"], "none": np.ones(240, dtype=int)})
    spec = {"age": Cut([65]), "sex": "category", "none": [("all ones", lambda c: c == 1), ("empty", lambda c: c == 0)]}
    tables = {t: subgroup_auroc(case["y"][:, j], case["p"][:, j], frame, spec, n_boot=30)
              for j, t in enumerate(TASKS[:2])}
    fig = evalplots.plot_forest(tables, tmp_path / "forest.png")
    _check_png(fig, tmp_path / "forest.png")
    text = _texts(fig)
    assert "AUC (95% CI)" in text and "n/a: empty subgroup" in text and "≥65" in text


def test_threshold_sweep_plot(case: dict, tmp_path: Path) -> None:
    sweeps = by_task(threshold_sweep, case["y"], case["p"], TASKS)
    fig = evalplots.plot_threshold_sweep(sweeps, tmp_path / "sweep.png", marked=THRESHOLDS)
    _check_png(fig, tmp_path / "sweep.png")
    assert "0.01" in _texts(fig) and "0.15" in _texts(fig)
    fig = evalplots.plot_threshold_sweep(sweeps["LM"], tmp_path / "sweep1.png", marked=[0.01, 0.05], log_x=True)
    _check_png(fig, tmp_path / "sweep1.png")


def test_plot_errors(case: dict, tmp_path: Path) -> None:
    curves = by_task(decision_curve, case["y"], case["p"], TASKS)
    with pytest.raises(ConfigError, match="out"):
        evalplots.plot_decision_curve(curves, tmp_path / "dca.jpg")
    with pytest.raises(ConfigError, match="empty"):
        evalplots.plot_decision_curve({})
    with pytest.raises(ConfigError, match="columns"):
        evalplots.plot_threshold_sweep(pd.DataFrame({"threshold": [0.1]}))
