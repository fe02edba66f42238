"""The supervised multi-task method on tasks with a known answer."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, Dataset

from cardiofm.errors import ConfigError
from cardiofm.methods.registry import create_method, method_config
from cardiofm.methods.supervised import SupervisedConfig, SupervisedModule


class Spikes(Dataset):
    """Task 0: a spike in lead 0 (learnable); task 1: a coin flip (pure noise)."""

    def __init__(self, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.x = rng.normal(0, 0.3, (n, 2, 256)).astype(np.float32)
        self.y = np.stack([rng.random(n) < 0.5, rng.random(n) < 0.5], 1).astype(np.float32)
        for i in np.flatnonzero(self.y[:, 0]):
            t = rng.integers(20, 230)
            self.x[i, 0, t:t + 6] += 3.0

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": torch.from_numpy(self.x[i]), "y": torch.from_numpy(self.y[i])}


def _fit(pcgrad: bool, epochs: int = 12) -> tuple[SupervisedModule, Spikes]:
    L.seed_everything(0, verbose=False)
    module = create_method("supervised", {"encoder": "net1d_tiny", "in_leads": 2, "n_labels": 2,
                                          "label_names": ["spike", "coin"], "lr": 3e-3, "pcgrad": pcgrad})
    train, val = Spikes(256, 0), Spikes(128, 1)
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, DataLoader(train, batch_size=32, shuffle=True), DataLoader(val, batch_size=64))
    return module.eval(), val


@pytest.mark.slow
@pytest.mark.parametrize("pcgrad", [False, True])
def test_learns_the_learnable_task_and_down_weights_the_noise(pcgrad: bool):
    module, val = _fit(pcgrad)
    with torch.no_grad():
        p = torch.sigmoid(module(torch.from_numpy(val.x))).numpy()
    assert roc_auc_score(val.y[:, 0], p[:, 0]) > 0.95          # the spike is found
    assert abs(roc_auc_score(val.y[:, 1], p[:, 1]) - 0.5) < 0.15  # the coin flip is not
    sigma = module.weighting.sigma
    assert sigma[1] > sigma[0]  # eq. 1: the noisier task gets the larger sigma, i.e. the smaller weight


def test_frozen_encoder_is_a_linear_probe():
    module = SupervisedModule(SupervisedConfig(encoder="net1d_tiny", in_leads=2, n_labels=3, freeze_encoder=True))
    trainable = {n for n, p in module.named_parameters() if p.requires_grad}
    assert trainable and all(not n.startswith("encoder.") for n in trainable)
    before = {k: v.clone() for k, v in module.encoder.state_dict().items()}
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    ds = Spikes(64, 0)
    ds.y = np.concatenate([ds.y, ds.y[:, :1]], 1)
    trainer.fit(module, DataLoader(ds, batch_size=32), DataLoader(ds, batch_size=32))
    after = module.encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and batch-norm statistics


def test_tasks_group_label_columns_and_bad_config_errors():
    module = SupervisedModule(SupervisedConfig(encoder="net1d_tiny", in_leads=1, n_labels=3,
                                               tasks={"a": [0, 2], "b": [1]}))
    assert module(torch.randn(4, 1, 200)).shape == (4, 3)
    assert module.weighting.log_var.shape == (2,)
    with pytest.raises(ConfigError, match="cover each of the 3 label columns"):
        SupervisedModule(SupervisedConfig(n_labels=3, tasks={"a": [0], "b": [0, 1]}))
    with pytest.raises(ConfigError, match="unknown key"):
        method_config("supervised", {"learning_rate": 1e-3})
    with pytest.raises(ConfigError, match="unknown method"):
        create_method("simclr", {})


def test_pretrained_encoder_is_loaded(tmp_path):
    from cardiofm.models import create_model, save_model

    enc = create_model("net1d_tiny", in_leads=2)
    save_model(enc, tmp_path / "enc")
    module = SupervisedModule(SupervisedConfig(n_labels=1, in_leads=2, pretrained=str(tmp_path / "enc")))
    for k, v in enc.state_dict().items():
        assert torch.equal(module.encoder.state_dict()[k], v)
    with pytest.raises(ConfigError, match="takes 2 leads"):
        SupervisedModule(SupervisedConfig(n_labels=1, in_leads=12, pretrained=str(tmp_path / "enc")))
