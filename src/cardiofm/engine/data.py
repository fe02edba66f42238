"""From a run config to a built store: open (or generate) the cohort, preprocess and cache it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cardiofm.config import DataConfig
from cardiofm.data.store import Store, build_store
from cardiofm.data.transforms import Preprocess
from cardiofm.errors import ConfigError, StoreError

AUGMENT_RECIPES = ("anyecg", "clef", "none")


def augment_spec(spec: str | list[Any] | None) -> list[Any] | None:
    """A recipe name (``anyecg``, ``clef``, ``none``) or an explicit list -> an augmentation list."""
    from cardiofm.data.augment import ANYECG_AUGMENT, CLEF_VIEWS

    if spec is None or spec == "none":
        return None
    if isinstance(spec, str):
        recipes = {"anyecg": ANYECG_AUGMENT, "clef": CLEF_VIEWS}
        if spec not in recipes:
            raise ConfigError(f"data.augment: unknown recipe {spec!r}; use one of {', '.join(AUGMENT_RECIPES)} "
                              "or a list of augmentations")
        return list(recipes[spec])
    if isinstance(spec, list):
        return spec
    raise ConfigError(f"data.augment: expected a recipe name or a list, got {spec!r}")


def synthetic_root(data: DataConfig, run_path: Path) -> Path:
    """The generated cohort of a run (made once; an interrupted generation is redone)."""
    from cardiofm.synth.cohort import generate_cohort

    root = run_path / "data" / "synthetic"
    if not (root / "cohort.json").exists():
        shutil.rmtree(root, ignore_errors=True)  # an interrupted generation inside our own run folder
        opts = dict(data.synth)
        n = int(opts.pop("n", 1000))
        generate_cohort(n, root, workers=data.build_workers, **opts)
    return root


def open_data_cohort(data: DataConfig, run_path: Path) -> Any:
    from cardiofm.data.sources import open_cohort

    if data.root is None:
        if data.source != "synthetic":
            raise ConfigError(f"data.root: give the folder of the {data.source} data "
                              f"(e.g. --set data.root=../shared/data/{data.source})")
        root: Path = synthetic_root(data, run_path)
    else:
        root = Path(data.root)
    return open_cohort(data.source, root, **data.options)


def prepare_store(data: DataConfig, run_path: Path, *, require_task: bool = True) -> Store:
    """Build (or reuse) the run's store and (unless ``require_task=False``) check that it holds the task."""
    store_path = Path(data.store) if data.store else run_path / "store"
    try:
        store = Store(store_path)
        fresh = store.manifest["key"]["preprocess"] == Preprocess(**data.preprocess).to_dict()
    except StoreError:
        fresh = False
    if not fresh:
        cohort = open_data_cohort(data, run_path)
        try:
            prep = Preprocess(**data.preprocess)
        except TypeError as exc:
            raise ConfigError(f"data.preprocess: {exc}") from None
        build_store(cohort, store_path, prep, workers=data.build_workers)
        store = Store(store_path)
    if not require_task:
        return store
    labels = store.cohort.labels(data.task)
    if labels.matrix.shape[1] == 0:
        raise ConfigError(f"data.task {data.task!r} has no labels in this cohort")
    return store


def dev_and_test_rows(store: Store, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Store rows used for cross-validation (train + val splits) and the held-out test rows.

    Rows that do not count for the task (no label of a non-complete task) are left out of both.
    """
    idx = store.cohort.index
    counted = store.cohort.labels(task).labelled()
    split = idx["split"].astype(str).to_numpy() if "split" in idx else np.full(len(idx), "train")
    test = np.flatnonzero(counted & (split == "test"))
    dev = np.flatnonzero(counted & (split != "test"))
    if len(dev) == 0:
        raise ConfigError(f"no development records (train/val) carry labels of task {task!r}")
    return dev, test
