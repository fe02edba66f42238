"""R peaks of a store's records, cached next to the store: beat-aligned windows and the measured heart rate.

A window that starts at an R peak puts the beat where a heart model's phase starts (McSharry's R wave sits at
theta = 0), and the median RR interval gives the rate the model should run at. :func:`store_r_peaks` finds
the peaks of one lead of every stored (preprocessed) record once and keeps them in ``r_peaks.npz`` in the
store folder, keyed by the store's source digest; :func:`beat_windows` turns them into window starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiofm.data.store import Store
from cardiofm.errors import ConfigError
from cardiofm.signal.record import normalise_lead_name

PEAKS_FILE = "r_peaks.npz"
DEFAULT_HR = 60.0  # bpm, for a record whose rate cannot be measured (fewer than two peaks)


@dataclass(frozen=True)
class StorePeaks:
    """R peaks of every store row (``offsets[i]:offsets[i + 1]`` into ``peaks``) and each row's heart rate."""

    peaks: np.ndarray
    offsets: np.ndarray
    hr: np.ndarray

    def of(self, row: int) -> np.ndarray:
        return self.peaks[self.offsets[row]:self.offsets[row + 1]]


def store_r_peaks(store: Store, lead: str = "II", *, progress: bool = False) -> StorePeaks:
    """The (cached) R peaks and heart rates of all records of ``store`` on ``lead``."""
    from cardiofm.physio.delineate import r_peaks

    name = normalise_lead_name(lead)
    if name not in store.leads:
        raise ConfigError(f"{store.path}: no lead {name} for R-peak detection (leads: {', '.join(store.leads)})")
    path, stamp = store.path / PEAKS_FILE, f"{store.manifest.get('source_sha1', '')}|{name}"
    if path.exists():
        from cardiofm.errors import FileFormatError
        from cardiofm.fileio import load_arrays

        try:
            z = load_arrays(path, "R-peak cache", ("stamp", "peaks", "offsets", "hr"))
        except FileFormatError:
            z = {}  # a damaged cache is computed again
        if z and str(z["stamp"]) == stamp and len(z["hr"]) == len(store):
            return StorePeaks(z["peaks"], z["offsets"], z["hr"])
    k = store.lead_index(name)[0]
    found, rates = [], []
    rows = range(len(store))
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="R peaks", unit="record")
    for i in rows:
        pk = r_peaks(np.asarray(store[i][k], dtype=np.float64), store.fs)
        found.append(pk.astype(np.int64))
        rr = np.diff(pk) / store.fs
        rates.append(60.0 / float(np.median(rr)) if len(rr) else DEFAULT_HR)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in found])]).astype(np.int64)
    out = StorePeaks(np.concatenate(found) if found else np.zeros(0, np.int64), offsets, np.asarray(rates))
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, peaks=out.peaks, offsets=out.offsets, hr=out.hr, stamp=np.array(stamp))
    tmp.replace(path)
    return out


def beat_start(peaks: np.ndarray, length: int, window: int, rng: np.random.Generator | None = None) -> int:
    """Start of a ``window``-sample window at an R peak: a random fitting peak with ``rng``, else the first;
    the centre of the record when no peak fits."""
    if window > length:
        raise ConfigError(f"a {window}-sample window does not fit in {length}-sample records")
    fits = peaks[(peaks >= 0) & (peaks + window <= length)]
    if not len(fits):
        return (length - window) // 2
    return int(rng.choice(fits)) if rng is not None else int(fits[0])


def beat_windows(store: Store, rows: np.ndarray, window: int, lead: str = "II") -> tuple[np.ndarray, np.ndarray]:
    """Starts (first fitting R peak) and heart rates of store ``rows``, for evaluation."""
    sp = store_r_peaks(store, lead)
    length = int(store.manifest["shape"][2])
    starts = np.array([beat_start(sp.of(int(r)), length, window) for r in rows], dtype=np.int64)
    return starts, sp.hr[np.asarray(rows, dtype=np.int64)]
