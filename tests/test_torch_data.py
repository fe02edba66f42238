from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from cardiofm.data.sources import open_cohort
from cardiofm.data.store import Store, build_store
from cardiofm.data.torch import AugmentationSchedule, StoreDataModule, StoreDataset
from cardiofm.errors import LeadError
from cardiofm.signal.transforms import Preprocess

from conftest import PTBXL

AUG = [{"name": "scale"}, {"name": "gaussian_noise", "sigma": 0.1}]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("st") / "s"
    build_store(open_cohort("ptbxl", PTBXL), out, Preprocess(fs=100.0, length=1000), chunk_size=8, progress=False)
    return out


def test_dataset_items_labels_and_leads(store_path):
    ds = StoreDataset(store_path, split="train", task="superdiagnostic")
    store = Store(store_path)
    assert len(ds) == int(((store.cohort.index["split"] == "train").to_numpy()
                           & store.cohort.labels("superdiagnostic").labelled()).sum())
    item = ds[0]
    assert item["x"].shape == (12, 1000) and item["x"].dtype == torch.float32 and item["y"].shape == (5,)
    one = StoreDataset(store_path, leads=["ii"])
    assert one[0]["x"].shape == (1, 1000)
    np.testing.assert_array_equal(one[0]["x"][0].numpy(), store[0][1])
    with pytest.raises(LeadError):
        StoreDataset(store_path, leads=["V7"])


def test_augmentation_is_seeded_by_epoch_and_index(store_path):
    ds = StoreDataset(store_path, augment=AUG, seed=3, return_original=True)
    a, b = ds[2]["x"], ds[2]["x"]
    assert torch.equal(a, b) and not torch.equal(a, ds[2]["x_orig"])
    ds.set_epoch(1)
    assert not torch.equal(a, ds[2]["x"])
    ds.set_strength(0.0)
    np.testing.assert_allclose(ds[2]["x"].numpy(), ds[2]["x_orig"].numpy(), atol=1e-6)
    batches = [b["x"] for b in DataLoader(ds, batch_size=4, num_workers=2)]
    ds2 = StoreDataset(store_path, augment=AUG, seed=3)
    ds2.set_epoch(1)
    ds2.set_strength(0.0)
    assert torch.equal(torch.cat(batches), torch.stack([ds2[i]["x"] for i in range(len(ds2))]))


def test_datamodule_with_schedule_in_a_trainer(store_path):
    class Probe(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(12, 5)
            self.strengths = []

        def training_step(self, batch, _):
            self.strengths.append(self.trainer.datamodule.datasets["train"]._strength.value)
            return torch.nn.functional.binary_cross_entropy_with_logits(self.lin(batch["x"].mean(-1)), batch["y"])

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    dm = StoreDataModule(store_path, task="superdiagnostic", batch_size=8, augment=AUG)
    model = Probe()
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, callbacks=[AugmentationSchedule()], limit_val_batches=0)
    trainer.fit(model, datamodule=dm)
    assert model.strengths[0] == pytest.approx(1.0) and model.strengths[-1] < 1.0
