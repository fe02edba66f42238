"""Downstream augmentation: the in-memory classifier learns a known signal; the gain experiment's bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cardiofm.errors import ConfigError
from cardiofm.systems.sediff.augmentation import augmentation_gain, train_classifier


def _data(n: int, pos: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-lead noise; positives carry a 1 mV 5 Hz burst in lead 0 (an easy, known answer)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < pos).astype(np.float32)
    x = rng.normal(0, 0.3, (n, 2, 256)).astype(np.float32)
    t = np.arange(256) / 100
    x[y > 0, 0, 100:180] += 1.0 * np.sin(2 * np.pi * 5 * t[100:180])
    return x, y[:, None]


def test_classifier_learns_a_known_signal(tmp_path):
    x, y = _data(160, 0.5, 0)
    xv, yv = _data(60, 0.5, 1)
    xt, yt = _data(80, 0.5, 2)
    p, model = train_classifier(x, y, xv, yv, xt, tmp_path / "clf", max_epochs=8, patience=8, batch_size=16, seed=0)
    assert p.shape == (80, 1) and roc_auc_score(yt[:, 0], p[:, 0]) > 0.9
    assert hasattr(model, "encoder") and not model.training


def test_augmentation_gain_reports_the_paired_change(tmp_path):
    x, y = _data(120, 0.08, 3)   # few positives
    xg, yg = _data(60, 1.0, 4)   # "generated" positives carrying the true pattern
    xv, yv = _data(60, 0.5, 5)
    xt, yt = _data(80, 0.3, 6)
    out = augmentation_gain(x, y, xg, yg, xv, yv, xt, yt, 0, tmp_path / "aug", n_boot=100, max_epochs=4,
                            patience=4)
    assert out["train_generated"] == 60 and out["generated_positives"] == 60
    assert out["train_positives"] == int(y.sum()) and out["test_positives"] == int(yt.sum())
    assert out["lower"] <= out["delta"] <= out["upper"]
    assert out["delta"] == pytest.approx(out["auroc_aug"] - out["auroc_base"])
    assert (tmp_path / "aug" / "real" / "checkpoints" / "best.ckpt").exists()


def test_bad_input_is_refused(tmp_path):
    x, y = _data(20, 0.5, 0)
    with pytest.raises(ConfigError, match="train"):
        train_classifier(x, y[:10], x, y, x, tmp_path / "a")
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        train_classifier(bad, y, x, y, x, tmp_path / "b")
    with pytest.raises(ConfigError, match="validation"):
        train_classifier(x, y, x, np.zeros_like(y), x, tmp_path / "c")
