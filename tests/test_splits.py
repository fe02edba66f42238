from __future__ import annotations

import numpy as np
import pytest

from cardiofm.data.splits import check_leakage, folds_to_splits, grouped_multilabel_kfold
from cardiofm.errors import ConfigError, LeakageError


def _data(seed=0, n_patients=300):
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 4, n_patients)
    groups = np.repeat(np.arange(n_patients), per)
    prev = np.array([0.5, 0.2, 0.05, 0.02])
    ypat = rng.random((n_patients, 4)) < prev
    return groups, ypat[groups]


def test_groups_never_span_folds_and_labels_balance():
    groups, y = _data()
    folds = grouped_multilabel_kfold(groups, y, k=5, seed=1)
    assert set(folds) == {1, 2, 3, 4, 5}
    for g in np.unique(groups):
        assert len(set(folds[groups == g])) == 1
    for j in range(y.shape[1]):
        per_fold = np.array([y[folds == f, j].sum() for f in range(1, 6)])
        assert per_fold.max() - per_fold.min() <= max(3, 0.25 * per_fold.mean())
    sizes = np.bincount(folds)[1:]
    assert sizes.max() / sizes.min() < 1.3


def test_stratification_beats_random_assignment_on_rare_labels():
    groups, y = _data(seed=3)
    folds = grouped_multilabel_kfold(groups, y, k=5, seed=0)
    rare = [y[folds == f, 3].sum() for f in range(1, 6)]
    rng = np.random.default_rng(0)
    spreads = []
    for _ in range(50):
        pf = rng.integers(1, 6, groups.max() + 1)[groups]
        r = [y[pf == f, 3].sum() for f in range(1, 6)]
        spreads.append(max(r) - min(r))
    assert max(rare) - min(rare) <= np.median(spreads)


def test_deterministic_for_a_seed():
    groups, y = _data()
    a = grouped_multilabel_kfold(groups, y, k=5, seed=7)
    b = grouped_multilabel_kfold(groups, y, k=5, seed=7)
    np.testing.assert_array_equal(a, b)


def test_errors_and_split_names():
    with pytest.raises(ConfigError):
        grouped_multilabel_kfold([1, 2], None, k=5)
    with pytest.raises(ConfigError):
        folds_to_splits([1, 2], [2], [2])
    assert list(folds_to_splits(np.array([1, 9, 10]), [9], [10])) == ["train", "val", "test"]
    check_leakage(["a", "a", "b"], ["train", "train", "test"])
    with pytest.raises(LeakageError):
        check_leakage(["a", "a"], ["train", "test"])
