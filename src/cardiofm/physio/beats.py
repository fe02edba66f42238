"""R-aligned beats and beat-level measurements: beat windows, the median (average) beat, the global
(multi-lead) QRS bounds of each beat and the amplitudes of the median beat.

Used by the feature extractor (:func:`cardiofm.physio.delineate.features`) and by the average-beat
explanations (SE-Diff, AnyECG-CCTA).
"""

from __future__ import annotations

import math

import numpy as np

from cardiofm.errors import ConfigError, RecordError
from cardiofm.signal.record import ECGRecord

# Global QRS bounds: spatial velocity smoothed over 16 ms, threshold 5% of its peak above rest.
# Chosen on synthetic ECGs with known QRS (+6..+12 ms) and PTB-XL (median QRS 90 ms in NORM records).
QRS_THRESHOLD = 0.05
QRS_SMOOTH_S = 0.016


def segment_beats(signal: np.ndarray, peaks: np.ndarray, before: int, after: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``signal[..., p - before : p + after]`` around each peak that fits inside the signal.

    ``signal`` is ``(leads, samples)``; ``peaks`` are sample indices (rounded to the nearest sample).
    Returns the windows ``(n_beats, leads, before + after)`` and the indices of the peaks kept.
    """
    x = np.asarray(signal)
    if x.ndim == 1:
        x = x[None]
    p = np.asarray(peaks, dtype=np.float64).ravel()
    p = p[np.isfinite(p)]
    p = np.round(p).astype(np.int64)
    keep = (p - before >= 0) & (p + after <= x.shape[-1])
    p = p[keep]
    if p.size == 0:
        return np.zeros((0, x.shape[0], before + after), dtype=np.float32), p
    idx = p[:, None] + np.arange(-before, after)[None, :]
    return np.ascontiguousarray(np.moveaxis(x[:, idx], 1, 0), dtype=np.float32), p


def _window(fs: float, before_s: float, after_s: float) -> tuple[int, int]:
    if not (np.isfinite(before_s) and np.isfinite(after_s)) or before_s < 0 or after_s < 0 \
            or before_s + after_s <= 0:
        raise ConfigError(f"beat window must be non-negative seconds with a positive total, "
                          f"got before_s={before_s!r}, after_s={after_s!r}")
    return int(round(before_s * fs)), int(round(after_s * fs))


def extract_beats(record: ECGRecord, r_peaks: np.ndarray | None = None, before_s: float = 0.25,
                  after_s: float = 0.45, *, lead: str = "II") -> np.ndarray:
    """R-aligned beats ``(n_beats, leads, n)`` of the record's signal as it is (no filtering).

    Each window starts ``before_s`` seconds before an R peak and ends ``after_s`` after it
    (``n = round(before_s * fs) + round(after_s * fs)`` samples, the R peak at index
    ``round(before_s * fs)``). Beats whose window does not fit inside the record are dropped, so the
    result may hold zero beats. ``r_peaks`` are sample indices; by default they are detected on
    ``lead`` with :func:`cardiofm.physio.delineate.r_peaks`.
    """
    before, after = _window(record.fs, before_s, after_s)
    if r_peaks is None:
        from cardiofm.physio.delineate import r_peaks as detect  # delineate imports this module

        r_peaks = detect(record.lead(lead), record.fs)
    beats, _ = segment_beats(record.signal, r_peaks, before, after)
    return beats


def average_beat(record: ECGRecord, r_peaks: np.ndarray | None = None, before_s: float = 0.25,
                 after_s: float = 0.45, *, lead: str = "II") -> np.ndarray:
    """The median beat ``(leads, n)``: sample-wise median across :func:`extract_beats`.

    Raises :class:`RecordError` when no beat fits (no R peak found, or the record is shorter
    than the window).
    """
    beats = extract_beats(record, r_peaks, before_s, after_s, lead=lead)
    if beats.shape[0] == 0:
        raise RecordError(record.path or record.record_id,
                          f"no complete beat of {before_s:g}+{after_s:g} s found for an average beat "
                          f"(record is {record.duration:.2f} s long); pass r_peaks or a shorter window")
    return np.median(beats, axis=0).astype(np.float32)


def beat_amplitudes(signal: np.ndarray, fs: float, leads: tuple[str, ...], r_peaks: np.ndarray,
                    qrs_onset: np.ndarray, qrs_offset: np.ndarray, t_offset: np.ndarray,
                    rr_ms: float = math.nan) -> dict[str, float]:
    """Per-lead amplitudes (mV) on the median beat of ``signal`` (leads, samples), a band-passed record.

    The fiducials are per-beat sample indices at ``fs`` (NaN where missing); their median offsets from
    the R peaks place the QRS and T windows on the median beat. The baseline of each lead is its mean
    over the 20 ms before QRS onset. Keys per lead: ``amp_r_<lead>`` (highest point of the QRS, >= 0),
    ``amp_s_<lead>`` (deepest point after it, <= 0), ``amp_st_<lead>`` (level at J + 60 ms),
    ``amp_t_<lead>`` (signed extreme from J + 40 ms to T offset) and ``area_qrs_<lead>`` (net QRS
    area, mV s). Without a T offset (or one < 100 ms after J) the T window ends where
    QT = 450 ms x sqrt(RR). Empty if no beat fits or the QRS bounds are unknown.
    """
    before, after = int(round(0.3 * fs)), int(round(0.65 * fs))
    beats, _ = segment_beats(signal, r_peaks, before, after)
    r = np.asarray(r_peaks, dtype=np.float64)

    def at(points: np.ndarray) -> float:  # median position of a fiducial on the median beat
        v = np.asarray(points, dtype=np.float64) - r
        v = v[np.isfinite(v)]
        return before + float(np.median(v)) if v.size else math.nan

    on, off, t_end = at(qrs_onset), at(qrs_offset), at(t_offset)
    if beats.shape[0] == 0 or not (np.isfinite(on) and np.isfinite(off)):
        return {}
    med = np.median(beats, axis=0)
    on, off = int(round(on)), int(round(off))
    if not np.isfinite(t_end) or t_end < off + 0.1 * fs:  # no (plausible) T offset
        t_end = on + 0.45 * math.sqrt(rr_ms / 1000.0) * fs if np.isfinite(rr_ms) else off + 0.35 * fs
    t_lo, t_hi = off + int(round(0.04 * fs)), min(int(round(t_end)), med.shape[-1] - 1)
    j60 = off + int(round(0.06 * fs))
    base = med[:, max(on - int(round(0.02 * fs)), 0):on + 1].mean(axis=-1)
    out: dict[str, float] = {}
    for k, name in enumerate(leads):
        b = med[k] - base[k]
        qrs = b[on:off + 1]
        top = int(np.argmax(qrs))
        out[f"amp_r_{name}"] = float(max(qrs[top], 0.0))
        out[f"amp_s_{name}"] = float(min((qrs[top:] if qrs[top] > 0 else qrs).min(), 0.0))
        out[f"amp_st_{name}"] = float(b[j60]) if j60 < len(b) else math.nan
        out[f"amp_t_{name}"] = float(b[t_lo:t_hi + 1][np.argmax(np.abs(b[t_lo:t_hi + 1]))]) if t_hi > t_lo \
            else math.nan
        out[f"area_qrs_{name}"] = float(qrs.sum() / fs)
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def qrs_bounds(signal: np.ndarray, fs: float, peaks: np.ndarray, threshold: float = QRS_THRESHOLD,
               gap_s: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Global QRS onset and offset per R peak from the spatial velocity of ``signal`` (leads, samples).

    Pass band-passed independent leads (I, II, V1-V6). Per beat the spatial velocity is searched
    0.2 s before to 0.25 s after the R peak (never past half-way to a neighbouring beat); onset and
    offset are the ends of the run above ``resting + threshold * (peak - resting)`` that holds the
    velocity peak near R, runs closer than ``gap_s`` merged. Returns float sample indices (NaN if none).
    """
    on, off, _ = qrs_scan(signal, fs, peaks, threshold, gap_s)
    return on, off


def qrs_scan(signal: np.ndarray, fs: float, peaks: np.ndarray, threshold: float,
              gap_s: float = 0.02) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`qrs_bounds` plus the peak spatial velocity of each beat (small at a cut or false beat)."""
    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))
    sv = np.sqrt((np.gradient(x, axis=-1) ** 2).sum(0)) * fs
    width = max(1, int(round(QRS_SMOOTH_S * fs)))
    sv = np.convolve(sv, np.ones(width) / width, mode="same")
    resting = float(np.percentile(sv, 20))
    peaks = np.asarray(peaks, dtype=np.int64)
    on, off, top_sv = np.full(len(peaks), np.nan), np.full(len(peaks), np.nan), np.full(len(peaks), np.nan)
    gap, near = int(round(gap_s * fs)), int(round(0.06 * fs))
    for i, r in enumerate(peaks):
        lo = r - int(0.2 * fs) if i == 0 else max(r - int(0.2 * fs), (peaks[i - 1] + r) // 2)
        hi = r + int(0.25 * fs) if i == len(peaks) - 1 else min(r + int(0.25 * fs), (r + peaks[i + 1]) // 2)
        lo, hi = max(lo, 0), min(hi, len(sv))
        if hi - lo < 3:
            continue
        seg = sv[lo:hi]
        a, b = max(r - near - lo, 0), min(r + near - lo, len(seg))
        top = a + int(np.argmax(seg[a:b]))
        top_sv[i] = seg[top]
        thr = resting + threshold * (seg[top] - resting)
        starts, stops = _runs(seg > thr)
        k = int(np.searchsorted(starts, top, side="right")) - 1
        s, e = starts[k], stops[k]
        j = k - 1
        while j >= 0 and s - stops[j] <= gap:
            s, j = starts[j], j - 1
        j = k + 1
        while j < len(starts) and starts[j] - e <= gap:
            e, j = stops[j], j + 1
        if s > 0 and e < len(seg):  # a run cut by the search window is not a bounded QRS
            on[i], off[i] = lo + s, lo + e - 1
    return on, off, top_sv
