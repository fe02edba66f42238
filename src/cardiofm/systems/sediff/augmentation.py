"""Downstream value of generated ECGs: train a classifier with and without them, compare on real test records.

:func:`train_classifier` fits cardiofm's supervised method (an encoder from the model zoo plus one linear head
per label, binary cross-entropy, early stopping on the validation macro AUROC) on in-memory arrays and returns
the test probabilities of its best epoch. :func:`augmentation_gain` runs it twice with the same seed and
settings, once on the real training records and once with generated records added, and reports the change in
one class's test AUROC with a paired bootstrap CI (:func:`cardiofm.evaluate.generation.paired_auroc_delta`).
Validation and test records are always real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from cardiofm.errors import ConfigError


class _Arrays(Dataset):
    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        self.y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "y": self.y[i]}


def _check(x: np.ndarray, y: np.ndarray, name: str) -> None:
    if x.ndim != 3 or y.ndim != 2 or len(x) != len(y):
        raise ConfigError(f"{name}: need signals (N, leads, samples) and labels (N, labels) of one length, "
                          f"got {x.shape} and {y.shape}")
    if not np.isfinite(x).all():
        raise ConfigError(f"{name}: signals hold NaN or inf")


def train_classifier(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                     x_test: np.ndarray, out_dir: str | Path, *, encoder: str = "net1d_tiny", max_epochs: int = 15,
                     patience: int = 4, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
                     progress: bool = False) -> tuple[np.ndarray, torch.nn.Module]:
    """Test probabilities ``(len(x_test), labels)`` of the best epoch, and that model (eval mode)."""
    import lightning as L

    from cardiofm.config import TrainerConfig
    from cardiofm.engine.fit import build_trainer, load_fold_module
    from cardiofm.methods.supervised import SupervisedConfig, SupervisedModule

    _check(x_train, y_train, "train")
    _check(x_val, y_val, "val")
    if y_val.shape[1] != y_train.shape[1] or not ((y_val.sum(0) > 0) & (y_val.sum(0) < len(y_val))).any():
        raise ConfigError("val: the validation labels need the training labels' columns and at least one label "
                          "with positive and negative records")
    L.seed_everything(seed, workers=True, verbose=False)
    cfg = SupervisedConfig(encoder=encoder, in_leads=x_train.shape[1], n_labels=y_train.shape[1], lr=lr,
                           uncertainty_weighting=False, pcgrad=False, both_views=False)
    module = SupervisedModule(cfg)

    class _Data(L.LightningDataModule):
        def train_dataloader(self) -> DataLoader:
            return DataLoader(_Arrays(x_train, y_train), batch_size=batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(seed))

        def val_dataloader(self) -> DataLoader:
            return DataLoader(_Arrays(x_val, y_val), batch_size=256)

    out_dir = Path(out_dir)
    tc = TrainerConfig(max_epochs=max_epochs, patience=patience, monitor="val_macro_auroc", progress=progress)
    build_trainer(tc, out_dir).fit(module, datamodule=_Data())
    best = load_fold_module(out_dir, "supervised")
    with torch.inference_mode():
        xt = torch.from_numpy(np.ascontiguousarray(x_test, dtype=np.float32))
        p = torch.cat([torch.sigmoid(best(xt[a:a + 256])) for a in range(0, len(xt), 256)]) if len(xt) else \
            torch.zeros(0, y_train.shape[1])
    return p.numpy(), best


def augmentation_gain(x_train: np.ndarray, y_train: np.ndarray, x_gen: np.ndarray, y_gen: np.ndarray,
                      x_val: np.ndarray, y_val: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, column: int,
                      out_dir: str | Path, *, groups: np.ndarray | None = None, n_boot: int = 1000, seed: int = 0,
                      **train_kw: Any) -> dict[str, Any]:
    """Change in the test AUROC of label ``column`` when the generated records join the training set."""
    from cardiofm.evaluate.generation import paired_auroc_delta

    _check(x_gen, y_gen, "generated")
    out_dir = Path(out_dir)
    p_base, _ = train_classifier(x_train, y_train, x_val, y_val, x_test, out_dir / "real", seed=seed, **train_kw)
    p_aug, _ = train_classifier(np.concatenate([x_train, x_gen]), np.concatenate([y_train, y_gen]), x_val, y_val,
                                x_test, out_dir / "real_plus_generated", seed=seed, **train_kw)
    out = paired_auroc_delta(y_test[:, column], p_base[:, column], p_aug[:, column], n_boot=n_boot, seed=seed,
                             groups=groups)
    out.update(train_real=len(x_train), train_generated=len(x_gen),
               train_positives=int(y_train[:, column].sum()), generated_positives=int(y_gen[:, column].sum()),
               test_positives=int(y_test[:, column].sum()), test_records=len(y_test))
    return out
