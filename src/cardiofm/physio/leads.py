"""Lead algebra: the 3-D dipole to the 12 standard leads, and a fast synthetic 12-lead ECG.

Projection. Dower's transform gives the eight independent leads (I, II, V1-V6) as weighted sums of
Frank's X, Y, Z (Dower, Machado & Osborne 1980, "On deriving the electrocardiogram from
vectorcardiographic leads", Clin Cardiol 3:87-95). Its inverse, the "inverse Dower" matrix of Edenbrandt
& Pahlm (1988, "Vectorcardiogram synthesized from a 12-lead ECG: superiority of the inverse Dower
matrix", J Electrocardiol 21(4):361-367), maps those eight leads back to X, Y, Z; it is the
pseudo-inverse of Dower's matrix rounded to three decimals (checked in the tests). The coefficients
below were taken from Clifford's DOWER code notes for Bailon, Laguna & Sornmo's chapter 8 of Clifford,
Azuaje & McSharry (eds.) 2006, "Advanced Methods and Tools for ECG Data Analysis" (forward matrix), and
from BRAVEHEART's ``dowermatrix.m`` (Stabenau & Waks; inverse matrix).

The four other limb leads are derived from I and II, III = II - I, aVR = -(I + II)/2, aVL = I - II/2,
aVF = II - I/2, so Einthoven's and Goldberger's identities hold by construction (to float rounding).

Gains that keep the identities: a global ``gain`` (scales the dipole: every lead), ``limb_gain``
(scales I and II before the four others are derived, hence all six limb leads alike) and
``precordial_gain`` (a scalar or one value per V lead; the chest leads obey no identity among
themselves). Scaling a derived limb lead on its own would break the identities and is not offered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cardiofm.errors import ConfigError
from cardiofm.physio.dipole import DipoleParams
from cardiofm.physio.rr import beat_onsets, phase_from_rr, r_times, rr_process
from cardiofm.signal.record import LEADS_12, ECGRecord

# Dower's matrix: rows V1..V6, I, II; columns X, Y, Z (mV per mV).
DOWER_MATRIX = np.array([
    [-0.515, 0.157, -0.917],  # V1
    [0.044, 0.164, -1.387],   # V2
    [0.882, 0.098, -1.277],   # V3
    [1.213, 0.127, -0.601],   # V4
    [1.125, 0.127, -0.086],   # V5
    [0.831, 0.076, 0.230],    # V6
    [0.632, -0.235, 0.059],   # I
    [0.235, 1.066, -0.132],   # II
])
DOWER_LEADS: tuple[str, ...] = ("V1", "V2", "V3", "V4", "V5", "V6", "I", "II")

# Edenbrandt & Pahlm's inverse Dower matrix: rows X, Y, Z; columns V1..V6, I, II.
INVERSE_DOWER_MATRIX = np.array([
    [-0.172, -0.074, 0.122, 0.231, 0.239, 0.194, 0.156, -0.010],  # X
    [0.057, -0.019, -0.106, -0.022, 0.041, 0.048, -0.227, 0.887],  # Y
    [-0.229, -0.310, -0.246, -0.063, 0.055, 0.108, 0.022, 0.102],  # Z
])


def limb_leads(lead_i: np.ndarray, lead_ii: np.ndarray) -> np.ndarray:
    """(6, ...) I, II, III, aVR, aVL, aVF from I and II (Einthoven and Goldberger exactly)."""
    return np.stack([lead_i, lead_ii, lead_ii - lead_i, -(lead_i + lead_ii) / 2, lead_i - lead_ii / 2,
                     lead_ii - lead_i / 2])


def project(dipole_xyz: np.ndarray, *, limb_gain: float = 1.0,
            precordial_gain: float | Sequence[float] = 1.0) -> np.ndarray:
    """Dipole ``(..., 3, n)`` (X, Y, Z mV) -> 12 leads ``(..., 12, n)`` in ``LEADS_12`` order (float64)."""
    d = np.asarray(dipole_xyz, dtype=np.float64)
    if d.ndim < 2 or d.shape[-2] != 3:
        raise ConfigError(f"project: dipole must have shape (..., 3, n), got {d.shape}")
    eight = np.einsum("lk,...kn->...ln", DOWER_MATRIX, d)
    gains = np.broadcast_to(np.asarray(precordial_gain, dtype=np.float64), (6,))
    chest = eight[..., :6, :] * gains[:, None]
    limbs = limb_leads(limb_gain * eight[..., 6, :], limb_gain * eight[..., 7, :])
    return np.concatenate([np.moveaxis(limbs, 0, -2), chest], axis=-2)


def to_vcg(signal_12: np.ndarray) -> np.ndarray:
    """12 leads ``(..., 12, n)`` in ``LEADS_12`` order -> X, Y, Z ``(..., 3, n)`` by the inverse Dower matrix."""
    s = np.asarray(signal_12, dtype=np.float64)
    eight = s[..., [LEADS_12.index(name) for name in DOWER_LEADS], :]
    return np.einsum("kl,...ln->...kn", INVERSE_DOWER_MATRIX, eight)


def rotation_matrix(rotation_deg: Sequence[float]) -> np.ndarray:
    """Rotation by (rx, ry, rz) degrees about X, then Y, then Z: ``Rz @ Ry @ Rx``.

    A positive rz turns +X towards +Y (left towards the feet): the frontal QRS axis moves by +rz degrees
    (clockwise on the hexaxial diagram, towards right axis deviation); rx turns +Y towards +Z and ry
    turns +Z towards +X.
    """
    rx, ry, rz = (math.radians(float(v)) for v in rotation_deg)
    cx, sx, cy, sy, cz, sz = math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry), math.cos(rz), math.sin(rz)
    mx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    my = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    mz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return mz @ my @ mx


def simulate_12lead(duration_s: float, fs: float, hr_mean: float = 60.0, hr_std: float = 1.0,
                    params: DipoleParams | None = None, rotation_deg: Sequence[float] = (0.0, 0.0, 0.0),
                    rng: np.random.Generator | int | None = None, *, theta0: float | None = None,
                    rr: np.ndarray | None = None, gain: float = 1.0, limb_gain: float = 1.0,
                    precordial_gain: float | Sequence[float] = 1.0, record_id: str = "synthetic",
                    extra_dipole: np.ndarray | None = None, beat_params: dict[int, DipoleParams] | None = None,
                    ) -> ECGRecord:
    """A noise-free synthetic 12-lead ECG (float32 mV, ``LEADS_12``) with its ground truth.

    RR intervals from McSharry's RR process (ECGSYN's LF/HF defaults) unless ``rr`` is given; phase
    from :func:`phase_from_rr` (``theta0`` drawn uniformly from ``rng`` when None); dipole from
    ``params`` (default :meth:`DipoleParams.normal`) with its waves scaled to ``hr_mean``; rotated by
    ``rotation_deg`` (see :func:`rotation_matrix`) and projected by :func:`project`.

    ``metadata`` holds the ground truth: ``rr`` (s, intervals starting at each R fiducial in the
    record), ``r_peaks`` (samples where the phase crosses 0, the R-wave centre), ``intervals`` (PR,
    QRS, QT, RR in ms at ``hr_mean``, from :meth:`DipoleParams.intervals`), ``hr_mean``, ``hr_std``,
    ``rotation_deg``, ``theta0``.

    ``extra_dipole`` ``(3, n)`` (mV) is added to the heart's dipole before rotation and projection (e.g.
    atrial fibrillatory waves), so the lead identities still hold. ``beat_params`` maps beat numbers
    (0 = the beat in progress at the first sample) to other parameters for those beats only (e.g.
    ectopic beats); beats change at phase +-pi, in diastole.
    """
    n = int(round(duration_s * fs))
    if n < 2:
        raise ConfigError(f"simulate_12lead: duration_s * fs must give at least 2 samples, got {n}")
    params = DipoleParams.normal() if params is None else params
    rng = np.random.default_rng(rng)
    if theta0 is None:
        theta0 = float(rng.uniform(-math.pi, math.pi))
    if rr is None:
        n_beats = int(math.ceil(duration_s * hr_mean / 60.0 * 1.3)) + 3
        rr = rr_process(n_beats, hr_mean, hr_std, rng=rng)
    rr = np.asarray(rr, dtype=np.float64)
    theta = phase_from_rr(rr, fs, n, theta0)
    xyz = params.dipole(theta, hr_mean)
    if beat_params:
        beat = np.concatenate([[0], np.cumsum(np.diff(theta) < -math.pi)])
        for k, other in beat_params.items():
            mask = beat == k
            if mask.any():
                xyz[:, mask] = other.dipole(theta[mask], hr_mean)
    if extra_dipole is not None:
        xyz = xyz + np.asarray(extra_dipole, dtype=np.float64)
    xyz = xyz * gain
    xyz = rotation_matrix(rotation_deg) @ xyz
    signal = project(xyz, limb_gain=limb_gain, precordial_gain=precordial_gain).astype(np.float32)
    r_peaks = beat_onsets(theta, 0.0)
    in_record = int(np.searchsorted(r_times(rr, theta0), (n - 1) / fs, side="right"))
    meta = {"rr": rr[:in_record], "r_peaks": r_peaks,
            "intervals": params.intervals(hr_mean).as_dict(), "hr_mean": float(hr_mean),
            "hr_std": float(hr_std), "rotation_deg": tuple(float(v) for v in rotation_deg), "theta0": theta0}
    return ECGRecord(signal=signal, fs=fs, leads=LEADS_12, record_id=record_id, metadata=meta)


def identity_residual(signal: np.ndarray, leads: Sequence[str] = LEADS_12) -> float:
    """Largest violation (mV) of Einthoven (I - II + III = 0) and Goldberger's three identities.

    NaN when one of the six limb leads is missing.
    """
    names = list(leads)
    if not all(n in names for n in LEADS_12[:6]):
        return float("nan")
    i, ii, iii, avr, avl, avf = (np.asarray(signal[names.index(n)], dtype=np.float64) for n in LEADS_12[:6])
    return float(max(np.abs(i - ii + iii).max(), np.abs(avr + (i + ii) / 2).max(),
                     np.abs(avl - (i - ii / 2)).max(), np.abs(avf - (ii - i / 2)).max()))
