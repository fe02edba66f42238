"""Delineation and clinical features on the real PTB-XL subset (cardiofm.physio.delineate).

Measures, on this machine, and prints as Markdown:
  1. per neurokit2 P/T method (dwt, the default, and prominence): how many records get a complete
     feature set (PR, QRS, QT, HR, QRS and T axes all finite), the wall time of ``features_table``,
     and the median / IQR of HR, PR, QRS, QT, QTc and the axes (all records, and NORM-only records);
  2. agreement of the QRS axis with the record's ``heart_axis`` metadata (where present);
  3. 100 Hz (native) against 500 Hz (resampled) input, and against analysis without up-sampling,
     on a random subset.

    python benchmarks/delineation.py --root ../shared/data/ptbxl --workers 2 [--limit 200] [--out feats.csv]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cardiofm.data.sources import open_cohort
from cardiofm.physio.delineate import features, features_table
from cardiofm.signal.transforms import resample

SUMMARY = ("hr", "pr", "qrs", "qt", "qtc_bazett", "qtc_fridericia", "axis_qrs", "axis_t", "rr_std")
# Typical adult values from the ECG literature (not PTB-XL's own measurements, which are not here).
REFERENCE = {"hr": "60-100, ~70", "pr": "120-200, ~155-165", "qrs": "<110-120, ~90-100",
             "qt": "~390-400", "qtc_bazett": "~410-420 (<450-460)", "qtc_fridericia": "~400-410",
             "axis_qrs": "-30..+90, ~+30..+50", "axis_t": "~+40", "rr_std": ""}
# heart_axis codes of ptbxl_database.csv, read from the report texts of the records carrying them:
# ALAD "ueberdrehter Linkstyp" (< -30), LAD "Linkstyp" (-30..+30) or English "left axis deviation"
# (< -30), AXL "borderline left axis deviation", MID "Lagetyp normal", AXR "Steiltyp" (+60..+90),
# RAD "Rechtstyp" / "right axis deviation" (> +90), ARAD "ueberdrehter Rechtstyp" (> +120).
AXIS_RANGES = {"ALAD": (-180.0, -30.0), "LAD": (-90.0, 30.0), "AXL": (-60.0, 0.0), "MID": (30.0, 90.0),
               "AXR": (60.0, 90.0), "RAD": (90.0, 180.0), "ARAD": (120.0, 210.0)}


def _iqr(s: pd.Series) -> str:
    s = s.dropna()
    if s.empty:
        return "n/a | n/a | 0"
    return f"{s.median():.1f} | {s.quantile(0.25):.1f} - {s.quantile(0.75):.1f} | {len(s)}"


def distribution_table(df: pd.DataFrame, normal: np.ndarray) -> str:
    lines = ["| feature | all: median | all: IQR | all: n | NORM only: median | NORM: IQR | NORM: n | typical adult |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for k in SUMMARY:
        lines.append(f"| {k} | {_iqr(df[k])} | {_iqr(df.loc[normal, k])} | {REFERENCE[k]} |")
    return "\n".join(lines)


def axis_table(df: pd.DataFrame, heart_axis: pd.Series) -> str:
    lines = ["| heart_axis | n | our QRS axis: median | IQR | in range | in range +-15 deg |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    tot, hit, hit15 = 0, 0, 0
    for code, (lo, hi) in AXIS_RANGES.items():
        ax = df.loc[(heart_axis == code).to_numpy(), "axis_qrs"].dropna()
        if ax.empty:
            continue
        a = np.where(ax < lo - 30, ax + 360, ax)  # ARAD wraps past 180
        inside, near = (a >= lo) & (a <= hi), (a >= lo - 15) & (a <= hi + 15)
        tot, hit, hit15 = tot + len(a), hit + int(inside.sum()), hit15 + int(near.sum())
        lines.append(f"| {code} ({lo:g}..{hi:g}) | {len(a)} | {np.median(ax):.0f} | "
                     f"{ax.quantile(0.25):.0f} .. {ax.quantile(0.75):.0f} | {inside.mean():.0%} | {near.mean():.0%} |")
    if tot:
        lines.append(f"| all | {tot} | | | {hit / tot:.0%} | {hit15 / tot:.0%} |")
    return "\n".join(lines)


def rate_check(cohort, n: int, seed: int = 0) -> str:
    """Features at 100 Hz native vs 500 Hz resampled input vs 100 Hz analysis without up-sampling."""
    rows = np.random.default_rng(seed).choice(len(cohort), size=min(n, len(cohort)), replace=False)
    keys = ("hr", "pr", "qrs", "qt", "axis_qrs", "axis_t")
    res: dict[str, list[dict[str, float]]] = {"native": [], "r500": [], "noup": []}
    t0 = time.perf_counter()
    for i in rows:
        rec = cohort.load(int(i))
        res["native"].append(features(rec))
        res["r500"].append(features(rec.with_signal(resample(rec.signal, rec.fs, 500.0), fs=500.0)))
        res["noup"].append(features(rec, analysis_fs=rec.fs))
    wall = time.perf_counter() - t0
    ref = pd.DataFrame(res["r500"])
    lines = [f"{len(rows)} random records, {wall:.0f} s for the three runs. Reference: the record resampled to "
             "500 Hz. Absolute differences (ms, bpm, degrees): median / 90th percentile; complete = share "
             "of records with a complete feature set.", "",
             "| input | complete | " + " | ".join(keys) + " |", "| --- | ---: |" + " ---: |" * len(keys)]
    for name, label in (("r500", "500 Hz (resampled)"), ("native", "100 Hz native, analysed at 500 Hz (default)"),
                        ("noup", "100 Hz native, analysed at 100 Hz")):
        df = pd.DataFrame(res[name])
        cells = []
        for k in keys:
            d = (df[k] - ref[k]).abs()
            if k.startswith("axis"):
                d = np.minimum(d, 360 - d)
            cells.append(f"{d.median():.1f} / {d.quantile(0.9):.1f}")
        lines.append(f"| {label} | {df['complete'].mean():.0%} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=str(here.parent / "shared" / "data" / "ptbxl"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N records")
    ap.add_argument("--methods", default="dwt,prominence")
    ap.add_argument("--rate-subset", type=int, default=150, help="records for the 100 vs 500 Hz check (0: skip)")
    ap.add_argument("--out", default=None, help="write the default method's feature table to this CSV")
    args = ap.parse_args()

    cohort = open_cohort("ptbxl", args.root)
    if args.limit:
        cohort = cohort.subset(np.arange(min(args.limit, len(cohort))))
    sup = cohort.labels("superdiagnostic")
    normal = (sup.matrix[:, sup.codes.index("NORM")] == 1) & (sup.matrix.sum(1) == 1)
    print(f"# Delineation on PTB-XL ({len(cohort)} records, {int(normal.sum())} NORM-only, "
          f"{args.workers} workers)\n")
    for method in args.methods.split(","):
        t0 = time.perf_counter()
        df = features_table(cohort, workers=args.workers, progress=True, method=method)
        wall = time.perf_counter() - t0
        n_err = int(df["error"].notna().sum())
        print(f"## P/T method `{method}`\n\ncomplete feature set: {int(df['complete'].sum())} / {len(df)} "
              f"({df['complete'].mean():.1%}); unreadable: {n_err}; wall time {wall:.0f} s "
              f"({wall / len(df) * 1000:.0f} ms/record with {args.workers} workers)\n")
        print(distribution_table(df, normal) + "\n")
        print(f"QRS axis against `heart_axis` ({int(cohort.index['heart_axis'].notna().sum())} records carry it):\n")
        print(axis_table(df, cohort.index["heart_axis"]) + "\n")
        if args.out and method == args.methods.split(",")[0]:
            df.to_csv(args.out, index=False)
    if args.rate_subset:
        print("## Sampling rate\n\n" + rate_check(cohort, args.rate_subset) + "\n")


if __name__ == "__main__":
    main()
