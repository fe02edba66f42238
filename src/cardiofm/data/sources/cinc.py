"""PhysioNet/CinC Challenge 2020/2021 12-lead data: ``.hea`` headers with MATLAB v4 ``.mat`` signals.

Each record is a WFDB header whose signal lines name a ``.mat`` file (``A0001.mat 16+24 1000/mV 16 0
28 -1716 0 I``) holding ``val``, int16, shape (leads, samples). Demographics and labels are header
comments (``#Age: 74``, ``#Sex: Male``, ``#Dx: 59118001,164884008``, ``#Rx``, ``#Hx``, ``#Sx``).

A root folder holds one or more databases in any nesting (``WFDB_CPSC2018/``, ``WFDB_Ga/``,
``training/georgia/g1/``, ...); every ``.hea`` below it is a record. The database is read from the
record-name prefix (A CPSC-2018, Q CPSC-Extra, I INCART, S PTB, HR PTB-XL, E Georgia, JS
Chapman-Shaoxing up to JS10646 and Ningbo after), falling back to a known folder name. Most records
are 500 Hz; INCART is 257 Hz and PTB 1000 Hz. The challenge data carry no patient identifiers, so
each record is its own patient (PTB and INCART do hold several records of one patient).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from cardiofm.data.cohort import Cohort, Skip, assign_patient_folds
from cardiofm.data.containment import RootGuard, walk
from cardiofm.data.header import Header, parse_header
from cardiofm.data.io import _base, _finish, _unit_scale, parse_comments, register_reader
from cardiofm.data.sources import cinc_labels
from cardiofm.data.sources.base import Source, register_source
from cardiofm.errors import RecordError, SourceError
from cardiofm.signal.record import ECGRecord

INVALID_SAMPLE = -32768  # WFDB format 16 marks missing samples with this value
CHAPMAN_LAST = 10646  # JS00001-JS10646 are Chapman-Shaoxing, later JS numbers Ningbo
AGE_OVER_89 = 300  # PTB-XL (HR records) writes 300 for ages above 89
_PROGRESS_FROM = 10_000
# Index columns of a scan; dx_codes / dx_unknown are working columns dropped after the label sets are built.
_COLUMNS = ("record_id", "patient_id", "path", "reader", "fs", "n_samples", "n_leads", "database", "age",
            "age_over_89", "sex", "dx", "report", "dx_raw", "dx_codes", "dx_unknown")
_PREFIX = re.compile(r"^(HR|JS|A|Q|I|S|E)(\d+)$")
PREFIX_DATABASES = {"A": "CPSC-2018", "Q": "CPSC-Extra", "I": "INCART", "S": "PTB", "HR": "PTB-XL",
                    "E": "Georgia", "JS": "Chapman-Shaoxing"}
# Folder names of the 2020/2021 downloads, lower-cased; used when a record name has no known prefix.
FOLDER_DATABASES = {
    "cpsc_2018": "CPSC-2018", "wfdb_cpsc2018": "CPSC-2018", "training_wfdb": "CPSC-2018",
    "cpsc_2018_extra": "CPSC-Extra", "wfdb_cpsc2018_2": "CPSC-Extra", "training_2": "CPSC-Extra",
    "st_petersburg_incart": "INCART", "wfdb_stpetersburg": "INCART", "training_stpetersburg": "INCART",
    "ptb": "PTB", "wfdb_ptb": "PTB", "training_ptb": "PTB", "ptb-xl": "PTB-XL", "wfdb_ptbxl": "PTB-XL",
    "georgia": "Georgia", "wfdb_ga": "Georgia", "chapman_shaoxing": "Chapman-Shaoxing",
    "wfdb_chapmanshaoxing": "Chapman-Shaoxing", "ningbo": "Ningbo", "wfdb_ningbo": "Ningbo",
}


def database_of(record_id: str, rel_path: str | Path = "") -> str:
    """Source database of a record: from its name prefix, else a known folder name in ``rel_path``,
    else the first folder of a relative ``rel_path`` (``"unknown"`` for absolute paths)."""
    m = _PREFIX.match(record_id)
    if m:
        if m[1] == "JS" and int(m[2]) > CHAPMAN_LAST:
            return "Ningbo"
        return PREFIX_DATABASES[m[1]]
    parts = Path(rel_path).parts[:-1]
    for part in reversed(parts):
        if part.lower() in FOLDER_DATABASES:
            return FOLDER_DATABASES[part.lower()]
    return parts[0] if parts and not Path(rel_path).is_absolute() else "unknown"


def parse_age(value: str | None) -> tuple[float, bool]:
    """Age in years (NaN for ``Unknown``, ``NaN`` or negative values) and whether it was coded as >89."""
    try:
        age = float(str(value).strip())
    except (TypeError, ValueError):
        return float("nan"), False
    if not np.isfinite(age) or age < 0:
        return float("nan"), False
    if age >= AGE_OVER_89:
        return 90.0, True
    return age, False


def parse_sex(value: str | None) -> Any:
    """``"M"``, ``"F"`` or NaN from ``Male``/``M``/``Female``/``F`` (any case)."""
    key = str(value or "").strip().lower()
    if key in ("m", "male"):
        return "M"
    if key in ("f", "female"):
        return "F"
    return np.nan


def cinc_metadata(comments: list[str]) -> dict[str, Any]:
    """Normalised header comments: age, sex, SNOMED CT ``dx`` codes, the raw Dx text, Rx/Hx/Sx."""
    raw = parse_comments(comments)
    age, over_89 = parse_age(raw.get("age"))
    codes, unknown = cinc_labels.normalise_dx(raw.get("dx"))
    meta: dict[str, Any] = {"age": age, "age_over_89": over_89, "sex": parse_sex(raw.get("sex")),
                            "dx": ",".join(codes), "dx_codes": codes, "dx_unknown": unknown,
                            "dx_raw": raw.get("dx", ""), "report": cinc_labels.describe(codes)}
    for key in ("rx", "hx", "sx"):
        meta[key] = raw.get(key, "")
    return meta


def _header(hea: Path) -> Header:
    return parse_header(hea)  # every malformed header is a RecordError naming it


def _mat_path(h: Header, hea: Path) -> Path:
    """The one ``.mat`` file a CinC header points at (the record's own name if that file was renamed)."""
    files = {s.file for s in h.signals}
    if len(files) != 1:
        raise RecordError(hea, f"signals are spread over {len(files)} files; a CinC record keeps all leads "
                               "in one .mat")
    name = files.pop()
    if not name.lower().endswith(".mat"):
        raise RecordError(hea, f"signal file {name!r} is not a .mat file; read it with the 'wfdb' reader")
    mat = hea.parent / name
    own = hea.with_suffix(".mat")
    return own if not mat.exists() and own.exists() else mat


def _load_val(mat: Path) -> np.ndarray:
    from scipy.io import loadmat

    if not mat.exists():
        raise RecordError(mat, "signal file is missing")
    try:
        content = loadmat(str(mat), variable_names=["val"])
    except Exception as exc:  # scipy raises ValueError, MatReadError, IndexError, ... for bad files
        raise RecordError(mat, f"unreadable MATLAB file, truncated or corrupt "
                               f"({type(exc).__name__}: {exc})") from None
    if "val" not in content:
        raise RecordError(mat, "MATLAB file holds no variable 'val' (CinC signals are stored as 'val')")
    val = np.asarray(content["val"])
    if val.ndim != 2 or not np.issubdtype(val.dtype, np.number):
        raise RecordError(mat, f"'val' must be a numeric (leads, samples) matrix, "
                               f"got {val.dtype} {val.shape}")
    return val


@register_reader("cinc")
def read_cinc(path: str | Path, *, expected_fs: float | Collection[float] | None = None,
              record_id: str | None = None, patient_id: str | None = None,
              max_nonfinite: float = 0.1) -> ECGRecord:
    """Read one CinC record given as its ``.hea``, its ``.mat`` or its name without suffix.

    Physical values are ``(val - baseline) / gain`` per lead, converted to mV. Samples equal to
    -32768 (WFDB's invalid value) are repaired from their neighbours when few enough.
    """
    base = _base(Path(path))
    hea = base.with_suffix(".hea")
    h = _header(hea)
    mat = _mat_path(h, hea)
    val = _load_val(mat)
    expected = (h.n_sig, h.sig_len if h.sig_len else val.shape[1])
    if val.shape != expected:
        raise RecordError(mat, f"'val' has shape {val.shape} but {hea.name} announces {expected} "
                               "(leads, samples); header and signal file do not belong together")
    gain = np.asarray([s.gain for s in h.signals], dtype=np.float64)[:, None]
    baseline = np.asarray([s.baseline for s in h.signals], dtype=np.float64)[:, None]
    sig = (val.astype(np.float64) - baseline) / gain
    sig[val == INVALID_SAMPLE] = np.nan
    sig *= _unit_scale([s.units for s in h.signals], hea)[:, None]
    meta = cinc_metadata(h.comments)
    rid = record_id or base.name
    meta["database"] = database_of(rid, base.resolve())
    return _finish(sig, h.fs, [s.name for s in h.signals], base, rid, patient_id, meta, expected_fs,
                   max_nonfinite)


def probe_mat(mat: Path, h: Header) -> str | None:
    """Cheap check of a ``.mat`` without reading its samples; returns what is wrong, or ``None``.

    Looks at the file size the header's format implies and at the variable table (``whosmat``).
    """
    from scipy.io import whosmat

    if not mat.exists():
        return f"signal file {mat.name} is missing"
    spec = h.signals[0]
    n = h.sig_len or 0
    if spec.fmt == "16" and n:
        need = spec.byte_offset + 2 * h.n_sig * n
        size = mat.stat().st_size
        if size < need and _is_mat_v4(mat):  # a (compressed) v5 file may legitimately be smaller
            return f"{mat.name} is truncated: {size} bytes, the header implies at least {need}"
    try:
        variables = {name: shape for name, shape, _ in whosmat(str(mat))}
    except Exception as exc:  # same family of scipy errors as loadmat
        return f"{mat.name} is not a readable MATLAB file ({type(exc).__name__}: {exc})"
    if "val" not in variables:
        return f"{mat.name} holds no variable 'val'"
    if n and tuple(variables["val"]) != (h.n_sig, n):
        return f"{mat.name} holds 'val' of shape {tuple(variables['val'])}, header announces {(h.n_sig, n)}"
    return None


def _is_mat_v4(mat: Path) -> bool:
    from scipy.io.matlab import matfile_version

    try:
        with open(mat, "rb") as f:
            return matfile_version(f)[0] == 0
    except Exception:  # unreadable: let the variable listing report it
        return False


def _index_row(root: Path, hea: Path, check_mat: bool, allowed_fs: list[float] | None,
               guard: RootGuard) -> dict[str, Any] | Skip:
    try:
        h = _header(guard.check(hea))
        mat = guard.check(_mat_path(h, hea))
    except RecordError as exc:
        return Skip(exc.path, exc.reason)
    if not h.sig_len:
        return Skip(str(hea), "header gives no signal length")
    if allowed_fs is not None and not any(abs(h.fs - f) < 1e-6 for f in allowed_fs):
        wanted = " or ".join(f"{f:g}" for f in allowed_fs)
        return Skip(str(hea), f"sampling rate {h.fs:g} Hz, expected {wanted} Hz")
    if check_mat:
        problem = probe_mat(mat, h)
    else:
        problem = None if mat.exists() else f"signal file {mat.name} is missing"
    if problem:
        return Skip(str(mat), problem)
    rel = hea.relative_to(root).with_suffix("").as_posix()
    meta = cinc_metadata(h.comments)
    return {"record_id": hea.stem, "patient_id": hea.stem, "path": rel, "reader": "cinc", "fs": float(h.fs),
            "n_samples": int(h.sig_len), "n_leads": int(h.n_sig), "database": database_of(hea.stem, rel),
            **{k: meta[k] for k in ("age", "age_over_89", "sex", "dx", "report", "dx_raw", "dx_codes",
                                    "dx_unknown")}}


def _allowed(fs: Any) -> list[float] | None:
    if fs is None:
        return None
    return [float(fs)] if np.isscalar(fs) else [float(f) for f in fs]


@register_source("cinc")
class CinC(Source):
    """PhysioNet/CinC Challenge 2020/2021 training data (any subset of its databases, any nesting)."""

    description = "PhysioNet/CinC Challenge 2020/2021 12-lead ECGs (.hea + .mat), SNOMED CT Dx labels"

    def scan(self, root: Path, *, folds: int | None = 10, seed: int = 0, fs: Any = None,
             expected_fs: Any = None, year: int = 2021, check_mat: bool = True, workers: int = 8,
             follow_links: bool = False, **options: Any) -> Cohort:
        """Index every record below ``root`` from its header; tasks ``dx`` and ``scored``.

        ``fs``/``expected_fs`` keep only records at that rate (others become :class:`Skip`).
        ``check_mat`` also checks each ``.mat`` cheaply (size, ``val`` present, shape) without
        reading samples. ``year`` picks the challenge whose scored classes form task ``scored``.
        Folds 1..``folds`` are patient-grouped and stratified on ``scored``; with fewer patients
        than folds, see :func:`assign_patient_folds` (``notes["splits"]`` says what was done).
        Files that lead outside ``root`` are skipped; with ``follow_links`` symbolic links (files and
        folders) may.
        """
        root = Path(root)
        if not root.is_dir():
            raise SourceError(f"{root}: not a folder")
        guard = RootGuard(root, follow_links)
        headers = sorted(Path(d) / f for d, _, names in walk(root, guard.follow_links)
                         for f in names if f.lower().endswith(".hea"))
        if not headers:
            raise SourceError(f"{root}: no .hea files below this folder; is it a CinC challenge download "
                              "(e.g. WFDB_CPSC2018/, WFDB_Ga/ or training/<database>/)?")
        allowed = _allowed(fs if fs is not None else expected_fs)
        with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
            rows = list(tqdm(pool.map(lambda p: _index_row(root, p, check_mat, allowed, guard), headers),
                             total=len(headers), desc="CinC headers", disable=len(headers) < _PROGRESS_FROM))
        skipped = [r for r in rows if isinstance(r, Skip)]
        good = [r for r in rows if not isinstance(r, Skip)]
        index = pd.DataFrame(good, columns=list(_COLUMNS))
        codes = [list(c) for c in index["dx_codes"]]
        unknown = cinc_labels.count_unknown(index["dx_unknown"])
        index = index.drop(columns=["dx_codes", "dx_unknown"])
        tasks = {"dx": cinc_labels.dx_labels(codes), "scored": cinc_labels.scored_labels(codes, year)}
        notes: dict[str, Any] = {
            "headers": len(headers), "skipped": len(skipped), "unknown_dx": unknown, "scored_year": year,
            "databases": {str(k): int(v) for k, v in index["database"].value_counts().sort_index().items()},
            "duplicate_record_ids": int(index["record_id"].duplicated().sum()),
            "without_dx": int(sum(1 for c in codes if not c)),
        }
        cohort = Cohort(index, tasks, "cinc", str(root), skipped, notes)
        cohort = assign_patient_folds(cohort, int(folds or 0), seed=seed, task="scored")
        return cohort
