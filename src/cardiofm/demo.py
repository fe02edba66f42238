"""``cardiofm demo``: the end-to-end path on the data embedded in the package.

At this stage: scan the embedded PTB-XL sample, build a store (500 Hz, 10 s, band-passed,
z-scored), stream it through the augmenting DataLoader, and draw records in the clinical layout.
Everything lands in one run directory with ``config.yaml``, ``metrics.json`` and ``report.html``.
"""

from __future__ import annotations

import json
import time
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import numpy as np
import yaml

DEMO_AUGMENT: list[dict[str, Any]] = [
    {"name": "scale"}, {"name": "shift"}, {"name": "gaussian_noise", "sigma": 0.05},
    {"name": "mask", "p": 0.5}, {"name": "nstdb_noise", "kind": "ma", "snr_db": 12.0, "fs": 500.0, "p": 0.5},
]


def sample_root() -> Any:
    """Context manager yielding the folder of the embedded PTB-XL sample (20 real records)."""
    return as_file(files("cardiofm") / "resources" / "ptbxl_sample")


def run_demo(out: str | Path = "runs/demo", workers: int = 1) -> dict[str, Any]:
    """Run the demo; returns the metrics it wrote to ``out/metrics.json``."""
    from torch.utils.data import DataLoader

    from cardiofm.data.augment import build_augmentation
    from cardiofm.data.io import read_record
    from cardiofm.data.record import ECGRecord
    from cardiofm.data.sources import open_cohort
    from cardiofm.data.store import Store, build_store
    from cardiofm.data.torch import StoreDataset
    from cardiofm.data.transforms import Preprocess
    from cardiofm.report.html import write_report
    from cardiofm.report.plots import plot_ecg
    from cardiofm.report.tables import print_summary

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prep = Preprocess(fs=500.0, length=5000)
    config = {"data": {"source": "ptbxl", "root": "<embedded ptbxl_sample>", "fs": 100},
              "preprocess": prep.to_dict(), "augment": DEMO_AUGMENT, "workers": workers}
    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    with sample_root() as root:
        cohort = open_cohort("ptbxl", root).validate()
        print_summary(cohort.summary(), max_skipped=5)
        t0 = time.perf_counter()
        report = build_store(cohort, out / "store", prep, chunk_size=8, workers=workers)
        build_s = time.perf_counter() - t0
        first = read_record(cohort.path_of(0))
        first.metadata.update(age=cohort.index.at[0, "age"], sex=cohort.index.at[0, "sex"])

    store = Store(out / "store")
    ds = StoreDataset(store, split="train", task="superdiagnostic", augment=DEMO_AUGMENT, seed=0)
    t0 = time.perf_counter()
    n = sum(len(b["x"]) for b in DataLoader(ds, batch_size=8))
    load_s = time.perf_counter() - t0

    plots = {"record": out / f"ecg_{first.record_id}.png", "augmented": out / f"ecg_{first.record_id}_augmented.png"}
    plot_ecg(first, plots["record"])
    # The augmentations on a filtered (not z-scored) copy, so the plot stays in mV on the paper grid.
    in_mv = Preprocess(fs=prep.fs, length=prep.length, normalise=None)
    x = build_augmentation(DEMO_AUGMENT)(in_mv(first), np.random.default_rng(0), 1.0)
    plot_ecg(ECGRecord(signal=x, fs=prep.fs, leads=prep.leads, record_id=f"{first.record_id} augmented",
                       metadata=first.metadata), plots["augmented"])

    metrics = {"records": len(cohort), "patients": int(cohort.index["patient_id"].nunique()),
               "store_records_ok": report.n_ok, "store_build_s": round(build_s, 3),
               "loader_samples": n, "loader_samples_per_s": round(n / max(load_s, 1e-9), 1),
               "superdiagnostic_counts": cohort.labels("superdiagnostic").counts()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    write_report(out / "report.html", "cardiofm demo", config, metrics, list(plots.values()))
    print(json.dumps(metrics, indent=1))
    print(f"demo outputs in {out.resolve()} (report.html, metrics.json, config.yaml, plots, store/)")
    return metrics
