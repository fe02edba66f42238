"""Fold-ensemble inference on external data, preprocessed as the run's training data was."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.data.store import Store, build_store
from cardiofm.engine.cv import ensemble
from cardiofm.engine.rundir import RunDir
from cardiofm.errors import ConfigError
from cardiofm.paths import check_output_dir, check_output_file


def external_store(run: RunDir, source: str, root: str | Path, options: dict[str, Any] | None = None, *,
                   workers: int = 2) -> tuple[Store, Store]:
    """The records of ``root`` cached under ``<run>/external/`` with the run's preprocessing, and the run's
    own training store (for its labels and leads)."""
    from cardiofm.data.sources import open_cohort

    cfg = run.config()
    train_store = Store(Path(cfg.data.store) if cfg.data.store else run.path / "store")
    cohort = open_cohort(source, Path(root), **(options or {}))
    key = hashlib.sha1(f"{source}|{Path(root).resolve()}|{sorted((options or {}).items())}".encode()).hexdigest()[:10]
    store_path = run.path / "external" / f"{source}-{key}"
    build_store(cohort, store_path, train_store.preprocess, workers=workers)
    store = Store(store_path)
    if cfg.data.leads is None and tuple(store.leads) != tuple(train_store.leads):
        raise ConfigError(f"{root}: leads {store.leads} differ from the run's {train_store.leads}")
    return store, train_store


def check_writable_outputs(run: RunDir, out: str | Path) -> None:
    """Before any work: ``out`` can be written as a file, and ``<run>/external/`` (the cache of the new
    data's store) as a folder."""
    check_output_file(out)
    check_output_dir(run.path / "external", "run folder cache")


def write_table(store: Store, columns: dict[str, np.ndarray], out: str | Path) -> pd.DataFrame:
    """``record_id``, ``patient_id`` and the given columns, one row per store record, written as CSV."""
    table = pd.DataFrame({"record_id": store.cohort.index["record_id"], "patient_id": store.cohort.index["patient_id"]})
    for name, values in columns.items():
        table[name] = values
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    return table


def predict_external(run_dir: str | Path, source: str, root: str | Path, out: str | Path,
                     options: dict[str, Any] | None = None, *, workers: int = 2) -> pd.DataFrame:
    """Mean probability of the run's fold models for every readable record of ``root``.

    The records are cached in a store under ``<run>/external/`` with the run's preprocessing; the
    table (``record_id``, ``patient_id``, one ``p_<code>`` column per label) is written to ``out``.
    """
    from cardiofm.engine.fit import predict_rows

    run = RunDir.open(run_dir)
    check_writable_outputs(run, out)
    cfg = run.config()
    store, train_store = external_store(run, source, root, options, workers=workers)
    p = predict_rows(ensemble(run.path), store, np.arange(len(store)), leads=cfg.data.leads)
    codes = train_store.cohort.labels(cfg.data.task).codes
    return write_table(store, {f"p_{c}": p[:, j] for j, c in enumerate(codes)}, out)
