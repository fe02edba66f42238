"""Two stochastic views per record for self-supervised pretraining (CLEF, SimCLR, BYOL).

Records may come from several stores (e.g. the synthetic cohort plus PTB-XL's training folds); each
store contributes rows and, per row, the clinical side information CLEF needs (``risk`` and the number
of missing metadata variables ``n_missing``). A sample is one lead (``lead_sampling="random"``, drawn
per sample and epoch; both views share it) or a fixed set of leads, and two independent draws of the
augmentation. Random streams are seeded by ``(seed, epoch, index)``, so runs are reproducible whatever
the number of workers, and the validation views never change between epochs.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from cardiofm.data.augment import build_augmentation
from cardiofm.data.store import Store
from cardiofm.data.torch import EpochShuffleSampler
from cardiofm.errors import ConfigError
from cardiofm.signal.record import normalise_lead_name

LEAD_SAMPLING = ("random", "fixed")


@dataclass
class ViewSource:
    """Rows of one store with their per-row risk and number of missing SCORE2 inputs."""

    store: str | Path
    rows: np.ndarray
    risk: np.ndarray
    n_missing: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        self.rows = np.asarray(self.rows, dtype=np.int64)
        self.risk = np.asarray(self.risk, dtype=np.float32)
        self.n_missing = np.asarray(self.n_missing, dtype=np.int64)
        if not (len(self.rows) == len(self.risk) == len(self.n_missing)):
            raise ConfigError(f"view source {self.name or self.store}: rows, risk and n_missing differ in length "
                              f"({len(self.rows)}, {len(self.risk)}, {len(self.n_missing)})")
        if not np.isfinite(self.risk).all():
            raise ConfigError(f"view source {self.name or self.store}: risk holds NaN; impute it first")


class TwoViewDataset(Dataset):
    """``{"x1", "x2": (leads, length) float32, "risk", "n_missing", "lead", "index"}`` over several stores.

    ``lead`` is the position in ``leads`` of the lead a sample was drawn from (``-1`` with fixed leads).
    ``fixed_views=True`` (validation) draws the same views every epoch.
    """

    def __init__(self, sources: Sequence[ViewSource], *, leads: Sequence[str] | None = None,
                 lead_sampling: str = "random", augment: list[Any] | None = None, seed: int = 0,
                 fixed_views: bool = False) -> None:
        if lead_sampling not in LEAD_SAMPLING:
            raise ConfigError(f"pretrain.lead_sampling: {lead_sampling!r}; use one of {', '.join(LEAD_SAMPLING)}")
        if not sources:
            raise ConfigError("pretraining needs at least one source of records")
        self.stores = [Store(s.store) for s in sources]
        first = self.stores[0]
        for s, st in zip(sources, self.stores, strict=True):
            if st.fs != first.fs or st.length != first.length:
                raise ConfigError(f"store {s.store} is at {st.fs} Hz x {st.length} samples but {sources[0].store} "
                                  f"is at {first.fs} Hz x {first.length}; preprocess all sources alike")
        self.leads = [normalise_lead_name(n) for n in (leads or first.leads)]
        self.lead_idx = [np.asarray(st.lead_index(self.leads)) for st in self.stores]
        self.source_of = np.concatenate([np.full(len(s.rows), k) for k, s in enumerate(sources)])
        self.rows = np.concatenate([s.rows for s in sources])
        self.risk = np.concatenate([s.risk for s in sources]).astype(np.float32)
        self.n_missing = np.concatenate([s.n_missing for s in sources])
        self.lead_sampling = lead_sampling
        self.augment = build_augmentation(augment, fs=first.fs)
        self.seed, self.fixed_views = int(seed), bool(fixed_views)
        self._epoch = mp.Value("i", 0, lock=False)

    @property
    def n_leads(self) -> int:
        """Input channels of a sample: 1 with random lead sampling, else the number of leads."""
        return 1 if self.lead_sampling == "random" else len(self.leads)

    def set_epoch(self, epoch: int) -> None:
        self._epoch.value = int(epoch)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        k = int(self.source_of[i])
        signal = self.stores[k][int(self.rows[i])]
        epoch = 0 if self.fixed_views else self._epoch.value
        rng = np.random.default_rng((self.seed, epoch, i))
        if self.lead_sampling == "random":
            lead = int(rng.integers(len(self.leads)))
            x = signal[self.lead_idx[k][lead:lead + 1]]
        else:
            lead, x = -1, signal[self.lead_idx[k]]
        # np.array copies: a view may be the read-only memmap itself (the "none" perturbation)
        x1, x2 = (torch.from_numpy(np.array(self.augment(x, rng, 1.0), dtype=np.float32)) for _ in range(2))
        return {"x1": x1, "x2": x2,
                "risk": torch.tensor(self.risk[i]), "n_missing": torch.tensor(int(self.n_missing[i])),
                "lead": torch.tensor(lead), "index": i}


class TwoViewDataModule(L.LightningDataModule):
    """Training and validation loaders of two-view samples; the last incomplete training batch is dropped
    (a contrastive batch of one has no negatives)."""

    def __init__(self, train: Sequence[ViewSource], val: Sequence[ViewSource] | None = None, *,
                 leads: Sequence[str] | None = None, lead_sampling: str = "random",
                 augment: list[Any] | None = None, batch_size: int = 64, num_workers: int = 0,
                 seed: int = 0) -> None:
        super().__init__()
        self.kw = {"leads": leads, "lead_sampling": lead_sampling, "augment": augment, "seed": seed}
        self.sources = {"train": list(train), "val": list(val or [])}
        self.batch_size, self.num_workers, self.seed = int(batch_size), int(num_workers), int(seed)
        self.datasets: dict[str, TwoViewDataset] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        self.datasets["train"] = TwoViewDataset(self.sources["train"], **self.kw)
        if len(self.datasets["train"]) < 2:
            raise ConfigError(f"pretraining needs at least 2 training records, got {len(self.datasets['train'])}")
        if any(len(s.rows) for s in self.sources["val"]):
            self.datasets["val"] = TwoViewDataset(self.sources["val"], fixed_views=True, **self.kw)

    def train_dataloader(self) -> DataLoader:
        ds = self.datasets["train"]
        batch = min(self.batch_size, len(ds))
        return DataLoader(ds, batch_size=batch, sampler=EpochShuffleSampler(len(ds), self.seed), drop_last=True,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)

    def val_dataloader(self) -> DataLoader | list:
        if "val" not in self.datasets:
            return []
        ds = self.datasets["val"]
        return DataLoader(ds, batch_size=min(self.batch_size, len(ds)), shuffle=False,
                          drop_last=len(ds) > self.batch_size, num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0)
