"""Risk-group average beats (AnyECG-CCTA, "Explainability Analysis" and Figure 8).

Records are split into groups by a model's predicted probability (:func:`risk_groups`), R peaks are
found on each record, R-aligned beat windows are cut, z-scored per lead, averaged within each record
and then summarised per group as the mean and SD across records, lead by lead.

Choices (the paper leaves them open):

* **z-score per beat** (default, ``zscore="beat"``): each beat window is standardised per lead by its
  own mean and SD, as the paper describes ("heartbeat segments ... normalized by z-score for each
  lead"). This removes baseline offsets and gain differences between beats and patients, so the
  groups are compared on waveform *shape*. ``zscore="record"`` instead standardises each lead over the
  whole record before cutting (the scaling the model input gets, which keeps the relative size of the
  waves within a record); ``zscore=False`` keeps millivolts.
* **Each patient weighs once**: the beats of a record are first reduced to its median beat (robust to
  ectopic or noisy beats; ``record_average="mean"`` is available), then the group mean and SD
  (``ddof=1``; NaN for a group of one record) are taken across those per-record beats.
* **R peaks** come from :func:`cardiofm.physio.delineate.r_peaks` (neurokit2, band-passed internally,
  so raw signals are fine) on ``rpeak_lead`` (lead II in the paper). When that lead gives too few peaks
  (fewer than ``min_beats``, or a rate below 30 bpm over the record), the leads of ``FALLBACK_LEADS``
  are tried in turn; a record where none works is counted as *dropped* in its group, never an error.
  ``r_peaks`` marks a lead's dominant deflection, so a fallback to a lead with a mostly negative QRS
  aligns that record on its S wave; the fallback order therefore prefers leads with tall R waves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardiofm.errors import ConfigError, LeadError
from cardiofm.physio.beats import segment_beats
from cardiofm.signal.record import normalise_lead_name, normalise_lead_names
from cardiofm.signal.transforms import bandpass, valid_rate
from cardiofm.signal.transforms import zscore as zscore_last_axis

HIGH, LOW = "high risk", "low risk"
# Leads tried, in order, when the R-peak lead gives too few peaks: tall-R leads first.
FALLBACK_LEADS: tuple[str, ...] = ("II", "I", "V5", "V6", "V4", "aVF", "III", "V3", "aVL", "V2", "aVR", "V1")
ZSCORE_MODES = ("beat", "record")
RECORD_AVERAGES = ("median", "mean")
MIN_RATE_BPM = 30.0


def risk_groups(prob: Any, threshold: float, *, labels: tuple[str, str] = (HIGH, LOW)) -> np.ndarray:
    """Label each record ``labels[0]`` (``prob >= threshold``) or ``labels[1]`` (below it).

    The paper calls a record high risk at a predicted probability of at least 15 % (LAD, LCX, RCA) or
    1 % (LM). A thin wrapper over :func:`cardiofm.evaluate.thresholds.risk_groups` with the names
    (high first) the beat plots use.
    """
    from cardiofm.evaluate.thresholds import risk_groups as split

    if len(labels) != 2 or labels[0] == labels[1]:
        raise ConfigError(f"labels must be two different names (high, low), got {labels!r}")
    return split(prob, threshold, labels=(str(labels[1]), str(labels[0])))


@dataclass
class GroupBeats:
    """Per-group average beats: mean and SD across records of the per-record (z-scored) beats.

    Attributes:
        groups: group names, in plotting order (high risk first when the labels are the defaults).
        leads: lead names, in the order of the input signals.
        fs: sampling rate (Hz).
        time_s: ``(n,)`` time of each window sample relative to the R peak, in seconds (0 at R).
        mean: per group, ``(leads, n)`` mean across records (NaN for a group without usable records).
        sd: per group, ``(leads, n)`` SD across records (``ddof=1``; NaN with fewer than two records).
        n_records: per group, records that gave at least one beat.
        n_beats: per group, beats used over all its records.
        dropped: per group, records without a usable beat (no R peaks, too short, NaN/Inf).
        fallback: per group, records whose R peaks came from a lead other than ``rpeak_lead``.
        records: per group, ``(n_records, leads, n)`` the per-record average beats.
        record_index: per group, indices (into the input) of the records in ``records``.
        dropped_records: per group, indices of the dropped records.
        zscore: ``"beat"``, ``"record"`` or ``None`` (millivolts).
        rpeak_lead: the lead R peaks were detected on first.
        record_average: ``"median"`` or ``"mean"`` (how beats were reduced within a record).
    """

    groups: tuple[str, ...]
    leads: tuple[str, ...]
    fs: float
    time_s: np.ndarray
    mean: dict[str, np.ndarray]
    sd: dict[str, np.ndarray]
    n_records: dict[str, int]
    n_beats: dict[str, int]
    dropped: dict[str, int]
    fallback: dict[str, int]
    records: dict[str, np.ndarray] = field(repr=False)
    record_index: dict[str, np.ndarray] = field(repr=False)
    dropped_records: dict[str, list[int]] = field(repr=False)
    zscore: str | None = "beat"
    rpeak_lead: str = "II"
    record_average: str = "median"

    @property
    def before_s(self) -> float:
        """Window length before the R peak (s)."""
        return float(-self.time_s[0]) if self.time_s.size else 0.0

    def _pair(self, first: str | None, second: str | None) -> tuple[str, str]:
        if first is None and second is None:
            if HIGH in self.groups and LOW in self.groups:
                return HIGH, LOW
            if len(self.groups) == 2:
                return self.groups[0], self.groups[1]
            raise ConfigError(f"difference() needs two groups; there are {len(self.groups)} "
                              f"({', '.join(self.groups)}): pass first= and second=")
        for g in (first, second):
            if g not in self.groups:
                raise ConfigError(f"unknown group {g!r}; groups are {', '.join(self.groups)}")
        return str(first), str(second)

    def difference(self, first: str | None = None, second: str | None = None) -> np.ndarray:
        """``mean[first] - mean[second]`` ``(leads, n)``; by default high risk minus low risk.

        Without arguments: ``"high risk" - "low risk"`` when both exist, else the first minus the
        second of exactly two groups.
        """
        a, b = self._pair(first, second)
        return self.mean[a] - self.mean[b]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: counts, settings and, for two groups, the largest difference per lead."""
        out: dict[str, Any] = {
            "groups": list(self.groups), "leads": list(self.leads), "fs": self.fs,
            "window_s": [round(float(self.time_s[0]), 4) if self.time_s.size else 0.0,
                         round(float(self.time_s[-1] + 1.0 / self.fs), 4) if self.time_s.size else 0.0],
            "zscore": self.zscore, "rpeak_lead": self.rpeak_lead, "record_average": self.record_average,
            "n_records": dict(self.n_records), "n_beats": dict(self.n_beats), "dropped": dict(self.dropped),
            "fallback": dict(self.fallback),
        }
        try:
            a, b = self._pair(None, None)
        except ConfigError:
            return out
        diff = self.difference(a, b)
        largest: dict[str, Any] = {}
        for k, lead in enumerate(self.leads):
            d = diff[k]
            if not np.isfinite(d).any():
                largest[lead] = None
                continue
            i = int(np.nanargmax(np.abs(d)))
            largest[lead] = {"value": round(float(d[i]), 4), "time_ms": round(float(self.time_s[i] * 1000.0), 1)}
        out["difference"] = {"first": a, "second": b, "largest_by_lead": largest}
        return out


def _as_float_array(x: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be numeric, got {type(x).__name__}") from None


def as_records(signals: Any, leads: Sequence[str]) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Validate ``signals`` (``(n, leads, samples)`` array or a list of ``(leads, samples_i)`` arrays).

    Returns the records as a list of float32 ``(leads, samples_i)`` arrays and the normalised lead names.
    Raises :class:`ConfigError` for a wrong shape and :class:`LeadError` for lead names that do not match.
    """
    names = normalise_lead_names(leads, path="<leads>")
    if isinstance(signals, np.ndarray) or not isinstance(signals, Sequence):
        arr = _as_float_array(signals, "signals")
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3:
            raise ConfigError(f"signals must be (records, leads, samples), got shape {arr.shape}")
        recs = [arr[i].astype(np.float32) for i in range(arr.shape[0])]
    else:
        recs = []
        for i, s in enumerate(signals):
            a = _as_float_array(s, f"signals[{i}]")
            if a.ndim != 2:
                raise ConfigError(f"signals[{i}] must be (leads, samples), got shape {a.shape}")
            recs.append(a.astype(np.float32))
    for i, r in enumerate(recs):
        if r.shape[0] != len(names):
            raise LeadError(f"signals[{i}]", f"has {r.shape[0]} leads but leads= names {len(names)} "
                                             f"({', '.join(names)})")
    return recs, names


def detect_r_peaks(signal: np.ndarray, fs: float, leads: Sequence[str], *, rpeak_lead: str = "II",
                   min_beats: int = 3) -> tuple[np.ndarray, str | None]:
    """R peaks of one record ``(leads, samples)``: on ``rpeak_lead``, else the first fallback lead that works.

    A lead "works" when it gives at least ``min_beats`` peaks and at least one per 2 s (30 bpm).
    Fallbacks are ``FALLBACK_LEADS`` present in the record, then its other leads. Returns the peak
    sample indices and the lead they came from, or an empty array and ``None`` (flat, too short or
    non-finite signal).
    """
    from cardiofm.physio.delineate import r_peaks

    x = np.asarray(signal, dtype=np.float64)
    names = tuple(normalise_lead_name(n) for n in leads)
    first = normalise_lead_name(rpeak_lead)
    if first not in names:
        raise LeadError("<leads>", f"R-peak lead {rpeak_lead!r} is not among the leads ({', '.join(names)}); "
                                   f"pass rpeak_lead= one of them")
    fs = valid_rate(fs)
    need = max(int(min_beats), int(math.floor(x.shape[-1] / fs * MIN_RATE_BPM / 60.0)))
    order = [first] + [n for n in FALLBACK_LEADS if n in names and n != first]
    order += [n for n in names if n not in order]
    for name in order:
        lead = x[names.index(name)]
        if not np.isfinite(lead).all():
            continue
        peaks = r_peaks(lead, fs)
        if len(peaks) >= need:
            return peaks, name
    return np.zeros(0, dtype=np.int64), None


def _window(fs: float, before_s: float, after_s: float) -> tuple[int, int]:
    ok = all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in (before_s, after_s))
    if not ok or before_s + after_s <= 0:
        raise ConfigError(f"beat window must be non-negative seconds with a positive total, "
                          f"got before_s={before_s!r}, after_s={after_s!r}")
    before, after = int(round(before_s * fs)), int(round(after_s * fs))
    if before + after < 2:
        raise ConfigError(f"beat window {before_s:g}+{after_s:g} s is under 2 samples at {fs:g} Hz")
    return before, after


def _zscore_mode(zscore: bool | str | None) -> str | None:
    if zscore is True:
        return "beat"
    if zscore is False or zscore is None:
        return None
    if zscore not in ZSCORE_MODES:
        raise ConfigError(f"zscore must be True/'beat', 'record' or False, got {zscore!r}")
    return str(zscore)


def cut_beats(x: np.ndarray, peaks: np.ndarray, before: int, after: int, zscore: str | None) -> np.ndarray:
    """R-aligned windows ``(n_beats, leads, before + after)`` of one record, z-scored as ``zscore`` says."""
    if zscore == "record":
        x = zscore_last_axis(x)
    beats, _ = segment_beats(x, peaks, before, after)
    if zscore == "beat" and beats.shape[0]:
        beats = zscore_last_axis(beats)
    return beats


def _group_order(labels: np.ndarray, order: Sequence[str] | None) -> tuple[str, ...]:
    present = list(dict.fromkeys(labels.tolist()))
    if order is None:
        known = [g for g in (HIGH, LOW) if g in present]
        return tuple(known + [g for g in present if g not in known])
    order = tuple(str(g) for g in order)
    missing = [g for g in present if g not in order]
    if missing:
        raise ConfigError(f"order= leaves out group(s) {', '.join(missing)} present in groups")
    return order


def group_average_beats(signals: Any, fs: float, groups: Any, *, leads: Sequence[str], before_s: float = 0.25,
                        after_s: float = 0.45, rpeak_lead: str = "II", zscore: bool | str = True,
                        record_average: str = "median", band: tuple[float, float] | None = None,
                        min_beats: int = 3, peaks: Sequence[np.ndarray] | None = None,
                        order: Sequence[str] | None = None) -> GroupBeats:
    """Mean and SD per group of the R-aligned, z-scored average beats of each record (see module notes).

    Args:
        signals: ``(n, leads, samples)`` ECGs in mV (raw or filtered), or a list of ``(leads, samples_i)``.
        fs: sampling rate (Hz).
        groups: one group label per record (e.g. from :func:`risk_groups`).
        leads: lead names of the signals, kept in this order in the result.
        before_s, after_s: window around each R peak (s); the R peak sits at ``time_s == 0``.
        rpeak_lead: lead the R peaks are detected on (fallbacks: ``FALLBACK_LEADS``).
        zscore: ``True``/``"beat"`` (each beat window per lead), ``"record"`` (each lead over the record)
            or ``False`` (mV).
        record_average: ``"median"`` or ``"mean"`` of the beats within a record.
        band: optional ``(low, high)`` Hz band-pass applied to the signals before cutting the beats
            (peak detection always band-passes).
        min_beats: a lead giving fewer R peaks than this counts as failed.
        peaks: R-peak sample indices per record, to skip detection.
        order: group order in the result (default: high risk, low risk, then the others as they appear).

    Raises:
        ConfigError: bad shapes, window, options or group labels; LeadError: unknown ``rpeak_lead``.
    """
    fs = valid_rate(fs)
    recs, names = as_records(signals, leads)
    labels = np.asarray(groups, dtype=object).ravel()
    if labels.shape[0] != len(recs):
        raise ConfigError(f"groups has {labels.shape[0]} labels for {len(recs)} records; give one per record")
    bad = [i for i, g in enumerate(labels) if g is None or (isinstance(g, float) and math.isnan(g))]
    if bad:
        raise ConfigError(f"groups: record {bad[0]} has no group label ({len(bad)} records in all)")
    labels = np.array([str(g) for g in labels], dtype=str)
    if peaks is not None and len(peaks) != len(recs):
        raise ConfigError(f"peaks has {len(peaks)} entries for {len(recs)} records")
    before, after = _window(fs, before_s, after_s)
    mode = _zscore_mode(zscore)
    if record_average not in RECORD_AVERAGES:
        raise ConfigError(f"record_average must be one of {', '.join(RECORD_AVERAGES)}, got {record_average!r}")
    first = normalise_lead_name(rpeak_lead)
    if first not in names:
        raise LeadError("<leads>", f"R-peak lead {rpeak_lead!r} is not among the leads ({', '.join(names)}); "
                                   f"pass rpeak_lead= one of them")
    reduce = np.median if record_average == "median" else np.mean
    order_ = _group_order(labels, order)
    per: dict[str, list[np.ndarray]] = {g: [] for g in order_}
    index: dict[str, list[int]] = {g: [] for g in order_}
    dropped: dict[str, list[int]] = {g: [] for g in order_}
    n_beats = dict.fromkeys(order_, 0)
    fallback = dict.fromkeys(order_, 0)
    for i, (x, g) in enumerate(zip(recs, labels, strict=True)):
        if not np.isfinite(x).all():  # a record with NaN/Inf samples is left out, not repaired
            dropped[g].append(i)
            continue
        if peaks is not None:
            p, used = np.asarray(peaks[i]), first
        else:
            p, used = detect_r_peaks(x, fs, names, rpeak_lead=first, min_beats=min_beats)
        y = bandpass(x, fs, band[0], band[1], order=2) if band is not None and x.shape[-1] > 1 else x
        beats = cut_beats(y, p, before, after, mode)
        if beats.shape[0] == 0:
            dropped[g].append(i)
            continue
        per[g].append(reduce(beats, axis=0).astype(np.float32))
        index[g].append(i)
        n_beats[g] += int(beats.shape[0])
        fallback[g] += int(used != first)
    width = before + after
    mean, sd, records = {}, {}, {}
    for g in order_:
        stack = np.stack(per[g]) if per[g] else np.zeros((0, len(names), width), dtype=np.float32)
        records[g] = stack
        nan = np.full((len(names), width), np.nan, dtype=np.float32)
        mean[g] = stack.mean(axis=0).astype(np.float32) if len(stack) else nan
        sd[g] = stack.std(axis=0, ddof=1).astype(np.float32) if len(stack) > 1 else nan.copy()
    return GroupBeats(groups=order_, leads=names, fs=fs, time_s=(np.arange(width) - before) / fs, mean=mean,
                      sd=sd, n_records={g: len(per[g]) for g in order_}, n_beats=n_beats,
                      dropped={g: len(dropped[g]) for g in order_}, fallback=fallback, records=records,
                      record_index={g: np.asarray(index[g], dtype=np.int64) for g in order_},
                      dropped_records=dropped, zscore=mode, rpeak_lead=first, record_average=record_average)


__all__ = ["FALLBACK_LEADS", "GroupBeats", "as_records", "cut_beats", "detect_r_peaks", "group_average_beats",
           "risk_groups"]
