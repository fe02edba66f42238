"""Cohort: one row per recording, label matrices per task, patient-level splits, signal loading."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.data.io import read_record
from cardiofm.data.splits import check_leakage, folds_to_splits, grouped_multilabel_kfold
from cardiofm.errors import CardiofmError, LabelError, SourceError
from cardiofm.signal.record import ECGRecord

REQUIRED_COLUMNS = ("record_id", "patient_id", "path", "reader", "fs", "n_samples")
# Columns passed to the reader of each row when present (own NumPy/CSV data needs fs and leads).
_READER_COLUMNS = {"numpy": ("fs", "leads", "units"), "csv": ("fs", "leads", "units")}


@dataclass
class Skip:
    """A file that was left out, and why."""

    path: str
    reason: str


@dataclass
class LabelSet:
    """The labels of one task: vocabulary (codes + human descriptions) and a multi-hot matrix.

    ``complete`` marks a task whose every row is labelled, an all-zero row being a true negative
    (e.g. "severe stenosis in RCA/LM/LAD/LCX"); otherwise (the PTB-XL benchmark rule) a row without
    any label of the task does not count for it.
    """

    task: str
    codes: list[str]
    descriptions: list[str]
    matrix: np.ndarray
    complete: bool = False

    def __post_init__(self) -> None:
        self.matrix = np.asarray(self.matrix, dtype=np.uint8)
        if self.matrix.ndim != 2 or self.matrix.shape[1] != len(self.codes):
            raise LabelError(f"task {self.task}: matrix shape {self.matrix.shape} does not fit "
                             f"{len(self.codes)} codes")
        if len(self.descriptions) != len(self.codes):
            raise LabelError(f"task {self.task}: {len(self.descriptions)} descriptions for {len(self.codes)} codes")

    def labelled(self) -> np.ndarray:
        """Boolean mask of the rows that count for this task (all rows of a ``complete`` task)."""
        if self.complete:
            return np.ones(len(self.matrix), dtype=bool)
        return self.matrix.any(axis=1)

    def counts(self) -> dict[str, int]:
        return {c: int(n) for c, n in zip(self.codes, self.matrix.sum(0), strict=True)}

    def subset(self, rows: np.ndarray) -> LabelSet:
        return LabelSet(self.task, list(self.codes), list(self.descriptions), self.matrix[rows], self.complete)

    def describe(self, code: str) -> str:
        try:
            return self.descriptions[self.codes.index(code)]
        except ValueError:
            raise LabelError(f"task {self.task} has no label {code!r}") from None


@dataclass
class Cohort:
    """An index of recordings (``index``), label sets per task, and where the files live (``root``)."""

    index: pd.DataFrame
    tasks: dict[str, LabelSet] = field(default_factory=dict)
    source: str = ""
    root: str | None = None
    skipped: list[Skip] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in REQUIRED_COLUMNS if c not in self.index.columns]
        if missing:
            raise SourceError(f"cohort index lacks column(s) {', '.join(missing)}")
        self.index = self.index.reset_index(drop=True)
        for name, ls in self.tasks.items():
            if ls.matrix.shape[0] != len(self.index):
                raise LabelError(f"task {name}: {ls.matrix.shape[0]} label rows for {len(self.index)} records")

    def __len__(self) -> int:
        return len(self.index)

    # ---- labels and subsets -------------------------------------------------------------------
    def labels(self, task: str) -> LabelSet:
        if task not in self.tasks:
            raise LabelError(f"unknown task {task!r}; this cohort has {', '.join(self.tasks) or 'no tasks'}")
        return self.tasks[task]

    def subset(self, rows: np.ndarray | Sequence[int] | pd.Series) -> Cohort:
        """A cohort of the given rows (boolean mask or positions); skipped files and notes carry over."""
        idx = np.asarray(rows)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return Cohort(self.index.iloc[idx].reset_index(drop=True),
                      {k: v.subset(idx) for k, v in self.tasks.items()},
                      self.source, self.root, list(self.skipped), dict(self.notes))

    def split(self, name: str) -> Cohort:
        if "split" not in self.index:
            raise SourceError("this cohort has no splits yet; call assign_folds() first")
        return self.subset((self.index["split"] == name).to_numpy())

    def assign_folds(self, k: int = 5, *, seed: int = 0, task: str | None = None,
                     val_folds: Sequence[int] | None = None, test_folds: Sequence[int] | None = None) -> Cohort:
        """Patient-grouped, multi-label-stratified folds 1..k (stratified on ``task`` if given).

        By default fold k is the test split and fold k-1 the validation split.
        """
        y = self.labels(task).matrix if task else None
        folds = grouped_multilabel_kfold(self.index["patient_id"], y, k=k, seed=seed)
        index = self.index.copy()
        index["fold"] = folds
        index["split"] = folds_to_splits(folds, val_folds or [k - 1], test_folds or [k])
        out = Cohort(index, self.tasks, self.source, self.root, self.skipped, dict(self.notes))
        out.check_leakage()
        return out

    def check_leakage(self) -> None:
        """Fail loudly (:class:`LeakageError`) if one patient sits in two splits."""
        if "split" in self.index:
            check_leakage(self.index["patient_id"], self.index["split"])

    # ---- signals ------------------------------------------------------------------------------
    def path_of(self, i: int) -> Path:
        p = Path(str(self.index.at[i, "path"]))
        return p if p.is_absolute() or self.root is None else Path(self.root) / p

    def load(self, i: int, **kwargs: Any) -> ECGRecord:
        """Read row ``i`` as an :class:`ECGRecord` with the row's reader."""
        row = self.index.iloc[i]
        opts: dict[str, Any] = {}
        for col in _READER_COLUMNS.get(row["reader"], ()):
            if col in row and not _isna(row[col]):
                opts[col] = row[col].split(",") if col == "leads" and isinstance(row[col], str) else row[col]
        opts.update(kwargs)
        rec = read_record(self.path_of(i), reader=row["reader"], **opts)
        rec.record_id = str(row["record_id"])
        rec.patient_id = str(row["patient_id"])
        return rec

    def __iter__(self) -> Iterator[ECGRecord]:
        return (self.load(i) for i in range(len(self)))

    def validate(self, workers: int = 4) -> Cohort:
        """Read every signal once; rows that fail move to ``skipped`` with the reason.

        Also records each record's largest violation of Einthoven's and Goldberger's identities
        (column ``lead_identity_mv``, NaN without the six limb leads), summarised by :meth:`summary`.
        """
        from cardiofm.physio.leads import identity_residual

        def check(i: int) -> tuple[str | None, float]:
            try:
                rec = self.load(i)
            except CardiofmError as exc:
                return str(exc), float("nan")
            return None, identity_residual(rec.signal, rec.leads)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(check, range(len(self))))
        errors = [e for e, _ in results]
        bad = np.array([e is not None for e in errors], dtype=bool)
        checked = self.subset(np.arange(len(self)))
        checked.index["lead_identity_mv"] = [r for _, r in results]
        out = checked.subset(~bad)
        out.skipped = self.skipped + [Skip(str(self.path_of(i)), errors[i] or "") for i in np.flatnonzero(bad)]
        return out

    # ---- reporting and persistence -------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts for ``cardiofm data info``: records, patients, folds, splits, labels, skips."""
        idx = self.index
        out: dict[str, Any] = {"source": self.source, "root": self.root, "records": len(idx),
                               "patients": int(idx["patient_id"].nunique())}
        if "fold" in idx:
            folds = idx["fold"].dropna().astype(int).value_counts().sort_index()
            out["folds"] = {int(k): int(v) for k, v in folds.items()}
        if "split" in idx:
            out["splits"] = {str(k): int(v) for k, v in idx["split"].value_counts().sort_index().items()}
        out["fs"] = {str(k): int(v) for k, v in idx["fs"].value_counts().sort_index().items()}
        out["tasks"] = {name: {"n_labels": len(ls.codes), "records_labelled": int(ls.labelled().sum()),
                               "counts": ls.counts()} for name, ls in self.tasks.items()}
        if "lead_identity_mv" in idx and idx["lead_identity_mv"].notna().any():
            res = idx["lead_identity_mv"].dropna()
            out["lead_identities"] = {"records_checked": int(len(res)), "max_residual_mv": float(res.max()),
                                      "median_residual_mv": float(res.median()),
                                      "records_over_0.01_mv": int((res > 0.01).sum())}
        out["notes"] = self.notes
        out["skipped"] = {"count": len(self.skipped), "files": [asdict(s) for s in self.skipped]}
        return out

    def save(self, directory: str | Path) -> Path:
        """Write ``index.csv``, ``labels.npz`` and ``cohort.json`` into ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.index.to_csv(d / "index.csv", index=False)
        np.savez_compressed(d / "labels.npz", **{k: v.matrix for k, v in self.tasks.items()})
        meta = {"source": self.source, "root": self.root, "notes": _jsonable(self.notes),
                "skipped": [asdict(s) for s in self.skipped],
                "tasks": {k: {"codes": v.codes, "descriptions": v.descriptions, "complete": v.complete}
                          for k, v in self.tasks.items()}}
        (d / "cohort.json").write_text(json.dumps(meta, indent=1))
        return d

    @classmethod
    def read(cls, directory: str | Path) -> Cohort:
        from cardiofm.errors import FileFormatError
        from cardiofm.fileio import load_arrays, read_json, read_table

        d = Path(directory)
        if not d.is_dir():
            raise SourceError(f"{d}: not a saved cohort (no such folder)")
        meta = read_json(d / "cohort.json", "saved cohort file")
        index = read_table(d / "index.csv", "cohort index", dtype={"record_id": str, "patient_id": str})
        mats = load_arrays(d / "labels.npz", "cohort label file")
        try:
            tasks = {k: LabelSet(k, v["codes"], v["descriptions"], mats[k], bool(v.get("complete", False)))
                     for k, v in meta["tasks"].items()}
            return cls(index, tasks, meta["source"], meta["root"], [Skip(**s) for s in meta["skipped"]],
                       meta["notes"])
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise FileFormatError(d / "cohort.json", f"not a valid saved cohort file ({exc!r}); rebuild it") from None


def assign_patient_folds(cohort: Cohort, k: int, *, seed: int = 0, task: str | None = None) -> Cohort:
    """:meth:`Cohort.assign_folds` that also copes with small cohorts.

    With fewer patients than ``k`` it makes one fold per patient (at least 3, so that train, val
    and test each get one); with fewer than 3 patients, or ``k < 2``, it assigns none. What it did
    is written to ``cohort.notes["splits"]``.
    """
    n_patients = int(cohort.index["patient_id"].nunique())
    if k < 2:
        cohort.notes["splits"] = "none (folds=0)"
        return cohort
    if n_patients < 3:
        cohort.notes["splits"] = f"none: {n_patients} patient(s) are too few for train/val/test folds"
        return cohort
    if n_patients < k:
        cohort.notes["splits"] = f"{n_patients} folds instead of {k}: only {n_patients} patients"
        k = n_patients
    else:
        cohort.notes["splits"] = f"{k} patient-grouped folds"
    return cohort.assign_folds(k=k, seed=seed, task=task)


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
