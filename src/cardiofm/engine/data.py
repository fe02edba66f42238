"""From a run config to a built store: open (or generate) the cohort, preprocess and cache it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cardiofm.config import DataConfig
from cardiofm.data.store import Store, build_store
from cardiofm.errors import ConfigError, StoreError
from cardiofm.signal.transforms import Preprocess

AUGMENT_RECIPES = ("anyecg", "clef", "none")
SPEC_FILE = "data_spec.json"  # next to the store manifest: the data config the store's cohort came from


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


def prepare_store(data: DataConfig, run_path: Path, *, require_task: bool = True) -> Store:
    """Build (or reuse) the run's store and (unless ``require_task=False``) check that it holds the task."""
    store_path = Path(data.store) if data.store else run_path / "store"
    spec = cohort_spec(data)
    try:
        store = Store(store_path)
        fresh = (store.manifest["key"]["preprocess"] == Preprocess(**data.preprocess).to_dict()
                 and _read_spec(store_path) == spec)
    except StoreError:
        fresh = False
    if not fresh:
        cohort = open_data_cohort(data, run_path)
        try:
            prep = Preprocess(**data.preprocess)
        except TypeError as exc:
            raise ConfigError(f"data.preprocess: {exc}") from None
        build_store(cohort, store_path, prep, workers=data.build_workers)  # reuses built chunks, rewrites labels
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
    spec = {"source": data.source, "root": data.root, "options": data.options}
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
