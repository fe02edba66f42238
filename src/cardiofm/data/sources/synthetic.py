"""The synthetic cohort written by ``cardiofm data synth`` (see :mod:`cardiofm.synth`).

Layout::

    cohort.json      generator settings (seed, n, fs, duration) and the condition vocabulary
    index.csv        one row per record: ids, path, fs, n_samples, ``conditions`` ("AFIB;1AVB"),
                     report, metadata (age, sex, SCORE2 inputs, phenotype blocks, stenosis grades,
                     outcome, EHR codes), recording noise, ground truth (``true_*``), ``fold``
    records/*.hea|dat  WFDB, 12 leads, 2000 adu/mV (limb-lead identities exact in the integers)
    records/*.json     per-record ground truth: waveform parameters (dipole waves, extra terms,
                       rotation, gain), RR intervals, true intervals, noise

Label tasks: ``conditions`` (every code of the vocabulary, with its English description),
``superdiagnostic`` (the PTB-XL superclasses NORM/MI/STTC/CD/HYP that the conditions map to) and
``stenosis`` (AnyECG-CCTA's four vessel targets: severe stenosis or occlusion, grade 3, of the RCA,
LM, LAD and LCX; every row is labelled, all-zero rows are true negatives).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.data.cohort import Cohort, LabelSet, Skip, assign_patient_folds
from cardiofm.data.containment import RootGuard, checked_header
from cardiofm.data.sources.base import Source, register_source
from cardiofm.data.sources.ptbxl import SUPERCLASS_NAMES
from cardiofm.data.splits import folds_to_splits
from cardiofm.errors import RecordError, SourceError

SUPERCLASSES = ("CD", "HYP", "MI", "NORM", "STTC")
VESSEL_NAMES = {"rca": "right coronary artery", "lm": "left main coronary artery",
                "lad": "left anterior descending artery", "lcx": "left circumflex artery"}
SEVERE_GRADE = 3


def stenosis_labels(table: pd.DataFrame) -> LabelSet | None:
    """``stenosis``: severe stenosis or occlusion (grade >= 3) per vessel, or None without the grade columns."""
    cols = [f"stenosis_{v}" for v in VESSEL_NAMES]
    if not all(c in table for c in cols):
        return None
    grades = table[cols].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy()
    return LabelSet("stenosis", [v.upper() for v in VESSEL_NAMES],
                    [f"severe stenosis or occlusion of the {n}" for n in VESSEL_NAMES.values()],
                    (grades >= SEVERE_GRADE).astype(np.uint8), complete=True)


def split_codes(value: Any, sep: str = ";") -> list[str]:
    """``"AFIB;1AVB"`` -> ``["AFIB", "1AVB"]``; NaN or empty -> ``[]``."""
    if not isinstance(value, str) or not value.strip():
        return []
    return [c.strip() for c in value.split(sep) if c.strip()]


def condition_labels(conditions: list[list[str]], vocabulary: dict[str, dict[str, Any]]) -> dict[str, LabelSet]:
    """Multi-hot ``conditions`` and ``superdiagnostic`` label sets for per-record code lists."""
    codes = list(vocabulary)
    col = {c: j for j, c in enumerate(codes)}
    m = np.zeros((len(conditions), len(codes)), dtype=np.uint8)
    sup = np.zeros((len(conditions), len(SUPERCLASSES)), dtype=np.uint8)
    for i, conds in enumerate(conditions):
        for c in conds:
            if c not in col:
                raise SourceError(f"record {i}: condition {c!r} is not in the cohort's vocabulary")
            m[i, col[c]] = 1
            s = vocabulary[c].get("superclass")
            if s in SUPERCLASSES:
                sup[i, SUPERCLASSES.index(s)] = 1
    return {"conditions": LabelSet("conditions", codes, [str(vocabulary[c].get("en", c)) for c in codes], m),
            "superdiagnostic": LabelSet("superdiagnostic", list(SUPERCLASSES),
                                        [SUPERCLASS_NAMES[s] for s in SUPERCLASSES], sup)}


_MISSING = "listed in index.csv but its .hea/.dat is missing"


def _check(guard: RootGuard, root: Path, rel: str) -> Skip | None:
    """``None`` when the listed record lies inside ``root`` and its files fit its header, else why not."""
    base = os.path.join(root, rel)
    try:
        for suffix in (".hea", ".dat"):
            guard.check(base + suffix)
        if not (os.path.exists(base + ".hea") and os.path.exists(base + ".dat")):
            return Skip(base, _MISSING)
        checked_header(base, guard)
    except RecordError as exc:
        return Skip(exc.path, exc.reason)
    return None


@register_source("synthetic")
class Synthetic(Source):
    """A cohort made by ``cardiofm data synth`` (WFDB records + ``index.csv`` + ``cohort.json``)."""

    description = "synthetic 12-lead cohort with known ground truth (cardiofm data synth)"

    def scan(self, root: Path, *, folds: int = 10, seed: int = 0, follow_links: bool = False,
             **options: Any) -> Cohort:
        guard = RootGuard(root, follow_links)
        meta_path, index_path = guard.table(root / "cohort.json"), guard.table(root / "index.csv")
        if not meta_path.exists() or not index_path.exists():
            raise SourceError(f"{root}: no cohort.json/index.csv; make one with `cardiofm data synth --out {root}`")
        try:
            meta = json.loads(meta_path.read_text())
            table = pd.read_csv(index_path, dtype={"record_id": str, "patient_id": str})
        except (OSError, ValueError) as exc:
            raise SourceError(f"{root}: cohort.json/index.csv unreadable ({exc})") from None
        missing_cols = {"record_id", "patient_id", "path", "fs", "n_samples", "conditions"} - set(table.columns)
        if missing_cols:
            raise SourceError(f"{index_path}: missing column(s) {', '.join(sorted(missing_cols))}")
        checks = [_check(guard, root, str(p)) for p in table["path"]]
        present = np.array([c is None for c in checks], dtype=bool)
        skipped = [c for c in checks if c is not None]
        table = table[present].reset_index(drop=True)
        table["reader"] = "wfdb"
        conds = [split_codes(v) for v in table["conditions"]]
        tasks = condition_labels(conds, meta.get("vocabulary", {}))
        sten = stenosis_labels(table)
        if sten is not None:
            tasks["stenosis"] = sten
        notes = {"generator": meta.get("generator"), "seed": meta.get("seed"),
                 "listed_missing": sum(s.reason.startswith(_MISSING) for s in skipped)}
        cohort = Cohort(table, tasks, "synthetic", str(root), skipped, notes)
        if "fold" in table and table["fold"].notna().all() and len(table):
            k = int(table["fold"].max())
            cohort.index["split"] = folds_to_splits(table["fold"].astype(int), [k - 1], [k])
            cohort.check_leakage()
            return cohort
        return assign_patient_folds(cohort, int(folds or 0), seed=seed, task="conditions")
