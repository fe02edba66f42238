"""Physiology benchmark (issue 3): simulator speed, cohort generation time, delineation error.

    python benchmarks/physio.py --write benchmarks/RESULTS.md

1. Simulator throughput: the torch McSharry solver on a batch of 64 four-second windows at 500 Hz
   (2,000 Euler steps; forward, and forward + backward), the NumPy reference (RK45) on one window,
   and the closed-form 12-lead dipole simulator on a 10 s record at 500 Hz.
2. Cohort generation: ``cardiofm data synth`` of 5,000 records at 100 Hz with 2 workers.
3. Delineation error on synthetic data with known truth: HR, PR, QRS, QT of ``features()`` against
   the simulator's ground truth, noise-free and with the recording-noise model, at 500 and 100 Hz;
   mean error (bias), mean absolute error and its bootstrap 95 % CI.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from cardiofm.physio.delineate import features
from cardiofm.physio.leads import simulate_12lead
from cardiofm.physio.mcsharry import McSharryParams, simulate
from cardiofm.physio.mcsharry_torch import simulate_torch
from cardiofm.synth.cohort import generate_cohort, render_record
from cardiofm.synth.conditions import sample_cohort_conditions
from cardiofm.synth.noise import RecordingNoise
from cardiofm.synth.patients import sample_patients


def timed(fn, repeats: int = 5) -> float:  # noqa: ANN001
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def simulator_rows() -> list[str]:
    p = torch.tensor(np.stack([McSharryParams.default().to_vector()] * 64), dtype=torch.float32)

    def fwd() -> None:
        with torch.no_grad():
            simulate_torch(p, 2000, 500.0)

    def fwd_bwd() -> None:
        q = p.clone().requires_grad_(True)
        simulate_torch(q, 2000, 500.0).square().mean().backward()

    rows = ["| simulator | time (median of 5) | throughput |", "| --- | --- | --- |"]
    t = timed(fwd)
    rows.append(f"| torch McSharry, batch 64 × 4 s at 500 Hz (2,000 Euler steps), forward | {t * 1e3:.0f} ms | "
                f"{64 * 4 / t:,.0f} simulated s/s |")
    t = timed(fwd_bwd)
    rows.append(f"| same, forward + backward | {t * 1e3:.0f} ms | {64 * 4 / t:,.0f} simulated s/s |")
    t = timed(lambda: simulate(McSharryParams.default(), 4.0, 500.0, rng=np.random.default_rng(0)), repeats=3)
    rows.append(f"| NumPy McSharry (solve_ivp RK45, rtol 1e-6), one 4 s window at 500 Hz | {t * 1e3:.0f} ms | "
                f"{4 / t:,.1f} simulated s/s |")
    t = timed(lambda: simulate_12lead(10.0, 500.0, rng=np.random.default_rng(0)))
    rows.append(f"| 12-lead dipole simulator, one 10 s record at 500 Hz | {t * 1e3:.1f} ms | "
                f"{10 / t:,.0f} simulated s/s |")
    return rows


def generation_rows(n: int) -> list[str]:
    out = Path(tempfile.mkdtemp(prefix="cardiofm-synth-"))
    t = time.perf_counter()
    generate_cohort(n, out / "c", seed=0, fs=100.0, workers=2, progress=False)
    secs = time.perf_counter() - t
    size = sum(f.stat().st_size for f in (out / "c").rglob("*") if f.is_file()) / 2**20
    shutil.rmtree(out, ignore_errors=True)
    return ["| cohort generation | records | seconds | records/s | on disk |", "| --- | --- | --- | --- | --- |",
            f"| `cardiofm data synth --fs 100 --workers 2` | {n:,} | {secs:.1f} | {n / secs:,.0f} | {size:.0f} MiB |"]


def _ci(err: np.ndarray, rng: np.random.Generator, n_boot: int = 1000) -> tuple[float, float]:
    boots = [np.abs(rng.choice(err, size=len(err))).mean() for _ in range(n_boot)]
    return float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def delineation_rows(n: int) -> list[str]:
    rng = np.random.default_rng(0)
    patients = sample_patients(n, rng)
    conds = sample_cohort_conditions(patients["latent_health"], patients["age"], patients["sex"], rng)
    rows = ["| data | feature | records | bias (ms or bpm) | MAE [95 % CI] | records with the feature |",
            "| --- | --- | --- | --- | --- | --- |"]
    for fs in (500.0, 100.0):
        for noisy in (False, True):
            noise = RecordingNoise(fs) if noisy else None
            recs = []
            for i in range(n):
                rec, truth = render_record(conds[i], fs, 10.0, np.random.default_rng((7, i)), noise=noise)
                f = features(rec)
                recs.append({"hr": (f["hr"], truth["true_hr"]), "pr": (f["pr"], truth["true_pr_ms"]),
                             "qrs": (f["qrs"], truth["true_qrs_ms"]), "qt": (f["qt"], truth["true_qt_ms"])})
            label = f"{n} synthetic records, {fs:g} Hz, {'with recording noise' if noisy else 'noise-free'}"
            for key in ("hr", "pr", "qrs", "qt"):
                pairs = np.array([r[key] for r in recs], dtype=float)
                ok = np.isfinite(pairs).all(axis=1)
                err = pairs[ok, 0] - pairs[ok, 1]
                lo, hi = _ci(err, rng)
                truth_n = int(np.isfinite(pairs[:, 1]).sum())
                rows.append(f"| {label} | {key.upper()} | {int(ok.sum())} | {err.mean():+.1f} | "
                            f"{np.abs(err).mean():.1f} [{lo:.1f}, {hi:.1f}] | {int(ok.sum())}/{truth_n} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-generate", type=int, default=5000)
    ap.add_argument("--n-delineate", type=int, default=200)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(2)
    parts = [simulator_rows(), generation_rows(args.n_generate), delineation_rows(args.n_delineate)]
    text = (f"\n## Physiology: simulator, synthetic cohort, delineation (issue 3) — {time.strftime('%Y-%m-%d')}\n\n"
            "Command: `python benchmarks/physio.py --write benchmarks/RESULTS.md` (2-core CPU, torch 2 threads).\n\n"
            + "\n\n".join("\n".join(p) for p in parts) + "\n")
    print(text)
    if args.write:
        with open(args.write, "a") as fh:
            fh.write(text)


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
