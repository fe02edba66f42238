"""Cross-validated training: K patient-grouped, label-stratified folds over the development
records, one model per fold, out-of-fold predictions for internal validation and the fold ensemble's
mean prediction on held-out and external data.

``cv.folds <= 1`` trains one model on the store's own train/val split instead (e.g. PTB-XL folds
1-8 / 9 / 10).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from cardiofm.config import RunConfig
from cardiofm.data.splits import check_leakage, grouped_multilabel_kfold
from cardiofm.data.store import Store
from cardiofm.engine.data import dev_and_test_rows, start_run
from cardiofm.engine.fit import fit_fold, load_fold_module, predict_rows
from cardiofm.engine.rundir import RunDir, is_done, run_once
from cardiofm.errors import ConfigError
from cardiofm.fileio import load_arrays

PREDICTIONS = "predictions.npz"


def assign_cv_folds(store: Store, dev_rows: np.ndarray, task: str, k: int, seed: int) -> np.ndarray:
    """Fold number (1..k) of each development row; grouped by patient, stratified on the task's labels."""
    idx = store.cohort.index
    if k <= 1:
        is_val = np.isin(dev_rows, store.rows("val"))
        if not is_val.any():
            raise ConfigError("cv.folds <= 1 uses the store's val split, but it has none; set cv.folds=5")
        return np.where(is_val, 1, 0)
    n_patients = idx["patient_id"].iloc[dev_rows].nunique()
    if n_patients < k:
        raise ConfigError(f"cv.folds={k} but the development set has only {n_patients} patients")
    y = store.cohort.labels(task).matrix[dev_rows]
    folds = np.asarray(grouped_multilabel_kfold(idx["patient_id"].iloc[dev_rows].to_numpy(), y, k=k, seed=seed))
    check_leakage(idx["patient_id"].iloc[dev_rows], folds)
    return folds


def _fold_ids(cfg: RunConfig) -> list[int]:
    k = cfg.cv.folds
    if k <= 1:
        return [1]
    chosen = cfg.cv.run_folds or list(range(1, k + 1))
    bad = [f for f in chosen if not 1 <= f <= k]
    if bad:
        raise ConfigError(f"cv.run_folds: {bad} outside 1..{k}")
    return list(chosen)


def train(cfg: RunConfig) -> RunDir:
    """Train every fold of ``cfg`` (resuming a run folder of the same config), then write predictions."""
    run, store = start_run(cfg)
    dev, test = dev_and_test_rows(store, cfg.data.task)
    folds = assign_cv_folds(store, dev, cfg.data.task, cfg.cv.folds, cfg.cv.seed)
    idx = store.cohort.index
    pd.DataFrame({"record_id": idx["record_id"].iloc[dev].to_numpy(), "patient_id": idx["patient_id"].iloc[dev],
                  "store_row": dev, "fold": folds}).to_csv(run.path / "folds.csv", index=False)
    summary: dict[str, Any] = {}
    for k in _fold_ids(cfg):
        fold_dir = run.fold_dir(k)
        fit = functools.partial(_train_fold, cfg, store, dev, folds, test, k, fold_dir)
        summary[f"fold{k}"] = run_once(fold_dir, fit, "fold summary")
    write_predictions(run, store, cfg, dev, folds, test)
    run.update_metrics("training", summary)
    return run


def _train_fold(cfg: RunConfig, store: Store, dev: np.ndarray, folds: np.ndarray, test: np.ndarray, k: int,
                fold_dir: Path) -> dict[str, Any]:
    """Fit fold ``k`` (validation rows: fold ``k`` of ``dev``) and save its predictions and encoder."""
    print(f"== fold {k}: {int((folds != k).sum() if cfg.cv.folds > 1 else (folds == 0).sum())} train, "
          f"{int((folds == k).sum())} val, {len(test)} test records")
    rows = {"train": dev[folds != k] if cfg.cv.folds > 1 else dev[folds == 0], "val": dev[folds == k]}
    info = fit_fold(cfg, store, rows, fold_dir, seed=cfg.seed + k)
    module = load_fold_module(fold_dir, cfg.method["name"])
    p_val = predict_rows([module], store, rows["val"], leads=cfg.data.leads)
    p_test = predict_rows([module], store, test, leads=cfg.data.leads)
    np.savez(fold_dir / PREDICTIONS, val_rows=rows["val"], p_val=p_val, test_rows=test, p_test=p_test)
    _save_encoder(module, fold_dir)
    info["method"] = cfg.method["name"]
    return info


def _save_encoder(module: torch.nn.Module, fold_dir: Path) -> None:
    from cardiofm.models import save_model

    encoder = getattr(module, "encoder", None)
    if encoder is not None and hasattr(encoder, "model_name"):
        save_model(encoder, fold_dir / "encoder")


def write_predictions(run: RunDir, store: Store, cfg: RunConfig, dev: np.ndarray, folds: np.ndarray,
                      test: np.ndarray) -> Path:
    """``predictions.npz``: out-of-fold probabilities of the trained folds' development rows, and the
    fold ensemble's mean on the test rows, with labels and ids (everything evaluation needs)."""
    rows_oof, p_oof, fold_oof, p_tests = [], [], [], []
    for k in _fold_ids(cfg):
        f = load_arrays(run.path / f"fold{k}" / PREDICTIONS, "fold predictions file",
                        ("val_rows", "p_val", "test_rows", "p_test"))
        rows_oof.append(f["val_rows"])
        p_oof.append(f["p_val"])
        fold_oof.append(np.full(len(f["val_rows"]), k))
        p_tests.append(f["p_test"])
    rows = np.concatenate(rows_oof)
    labels = store.cohort.labels(cfg.data.task)
    idx = store.cohort.index
    out = run.path / PREDICTIONS
    np.savez(out, oof_rows=rows, oof_p=np.concatenate(p_oof), oof_fold=np.concatenate(fold_oof),
             oof_y=labels.matrix[rows], oof_record_id=idx["record_id"].to_numpy()[rows].astype(str),
             oof_patient_id=idx["patient_id"].to_numpy()[rows].astype(str),
             test_rows=test, test_p=np.mean(p_tests, axis=0) if len(test) else np.zeros((0, len(labels.codes))),
             test_p_folds=np.stack(p_tests), test_y=labels.matrix[test],
             test_record_id=idx["record_id"].to_numpy()[test].astype(str),
             test_patient_id=idx["patient_id"].to_numpy()[test].astype(str),
             codes=np.array(labels.codes), descriptions=np.array(labels.descriptions))
    return out


def ensemble(run_dir: str | Path) -> list[torch.nn.Module]:
    """The best model of every trained fold of a run, for fold-ensemble inference on external data."""
    run = RunDir.open(run_dir)
    dirs = sorted(p for p in run.path.glob("fold*") if is_done(p))
    if not dirs:
        raise ConfigError(f"{run.path}: no trained fold; run `cardiofm train` first")
    return [load_fold_module(d) for d in dirs]
