"""Writes a small tree in the MIMIC-IV-ECG v1.0 layout for tests.

Signals are PTB-XL fixture records (``tests/fixtures/ptbxl``, CC BY 4.0) upsampled from 100 to
500 Hz, put in the MIMIC lead order (aVF before aVL), snapped to the 200 adu/mV grid and written as
WFDB format 16, 12 x 5000 samples. Subject and study ids, times and reports are invented.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import resample_poly

from cardiofm.data.io import read_wfdb, write_wfdb
from cardiofm.data.sources.mimic_ecg import INTERVAL_COLUMNS, MIMIC_LEADS
from cardiofm.signal.record import ECGRecord

PTBXL_RECORDS = Path(__file__).parent / "fixtures" / "ptbxl" / "records100" / "00000"
FS, N_SAMPLES, ADC_GAIN = 500, 5000, 200.0
N_REPORT_FIELDS = 18

# (report fields with gaps as in the real file, intervals; None = left as the 29999 code)
REPORTS: list[tuple[list[str], dict[str, int | None]]] = [
    (["Sinus rhythm", "Possible right atrial abnormality", "", "Borderline ECG"],
     {"rr_interval": 659, "p_onset": 40, "p_end": 128, "qrs_onset": 170, "qrs_end": 258, "t_end": 518,
      "p_axis": 81, "qrs_axis": 77, "t_axis": 79}),
    (["Sinus tachycardia", "", "Normal ECG except for rate"],
     {"rr_interval": 600, "p_onset": 40, "p_end": 130, "qrs_onset": 162, "qrs_end": 244, "t_end": 474,
      "p_axis": 79, "qrs_axis": 72, "t_axis": 77}),
    (["Atrial fibrillation with PVC(s) or aberrant ventricular conduction.", "Left ventricular hypertrophy",
      "", "Abnormal ECG "],
     {"rr_interval": 769, "p_onset": None, "p_end": None, "qrs_onset": 200, "qrs_end": 302, "t_end": 636,
      "p_axis": None, "qrs_axis": -18, "t_axis": -67}),
    (["  Sinus rhythm", "Normal ECG"],
     {"rr_interval": 952, "p_onset": 38, "p_end": 142, "qrs_onset": 178, "qrs_end": 266, "t_end": 560,
      "p_axis": 55, "qrs_axis": 31, "t_axis": 40}),
    (["Sinus bradycardia", "Left axis deviation", "Inferior infarct - age undetermined", "Abnormal ECG"],
     {"rr_interval": 1052, "p_onset": 40, "p_end": 138, "qrs_onset": 172, "qrs_end": 268, "t_end": 624,
      "p_axis": 55, "qrs_axis": -16, "t_axis": 2}),
]


@cache
def _ptbxl_bases() -> tuple[Path, ...]:
    return tuple(sorted(p.with_suffix("") for p in PTBXL_RECORDS.glob("*.hea")))


def study_signal(study_id: int) -> np.ndarray:
    """The (12, 5000) float32 signal, MIMIC lead order, in mV, that the fixture writes for a study."""
    bases = _ptbxl_bases()
    rec = read_wfdb(bases[int(study_id) % len(bases)]).select_leads(MIMIC_LEADS)
    up = resample_poly(rec.signal.astype(np.float64), FS // int(rec.fs), 1, axis=1)[:, :N_SAMPLES]
    return (np.round(up * ADC_GAIN) / ADC_GAIN).astype(np.float32)


def report_fields(row: int) -> list[str]:
    """The 18 ``report_i`` fields of the ``row``-th study (cycling through :data:`REPORTS`)."""
    fields = REPORTS[row % len(REPORTS)][0]
    return fields + [""] * (N_REPORT_FIELDS - len(fields))


def expected_report(row: int) -> str:
    """What the source should make of :func:`report_fields`: stripped, non-empty, joined with "; "."""
    return "; ".join(f.strip() for f in report_fields(row) if f.strip())


def make_mimic_fixture(root: Path, n_patients: int = 4, studies_per_patient: int = 2, seed: int = 0,
                       missing: int = 1) -> Path:
    """Write ``record_list.csv``, ``machine_measurements.csv`` and ``files/`` under ``root``.

    ``missing`` extra studies (of the same patients) are listed in both CSVs but have no files.
    Study ids are in row order, so ``report_fields(k)`` belongs to the k-th listed study.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    subjects = sorted(rng.choice(np.arange(10_000_000, 19_999_999), size=n_patients, replace=False).tolist())
    n_studies = n_patients * studies_per_patient + missing
    studies = sorted(rng.choice(np.arange(40_000_000, 49_999_999), size=n_studies, replace=False).tolist())
    owners = [subjects[k % n_patients] for k in range(n_studies)]
    rows, measurements = [], []
    for k, (subject, study) in enumerate(zip(owners, studies, strict=True)):
        rel = f"files/p{str(subject)[:4]}/p{subject}/s{study}/{study}"
        day = 1 + int(rng.integers(0, 27))
        ecg_time = f"21{int(rng.integers(10, 90))}-0{1 + k % 9}-{day:02d} 08:{k % 60:02d}:00"
        rows.append({"subject_id": subject, "study_id": study, "file_name": str(study),
                     "ecg_time": ecg_time, "path": rel})
        fields, intervals = report_fields(k), REPORTS[k % len(REPORTS)][1]
        mm = {"subject_id": subject, "study_id": study, "cart_id": 6848296 + k % 3, "ecg_time": ecg_time}
        mm.update({f"report_{i}": f for i, f in enumerate(fields)})
        mm.update({"bandwidth": "0.005-150 Hz", "filtering": "60 Hz notch Baseline filter"})
        mm.update({c: 29999 if intervals[c] is None else intervals[c] for c in INTERVAL_COLUMNS})
        measurements.append(mm)
        if k >= n_patients * studies_per_patient:
            continue  # listed but absent
        rec = ECGRecord(study_signal(study), float(FS), MIMIC_LEADS, str(study))
        base = write_wfdb(rec, root / Path(rel).parent, name=str(study), adc_gain=ADC_GAIN)
        _add_base_time(base.with_suffix(".hea"), ecg_time)
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "record_list.csv", index=False)
    pd.DataFrame(measurements).to_csv(root / "machine_measurements.csv", index=False)
    return root


def _add_base_time(hea: Path, ecg_time: str) -> None:
    """Real headers carry the acquisition time and date on the record line; add them."""
    date, time = ecg_time.split()
    y, m, d = date.split("-")
    lines = hea.read_text().splitlines()
    lines[0] = f"{lines[0]} {time} {d}/{m}/{y}"
    hea.write_text("\n".join(lines) + "\n")
