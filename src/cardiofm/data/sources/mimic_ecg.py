"""MIMIC-IV-ECG v1.0 (PhysioNet layout): about 800,000 12-lead, 10 s, 500 Hz diagnostic ECGs.

The root folder holds::

    record_list.csv            subject_id, study_id, file_name, ecg_time, path
    machine_measurements.csv   subject_id, study_id, cart_id, ecg_time, report_0 ... report_17,
                               bandwidth, filtering, rr_interval, p_onset, p_end, qrs_onset,
                               qrs_end, t_end, p_axis, qrs_axis, t_axis
    files/p1000/p10000032/s40689238/40689238.{hea,dat}

``path`` in ``record_list.csv`` is the WFDB record path without suffix, relative to the root.
The headers list the leads as I, II, III, aVR, aVF, aVL, V1-V6 (aVF before aVL); the reader keeps
that order and the store reorders to the canonical one. The machine's interval and axis fields
code "not measured" as 29999 (e.g. P onset/end/axis under atrial fibrillation); those become NaN.
MIMIC-IV-ECG has no label table, only the machine report text, so the cohort has no label task.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from cardiofm.data.cohort import Cohort, Skip, assign_patient_folds
from cardiofm.data.containment import ESCAPES, RootGuard, checked_header
from cardiofm.data.sources.base import Source, register_source
from cardiofm.errors import RecordError, SourceError

# Lead order of the MIMIC-IV-ECG headers (aVF comes before aVL).
MIMIC_LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6")
RECORD_COLUMNS = ("subject_id", "study_id", "path")
INTERVAL_COLUMNS = ("rr_interval", "p_onset", "p_end", "qrs_onset", "qrs_end", "t_end",
                    "p_axis", "qrs_axis", "t_axis")
# Machine fields at or beyond this magnitude are "not measured" codes (29999 in v1.0), not values.
SENTINEL = 29999
_REPORT = re.compile(r"^report_(\d+)$")
_PROGRESS_FROM = 10_000  # show a progress bar when scanning at least this many headers


def join_reports(table: pd.DataFrame) -> pd.Series:
    """The non-empty ``report_i`` fields of each row, stripped and joined in order with ``"; "``.

    Rows without any text get NaN.
    """
    cols = sorted((c for c in table.columns if _REPORT.match(str(c))), key=lambda c: int(_REPORT.match(c)[1]))
    if not cols:
        return pd.Series(np.nan, index=table.index, dtype=object)
    parts = [table[c].where(table[c].notna(), "").astype(str).str.strip() for c in cols]
    joined = ["; ".join(p for p in row if p) for row in zip(*parts, strict=True)]
    return pd.Series([j or np.nan for j in joined], index=table.index, dtype=object)


def clean_intervals(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Machine intervals and axes as floats with the sentinel codes (|v| >= 29999) as NaN.

    Returns the table and how many values were sentinels.
    """
    out = pd.DataFrame(index=table.index)
    n_sentinel = 0
    for col in INTERVAL_COLUMNS:
        if col not in table:
            out[col] = np.nan
            continue
        values = pd.to_numeric(table[col], errors="coerce").astype(float)
        bad = values.abs() >= SENTINEL
        n_sentinel += int(bad.sum())
        out[col] = values.mask(bad)
    return out, n_sentinel


def read_measurements(path: Path) -> pd.DataFrame | None:
    """``machine_measurements.csv`` reduced to one row per study: cart, report, bandwidth, filtering,
    intervals. ``None`` when the file is absent."""
    if not path.exists():
        return None
    try:
        mm = pd.read_csv(path, dtype=str, keep_default_na=True)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read machine_measurements.csv ({exc})") from None
    if "study_id" not in mm:
        raise SourceError(f"{path}: machine_measurements.csv has no study_id column")
    mm = mm.drop_duplicates("study_id").reset_index(drop=True)
    out = pd.DataFrame({"study_id": mm["study_id"].str.strip()})
    out["cart_id"] = mm["cart_id"] if "cart_id" in mm else np.nan
    out["report"] = join_reports(mm)
    for col in ("bandwidth", "filtering"):
        out[col] = mm[col] if col in mm else np.nan
    intervals, n_sentinel = clean_intervals(mm)
    out = pd.concat([out, intervals], axis=1)
    out.attrs["sentinels"] = n_sentinel
    return out


def _header_info(guard: RootGuard, root: Path, rel: str) -> tuple[float, int, int] | Skip:
    hea = root / f"{rel}.hea"
    try:
        h = checked_header(root / rel, guard)
    except RecordError as exc:
        return Skip(exc.path, exc.reason)
    if not h.sig_len:
        return Skip(str(hea), "header gives no signal length")
    return h.fs, h.sig_len, h.n_sig


@register_source("mimic")
class MimicECG(Source):
    """MIMIC-IV-ECG v1.0 in its PhysioNet layout, or any subset of it that keeps the layout."""

    description = "MIMIC-IV-ECG diagnostic 12-lead ECGs (PhysioNet layout), 500 Hz, machine reports"

    def scan(self, root: Path, *, folds: int = 10, seed: int = 0, workers: int = 8, follow_links: bool = False,
             **options: Any) -> Cohort:
        """Index the records present under ``root``; folds ``1..folds`` grouped by patient.

        Fewer patients than ``folds`` give one fold per patient (see :func:`assign_patient_folds`).

        Header files are parsed (rate, length) but no signal is read. Listed records whose
        ``.hea`` or ``.dat`` is absent are counted in ``notes["listed_missing"]``; headers that do
        not parse, signal files that do not fit their header and paths that lead outside ``root``
        (symbolic links only with ``follow_links``) are left out as :class:`Skip` entries with the reason.
        """
        root = Path(root)
        guard = RootGuard(root, follow_links)
        table = guard.table(root / "record_list.csv")
        if not table.exists():
            raise SourceError(f"{root}: no record_list.csv; is this the MIMIC-IV-ECG root folder "
                              "(the one holding record_list.csv, machine_measurements.csv and files/)?")
        try:
            records = pd.read_csv(table, dtype=str)
        except (OSError, ValueError) as exc:
            raise SourceError(f"{table}: cannot read record_list.csv ({exc})") from None
        lacking = [c for c in RECORD_COLUMNS if c not in records]
        if lacking:
            raise SourceError(f"{table}: record_list.csv lacks column(s) {', '.join(lacking)}")
        records = records.dropna(subset=list(RECORD_COLUMNS)).reset_index(drop=True)
        rel_all = records["path"].str.strip().str.strip("/")
        present = np.array([os.path.exists(os.path.join(root, r + ".hea"))
                            and os.path.exists(os.path.join(root, r + ".dat")) for r in rel_all], dtype=bool)
        records, rel = records[present].reset_index(drop=True), rel_all[present].reset_index(drop=True)

        with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
            infos = list(tqdm(pool.map(lambda r: _header_info(guard, root, r), rel), total=len(rel),
                              desc="MIMIC-IV-ECG headers", disable=len(rel) < _PROGRESS_FROM))
        skipped = [i for i in infos if isinstance(i, Skip)]
        outside = sum(s.reason.startswith(ESCAPES) for s in skipped)
        ok = np.array([not isinstance(i, Skip) for i in infos], dtype=bool)
        good = [i for i in infos if not isinstance(i, Skip)]
        records, rel = records[ok].reset_index(drop=True), rel[ok].reset_index(drop=True)

        index = pd.DataFrame({
            "record_id": records["study_id"].str.strip(),
            "patient_id": records["subject_id"].str.strip(),
            "path": rel, "reader": "wfdb",
            "fs": np.array([g[0] for g in good], dtype=float),
            "n_samples": np.array([g[1] for g in good], dtype=np.int64),
            "n_leads": np.array([g[2] for g in good], dtype=np.int64),
            "ecg_time": records["ecg_time"] if "ecg_time" in records else np.nan,
        })
        notes: dict[str, Any] = {"table_rows": int(len(present)), "listed_missing": int((~present).sum()),
                                 "listed_missing_examples": list(rel_all[~present][:5]),
                                 "unparseable_headers": len(skipped) - outside, "outside_root": outside}
        mm = read_measurements(guard.table(root / "machine_measurements.csv"))
        if mm is None:
            notes["machine_measurements"] = "absent: no cart, report or interval columns"
            for col in ("cart_id", "report", "bandwidth", "filtering", *INTERVAL_COLUMNS):
                index[col] = np.nan
        else:
            notes["machine_measurements"] = "present"
            notes["sentinel_values_to_nan"] = int(mm.attrs.get("sentinels", 0))
            merged = index[["record_id"]].merge(mm, how="left", left_on="record_id", right_on="study_id")
            for col in mm.columns.drop("study_id"):
                index[col] = merged[col].to_numpy()
            notes["without_measurements"] = int(merged["study_id"].isna().sum())

        cohort = Cohort(index, {}, "mimic", str(root), skipped, notes)
        return assign_patient_folds(cohort, int(folds or 0), seed=seed)
