"""Own data: a folder of ECG recordings, optionally described by a ``labels.csv``.

Recordings may be WFDB (``x.hea`` plus its signal file), NumPy arrays (``x.npy``, shape
``(leads, samples)`` or ``(samples, leads)``) or CSV files (``x.csv``: one column per lead with
the lead names in the header row, one row per sample). Subfolders are fine.

``labels.csv`` sits in the folder (or is named with the ``labels=`` option) and has one row per
recording:

- ``file`` (required): path relative to the folder, e.g. ``site_a/0001.hea`` (or ``site_a/0001``)
  for WFDB, ``0002.npy``, ``0003.csv``.
- ``patient_id`` (optional): who was recorded; defaults to the record id (one patient per
  recording). Splits never put one patient in two places, so give it whenever a patient has
  several recordings.
- ``record_id`` (optional): defaults to the file path as listed, less ``.hea`` for WFDB
  (``site_a/0001``, ``0002.npy``).
- ``fs``: sampling rate in Hz, required for ``.npy`` and ``.csv``. WFDB records take it from
  their header; a different value in this column makes the row a skip.
- ``leads`` (optional, ``.npy``/``.csv``): lead names separated by commas, e.g. ``"I,II,V1"``.
  Defaults: the CSV header row; for a 12-row array, I, II, III, aVR, aVL, aVF, V1-V6.
- ``units`` (optional, ``.npy``/``.csv``): ``mV`` (default), ``uV`` or ``V``.
- ``labels`` (optional): label codes separated by ``;`` (e.g. ``AF;LBBB``; empty = no label).
  They form the task ``labels``. Alternatively, pass ``label_columns=[...]`` to use 0/1 columns
  (one per label, named by the column) as that task instead.
- ``split`` (optional: ``train``/``val``/``test``) and/or ``fold`` (optional: integer) keep a
  split you already have; without ``split``, the highest fold is ``test`` and the one below ``val``.
  A patient found in two splits (or two folds) is an error. Without either column, patient-grouped
  folds are made (``folds=5``), stratified on the labels.
- any other column (``age``, ``sex``, ...) is kept as metadata; numbers become numeric columns.

Without a ``labels.csv``, every WFDB record under the folder becomes a recording of its own
patient (``age``/``sex`` and other ``Key: value`` header comments become metadata). ``.npy`` and
``.csv`` files need a ``labels.csv`` row, because nothing else says their sampling rate.

Scanning reads headers only (WFDB headers, the shape of ``.npy`` files, the header row and line
count of ``.csv`` files). A file that is missing, cannot be parsed, does not fit its WFDB header
(truncated, or longer than it announces), has duplicated lead names or the wrong rate (``fs=``
option) is left out as a skip with the reason; :meth:`Cohort.validate` then reads every signal
and moves unreadable ones (text in a CSV, too many NaNs) to the skipped list too. Pass
``validate=True`` to do that during the scan. Every file must lie inside the folder: a ``file``
with ``..`` or an absolute path elsewhere is a skip ("path escapes the root folder"), and so is a
symbolic link that leads outside it unless ``follow_links=True`` (which also walks linked
subfolders).

Options of ``open_cohort("folder", root, ...)``: ``labels`` (labels file), ``label_columns``,
``label_sep`` (default ``;``), ``descriptions`` (code -> text), ``fs`` (rate or rates to accept),
``folds`` (default 5; 0 = none), ``seed``, ``val_folds``/``test_folds`` (for a given ``fold``
column), ``validate``, ``workers``, ``follow_links``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.data.cohort import Cohort, LabelSet, Skip, assign_patient_folds
from cardiofm.data.containment import ESCAPES, RootGuard, checked_header, walk
from cardiofm.data.header import signal_files
from cardiofm.data.io import parse_comments
from cardiofm.data.sources.base import Source, register_source
from cardiofm.data.splits import check_leakage, folds_to_splits
from cardiofm.errors import LabelError, RecordError, SourceError
from cardiofm.signal.record import LEADS_12, normalise_lead_names

LABELS_FILE = "labels.csv"
TASK = "labels"
NO_FS = "no sampling rate: list it in labels.csv with an fs column"
_READER_BY_SUFFIX = {".npy": "numpy", ".csv": "csv",
                     ".hea": "wfdb", ".dat": "wfdb", ".mat": "wfdb", "": "wfdb"}
# labels.csv columns with a meaning of their own (not metadata).
_CONTROL = ("file", "record_id", "patient_id", "fs", "leads", "units", "split", "fold")
# Index columns the scan computes; a labels.csv column of the same name is kept as "meta_<name>".
_COMPUTED = ("path", "reader", "n_samples", "n_leads")
_SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                "dev": "val", "test": "test", "testing": "test"}


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _positive_float(text: Any) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) and v > 0 else None


def _rate_ok(fs: float, expected: float | Collection[float] | None) -> str | None:
    if expected is None:
        return None
    allowed = [float(expected)] if np.isscalar(expected) else [float(f) for f in expected]
    if any(abs(fs - f) < 1e-6 for f in allowed):
        return None
    return (f"sampling rate {fs:g} Hz, expected {' or '.join(f'{f:g}' for f in allowed)} Hz "
            "(resample it, or pass the rate you expect)")


def _lead_check(names: Sequence[str], where: Path) -> str | None:
    if any(not str(n).strip() for n in names):
        return "a lead has no name; name every lead"
    try:
        normalise_lead_names(names, path=where)
    except RecordError as exc:
        return exc.reason
    return None


def csv_shape(path: Path) -> tuple[list[str], int]:
    """Header-row names and number of data rows of a signal CSV, without parsing the numbers."""
    with open(path, "rb") as fh:
        first = fh.readline()
        rows, last = 0, b"\n"
        while chunk := fh.read(1 << 20):
            rows += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        rows += 1  # last line without a newline
    text = first.decode("utf-8", errors="replace").strip()
    names = [n.strip().strip('"').strip("'") for n in text.split(",")]
    return names, rows


def _array_shape(shape: tuple[int, ...], leads: Sequence[str] | None) -> tuple[int, int]:
    """(leads, samples) the NumPy reader will make of an array of ``shape``."""
    rows, cols = (1, shape[0]) if len(shape) == 1 else shape
    n = len(leads) if leads else None
    if (n is not None and rows != n and cols == n) or (n is None and rows > cols):
        rows, cols = cols, rows
    return rows, cols


def inspect_file(root: Path, rel: str, *, fs: Any = None, leads: Any = None,
                 expected_fs: float | Collection[float] | None = None,
                 guard: RootGuard | None = None) -> dict[str, Any] | Skip:
    """Cheap look at one recording (header / array shape / CSV header and line count).

    Returns the index fields (``path``, ``reader``, ``fs``, ``n_samples``, ``n_leads``, header
    ``meta``) or a :class:`Skip` that says what is wrong. A file outside ``root`` (by ``..``, an
    absolute path or, unless ``guard`` follows links, a symbolic link) is a skip.
    """
    guard = guard or RootGuard(root)
    suffix = Path(rel).suffix.lower()
    reader = _READER_BY_SUFFIX.get(suffix)
    where = root / rel
    try:
        guard.check(where)
    except RecordError as exc:
        return Skip(exc.path, exc.reason)
    if reader is None:
        return Skip(str(where), f"unsupported file type {suffix!r}; use WFDB (.hea + signal file), "
                                ".npy or .csv")
    lead_names = [s.strip() for s in str(leads).split(",")] if not _blank(leads) else None
    if reader == "wfdb":
        return _inspect_wfdb(root, rel[: -len(suffix)] if suffix else rel, fs, expected_fs, guard)
    if not where.is_file():
        return Skip(str(where), "file is missing")
    if _blank(fs):
        return Skip(str(where), NO_FS)
    rate = _positive_float(fs)
    if rate is None:
        return Skip(str(where), f"fs {fs!r} in labels.csv is not a positive number of Hz")
    if reader == "numpy":
        try:
            arr = np.load(where, mmap_mode="r", allow_pickle=False)
        except Exception as exc:  # numpy raises several types for a damaged file; all mean unreadable
            return Skip(str(where), f"unreadable .npy file ({type(exc).__name__}: {exc})")
        if arr.ndim not in (1, 2) or arr.size == 0:
            return Skip(str(where), f"expected a 2-D array (leads, samples), got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.number):
            return Skip(str(where), f"array holds {arr.dtype} values, not numbers")
        n_leads, n_samples = _array_shape(arr.shape, lead_names)
        if lead_names is None and n_leads != 12:
            return Skip(str(where), f"{n_leads} leads and no lead names; add a leads column to labels.csv")
        names = lead_names or list(LEADS_12)
    else:
        try:
            header, n_samples = csv_shape(where)
        except OSError as exc:
            return Skip(str(where), f"file cannot be read ({exc})")
        names = lead_names or header
        if len(names) != len(header):
            return Skip(str(where), f"{len(names)} lead names in labels.csv for {len(header)} CSV columns")
        n_leads = len(names)
    if n_samples == 0:
        return Skip(str(where), "no samples")
    if len(names) != n_leads:
        return Skip(str(where), f"{len(names)} lead names for {n_leads} leads in the file")
    problem = _lead_check(names, where) or _rate_ok(rate, expected_fs)
    if problem:
        return Skip(str(where), problem)
    return {"path": Path(rel).as_posix(), "reader": reader, "fs": rate, "n_samples": int(n_samples),
            "n_leads": int(n_leads), "meta": {}}


def _inspect_wfdb(root: Path, base_rel: str, fs: Any, expected_fs: Any, guard: RootGuard) -> dict[str, Any] | Skip:
    hea = root / f"{base_rel}.hea"
    try:
        guard.check(hea)
        if not hea.is_file():
            return Skip(str(hea), "file is missing (no .hea header for this WFDB record)")
        h = checked_header(root / base_rel, guard)
    except RecordError as exc:
        header_fault = exc.path == str(hea) and not exc.reason.startswith(ESCAPES)
        return Skip(exc.path, f"unparseable header: {exc.reason}" if header_fault else exc.reason)
    for name in signal_files(h):
        if not (hea.parent / name).is_file():
            return Skip(str(hea), f"signal file {name} named in the header is missing")
    if not h.sig_len:
        return Skip(str(hea), "header gives no number of samples")
    if not _blank(fs):
        given = _positive_float(fs)
        if given is None or abs(given - h.fs) > 1e-6:
            return Skip(str(hea), f"labels.csv says fs={fs} but the header says {h.fs:g} Hz")
    problem = _lead_check([s.name for s in h.signals], hea) or _rate_ok(h.fs, expected_fs)
    if problem:
        return Skip(str(hea), problem)
    return {"path": Path(base_rel).as_posix(), "reader": "wfdb", "fs": float(h.fs),
            "n_samples": int(h.sig_len), "n_leads": h.n_sig, "meta": parse_comments(h.comments)}


def _walk(root: Path, follow_links: bool = False) -> tuple[list[str], list[Skip]]:
    """WFDB records under ``root`` (relative, with ``.hea``) and skips for files that cannot stand alone."""
    found, skips = [], []
    for dirpath, dirnames, filenames in walk(root, follow_links):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        names = set(filenames)
        for name in sorted(filenames):
            stem, suffix = os.path.splitext(name)
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if suffix.lower() == ".hea":
                found.append(rel)
            elif suffix.lower() in (".npy", ".csv"):
                skips.append(Skip(str(root / rel), NO_FS))
            elif suffix.lower() == ".dat" and f"{stem}.hea" not in names:
                skips.append(Skip(str(root / rel), "signal file without a .hea header next to it"))
    return found, skips


def _label_matrix(table: pd.DataFrame, label_columns: Sequence[str] | None, sep: str,
                  descriptions: dict[str, str] | None, where: Path) -> LabelSet | None:
    if label_columns:
        lacking = [c for c in label_columns if c not in table]
        if lacking:
            raise LabelError(f"{where}: label column(s) {', '.join(lacking)} not found "
                             f"(columns are {', '.join(map(str, table.columns))})")
        m = np.zeros((len(table), len(label_columns)), dtype=np.uint8)
        for j, col in enumerate(label_columns):
            values = pd.to_numeric(table[col], errors="coerce")
            bad = table[col].notna() & ~values.isin([0, 1])
            if bad.any():
                raise LabelError(f"{where}: label column {col!r} holds {table[col][bad].iloc[0]!r}; "
                                 "label columns must hold 0 or 1 (empty counts as 0)")
            m[:, j] = values.fillna(0).astype(np.uint8)
        codes = [str(c) for c in label_columns]
    elif TASK in table:
        sets = [[] if _blank(v) else [c.strip() for c in str(v).split(sep) if c.strip()] for v in table[TASK]]
        codes = sorted({c for s in sets for c in s})
        col = {c: j for j, c in enumerate(codes)}
        m = np.zeros((len(table), len(codes)), dtype=np.uint8)
        for i, s in enumerate(sets):
            m[i, [col[c] for c in s]] = 1
    else:
        return None
    desc = [(descriptions or {}).get(c, c) for c in codes]
    return LabelSet(TASK, codes, desc, m)


def _given_splits(table: pd.DataFrame, where: Path, val_folds: Sequence[int] | None,
                  test_folds: Sequence[int] | None) -> pd.DataFrame | None:
    """``fold``/``split`` from labels.csv, checked for leakage over all listed rows."""
    has_fold = "fold" in table and table["fold"].notna().any()
    has_split = "split" in table and table["split"].notna().any()
    if not (has_fold or has_split):
        return None
    out = pd.DataFrame(index=table.index)
    if has_fold:
        fold = pd.to_numeric(table["fold"], errors="coerce")
        bad = table["fold"].notna() & (fold.isna() | (fold % 1 != 0))
        if bad.any():
            raise SourceError(f"{where}: fold {table['fold'][bad].iloc[0]!r} is not an integer")
        out["fold"] = fold.astype("Int64")
        check_leakage(table["patient_id"], out["fold"].astype(object).where(out["fold"].notna(), None))
    if has_split:
        raw = table["split"].astype(object).where(table["split"].notna(), None)
        names = raw.map(lambda v: None if _blank(v)
                        else _SPLIT_NAMES.get(str(v).strip().lower(), "?" + str(v)))
        unknown = [v[1:] for v in names.dropna() if v.startswith("?")]
        if unknown:
            raise SourceError(f"{where}: unknown split {unknown[0]!r}; use train, val or test")
        out["split"] = names
    else:
        k = int(out["fold"].max())
        splits = folds_to_splits(out["fold"].fillna(0).astype(int), val_folds or [k - 1], test_folds or [k])
        out["split"] = pd.Series(splits, index=table.index).where(out["fold"].notna(), None)
    check_leakage(table["patient_id"], out["split"])
    return out


def _metadata(table: pd.DataFrame, exclude: Collection[str]) -> pd.DataFrame:
    meta = pd.DataFrame(index=table.index)
    for col in table.columns:
        if col in exclude or col in _CONTROL:
            continue
        name = f"meta_{col}" if col in _COMPUTED else str(col)
        meta[name] = _maybe_numeric(table[col])
    return meta


def _maybe_numeric(values: pd.Series) -> pd.Series:
    """Numbers as a numeric column when every non-empty value is a number, else the text unchanged."""
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric if numeric.notna().sum() == values.notna().sum() else values


def _labels_path(root: Path, labels: str | Path | None, guard: RootGuard) -> Path | None:
    if labels is None:  # a labels= file is the user's choice and may lie anywhere; the default may not
        default = guard.table(root / LABELS_FILE)
        return default if default.is_file() else None
    path = Path(labels).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise SourceError(f"{path}: labels file not found "
                          f"(labels= names a CSV, absolute or relative to {root})")
    return path


def _read_table(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read the labels CSV ({exc})") from None
    table.columns = [str(c).strip() for c in table.columns]
    if "file" not in table:
        raise SourceError(f"{path}: needs a 'file' column with each recording's path relative to the folder "
                          f"(columns are {', '.join(table.columns)})")
    return table.dropna(subset=["file"]).reset_index(drop=True)


def _strip_wfdb_suffix(rel: str) -> str:
    suffix = Path(rel).suffix.lower()
    return rel[: -len(suffix)] if suffix in (".hea", ".dat", ".mat") else rel


@register_source("folder")
class Folder(Source):
    """Own recordings in a folder (WFDB, .npy, .csv), described by ``labels.csv``; see the module docs."""

    description = "own ECG files (WFDB, .npy, .csv) in a folder, with an optional labels.csv"

    def scan(self, root: Path, *, labels: str | Path | None = None,
             label_columns: Sequence[str] | None = None, label_sep: str = ";",
             descriptions: dict[str, str] | None = None,
             fs: float | Collection[float] | None = None, folds: int = 5, seed: int = 0,
             val_folds: Sequence[int] | None = None, test_folds: Sequence[int] | None = None,
             validate: bool = False, workers: int = 8, follow_links: bool = False, **options: Any) -> Cohort:
        """Index the folder; options as in the module docstring (``fs`` = the rate(s) to accept)."""
        root = Path(root)
        if not root.is_dir():
            raise SourceError(f"{root}: not a folder")
        guard = RootGuard(root, follow_links)
        table_path = _labels_path(root, labels, guard)
        skips: list[Skip] = []
        if table_path is None:
            found, skips = _walk(root, guard.follow_links)
            table = pd.DataFrame({"file": found}, dtype=object)
            where = root
        else:
            table, where = _read_table(table_path), table_path
        if table.empty and not skips:
            raise SourceError(f"{root}: no recordings found (WFDB .hea, .npy or .csv files, or a labels.csv)")
        table["file"] = table["file"].astype(str).str.strip()
        keys = table["file"].map(lambda f: Path(_strip_wfdb_suffix(f)).as_posix())
        table["patient_id"] = _filled(table, "patient_id", keys)
        table["record_id"] = _filled(table, "record_id", keys)

        given = _given_splits(table, where, val_folds, test_folds)
        labelset = _label_matrix(table, label_columns, label_sep, descriptions, where)

        def look(i: int) -> dict[str, Any] | Skip:
            row = table.iloc[i]
            return inspect_file(root, row["file"], fs=row.get("fs"), leads=row.get("leads"), expected_fs=fs,
                                guard=guard)

        dup = keys.duplicated().to_numpy()
        with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
            infos: list[dict[str, Any] | Skip] = list(pool.map(look, np.flatnonzero(~dup)))
        results: list[dict[str, Any] | Skip] = [Skip(str(root / f), "listed more than once")
                                                for f in table["file"]]
        for i, info in zip(np.flatnonzero(~dup), infos, strict=True):
            results[i] = info
        keep = np.array([not isinstance(r, Skip) for r in results], dtype=bool)
        skips += [r for r in results if isinstance(r, Skip)]
        good = [r for r in results if not isinstance(r, Skip)]

        kept = table[keep].reset_index(drop=True)
        index = pd.DataFrame({"record_id": kept["record_id"], "patient_id": kept["patient_id"],
                              "path": [g["path"] for g in good], "reader": [g["reader"] for g in good],
                              "fs": np.array([g["fs"] for g in good], dtype=float),
                              "n_samples": np.array([g["n_samples"] for g in good], dtype=np.int64),
                              "n_leads": np.array([g["n_leads"] for g in good], dtype=np.int64)})
        for col in ("leads", "units"):
            index[col] = kept[col].where(index["reader"] != "wfdb") if col in kept else np.nan
        label_source = list(label_columns or ([TASK] if TASK in table and labelset is not None else []))
        index = pd.concat([index, _metadata(kept, label_source)], axis=1)
        header_meta = pd.DataFrame([g["meta"] for g in good], index=index.index)
        for col in header_meta.columns:
            if col not in index and col not in _CONTROL and col not in (TASK, "split", "fold"):
                index[col] = _maybe_numeric(header_meta[col])
        if given is not None:
            for col in given.columns:
                index[col] = given[col][keep].to_numpy()

        tasks = {TASK: labelset.subset(np.flatnonzero(keep))} if labelset and labelset.codes else {}
        notes: dict[str, Any] = {
            "labels_file": str(table_path) if table_path else None, "listed": int(len(table)),
            "listed_missing": sum(s.reason.startswith("file is missing") for s in skips),
        }
        if table_path is None:
            notes["patients"] = "no labels.csv: each recording counts as its own patient"
        cohort = Cohort(index, tasks, "folder", str(root), skips, notes)
        if validate:
            cohort = cohort.validate(workers=workers)
        if given is not None:
            cohort.notes["splits"] = "given in the labels file"
            cohort.check_leakage()
            return cohort
        task = TASK if TASK in cohort.tasks else None
        return assign_patient_folds(cohort, int(folds or 0), seed=seed, task=task)


def _filled(table: pd.DataFrame, column: str, default: pd.Series) -> pd.Series:
    if column not in table:
        return default.astype(str)
    values = table[column].astype(object)
    blank = values.map(_blank)
    return values.where(~blank, default).astype(str).str.strip()
