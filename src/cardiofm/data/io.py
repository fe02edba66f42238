"""Readers and writers for ECG files.

Every reader takes a path and returns an :class:`ECGRecord` in mV; every failure a user can cause
(missing, truncated or unreadable file, bad header, missing or duplicated lead, unexpected sampling
rate, too many NaN/Inf samples) becomes a :class:`RecordError`. Readers are registered by name so
a Cohort row can say which one reads it (column ``reader``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cardiofm.data.header import Header, check_signal_file, check_signal_files, parse_header
from cardiofm.errors import ConfigError, RecordError, SamplingRateError
from cardiofm.registry import Registry
from cardiofm.signal.record import LEADS_12, ECGRecord, repair_nonfinite

Reader = Callable[..., ECGRecord]
READERS: Registry[Reader] = Registry("reader")

_UNIT_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "microvolt": 1e-3, "v": 1e3, "nu": 1.0, "": 1.0}


def register_reader(name: str) -> Callable[[Reader], Reader]:
    """Decorator: make a reader available to :func:`read_record` and Cohort rows by ``name``."""
    return READERS.register(name)


def read_record(path: str | Path, reader: str | None = None, **kwargs: Any) -> ECGRecord:
    """Read any supported file; the reader is chosen by name or by the file's suffix."""
    path = Path(path)
    name = reader or _reader_for_suffix(path)
    return _get_reader(name, path)(path, **kwargs)


def _get_reader(name: str, path: Path) -> Reader:
    if name not in READERS:
        import cardiofm.data.sources  # noqa: F401  (source modules register their own readers, e.g. "cinc")
    try:
        return READERS.get(name)
    except ConfigError as exc:
        raise RecordError(path, str(exc)) from None


def _reader_for_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return "numpy"
    if suffix == ".csv":
        return "csv"
    if suffix == ".mat":
        return "cinc"
    return "wfdb"


def check_fs(record: ECGRecord, expected_fs: float | Collection[float] | None) -> ECGRecord:
    """Raise :class:`SamplingRateError` unless the record's rate is one of ``expected_fs``."""
    if expected_fs is None:
        return record
    allowed = [float(expected_fs)] if np.isscalar(expected_fs) else [float(f) for f in expected_fs]
    if not any(abs(record.fs - f) < 1e-6 for f in allowed):
        raise SamplingRateError(record.path or record.record_id,
                                f"sampling rate {record.fs:g} Hz, expected {' or '.join(f'{f:g}' for f in allowed)}"
                                " Hz (resample it, or pass the rate you expect)")
    return record


def parse_comments(comments: Sequence[str]) -> dict[str, str]:
    """Header comments of the form ``Key: value`` (CinC, MIMIC) as a dict with lower-case keys."""
    meta: dict[str, str] = {}
    for line in comments:
        key, sep, value = line.lstrip("#").partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip()
    return meta


def _base(path: Path) -> Path:
    return path.with_suffix("") if path.suffix.lower() in {".hea", ".dat", ".mat"} else path


def _unit_scale(units: Sequence[str | None], where: Path) -> np.ndarray:
    scales = []
    for u in units:
        key = (u or "").strip().lower()
        if key not in _UNIT_TO_MV:
            raise RecordError(where, f"unknown signal unit {u!r}; expected mV, uV or V")
        scales.append(_UNIT_TO_MV[key])
    return np.asarray(scales, dtype=np.float64)


def _fast_path_ok(h: Header) -> bool:
    specs = h.signals
    return (len({s.file for s in specs}) == 1 and all(s.fmt == "16" for s in specs)
            and all(s.skew == 0 and s.samples_per_frame == 1 for s in specs)
            and len({s.byte_offset for s in specs}) == 1)


def read_fmt16(dat: Path, h: Header) -> np.ndarray:
    """Format-16 samples straight from disk with NumPy; returns physical units, float64 (n_sig, n).

    The file size must fit the header (:func:`~cardiofm.data.header.check_signal_file`).
    """
    check_signal_file(dat, h.signals, h)
    offset = h.signals[0].byte_offset
    n = h.sig_len or (dat.stat().st_size - offset) // (2 * h.n_sig)
    raw = np.fromfile(dat, dtype="<i2", count=n * h.n_sig, offset=offset).reshape(n, h.n_sig).T
    gain = np.asarray([s.gain for s in h.signals], dtype=np.float64)[:, None]
    baseline = np.asarray([s.baseline for s in h.signals], dtype=np.float64)[:, None]
    out = (raw - baseline) / gain
    out[raw == -32768] = np.nan  # WFDB's invalid-sample marker for format 16
    return out


def _read_wfdb_generic(base: Path) -> np.ndarray:
    import wfdb

    try:
        rec = wfdb.rdrecord(str(base), physical=True)
    except Exception as exc:  # wfdb raises many types; all mean "cannot read this file"
        raise RecordError(base, f"unreadable WFDB signal ({type(exc).__name__}: {exc})") from None
    if rec.p_signal is None:
        raise RecordError(base, "WFDB record holds no signal")
    return np.asarray(rec.p_signal, dtype=np.float64).T


@register_reader("wfdb")
def read_wfdb(path: str | Path, *, fast: bool = True, expected_fs: float | Collection[float] | None = None,
              record_id: str | None = None, patient_id: str | None = None,
              max_nonfinite: float = 0.1) -> ECGRecord:
    """Read a WFDB record (``.hea`` + signal file). Format-16 records take a NumPy fast path.

    The header must pass :func:`~cardiofm.data.header.parse_header` (signal lines matching the
    count, plain signal-file names, finite positive gains) and each signal file must fit it
    (:func:`~cardiofm.data.header.check_signal_files`); otherwise a :class:`RecordError` names the file.
    """
    base = _base(Path(path))
    h = parse_header(base.with_suffix(".hea"))
    if h.n_sig == 0:
        raise RecordError(base, "header lists no signals")
    if all(s.file.lower().endswith(".mat") for s in h.signals):  # CinC layout: .hea + MATLAB v4 .mat
        return _get_reader("cinc", base)(base, expected_fs=expected_fs, record_id=record_id,
                                         patient_id=patient_id, max_nonfinite=max_nonfinite)
    if fast and _fast_path_ok(h):
        sig = read_fmt16(base.parent / h.signals[0].file, h)
    else:
        check_signal_files(h, base.parent)  # before wfdb, which may pad or cut a file that does not fit
        sig = _read_wfdb_generic(base)
    if sig.shape[0] != h.n_sig:
        raise RecordError(base, f"header lists {h.n_sig} signals, file holds {sig.shape[0]}")
    if h.sig_len and sig.shape[1] != h.sig_len:
        raise RecordError(base, f"header announces {h.sig_len} samples per signal, wfdb read {sig.shape[1]}")
    sig = sig * _unit_scale([s.units for s in h.signals], base)[:, None]
    return _finish(sig, h.fs, [s.name for s in h.signals], base, record_id, patient_id,
                   parse_comments(h.comments), expected_fs, max_nonfinite)


def _finish(sig: np.ndarray, fs: float, leads: Sequence[str], path: Path, record_id: str | None,
            patient_id: str | None, metadata: dict[str, Any], expected_fs: Any,
            max_nonfinite: float) -> ECGRecord:
    if sig.ndim != 2 or sig.shape[1] == 0:
        raise RecordError(path, f"no samples (signal shape {sig.shape})")
    sig32, n_rep = repair_nonfinite(sig.astype(np.float32), max_fraction=max_nonfinite, path=path)
    rec = ECGRecord(signal=sig32, fs=fs, leads=tuple(leads), record_id=record_id or path.name,
                    patient_id=patient_id, metadata=metadata, path=str(path), n_repaired=n_rep)
    return check_fs(rec, expected_fs)


@register_reader("numpy")
def read_numpy(path: str | Path, *, fs: float, leads: Sequence[str] | None = None,
               units: str = "mV", record_id: str | None = None, patient_id: str | None = None,
               expected_fs: Any = None, max_nonfinite: float = 0.1) -> ECGRecord:
    """Read a ``.npy`` array of shape (leads, samples) or (samples, leads); ``fs`` is required."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise RecordError(path, "file is missing") from None
    except Exception as exc:
        raise RecordError(path, f"unreadable .npy file ({type(exc).__name__}: {exc})") from None
    return _from_array(arr, path, fs, leads, units, record_id, patient_id, expected_fs, max_nonfinite)


@register_reader("csv")
def read_csv_signal(path: str | Path, *, fs: float, leads: Sequence[str] | None = None,
                    units: str = "mV", record_id: str | None = None, patient_id: str | None = None,
                    expected_fs: Any = None, max_nonfinite: float = 0.1) -> ECGRecord:
    """Read a CSV with one column per lead (lead names in the header row), one row per sample."""
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise RecordError(path, "file is missing") from None
    except Exception as exc:
        raise RecordError(path, f"unreadable CSV ({type(exc).__name__}: {exc})") from None
    try:
        arr = df.to_numpy(dtype=np.float64).T
    except ValueError:
        raise RecordError(path, "CSV holds non-numeric values; expected one numeric column per lead") from None
    names = leads or [str(c) for c in df.columns]
    return _from_array(arr, path, fs, names, units, record_id, patient_id, expected_fs, max_nonfinite)


def _from_array(arr: np.ndarray, path: Path, fs: float, leads: Sequence[str] | None, units: str,
                record_id: str | None, patient_id: str | None, expected_fs: Any,
                max_nonfinite: float) -> ECGRecord:
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise RecordError(path, f"expected a 2-D array (leads, samples), got shape {arr.shape}")
    n_leads = len(leads) if leads else None
    if n_leads is not None and arr.shape[0] != n_leads and arr.shape[1] == n_leads:
        arr = arr.T
    elif n_leads is None and arr.shape[0] > arr.shape[1]:
        arr = arr.T  # (samples, leads): recordings are longer than they are wide
    if leads is None:
        if arr.shape[0] == 12:
            leads = LEADS_12
        else:
            raise RecordError(path, f"{arr.shape[0]} leads and no lead names; pass leads=[...]")
    scale = _unit_scale([units], path)[0]
    return _finish(arr.astype(np.float64) * scale, float(fs), leads, path, record_id or path.stem,
                   patient_id, {}, expected_fs, max_nonfinite)


_RECORD_NAME = re.compile(r"^[-\w]+$")


def write_wfdb(record: ECGRecord, directory: str | Path, *, name: str | None = None,
               adc_gain: float | None = None) -> Path:
    """Write a record as WFDB format 16 (gain 1000 adu/mV when the amplitudes allow); returns its path."""
    import wfdb

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = name or record.record_id
    if not _RECORD_NAME.match(name):
        raise RecordError(name, "WFDB record names may hold only letters, digits, '_' and '-'")
    peak = float(np.abs(record.signal).max()) if record.signal.size else 0.0
    gain = adc_gain or (1000.0 if peak < 32.0 else float(np.floor(32000.0 / peak)))
    digital = np.round(record.signal.T.astype(np.float64) * gain).astype(np.int16)
    comments = [f"{k}: {v}" for k, v in record.metadata.items() if v is not None and "\n" not in str(v)]
    wfdb.wrsamp(name, fs=record.fs, units=["mV"] * record.n_leads, sig_name=list(record.leads),
                d_signal=digital, fmt=["16"] * record.n_leads, adc_gain=[gain] * record.n_leads,
                baseline=[0] * record.n_leads, comments=comments, write_dir=str(directory))
    return directory / name
