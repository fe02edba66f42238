"""From a run config to a built store: open (or generate) the cohort, label it, preprocess and cache it;
the store's rows by split; the start of a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cardiofm.config import DataConfig, RunConfig
from cardiofm.data.store import Store, build_store
from cardiofm.engine.rundir import RunDir, start_run_folder
from cardiofm.errors import ConfigError, StoreError

SPEC_FILE = "data_spec.json"  # next to the store manifest: the data config the store's cohort came from


def synthetic_root(data: DataConfig, run_path: Path, name: str = "synthetic") -> Path:
    """The generated cohort of a run (made once; an interrupted generation is redone)."""
    from cardiofm.synth.cohort import generate_cohort

    root = run_path / "data" / name
    if not (root / "cohort.json").exists():
        shutil.rmtree(root, ignore_errors=True)  # an interrupted generation inside our own run folder
        opts = dict(data.synth)
        n = int(opts.pop("n", 1000))
        generate_cohort(n, root, workers=data.build_workers, **opts)
    return root


def union_parts(data: DataConfig, run_path: Path) -> list[dict[str, Any]]:
    """``data.options.parts`` of a ``union`` source, a synthetic part without a root generated from ``data.synth``."""
    parts = data.options.get("parts")
    if not isinstance(parts, list):
        raise ConfigError("data.options.parts: a union source needs a list of {source, root, options} parts")
    out = []
    for i, part in enumerate(parts):
        part = dict(part) if isinstance(part, dict) else part
        if isinstance(part, dict) and part.get("source") == "synthetic" and part.get("root") is None:
            part["root"] = str(synthetic_root(data, run_path, f"synthetic_part{i}"))
        out.append(part)
    return out


def open_data_cohort(data: DataConfig, run_path: Path) -> Any:
    from cardiofm.data.sources import open_cohort

    if data.source == "union":
        return open_cohort("union", data.root, **{**data.options, "parts": union_parts(data, run_path)})
    if data.root is None:
        if data.source != "synthetic":
            raise ConfigError(f"data.root: give the folder of the {data.source} data "
                              f"(e.g. --set data.root=../shared/data/{data.source})")
        root: Path = synthetic_root(data, run_path)
    else:
        root = Path(data.root)
    return open_cohort(data.source, root, **data.options)


def labelled_cohort(data: DataConfig, run_path: Path) -> Any:
    """The opened cohort with the label steps of ``data.labellers`` applied."""
    from cardiofm.data.labellers import apply_labellers

    return apply_labellers(open_data_cohort(data, run_path), data.labellers)


def prepare_store(data: DataConfig, run_path: Path, *, require_task: bool = True) -> Store:
    """Build (or reuse) the run's store and (unless ``require_task=False``) check that it holds the task."""
    store_path = Path(data.store) if data.store else run_path / "store"
    spec = cohort_spec(data)
    try:
        store = Store(store_path)
        fresh = store.manifest["key"]["preprocess"] == data.preprocess.to_dict() and _read_spec(store_path) == spec
    except StoreError:
        fresh = False
    if not fresh:
        cohort = labelled_cohort(data, run_path)
        # reuses built chunks, rewrites labels
        build_store(cohort, store_path, data.preprocess, workers=data.build_workers)
        tmp = store_path / f"{SPEC_FILE}.tmp"
        tmp.write_text(json.dumps(spec, sort_keys=True))
        tmp.replace(store_path / SPEC_FILE)
        store = Store(store_path)
    if not require_task:
        return store
    labels = store.cohort.labels(data.task)
    if labels.matrix.shape[1] == 0:
        raise ConfigError(f"data.task {data.task!r} has no labels in this cohort")
    return store


def cohort_spec(data: DataConfig) -> dict[str, Any]:
    """What defines a store's cohort beyond its preprocessing: a change of any of these reopens the source
    (signals already built are kept; the label tasks are rewritten)."""
    spec = {"source": data.source, "root": data.root, "options": data.options, "labellers": data.labellers}
    if data.source in ("synthetic", "union"):
        spec["synth"] = data.synth
    return json.loads(json.dumps(spec, sort_keys=True, default=str))


def _read_spec(store_path: Path) -> Any:
    try:
        return json.loads((store_path / SPEC_FILE).read_text())
    except (OSError, ValueError):
        return None


def dev_and_test_rows(store: Store, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Store rows used for cross-validation (train + val splits) and the held-out test rows.

    Rows that do not count for the task (no label of a non-complete task) are left out of both.
    """
    test = store.rows("test", task)
    dev = np.setdiff1d(store.rows(task=task), test)
    if len(dev) == 0:
        raise ConfigError(f"no development records (train/val) carry labels of task {task!r}")
    return dev, test


def split_rows(store: Store, mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Store rows of the train, val and test splits (optionally only where ``mask`` holds); none may be empty."""
    if "split" not in store.cohort.index:
        raise ConfigError(f"{store.path}: train/val/test splits are needed, and this store has none")
    out = {s: store.rows(s) for s in ("train", "val", "test")}
    if mask is not None:
        keep = np.asarray(mask, bool)
        out = {s: r[keep[r]] for s, r in out.items()}
    empty = [s for s, r in out.items() if len(r) == 0]
    if empty:
        raise ConfigError(f"{store.path}: no {'/'.join(empty)} records")
    return out


def start_run(cfg: RunConfig) -> tuple[RunDir, Store]:
    """The first step of every run: its folder (made, or reopened for the same config), the thread count, and
    its store (built or reused)."""
    run = start_run_folder(cfg)
    return run, prepare_store(cfg.data, run.path)
