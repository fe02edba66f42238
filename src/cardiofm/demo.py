"""``cardiofm demo``: the end-to-end path on data generated or embedded in the package.

The demo is a list of steps, each a function of a shared :class:`~cardiofm.systems.base.DemoContext`: first
the data steps here (:data:`DEMO_STEPS`: a synthetic cohort, its store and loader, plots, the real PTB-XL
sample), then the demo step of every registered system, in registration order. Everything lands in one
folder with ``config.yaml``, ``metrics.json``, the plots and ``report.html``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cardiofm.paths import check_output_dir
from cardiofm.registry import Registry
from cardiofm.systems import SYSTEMS, DemoContext

DEMO_AUGMENT: list[dict[str, Any]] = [
    {"name": "scale"}, {"name": "shift"}, {"name": "gaussian_noise", "sigma": 0.05},
    {"name": "mask", "p": 0.5}, {"name": "nstdb_noise", "kind": "ma", "snr_db": 12.0, "p": 0.5},
]
PLOTTED_CONDITIONS = ("NORM", "AFIB", "1AVB", "CLBBB", "CRBBB", "LVH", "IMI", "ASMI", "STD_", "LNGQT", "PVC")


DemoStep = Callable[[DemoContext], None]
DEMO_STEPS: Registry[DemoStep] = Registry("demo step")


def demo_step(name: str) -> Callable[[DemoStep], DemoStep]:
    """Register a data step; they run in registration order, before the systems' steps."""
    return DEMO_STEPS.register(name)


def all_steps() -> list[tuple[str, DemoStep]]:
    """The data steps, then each registered system's demo step (named ``<system>: <summary>``)."""
    return [*DEMO_STEPS.items(), *((f"{s.name}: {s.summary}", s.demo) for s in SYSTEMS.values() if s.demo)]


def sample_root() -> Any:
    """Context manager yielding the folder of the embedded PTB-XL sample (20 real records)."""
    return as_file(files("cardiofm") / "resources" / "ptbxl_sample")


@demo_step("synthetic cohort")
def _synthetic(ctx: DemoContext) -> None:
    from cardiofm.data.sources import open_cohort
    from cardiofm.report.tables import print_summary
    from cardiofm.synth.cohort import generate_cohort

    root = ctx.out / "synthetic"
    t0 = time.perf_counter()
    generate_cohort(ctx.n_synthetic, root, seed=ctx.seed, fs=100.0, workers=ctx.workers)
    ctx.metrics["synthetic_generation_s"] = round(time.perf_counter() - t0, 2)
    cohort = open_cohort("synthetic", root).validate()
    print_summary(cohort.summary(), max_skipped=5)
    ctx.state["synthetic"] = cohort
    ctx.metrics["synthetic_records"] = len(cohort)
    ctx.metrics["synthetic_condition_counts"] = cohort.labels("conditions").counts()
    ctx.metrics["synthetic_max_lead_identity_residual_mv"] = float(cohort.index["lead_identity_mv"].max())
    ctx.config["synthetic"] = {"n": ctx.n_synthetic, "seed": ctx.seed, "fs": 100.0, "seconds": 10.0}


@demo_step("store and loader")
def _store(ctx: DemoContext) -> None:
    from torch.utils.data import DataLoader

    from cardiofm.data.store import build_store
    from cardiofm.data.torch import StoreDataset
    from cardiofm.signal.transforms import Preprocess

    prep = Preprocess(fs=100.0, length=1000)
    t0 = time.perf_counter()
    rep = build_store(ctx.state["synthetic"], ctx.out / "store", prep, chunk_size=64, workers=ctx.workers)
    ctx.metrics["store_build_s"] = round(time.perf_counter() - t0, 2)
    ctx.metrics["store_records_ok"] = rep.n_ok
    ds = StoreDataset(ctx.out / "store", split="train", task="superdiagnostic", augment=DEMO_AUGMENT, seed=ctx.seed)
    t0 = time.perf_counter()
    n = sum(len(b["x"]) for b in DataLoader(ds, batch_size=64))
    ctx.metrics["loader_samples_per_s"] = round(n / max(time.perf_counter() - t0, 1e-9), 1)
    ctx.config["store"] = {"preprocess": prep.to_dict(), "augment": DEMO_AUGMENT}


@demo_step("one record per condition")
def _condition_plots(ctx: DemoContext) -> None:
    from cardiofm.report.plots import plot_ecg

    cohort = ctx.state["synthetic"]
    conds = cohort.index["conditions"].fillna("").str.split(";")
    folder = ctx.out / "conditions"
    for code in PLOTTED_CONDITIONS:
        hits = [i for i, c in enumerate(conds) if code in c and (code == "NORM" or len(c) <= 3)]
        if not hits:
            continue
        i = hits[0]
        rec = cohort.load(i)
        rec.record_id = f"synthetic {rec.record_id}: {cohort.index.at[i, 'conditions']}"
        rec.metadata.update(age=cohort.index.at[i, "age"], sex=cohort.index.at[i, "sex"])
        path = folder / f"{code}.png"
        plot_ecg(rec, path)
        ctx.images.append(path)


@demo_step("real PTB-XL sample")
def _real_sample(ctx: DemoContext) -> None:
    from cardiofm.data.augment import build_augmentation
    from cardiofm.data.sources import open_cohort
    from cardiofm.report.plots import plot_ecg
    from cardiofm.signal.record import ECGRecord
    from cardiofm.signal.transforms import Preprocess

    with sample_root() as root:
        cohort = open_cohort("ptbxl", root).validate()
        first = cohort.load(0)
    first.metadata.update(age=cohort.index.at[0, "age"], sex=cohort.index.at[0, "sex"])
    ctx.metrics["ptbxl_sample_records"] = len(cohort)
    real = ctx.out / f"ptbxl_{first.record_id}.png"
    plot_ecg(first, real)
    # The augmentations on a filtered (not z-scored) copy, so the plot stays in mV on the paper grid.
    in_mv = Preprocess(fs=500.0, length=5000, normalise=None)
    x = build_augmentation(DEMO_AUGMENT, fs=500.0)(in_mv(first), np.random.default_rng(ctx.seed), 1.0)
    augmented = ctx.out / f"ptbxl_{first.record_id}_augmented.png"
    plot_ecg(ECGRecord(signal=x, fs=500.0, leads=in_mv.leads, record_id=f"{first.record_id} augmented",
                       metadata=first.metadata), augmented)
    ctx.images += [real, augmented]


def run_demo(out: str | Path = "runs/demo", workers: int = 1, n_synthetic: int = 200, seed: int = 0) -> dict[str, Any]:
    """Run every registered step; returns the metrics written to ``out/metrics.json``."""
    from cardiofm.report.html import write_report

    check_output_dir(out)
    ctx = DemoContext(Path(out), workers=workers, n_synthetic=n_synthetic, seed=seed)
    ctx.out.mkdir(parents=True, exist_ok=True)
    timings = {}
    for name, step in all_steps():
        print(f"== demo: {name}")
        t0 = time.perf_counter()
        step(ctx)
        timings[name] = round(time.perf_counter() - t0, 2)
    ctx.metrics["step_seconds"] = timings
    (ctx.out / "config.yaml").write_text(yaml.safe_dump(ctx.config, sort_keys=False))
    (ctx.out / "metrics.json").write_text(json.dumps(ctx.metrics, indent=1, default=float))
    write_report(ctx.out / "report.html", "cardiofm demo", ctx.config, ctx.metrics, ctx.images)
    print(json.dumps(ctx.metrics, indent=1, default=float))
    print(f"demo outputs in {ctx.out.resolve()} (report.html, metrics.json, config.yaml, plots, store/)")
    return ctx.metrics
