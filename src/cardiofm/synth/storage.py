"""Writing synthetic records so that the lead identities survive quantisation exactly.

Stored at 2000 adu/mV with leads I and II rounded to even numbers of adu (a resolution of 1 uV,
as PTB-XL's 1000 adu/mV), the four derived limb leads are whole numbers of adu:
III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2. Einthoven's and Goldberger's
identities therefore hold exactly in the stored integers, not only up to rounding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiofm.data.io import write_wfdb
from cardiofm.errors import RecordError
from cardiofm.signal.record import LEADS_12, ECGRecord

ADC_GAIN = 2000.0  # adu per mV


def quantise_consistent(signal: np.ndarray) -> np.ndarray:
    """(12, n) mV in ``LEADS_12`` order -> int16 adu at :data:`ADC_GAIN`, limb identities exact."""
    if signal.shape[0] != 12:
        raise RecordError("<synthetic>", f"expected 12 leads in LEADS_12 order, got {signal.shape[0]}")
    x = signal.astype(np.float64)
    peak = np.abs(x).max() if x.size else 0.0
    if peak * ADC_GAIN * 1.5 >= 32767:
        raise RecordError("<synthetic>", f"amplitude {peak:.1f} mV does not fit int16 at {ADC_GAIN:g} adu/mV")
    d = np.empty(x.shape, dtype=np.int64)
    d[0] = 2 * np.round(x[0] * ADC_GAIN / 2)
    d[1] = 2 * np.round(x[1] * ADC_GAIN / 2)
    d[2] = d[1] - d[0]
    d[3] = -(d[0] + d[1]) // 2
    d[4] = d[0] - d[1] // 2
    d[5] = d[1] - d[0] // 2
    d[6:] = np.round(x[6:] * ADC_GAIN)
    return d.astype(np.int16)


def write_consistent(record: ECGRecord, directory: str | Path, name: str) -> Path:
    """Write a 12-lead record (any lead order with all 12 present) via :func:`quantise_consistent`."""
    rec = record.select_leads(LEADS_12)
    digital = quantise_consistent(rec.signal)
    exact = ECGRecord(signal=digital.astype(np.float64) / ADC_GAIN, fs=rec.fs, leads=LEADS_12,
                      record_id=rec.record_id, metadata=rec.metadata)
    return write_wfdb(exact, directory, name=name, adc_gain=ADC_GAIN)
