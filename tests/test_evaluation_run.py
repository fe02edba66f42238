"""`cardiofm train anyecg` then `cardiofm evaluate RUN` on a small synthetic cohort (the acceptance path)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

CLI = [sys.executable, "-c", "from cardiofm.cli import main; main()"]


def run(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("anyecg") / "run"
    r = run("train", "anyecg", "--out", str(out), "--no-evaluate", "--set", "data.synth.n=240",
            "--set", "model.name=net1d_tiny", "--set", "trainer.max_epochs=3", "--set", "cv.folds=3",
            "--set", "trainer.progress=false", "--set", "data.build_workers=1", "--set", "evaluate.n_boot=100",
            "--set", "evaluate.beats.max_records=120")
    assert r.returncode == 0, r.stderr[-3000:]
    return out


@pytest.mark.slow
def test_evaluate_writes_metrics_and_a_report_with_every_plot(trained: Path):
    r = run("evaluate", str(trained))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "internal macro AUROC" in r.stdout
    ev = json.loads((trained / "metrics.json").read_text())["evaluation"]
    assert ev["codes"] == ["RCA", "LM", "LAD", "LCX"]
    # the reported macro AUROC is sklearn's on the out-of-fold predictions of the scored vessels
    # (>= 2 positives and >= 2 negatives by default); the others are listed as not scored
    f = np.load(trained / "predictions.npz")
    y, p = f["oof_y"], f["oof_p"]
    scored = [j for j in range(4) if 2 <= y[:, j].sum() <= len(y) - 2]
    assert set(ev["internal"]["classification"]["not_scored"]) == {ev["codes"][j] for j in range(4) if j not in scored}
    assert ev["internal"]["classification"]["rule"] == "strodthoff"
    assert ev["internal"]["classification"]["macro_auroc"] == pytest.approx(
        np.mean([roc_auc_score(y[:, j], p[:, j]) for j in scored]), abs=1e-9)
    lo, hi = ev["internal"]["classification"]["macro_auroc_ci"]
    assert lo <= ev["internal"]["classification"]["macro_auroc"] <= hi
    task = ev["internal"]["per_task"]["RCA"]
    assert ev["internal"]["thresholds"] == {"RCA": 0.15, "LM": 0.01, "LAD": 0.15, "LCX": 0.15}
    for key in ("calibration", "threshold", "trend", "survival", "subgroups"):
        assert key in task, key
    assert task["trend"]["column"] == "stenosis_rca"
    html = (trained / "report.html").read_text()
    captions = ["ROC curves with 95 % bootstrap bands", "Calibration", "Decision-curve analysis",
                "Kaplan-Meier cumulative incidence", "Subgroup AUROC", "average beats", "integrated gradients",
                "clinical 12-lead layout", "Spearman trend", "across thresholds", "Validation macro AUROC"]
    for c in captions:
        assert c in html, c
    assert html.count("data:image/png;base64") >= 15
    # self-contained: no script and no link out (the inlined images' base64 may spell "http" by chance)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html.split("<body")[-1])
    assert "<script" not in html and "http" not in text.replace("http-equiv", "")


@pytest.mark.slow
def test_rerunning_train_resumes_without_retraining(trained: Path):
    before = {p: p.stat().st_mtime for p in trained.glob("fold*/checkpoints/best.ckpt")}
    r = run("train", "anyecg", "--out", str(trained), "--no-evaluate", "--set", "data.synth.n=240",
            "--set", "model.name=net1d_tiny", "--set", "trainer.max_epochs=3", "--set", "cv.folds=3",
            "--set", "trainer.progress=false", "--set", "data.build_workers=1", "--set", "evaluate.n_boot=100",
            "--set", "evaluate.beats.max_records=120")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "== fold" not in r.stdout  # every fold was done already
    assert before == {p: p.stat().st_mtime for p in trained.glob("fold*/checkpoints/best.ckpt")}


def test_user_errors_exit_2_with_one_line(tmp_path: Path):
    cases = [("train", str(tmp_path / "nope.yaml")),
             ("train", "anyecg", "--set", "trainer.max_epoch=1", "--out", str(tmp_path / "a")),
             ("train", "anyecg", "--variant", "ptbxl", "--set", f"data.root={tmp_path / 'missing'}",
              "--out", str(tmp_path / "b")),
             ("evaluate", str(tmp_path)),
             ("predict", str(tmp_path), "--source", "ptbxl", "--root", str(tmp_path), "--out", str(tmp_path / "p.csv"))]
    for args in cases:
        r = run(*args, timeout=120)
        assert r.returncode == 2, (args, r.stderr[-2000:])
        assert r.stderr.startswith("cardiofm: error:") and "Traceback" not in r.stderr, (args, r.stderr)
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.slow
def test_patient_level_view_when_patients_have_several_exams(trained: Path, tmp_path: Path):
    import shutil

    from cardiofm.systems.shared.evaluation import evaluate_run

    run = tmp_path / "run"
    shutil.copytree(trained, run, ignore=shutil.ignore_patterns("plots", "report.html"))
    f = dict(np.load(run / "predictions.npz"))
    f["oof_patient_id"] = np.array([f"P{i // 2}" for i in range(len(f["oof_rows"]))])  # two exams per patient
    np.savez(run / "predictions.npz", **f)
    ev = evaluate_run(run)
    pl = ev["internal"]["patient_level"]
    assert isinstance(pl, dict) and pl["n"] == (len(f["oof_rows"]) + 1) // 2
    assert (run / "plots" / "internal" / "roc_patient_level.png").exists()
    assert ev["test"]["patient_level"].startswith("one exam per patient")


@pytest.mark.slow
def test_a_class_with_one_test_positive_is_reported_not_scored(trained: Path, tmp_path: Path):
    """The evaluation path end to end (metrics, plots, explanations, report) with a single positive."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    f = dict(np.load(copy / "predictions.npz"))
    y = f["test_y"].copy()
    y[:, 0] = 0
    y[0, 0] = 1  # RCA: one positive among the test records
    f["test_y"] = y
    np.savez(copy / "predictions.npz", **f)
    r = run("evaluate", str(copy))
    assert r.returncode == 0, r.stderr[-3000:]
    test = json.loads((copy / "metrics.json").read_text())["evaluation"]["test"]
    c = test["classification"]
    assert c["not_scored"]["RCA"]["n_pos"] == 1 and "RCA" not in test.get("per_task", {})
    assert c["n_classes_scored"] == len([j for j in range(4) if 2 <= y[:, j].sum() <= len(y) - 2])
    assert "not scored" in (copy / "report.html").read_text()
