"""CLEF / SimCLR / BYOL objectives, the two-view data and SCORE2 from cohort tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cardiofm.clinical import score2
from cardiofm.clinical.cohort_risk import cohort_score2
from cardiofm.data.cohort import Cohort, LabelSet
from cardiofm.data.store import Store, build_store
from cardiofm.data.views import TwoViewDataModule, TwoViewDataset, ViewSource
from cardiofm.errors import ConfigError, LeadError
from cardiofm.methods.registry import create_method
from cardiofm.signal.transforms import Preprocess
from cardiofm.systems.clef.loss import nt_xent
from cardiofm.systems.clef.module import ContrastiveConfig, ContrastiveModule

N = 24


def _store(root: Path, fs: float = 100.0, length: int = 300) -> Store:
    rng = np.random.default_rng(1)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(N):
        np.save(root / f"r{i:02d}.npy", rng.normal(0, 1, (12, length)).astype(np.float32))
    index = pd.DataFrame({"record_id": [f"r{i:02d}" for i in range(N)], "patient_id": [f"p{i // 2}" for i in range(N)],
                          "path": [f"r{i:02d}.npy" for i in range(N)], "reader": "numpy", "fs": fs,
                          "n_samples": length, "split": ["train"] * 16 + ["val"] * 4 + ["test"] * 4,
                          "age": np.linspace(40, 80, N), "sex": ["M", "F"] * (N // 2)})
    y = np.ones((N, 1), np.uint8)
    cohort = Cohort(index, {"t": LabelSet("t", ["a"], ["a"], y, complete=True)}, "test", str(root))
    prep = Preprocess(fs=fs, length=length, band=None, normalise=None)
    build_store(cohort, root / "store", prep, chunk_size=8, workers=1, progress=False)
    return Store(root / "store")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return _store(tmp_path_factory.mktemp("views"))


def _source(store: Store, rows: np.ndarray | None = None) -> ViewSource:
    rows = np.arange(16) if rows is None else rows
    return ViewSource(store.path, rows, np.linspace(0, 0.3, len(rows)), np.full(len(rows), 5))


# ---- two-view data ---------------------------------------------------------------------------
def test_random_lead_views_share_one_lead_of_the_record(store: Store):
    ds = TwoViewDataset([_source(store)], augment=None, seed=0)
    leads = []
    for i in range(len(ds)):
        item = ds[i]
        assert item["x1"].shape == (1, store.length) and item["x1"].dtype == torch.float32
        lead = int(item["lead"])
        leads.append(lead)
        raw = store[int(ds.rows[i])][lead]  # without augmentation both views are that lead's signal
        assert np.array_equal(item["x1"][0].numpy(), raw) and np.array_equal(item["x2"][0].numpy(), raw)
    assert len(set(leads)) > 3  # leads differ between samples


def test_views_are_two_independent_draws_reproducible_per_epoch(store: Store):
    aug = [{"name": "gaussian_noise", "sigma": 0.5}]
    ds = TwoViewDataset([_source(store)], augment=aug, seed=3)
    a = ds[2]
    assert not torch.equal(a["x1"], a["x2"])
    assert torch.equal(ds[2]["x1"], a["x1"])  # same seed and epoch: same views
    ds.set_epoch(1)
    assert not torch.equal(ds[2]["x1"], a["x1"])
    val = TwoViewDataset([_source(store)], augment=aug, seed=3, fixed_views=True)
    v = val[2]["x1"]
    val.set_epoch(5)
    assert torch.equal(val[2]["x1"], v)


def test_fixed_leads_and_lead_errors(store: Store, tmp_path: Path):
    ds = TwoViewDataset([_source(store)], leads=["I", "aVF"], lead_sampling="fixed", augment=None)
    item = ds[0]
    assert item["x1"].shape == (2, store.length) and int(item["lead"]) == -1
    assert np.array_equal(item["x1"].numpy(), store[0][[0, 5]])
    with pytest.raises(LeadError, match="X9"):
        TwoViewDataset([_source(store)], leads=["X9"])
    with pytest.raises(ConfigError, match="lead_sampling"):
        TwoViewDataset([_source(store)], lead_sampling="all")
    other = _store(tmp_path / "other", length=200)
    with pytest.raises(ConfigError, match="preprocess all sources alike"):
        TwoViewDataset([_source(store), _source(other)])
    with pytest.raises(ConfigError, match="NaN"):
        ViewSource(store.path, [0, 1], [0.1, np.nan], [0, 0])


def test_two_sources_and_batches_drop_the_incomplete_one(store: Store, tmp_path: Path):
    dm = TwoViewDataModule([_source(store), _source(store, np.arange(5))], [_source(store, np.arange(16, 20))],
                           batch_size=8, augment=None)
    dm.setup()
    assert len(dm.datasets["train"]) == 21
    batches = list(dm.train_dataloader())
    assert len(batches) == 2 and all(len(b["x1"]) == 8 for b in batches)
    assert batches[0]["n_missing"].dtype == torch.int64 and batches[0]["risk"].shape == (8,)


# ---- objectives -------------------------------------------------------------------------------
def _batch(b: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x1 = torch.randn(b, 1, 200, generator=g)
    return {"x1": x1, "x2": x1 + 0.1 * torch.randn(b, 1, 200, generator=g),
            "risk": torch.rand(b, generator=g) * 0.3, "n_missing": torch.randint(0, 8, (b,), generator=g)}


def _module(**kw) -> ContrastiveModule:  # noqa: ANN003
    torch.manual_seed(0)
    return create_method("contrastive", {"encoder": "net1d_tiny", "in_leads": 1, **kw})


def test_clef_without_guidance_is_simclr():
    batch = _batch()
    batch["risk"] = torch.full((8,), 0.1)  # equal risks: D = 1 for every negative pair
    clef = _module(objective="clef", missing_weight=False, lam=0.0)
    simclr = _module(objective="simclr")
    clef.eval(), simclr.eval()
    a, _ = clef.objective.loss(clef.encoder, batch)
    b, _ = simclr.objective.loss(simclr.encoder, batch)
    with torch.no_grad():
        z = simclr.encoder(torch.cat([batch["x1"], batch["x2"]]))
    assert torch.allclose(a, b, atol=1e-6) and torch.allclose(b, nt_xent(z[:8], z[8:], 0.07), atol=1e-6)


def test_clef_loss_parts_weights_and_gradients():
    m = _module(objective="clef")
    loss, parts = m.objective.loss(m.encoder, _batch())
    assert set(parts) == {"weighted", "alignment", "mean_weight"}
    assert torch.isclose(loss, parts["weighted"] + parts["alignment"])
    loss.backward()
    grads = [p.grad for p in m.encoder.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    w = m.objective.weights(_batch()["risk"], _batch()["n_missing"])
    off = ~torch.eye(8, dtype=torch.bool)
    m_min = float(torch.exp(torch.tensor(-1.0)))  # M is smallest (e^-1) for two complete records
    assert float(w[off].min()) >= 0.2 * m_min - 1e-6 and float(w[off].max()) <= 1 + 1e-6
    assert torch.all(w.diagonal() == 0)
    no_m = _module(objective="clef", missing_weight=False).objective.weights(_batch()["risk"], _batch()["n_missing"])
    assert float(no_m[off].min()) == pytest.approx(0.2) and float(no_m[off].max()) == pytest.approx(1.0)


def test_byol_target_follows_online_by_ema_and_is_not_optimised():
    m = _module(objective="byol", byol_momentum=0.9)
    obj = m.objective
    assert not any(p.requires_grad for p in obj.target_encoder.parameters())
    loss, _ = obj.loss(m.encoder, _batch())
    assert 0 <= float(loss.detach()) <= 8 and torch.isfinite(loss)
    with torch.no_grad():
        for p in m.encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in obj.target_encoder.parameters()]
    obj.after_step(m.encoder, progress=0.0)  # m = 0.9 at the start of the cosine schedule
    for t0, t1, o in zip(before, obj.target_encoder.parameters(), m.encoder.parameters(), strict=True):
        assert torch.allclose(t1, 0.9 * t0 + 0.1 * o, atol=1e-6)
    obj.after_step(m.encoder, progress=1.0)  # m = 1 at the end: the target stops moving
    frozen = [p.clone() for p in obj.target_encoder.parameters()]
    obj.after_step(m.encoder, progress=1.0)
    assert all(torch.equal(a, b) for a, b in zip(frozen, obj.target_encoder.parameters(), strict=True))


def test_moco_queue_fills_in_training_only_and_key_encoder_follows_by_ema():
    m = _module(objective="moco", moco_queue=20, moco_momentum=0.5)
    obj = m.objective
    before = obj.queue.clone()
    m.eval()
    loss, _ = obj.loss(m.encoder, _batch())
    assert torch.isfinite(loss) and torch.equal(obj.queue, before)  # validation leaves the queue alone
    m.train()
    loss, _ = obj.loss(m.encoder, _batch())  # 16 keys (two views of 8) go in at positions 0..15
    assert int(obj.queue_ptr) == 16 and not torch.equal(obj.queue[:16], before[:16])
    assert torch.equal(obj.queue[16:], before[16:])
    loss.backward()  # the queue changed after the loss was built: backward must still work
    assert all(torch.isfinite(p.grad).all() for p in m.encoder.parameters() if p.grad is not None)
    assert torch.allclose(obj.queue.norm(dim=1), torch.ones(20), atol=1e-5)
    obj.loss(m.encoder, _batch(seed=1))  # wraps around the end of the queue
    assert int(obj.queue_ptr) == 12
    with torch.no_grad():
        for p in m.encoder.parameters():
            p.add_(1.0)
    old = [p.clone() for p in obj.key_encoder.parameters()]
    obj.after_step(m.encoder, 0.3)
    for k0, k1, o in zip(old, obj.key_encoder.parameters(), m.encoder.parameters(), strict=True):
        assert torch.allclose(k1, 0.5 * k0 + 0.5 * o, atol=1e-6)


def test_bad_objective_and_hyperparameters_are_config_errors():
    with pytest.raises(ConfigError, match="swav"):
        ContrastiveModule(ContrastiveConfig(objective="swav"))
    with pytest.raises(ConfigError, match="tau"):
        ContrastiveModule(ContrastiveConfig(tau=0))
    with pytest.raises(ConfigError, match="unknown key"):
        create_method("contrastive", {"temperature": 0.1})


# ---- SCORE2 from cohort tables ------------------------------------------------------------------
def test_cohort_score2_reads_columns_and_counts_absent_ones_as_missing():
    t = pd.DataFrame({"age": [55.0, 72.0], "sex": ["M", "F"], "smoking": ["yes", "no"], "sbp": [140.0, np.nan],
                      "diabetes": [0, 1], "cholesterol": [6.3, 5.0], "hdl": [1.1, 1.6]})
    r = cohort_score2(t)
    ref = score2([55.0, 72.0], ["M", "F"], [1, 0], [140.0, np.nan], [0, 1], [6.3, 5.0], [1.1, 1.6])
    assert np.allclose(r.risk, ref.risk) and list(r.n_missing) == [0, 1]
    ptbxl_like = cohort_score2(t[["age", "sex"]])  # PTB-XL has age and sex only
    assert list(ptbxl_like.n_missing) == [5, 5]
    renamed = cohort_score2(t.rename(columns={"sbp": "bp_sys"}), {"sbp": "bp_sys"})
    assert np.allclose(renamed.risk, r.risk)
    with pytest.raises(ConfigError, match="no such column"):
        cohort_score2(t, {"sbp": "nope"})
    with pytest.raises(ConfigError, match="unknown SCORE2 input"):
        cohort_score2(t, {"bmi": "age"})
    with pytest.raises(ConfigError, match="cannot read"):
        cohort_score2(t.assign(smoking=["often", "no"]))
