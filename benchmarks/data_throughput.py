"""Data-layer throughput on the real PTB-XL subset (issue 2's benchmark).

Measures, on this machine:
  1. records/s reading every PTB-XL record: cardiofm's format-16 fast path, cardiofm through
     `wfdb.rdrecord`, and torch-ecg's `PTBXL` reader (run in its own virtualenv, see --torch-ecg-python);
  2. store build time (records/s) with 1 and 2 worker processes, for the default preprocessing
     (500 Hz, 10 s, 0.67-40 Hz band-pass, z-score) and for a native-rate store (100 Hz, 10 s);
  3. DataLoader samples/s from a 12x1000 store with augmentation, 0 and 2 loader workers;
  4. peak RSS of a build of the first 500 records vs all 1,987 records (1 and 2 workers).

    python benchmarks/data_throughput.py --root ../shared/data/ptbxl \
        --torch-ecg-python benchmarks/_work/tecg/bin/python --write benchmarks/RESULTS.md

Make the torch-ecg venv with: python3 -m venv benchmarks/_work/tecg &&
benchmarks/_work/tecg/bin/pip install torch==2.13.0 torch-ecg==0.0.33
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cardiofm.data.augment import ANYECG_AUGMENT, CLEF_VIEWS
from cardiofm.data.cohort import Cohort
from cardiofm.data.sources import open_cohort
from cardiofm.data.store import build_store
from cardiofm.data.torch import StoreDataset
from cardiofm.signal.transforms import Preprocess

RECIPES = {
    "AnyECG-CCTA (shift, scale, Gaussian noise, occlusion)": ANYECG_AUGMENT,
    "CLEF view (one of NSTDB bw / ma, white noise, masking, none)": CLEF_VIEWS,
    "AnyECG-CCTA + NSTDB muscle noise at 12 dB SNR on every sample": ANYECG_AUGMENT
    + [{"name": "nstdb_noise", "kind": "ma", "snr_db": 12.0}],
}
DEFAULT = Preprocess(fs=500.0, length=5000)
NATIVE = Preprocess(fs=100.0, length=1000)

TORCH_ECG_SCRIPT = """
import sys, time, json, warnings
warnings.filterwarnings("ignore")
from torch_ecg.databases import PTBXL
t0 = time.perf_counter()
dr = PTBXL(db_dir=sys.argv[1], fs=100, verbose=0)
t1 = time.perf_counter()
recs = dr.all_records
out = {"n": len(recs), "scan_s": t1 - t0}
for key, fs in (("times", None), ("times_500", 500)):
    out[key] = []
    for _ in range(int(sys.argv[2])):
        t = time.perf_counter()
        for r in recs:
            dr.load_data(r, units="mV", fs=fs)
        out[key].append(time.perf_counter() - t)
print(json.dumps(out))
"""

BUILD_SCRIPT = """
import sys, json, time
from cardiofm.data.augment import ANYECG_AUGMENT, CLEF_VIEWS
from cardiofm.data.cohort import Cohort
from cardiofm.data.store import build_store
from cardiofm.signal.transforms import Preprocess
c = Cohort.read(sys.argv[1])
t = time.perf_counter()
build_store(c, sys.argv[2], Preprocess.from_dict(json.loads(sys.argv[4])), workers=int(sys.argv[3]), progress=False)
print(time.perf_counter() - t)
"""


def median_rate(n: int, times: list[float]) -> tuple[float, float, float]:
    rates = [n / t for t in times]
    return statistics.median(rates), min(rates), max(rates)


def bench_read(cohort: Cohort, repeats: int) -> dict[str, tuple[float, float, float]]:
    out = {}
    for name, kw in (("cardiofm fast path (NumPy, format 16)", {}), ("cardiofm via wfdb.rdrecord", {"fast": False})):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            for i in range(len(cohort)):
                cohort.load(i, **kw)
            times.append(time.perf_counter() - t)
        out[name] = median_rate(len(cohort), times)
    return out


def bench_torch_ecg(python: str, root: Path, repeats: int) -> dict[str, object] | None:
    if not python or not Path(python).exists():
        return None
    r = subprocess.run([python, "-c", TORCH_ECG_SCRIPT, str(root), str(repeats)], capture_output=True, text=True)
    if r.returncode != 0:
        print("torch-ecg run failed:", r.stderr[-2000:], file=sys.stderr)
        return None
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return {"n": res["n"], "native": median_rate(res["n"], res["times"]),
            "500": median_rate(res["n"], res["times_500"])}


def run_build(cdir: Path, out: Path, workers: int, prep: Preprocess) -> float:
    """Build from scratch in a fresh subprocess; returns the build's own wall time in seconds."""
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run([sys.executable, "-c", BUILD_SCRIPT, str(cdir), str(out), str(workers),
                        json.dumps(prep.to_dict())], capture_output=True, text=True, check=True)
    return float(r.stdout.strip().splitlines()[-1])


def peak_rss(cdir: Path, out: Path, workers: int, prep: Preprocess) -> float:
    """Peak RSS (MiB) of the largest process of one build (getrusage in a fresh parent process)."""
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run([sys.executable, "-c", code, sys.executable, "-c", BUILD_SCRIPT, str(cdir), str(out),
                        str(workers), json.dumps(prep.to_dict())], capture_output=True, text=True, check=True)
    return int(r.stdout.strip()) / 1024


def bench_loader(store: Path, augment: list[dict], workers: int, epochs: int = 3, batch: int = 256) -> float:
    from torch.utils.data import DataLoader

    ds = StoreDataset(store, augment=augment, seed=0)
    loader = DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
    next(iter(loader))  # start workers, warm caches
    t = time.perf_counter()
    n = 0
    for e in range(epochs):
        ds.set_epoch(e)
        for b in loader:
            n += len(b["x"])
    return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path("../shared/data/ptbxl"))
    ap.add_argument("--torch-ecg-python", default="benchmarks/_work/tecg/bin/python")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", type=Path, help="Append the results section to this Markdown file.")
    args = ap.parse_args()

    cohort = open_cohort("ptbxl", args.root)
    n = len(cohort)
    work = Path(tempfile.mkdtemp(prefix="cardiofm-bench-"))
    rows: list[str] = []
    results: dict[str, object] = {"records": n}

    read = bench_read(cohort, args.repeats)
    tecg = bench_torch_ecg(args.torch_ecg_python, args.root, args.repeats)
    rows.append(f"| reading all records | records/s (median, min–max of {args.repeats}) |")
    rows.append("| --- | --- |")
    for name, (m, lo, hi) in read.items():
        rows.append(f"| {name} | {m:,.0f} ({lo:,.0f}–{hi:,.0f}) |")
    if tecg:
        for key, label in (("native", "100 Hz as stored"), ("500", "resampled to 500 Hz (`fs=500`)")):
            m, lo, hi = tecg[key]
            rows.append(f"| torch-ecg 0.0.33 `PTBXL.load_data`, {label} ({tecg['n']} records) | "
                        f"{m:,.0f} ({lo:,.0f}–{hi:,.0f}) |")
    results["read"] = {k: v[0] for k, v in read.items()}
    results["torch_ecg"] = {k: tecg[k][0] for k in ("native", "500")} if tecg else None

    cdir = cohort.save(work / "cohort")
    rows += ["", "| store build (all records, chunk 256) | workers | seconds | records/s "
             "| × torch-ecg read (100 Hz / at 500 Hz) |",
             "| --- | --- | --- | --- | --- |"]
    for label, prep in (("500 Hz, 10 s, band-pass, z-score (default)", DEFAULT),
                        ("100 Hz (native), 10 s, band-pass, z-score", NATIVE)):
        for w in (1, 2):
            secs = [run_build(cdir, work / "store", w, prep) for _ in range(args.repeats)]
            s = statistics.median(secs)
            ratio = f"{(n / s) / tecg['native'][0]:.1f}× / {(n / s) / tecg['500'][0]:.1f}×" if tecg else "n/a"
            rows.append(f"| {label} | {w} | {s:.2f} | {n / s:,.0f} | {ratio} |")
            results[f"build_{prep.fs:g}Hz_w{w}"] = n / s

    build_store(cohort, work / "native", NATIVE, workers=2, progress=False)
    rows += ["", "| DataLoader from a 12×1000 store (batch 256, shuffled, 3 epochs), augmentation recipe "
             "| 0 loader workers | 2 loader workers |", "| --- | --- | --- |"]
    for label, recipe in RECIPES.items():
        rates = [bench_loader(work / "native", recipe, w) for w in (0, 2)]
        rows.append(f"| {label} | {rates[0]:,.0f} samples/s | {rates[1]:,.0f} samples/s |")
        results[f"loader {label}"] = rates

    small = cohort.subset(np.arange(500)).save(work / "cohort500")
    rows += ["", "| peak RSS of a build (default preprocessing) | workers | 500 records | "
             f"{n:,} records |", "| --- | --- | --- | --- |"]
    for w in (1, 2):
        a = peak_rss(small, work / "rss", w, DEFAULT)
        b = peak_rss(cdir, work / "rss", w, DEFAULT)
        rows.append(f"| max RSS over the build's processes (MiB) | {w} | {a:.0f} | {b:.0f} |")
        results[f"rss_w{w}"] = [a, b]
    shutil.rmtree(work, ignore_errors=True)

    header = (f"## Data throughput (issue 2) — {time.strftime('%Y-%m-%d')}\n\n"
              f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}. Data: PTB-XL subset in `{args.root}` ({n:,} records, 100 Hz).\n"
              "Command: `python benchmarks/data_throughput.py --root ../shared/data/ptbxl "
              "--torch-ecg-python benchmarks/_work/tecg/bin/python --write benchmarks/RESULTS.md`\n")
    text = header + "\n" + "\n".join(rows) + "\n"
    print(text)
    print(json.dumps(results, indent=1))
    if args.write:
        with open(args.write, "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
