"""torch Dataset and Lightning DataModule over a :class:`Store`, with on-the-fly augmentation.

Augmentations are NumPy callables ``aug(x, rng, strength)`` (see :mod:`cardiofm.data.augment`).
Each sample's random stream is seeded by ``(seed, epoch, index)``, so a run is reproducible
whatever the number of workers. Epoch and strength live in shared memory, so a schedule set in
the main process reaches forked DataLoader workers, persistent ones included.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from cardiofm.data.anchors import beat_start, store_r_peaks
from cardiofm.data.augment import build_augmentation, cosine_strength
from cardiofm.data.store import Store
from cardiofm.data.tabular import Standardiser, modality_columns, numeric_table
from cardiofm.errors import ConfigError

Augment = Callable[[np.ndarray, np.random.Generator, float], np.ndarray]


class StoreDataset(Dataset):
    """Samples of one split of a store: ``{"x": (leads, length) float32, "y": labels, "index": i}``.

    ``return_original`` adds the un-augmented signal as ``"x_orig"`` (AnyECG feeds both views).
    ``labelled_only`` drops rows without any label of ``task`` (the PTB-XL benchmark rule).
    ``rows`` (store row positions) selects the records instead of ``split``, e.g. one fold of a
    cross-validation. ``tabular`` (a modality prefix or column list, :mod:`cardiofm.data.tabular`) adds
    ``"tab"``: the record's clinical values standardised by ``standardiser`` (default: fitted on this
    dataset's own rows). ``beat_window`` adds ``"start"``, where a window of that many samples starting
    at an R peak begins (a random peak per epoch with ``random_beat``, else the first), and ``"hr"``, the
    record's measured heart rate (:mod:`cardiofm.data.anchors`).
    """

    def __init__(self, store: Store | str | Path, *, split: str | None = None, task: str | None = None,
                 leads: Sequence[str] | None = None, augment: Augment | list[Any] | None = None,
                 seed: int = 0, strength: float = 1.0, return_original: bool = False,
                 labelled_only: bool = True, rows: Sequence[int] | np.ndarray | None = None,
                 tabular: str | Sequence[str] | None = None, standardiser: Standardiser | None = None,
                 beat_window: int | None = None, random_beat: bool = False) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        index = self.store.cohort.index
        if rows is not None and split is not None:
            raise ConfigError("give either split or rows, not both")
        self.rows = self.store.rows(split, task, labelled_only=labelled_only)
        if rows is not None:
            given = np.zeros(len(index), dtype=bool)
            given[np.asarray(rows, dtype=np.int64)] = True
            self.rows = self.rows[given[self.rows]]
        self.labels: np.ndarray | None = None
        if task is not None:
            ls = self.store.cohort.labels(task)
            self.labels = ls.matrix[self.rows].astype(np.float32)
            self.label_codes = list(ls.codes)
        self.tab: np.ndarray | None = None
        self.standardiser = standardiser
        if tabular is not None:
            cols = modality_columns(index, tabular) if standardiser is None else list(standardiser.columns)
            raw = numeric_table(index.iloc[self.rows], cols)
            self.standardiser = standardiser or Standardiser.fit(raw, cols)
            self.tab = self.standardiser.apply(raw)
        self.beat_window, self.random_beat = beat_window, random_beat
        self.peaks = store_r_peaks(self.store) if beat_window else None
        self.lead_idx = None if leads is None else np.asarray(self.store.lead_index(leads))
        self.augment = build_augmentation(augment, fs=self.store.fs) if isinstance(augment, list) else augment
        self.seed = seed
        self.return_original = return_original
        self._epoch = mp.Value("i", 0, lock=False)
        self._strength = mp.Value("d", float(strength), lock=False)

    @property
    def n_leads(self) -> int:
        return self.store.n_leads if self.lead_idx is None else len(self.lead_idx)

    def set_epoch(self, epoch: int) -> None:
        self._epoch.value = int(epoch)

    def set_strength(self, strength: float) -> None:
        self._strength.value = float(strength)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        view = self.store[int(self.rows[i])]  # read-only memmap view
        if self.lead_idx is not None:
            view = view[self.lead_idx]
        item: dict[str, Any] = {"index": i}
        if self.augment is not None:  # augmentations never write into their input: no copy needed
            rng = np.random.default_rng((self.seed, self._epoch.value, i))
            xa = np.ascontiguousarray(self.augment(view, rng, self._strength.value), dtype=np.float32)
            if not xa.flags.writeable:
                xa = xa.copy()
            item["x"] = torch.from_numpy(xa)
            if self.return_original:
                item["x_orig"] = torch.from_numpy(np.array(view, dtype=np.float32))
        else:
            item["x"] = torch.from_numpy(np.array(view, dtype=np.float32))
        if self.labels is not None:
            item["y"] = torch.from_numpy(self.labels[i])
        if self.tab is not None:
            item["tab"] = torch.from_numpy(self.tab[i])
        if self.peaks is not None and self.beat_window:
            row = int(self.rows[i])
            rng = np.random.default_rng((self.seed, self._epoch.value, i, 1)) if self.random_beat else None
            item["start"] = beat_start(self.peaks.of(row), view.shape[-1], self.beat_window, rng)
            item["hr"] = torch.tensor(self.peaks.hr[row], dtype=torch.float32)
        return item


class EpochShuffleSampler(Sampler[int]):
    """A fresh permutation each epoch drawn from ``(seed, epoch)``: an interrupted and resumed run sees
    the same order as an uninterrupted one. Lightning calls :meth:`set_epoch` before every epoch."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed, self.epoch = int(n), int(seed), 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __iter__(self):  # noqa: ANN204
        return iter(np.random.default_rng((self.seed, self.epoch)).permutation(self.n).tolist())


class StoreDataModule(L.LightningDataModule):
    """Train/val/test loaders over a store's splits; augmentation on the training split only.

    ``rows`` maps ``"train"``/``"val"``/``"test"`` to store row positions and then replaces the
    store's own split column (cross-validation folds); a split missing from it has no loader.
    ``tabular`` adds the clinical vector ``"tab"``, standardised with the training split's statistics;
    ``beat_window`` adds R-aligned window starts (random peaks in training) and heart rates.
    """

    def __init__(self, store: str | Path, *, task: str | None = None, batch_size: int = 64,
                 num_workers: int = 0, augment: list[Any] | None = None, leads: Sequence[str] | None = None,
                 seed: int = 0, return_original: bool = False, labelled_only: bool = True,
                 rows: dict[str, Sequence[int] | np.ndarray] | None = None,
                 tabular: str | Sequence[str] | None = None, beat_window: int | None = None) -> None:
        super().__init__()
        self.store_path = Path(store)
        self.kw = {"task": task, "leads": leads, "seed": seed, "labelled_only": labelled_only,
                   "beat_window": beat_window}
        self.tabular = tabular
        self.batch_size, self.num_workers = batch_size, num_workers
        self.augment, self.return_original = augment, return_original
        self.rows = rows
        self.datasets: dict[str, StoreDataset] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        store = Store(self.store_path)
        standardiser = None
        for split in ("train", "val", "test"):  # train first: its statistics standardise every split
            if self.rows is not None and split not in self.rows:
                continue
            aug = self.augment if split == "train" else None
            where = {"rows": self.rows[split]} if self.rows is not None else {"split": split}
            ds = StoreDataset(store, augment=aug, return_original=self.return_original and split == "train",
                              tabular=self.tabular, standardiser=standardiser, random_beat=split == "train",
                              **where, **self.kw)
            standardiser = standardiser or ds.standardiser
            self.datasets[split] = ds

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.datasets:
            raise ConfigError(f"this data module has no {split!r} rows")
        ds = self.datasets[split]
        sampler = EpochShuffleSampler(len(ds), self.kw["seed"]) if shuffle else None
        return DataLoader(ds, batch_size=self.batch_size, sampler=sampler, num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)


class AugmentationSchedule(L.Callback):
    """Sets the training set's epoch and AnyECG's cosine-annealed strength (1.0 -> 0.5) each epoch
    (the strength only where the training set has one)."""

    def __init__(self, low: float = 0.5, high: float = 1.0) -> None:
        self.low, self.high = low, high

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        ds = getattr(trainer.datamodule, "datasets", {}).get("train")
        if ds is None:
            return
        if hasattr(ds, "set_epoch"):  # any data module whose training set draws per-epoch randomness
            ds.set_epoch(trainer.current_epoch)
        if not hasattr(ds, "set_strength"):
            return
        total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else 1
        ds.set_strength(cosine_strength(trainer.current_epoch, total, low=self.low, high=self.high))
