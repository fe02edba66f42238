"""Patient-level splits: grouped, multi-label-stratified K-fold and fold -> split naming."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from cardiofm.errors import ConfigError, LeakageError


def grouped_multilabel_kfold(groups: Iterable[object], labels: np.ndarray | None, k: int = 5,
                             seed: int = 0) -> np.ndarray:
    """Assign each row a fold in 1..k so that no group (patient) spans two folds.

    Label balance follows iterative stratification (Sechidis et al., 2011) applied to patients:
    each patient carries its records' label counts; the rarest label still to place is handled
    first, and each of its patients goes to the fold that most lacks records with that label
    (ties: the fold that most lacks records, then chance). Deterministic for a seed.
    """
    if k < 2:
        raise ConfigError(f"k must be at least 2 for K-fold splitting, got {k}")
    g = pd.Series(list(groups), dtype=object)
    codes, uniq = pd.factorize(g, sort=True)
    n_groups = len(uniq)
    if n_groups < k:
        raise ConfigError(f"cannot split {n_groups} patients into {k} folds")
    n_rows = len(g)
    y = np.zeros((n_rows, 0), dtype=bool) if labels is None else np.asarray(labels, dtype=bool)
    if y.shape[0] != n_rows:
        raise ConfigError(f"labels have {y.shape[0]} rows for {n_rows} records")
    gcount = np.zeros((n_groups, y.shape[1]), dtype=float)  # records of each patient with each label
    np.add.at(gcount, codes, y.astype(float))
    gy = gcount > 0
    gsize = np.bincount(codes, minlength=n_groups).astype(float)

    rng = np.random.default_rng(seed)
    desired_rows = np.full(k, gsize.sum() / k)
    desired_lab = np.tile(gcount.sum(0) / k, (k, 1))
    fold_of = np.full(n_groups, -1)
    remaining = np.ones(n_groups, dtype=bool)
    order = rng.permutation(n_groups)
    while remaining.any():
        counts = gy[remaining].sum(0)
        live = np.flatnonzero(counts > 0)
        if live.size == 0:
            idx = order[remaining[order]]
            for i in idx:  # unlabelled patients: fill the folds that lack records
                f = _argmax_random(desired_rows, rng)
                fold_of[i] = f
                desired_rows[f] -= gsize[i]
            break
        lab = live[np.argmin(counts[live])]
        members = order[(remaining & gy[:, lab])[order]]
        for i in members:
            f = _argmax_random(desired_lab[:, lab] + 1e-9 * desired_rows, rng)
            fold_of[i] = f
            remaining[i] = False
            desired_lab[f] -= gcount[i]
            desired_rows[f] -= gsize[i]
    _fill_empty_folds(fold_of, k)
    return fold_of[codes] + 1


def _fill_empty_folds(fold_of: np.ndarray, k: int) -> None:
    """Small cohorts: move single patients out of the fullest folds so that no fold is empty."""
    counts = np.bincount(fold_of, minlength=k)
    for empty in np.flatnonzero(counts == 0):
        donor = int(np.argmax(counts))
        if counts[donor] < 2:
            break
        moved = np.flatnonzero(fold_of == donor)[-1]
        fold_of[moved] = empty
        counts[donor] -= 1
        counts[empty] += 1


def _argmax_random(v: np.ndarray, rng: np.random.Generator) -> int:
    best = np.flatnonzero(np.isclose(v, v.max()))
    return int(rng.choice(best))


def folds_to_splits(folds: np.ndarray | pd.Series, val_folds: Iterable[int], test_folds: Iterable[int]) -> np.ndarray:
    """Name each row's split from its fold: ``test`` / ``val`` folds as given, the rest ``train``."""
    f = np.asarray(folds)
    val, test = set(val_folds), set(test_folds)
    if val & test:
        raise ConfigError(f"folds {sorted(val & test)} are both validation and test folds")
    out = np.full(f.shape, "train", dtype=object)
    out[np.isin(f, list(val))] = "val"
    out[np.isin(f, list(test))] = "test"
    return out


def check_leakage(patient_ids: Iterable[object], splits: Iterable[object]) -> None:
    """Raise :class:`LeakageError` if any patient has records in more than one split."""
    df = pd.DataFrame({"p": list(patient_ids), "s": list(splits)}).dropna()
    n = df.groupby("p")["s"].nunique()
    bad = n[n > 1]
    if len(bad):
        examples = ", ".join(map(str, bad.index[:5]))
        raise LeakageError(f"{len(bad)} patient(s) appear in more than one split (e.g. {examples}); "
                           "splits must be made by patient")
