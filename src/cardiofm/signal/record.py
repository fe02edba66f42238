"""ECGRecord, the canonical lead order and lead-name normalisation.

The signal contract: ``float32``, shape ``(leads, samples)``, millivolts, lead names explicit,
sampling rate carried with the data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cardiofm.errors import LeadError, RecordError

LEADS_12: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

# Lower-case spellings seen in PhysioNet, CinC and vendor exports, mapped to the canonical name.
_ALIASES: dict[str, str] = {name.lower(): name for name in LEADS_12}
_ALIASES.update({"d1": "I", "d2": "II", "d3": "III", "di": "I", "dii": "II", "diii": "III"})
_ALIASES.update({"-avr": "aVR", "avr": "aVR", "avl": "aVL", "avf": "aVF"})
_PREFIX = re.compile(r"^(lead|ecg)[\s_\-:]*", re.IGNORECASE)


def normalise_lead_name(name: str, *, strict: bool = False) -> str:
    """Return the canonical spelling of a lead name (``"AVR"`` -> ``"aVR"``, ``"v1"`` -> ``"V1"``).

    Names outside the standard 12 (e.g. ``"MLII"``) are returned stripped but otherwise
    unchanged, unless ``strict`` is set, in which case a :class:`LeadError` is raised.
    """
    raw = str(name).strip()
    key = _PREFIX.sub("", raw).replace(" ", "").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if strict:
        raise LeadError("<lead names>", f"unknown lead name {name!r}; expected one of {', '.join(LEADS_12)}")
    return raw


def normalise_lead_names(names: Iterable[str], *, path: object = "<record>") -> tuple[str, ...]:
    """Normalise a list of lead names and reject duplicates (after normalisation)."""
    out = tuple(normalise_lead_name(n) for n in names)
    seen: set[str] = set()
    dups = sorted({n for n in out if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dups:
        raise LeadError(path, f"duplicated lead(s) {', '.join(dups)}; each lead may appear once")
    return out


def repair_nonfinite(signal: np.ndarray, *, neighbours: int = 3, max_fraction: float = 0.1,
                     path: object = "<record>") -> tuple[np.ndarray, int]:
    """Replace NaN/Inf samples by the mean of the nearest finite samples around them.

    SuPreME replaces each non-finite value by the average of 6 neighbouring points; here each run of
    non-finite samples takes the mean of up to ``neighbours`` finite samples on each side.
    Returns the repaired copy (or the input itself when nothing was wrong) and the count of
    repaired samples. A lead with more than ``max_fraction`` non-finite samples is not repairable
    and raises :class:`RecordError`.
    """
    bad = ~np.isfinite(signal)
    n_bad = int(bad.sum())
    if n_bad == 0:
        return signal, 0
    out = np.array(signal, dtype=np.float32, copy=True)
    for lead in np.flatnonzero(bad.any(axis=-1)):
        mask = bad[lead]
        frac = mask.mean()
        if frac > max_fraction:
            raise RecordError(path, f"lead index {lead} has {frac:.0%} NaN/Inf samples "
                                    f"(at most {max_fraction:.0%} can be repaired)")
        edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        good = np.flatnonzero(~mask)
        for a, b in zip(starts, stops, strict=True):
            left = good[(good < a)][-neighbours:]
            right = good[(good >= b)][:neighbours]
            idx = np.concatenate([left, right])
            out[lead, a:b] = out[lead, idx].mean() if idx.size else 0.0
    return out, n_bad


@dataclass
class ECGRecord:
    """One recording: signal ``(leads, samples)`` in mV at ``fs`` Hz plus identifiers and metadata."""

    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]
    record_id: str
    patient_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    n_repaired: int = 0

    def __post_init__(self) -> None:
        where = self.path or self.record_id
        sig = np.asarray(self.signal)
        if sig.ndim == 1:
            sig = sig[None, :]
        if sig.ndim != 2:
            raise RecordError(where, f"signal must be 2-D (leads, samples), got shape {sig.shape}")
        if not np.issubdtype(sig.dtype, np.number):
            raise RecordError(where, f"signal must be numeric, got dtype {sig.dtype}")
        self.signal = np.ascontiguousarray(sig, dtype=np.float32)
        self.leads = normalise_lead_names(self.leads, path=where)
        if len(self.leads) != self.signal.shape[0]:
            raise LeadError(where, f"{len(self.leads)} lead names for {self.signal.shape[0]} signal rows")
        if not np.isfinite(self.fs) or self.fs <= 0:
            raise RecordError(where, f"sampling rate must be positive, got {self.fs!r}")
        self.fs = float(self.fs)
        if not np.isfinite(self.signal).all():
            raise RecordError(where, "signal holds NaN/Inf; repair it with repair_nonfinite() first")

    @property
    def n_leads(self) -> int:
        return self.signal.shape[0]

    @property
    def n_samples(self) -> int:
        return self.signal.shape[1]

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.fs

    def lead(self, name: str) -> np.ndarray:
        """The samples of one lead, by (any spelling of) its name."""
        return self.signal[self._index(normalise_lead_name(name))]

    def _index(self, name: str) -> int:
        try:
            return self.leads.index(name)
        except ValueError:
            raise LeadError(self.path or self.record_id,
                            f"lead {name} is missing (record has {', '.join(self.leads)})") from None

    def select_leads(self, names: Sequence[str] = LEADS_12) -> ECGRecord:
        """A copy with only ``names``, in that order; raises :class:`LeadError` if one is missing."""
        wanted = [normalise_lead_name(n) for n in names]
        idx = [self._index(n) for n in wanted]
        return replace(self, signal=self.signal[idx], leads=tuple(wanted))

    def with_signal(self, signal: np.ndarray, fs: float | None = None) -> ECGRecord:
        """A copy with a new signal (same leads), e.g. after a transform."""
        return replace(self, signal=signal, fs=self.fs if fs is None else fs)
