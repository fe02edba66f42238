"""CLEF's downstream protocol: embeddings, linear probes, fine-tuning, patient-level label fractions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from cardiofm.data.cohort import Cohort, LabelSet
from cardiofm.data.store import Store, build_store
from cardiofm.errors import ConfigError, LeadError
from cardiofm.evaluate.classification import classification_metrics
from cardiofm.models import create_model, save_model
from cardiofm.signal.transforms import Preprocess
from cardiofm.systems.clef.probing import (
    cached_embeddings,
    extract_embeddings,
    finetune,
    linear_probe,
    regression_mae,
    subsample_patients,
)

N_RECORDS = 80  # two records per patient


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """80 records of 12 leads at 100 Hz; label ``spike`` marks a spike in lead I, ``coin`` is noise."""
    root = tmp_path_factory.mktemp("probing")
    rng = np.random.default_rng(0)
    spike = np.arange(N_RECORDS) % 2 == 0
    for i in range(N_RECORDS):
        x = rng.normal(0, 0.3, (12, 400))
        if spike[i]:
            t = rng.integers(20, 370)
            x[0, t:t + 6] += 3.0
        np.save(root / f"r{i:03d}.npy", x.astype(np.float32))
    pid = [f"p{i // 2:02d}" for i in range(N_RECORDS)]
    split = np.array(["train"] * 48 + ["val"] * 16 + ["test"] * 16)
    index = pd.DataFrame({"record_id": [f"r{i:03d}" for i in range(N_RECORDS)], "patient_id": pid,
                          "path": [f"r{i:03d}.npy" for i in range(N_RECORDS)], "reader": "numpy", "fs": 100.0,
                          "n_samples": 400, "split": split})
    y = np.stack([spike, rng.random(N_RECORDS) < 0.5], 1).astype(np.uint8)
    y[~y.any(1), 1] = 1  # every record counts for the task
    cohort = Cohort(index, {"t": LabelSet("t", ["spike", "coin"], ["spike", "coin"], y, complete=True)}, "test",
                    str(root))
    prep = Preprocess(fs=100.0, length=400, leads=("I", "II", "V1"), band=None, normalise=None)
    build_store(cohort, root / "store", prep, chunk_size=32, workers=1, progress=False)
    return Store(root / "store")


# ---- subsample_patients ------------------------------------------------------------------------
def test_subsample_is_patient_level_nested_and_seeded():
    rng = np.random.default_rng(1)
    pid = np.repeat([f"p{i:03d}" for i in range(300)], rng.integers(1, 4, 300))
    rng.shuffle(pid)
    subsets = {f: subsample_patients(pid, f, seed=7) for f in (0.01, 0.1, 1.0)}
    n_patients = len(set(pid))
    for f, keep in subsets.items():
        assert keep.dtype == np.int64 and np.all(np.diff(keep) > 0)
        kept = set(pid[keep])
        dropped = set(np.delete(pid, keep))
        assert not kept & dropped  # no patient split between kept and dropped records
        assert len(kept) == max(1, round(f * n_patients))
    assert set(subsets[0.01]) < set(subsets[0.1]) < set(subsets[1.0])
    np.testing.assert_array_equal(subsets[1.0], np.arange(len(pid)))
    np.testing.assert_array_equal(subsample_patients(pid, 0.1, seed=7), subsets[0.1])
    assert not np.array_equal(subsample_patients(pid, 0.1, seed=8), subsets[0.1])
    assert len(set(pid[subsample_patients(pid, 1e-6)])) == 1  # at least one patient


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, float("nan"), True])
def test_subsample_rejects_bad_fractions(fraction: float):
    with pytest.raises(ConfigError, match="fraction"):
        subsample_patients(["a", "b"], fraction)


def test_subsample_rejects_missing_ids():
    with pytest.raises(ConfigError, match="no patient id"):
        subsample_patients(["a", None, "b"], 0.5)


# ---- linear probe: classification -----------------------------------------------------------------
def _linear_task(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = np.random.default_rng(0).normal(size=(8, 2))
    scale = np.array([1, 10, 100, 0.1, 1, 5, 50, 0.5])  # the scaler must undo these
    z = rng.normal(size=(n, 8))
    y = (z @ w + 0.3 * rng.normal(size=(n, 2)) > 0).astype(float)
    return z * scale + 3.0, y


def test_probe_classification_learns_and_equals_sklearn():
    (zt, yt), (zv, yv), (zs, ys) = _linear_task(300, 1), _linear_task(150, 2), _linear_task(200, 3)
    res = linear_probe(zt, yt, zv, yv, zs)
    assert res.predictions.shape == (200, 2) and res.n_train == 300
    assert classification_metrics(ys, res.predictions, n_boot=0).macro_auroc > 0.9
    sc = StandardScaler().fit(zt)
    for j in range(2):
        clf = LogisticRegression(C=res.selected, solver="lbfgs", max_iter=1000).fit(sc.transform(zt), yt[:, j])
        np.testing.assert_allclose(res.predictions[:, j], clf.predict_proba(sc.transform(zs))[:, 1], atol=1e-6)


def test_probe_grid_selects_the_lowest_validation_loss():
    (zt, yt), (zv, yv) = _linear_task(60, 4), _linear_task(200, 5)
    grid = [1e-4, 1e-2, 1.0, 100.0]
    sc = StandardScaler().fit(zt)
    manual = []
    for c in grid:
        losses = []
        for j in range(2):
            p = LogisticRegression(C=c, max_iter=1000).fit(sc.transform(zt), yt[:, j]).predict_proba(
                sc.transform(zv))[:, 1]
            losses.append(log_loss(yv[:, j], p, labels=[0, 1]))
        manual.append(np.mean(losses))
    res = linear_probe(zt, yt, zv, yv, zv, grid=grid)
    np.testing.assert_allclose(res.grid_losses, manual, rtol=1e-6)
    assert res.selected == grid[int(np.argmin(manual))] and res.val_loss == pytest.approx(min(manual))
    assert len(set(np.round(manual, 6))) == len(grid)  # the choice is not a tie


def test_probe_single_class_column_predicts_prevalence():
    (zt, yt), (zv, yv), (zs, _) = _linear_task(100, 6), _linear_task(50, 7), _linear_task(40, 8)
    yt = np.concatenate([yt, np.zeros((100, 1)), np.ones((100, 1))], 1)
    yv = np.concatenate([yv, (np.arange(50) % 2)[:, None], np.ones((50, 1))], 1)
    res = linear_probe(zt, yt, zv, yv, zs)
    assert res.predictions.shape == (40, 4) and np.isfinite(res.val_loss)
    np.testing.assert_array_equal(res.predictions[:, 2], 0.0)
    np.testing.assert_array_equal(res.predictions[:, 3], 1.0)
    assert res.predictions[:, 0].std() > 0.1
    one = linear_probe(zt[:, :3], np.zeros(100), zv[:, :3], yv[:, 0], zs[:, :3])  # 1-D y, one class only
    assert one.predictions.shape == (40, 1) and math.isnan(one.selected)


def test_probe_rejects_bad_inputs():
    (zt, yt), (zv, yv) = _linear_task(30, 9), _linear_task(20, 10)
    bad = zt.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ConfigError, match="z_train.*NaN"):
        linear_probe(bad, yt, zv, yv, zv)
    with pytest.raises(ConfigError, match="y_train.*30 rows"):
        linear_probe(zt, yt[:-1], zv, yv, zv)
    with pytest.raises(ConfigError, match="0/1"):
        linear_probe(zt, yt * 2, zv, yv, zv)
    with pytest.raises(ConfigError, match="kind"):
        linear_probe(zt, yt, zv, yv, zv, kind="ordinal")
    with pytest.raises(ConfigError, match="grid"):
        linear_probe(zt, yt, zv, yv, zv, grid=[0.1, -1])
    with pytest.raises(ConfigError, match="widths differ"):
        linear_probe(zt, yt, zv[:, :4], yv, zv)


# ---- linear probe: regression --------------------------------------------------------------------
def _regression_task(n: int, seed: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 6))
    w = np.random.default_rng(0).normal(size=6)
    return z, scale * (1000 + 50 * z @ w + 5 * rng.normal(size=n))


def test_probe_regression_works_on_the_original_scale():
    (zt, yt), (zv, yv), (zs, ys) = _regression_task(300, 1), _regression_task(100, 2), _regression_task(200, 3)
    res = linear_probe(zt, yt, zv, yv, zs, kind="regression")
    assert res.predictions.shape == (200,)
    assert abs(res.predictions.mean() - ys.mean()) < 0.1 * ys.std()  # de-normalised, not z-scores
    mae = regression_mae(ys, res.predictions)
    assert mae < 0.1 * ys.std()
    tenfold = linear_probe(zt, 10 * yt, zv, 10 * yv, zs, kind="regression")
    assert tenfold.selected == res.selected and tenfold.val_loss == pytest.approx(res.val_loss)
    assert regression_mae(10 * ys, tenfold.predictions) == pytest.approx(10 * mae, rel=1e-6)
    # the chosen model is a ridge fit to z-scored targets, mapped back
    sc = StandardScaler().fit(zt)
    ridge = Ridge(alpha=res.selected).fit(sc.transform(zt), (yt - yt.mean()) / yt.std())
    np.testing.assert_allclose(res.predictions, ridge.predict(sc.transform(zs)) * yt.std() + yt.mean(), rtol=1e-9)


def test_probe_regression_multi_target_and_mae_checks():
    (zt, yt), (zv, yv), (zs, ys) = _regression_task(200, 4), _regression_task(80, 5), _regression_task(50, 6)
    y2 = np.stack([yt, -0.01 * yt], 1)
    res = linear_probe(zt, y2, zv, np.stack([yv, -0.01 * yv], 1), zs, kind="regression")
    assert res.predictions.shape == (50, 2)
    assert np.corrcoef(res.predictions[:, 1], -0.01 * ys)[0, 1] > 0.99
    assert regression_mae([1.0, 2.0], [1.5, 1.0]) == pytest.approx(0.75)
    with pytest.raises(ConfigError, match="shape"):
        regression_mae([1.0, 2.0], [1.0])
    with pytest.raises(ConfigError, match="NaN"):
        regression_mae([1.0, np.nan], [1.0, 2.0])


# ---- embeddings --------------------------------------------------------------------------------
def test_extract_embeddings_by_lead(store: Store):
    torch.manual_seed(0)
    enc = create_model("net1d_tiny", in_leads=1).train()
    rows = np.array([5, 0, 17, 3, 60])
    z1 = extract_embeddings(enc, store, rows, ["I"], batch_size=2)
    assert z1.shape == (5, enc.embed_dim) and z1.dtype == np.float32 and enc.training
    np.testing.assert_array_equal(extract_embeddings(enc, store, rows, ["lead i"], batch_size=2), z1)  # same again
    np.testing.assert_allclose(extract_embeddings(enc, store, rows, ["I"]), z1, atol=1e-6)  # batching only rounds
    with torch.no_grad():
        ref = enc.eval()(torch.from_numpy(store.batch(rows)[:, :1].copy())).numpy()
    np.testing.assert_allclose(z1, ref, atol=1e-6)  # eval mode: batch-norm running statistics
    z2 = extract_embeddings(enc, store, rows, ["II"])
    assert not np.allclose(z1, z2)
    assert extract_embeddings(enc, store, np.array([], dtype=np.int64), ["I"]).shape == (0, enc.embed_dim)
    with pytest.raises(LeadError, match="V6.*I, II, V1"):
        extract_embeddings(enc, store, rows, ["V6"])


def test_cached_embeddings_compute_once(tmp_path: Path):
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(6, dtype=np.float32).reshape(2, 3)

    a = cached_embeddings(tmp_path / "cache", "enc-leadI-train", compute)
    b = cached_embeddings(tmp_path / "cache", "enc-leadI-train", compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(a, b)
    assert b.dtype == np.float32 and sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["enc-leadI-train.npy"]
    cached_embeddings(tmp_path / "cache", "other", compute)
    assert len(calls) == 2
    with pytest.raises(ConfigError, match="key"):
        cached_embeddings(tmp_path, "../x", compute)


# ---- fine-tuning -------------------------------------------------------------------------------
def test_finetune_saved_encoder(store: Store, tmp_path: Path):
    torch.manual_seed(0)
    save_model(create_model("net1d_tiny", in_leads=1), tmp_path / "encoder")
    split = store.cohort.index["split"].to_numpy()
    rows = {k: np.flatnonzero(split == k) for k in ("train", "val", "test")}
    p = finetune(tmp_path / "encoder", store, rows, task="t", leads=["II"], out_dir=tmp_path / "ft", max_epochs=2,
                 batch_size=16)
    assert p.shape == (16, 2) and p.dtype == np.float32 and np.all((p >= 0) & (p <= 1))
    ckpts = tmp_path / "ft" / "checkpoints"
    assert {"best.ckpt", "last.ckpt"} <= {f.name for f in ckpts.iterdir()}
    stamp = {f.name: f.stat().st_mtime_ns for f in ckpts.iterdir()}
    again = finetune(tmp_path / "encoder", store, rows, task="t", leads=["II"], out_dir=tmp_path / "ft",
                     max_epochs=2, batch_size=16)  # finished: read back, not trained again
    np.testing.assert_allclose(again, p, atol=1e-6)
    assert {f.name: f.stat().st_mtime_ns for f in ckpts.iterdir()} == stamp
    with pytest.raises(ConfigError, match="other settings"):
        finetune(tmp_path / "encoder", store, rows, task="t", leads=["II"], out_dir=tmp_path / "ft", lr=1e-2)
    with pytest.raises(ConfigError, match="takes 1 leads"):
        finetune(tmp_path / "encoder", store, rows, task="t", leads=["I", "II"], out_dir=tmp_path / "ft2")
    only_pos = {**rows, "val": rows["val"][store.cohort.labels("t").matrix[rows["val"]].all(1)][:1]}
    with pytest.raises(ConfigError, match="validation rows"):
        finetune(None, store, only_pos, task="t", leads=["I"], out_dir=tmp_path / "ft3")


def test_probe_encoder_all_leads_feeds_every_store_lead(store: Store, tmp_path: Path):
    from cardiofm.systems.clef.config import ProbeConfig
    from cardiofm.systems.clef.probe import ALL_LEADS, probe_encoder

    torch.manual_seed(0)
    enc = create_model("net1d_tiny", in_leads=3)  # the store's three leads at once
    rows = probe_encoder(enc, store, ProbeConfig(tasks=["t"], leads=[ALL_LEADS], fractions=[1.0], bootstrap=50),
                         tmp_path, tag="three")
    assert len(rows) == 1 and rows[0]["lead"] == "all" and rows[0]["n_test"] == 16
    assert 0.0 <= rows[0]["value"] <= 1.0
    cached = np.load(next((tmp_path / "embeddings").glob("three_all*")))
    z = cached if isinstance(cached, np.ndarray) else cached[cached.files[0]]
    np.testing.assert_allclose(z, extract_embeddings(enc, store, np.arange(len(store)), ["I", "II", "V1"]), atol=1e-5)


def test_probe_encoder_hands_out_test_predictions_that_give_its_score(store: Store, tmp_path: Path):
    """The predictions a paired comparison needs are the very ones the reported AUROC was computed from."""
    from sklearn.metrics import roc_auc_score

    from cardiofm.systems.clef.config import ProbeConfig
    from cardiofm.systems.clef.probe import probe_encoder

    torch.manual_seed(0)
    enc = create_model("net1d_tiny", in_leads=1)
    pred: dict = {}
    rows = probe_encoder(enc, store, ProbeConfig(tasks=["t"], leads=["II"], fractions=[1.0], bootstrap=20),
                         tmp_path, tag="one", predictions=pred)
    got = pred[("II", "t", 1.0, "linear")]
    split = store.cohort.index["split"].to_numpy()
    np.testing.assert_array_equal(got["rows"], np.flatnonzero(split == "test"))
    assert got["p"].shape == got["y"].shape == (16, store.cohort.labels("t").matrix.shape[1])
    assert len(got["groups"]) == 16
    macro = np.mean([roc_auc_score(got["y"][:, j], got["p"][:, j]) for j in range(got["y"].shape[1])])
    assert rows[0]["value"] == pytest.approx(macro)
