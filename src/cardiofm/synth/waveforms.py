"""Conditions -> waveform: how each synthetic condition changes the heart's dipole and rhythm.

The normal heart is :meth:`cardiofm.physio.dipole.DipoleParams.normal` (Frank axes: +X to the
patient's left, +Y to the feet, +Z to the back; the chest leads V1-V3 look from the front, -Z).
Each condition edits that dipole the way the disease changes the heart's electrical vector, so the
12 leads change in the leads that face it, and the lead identities still hold:

- rate: SBRAD 40-57 bpm, STACH 102-140 bpm, SR 60-98 bpm, SARRH a large respiratory RR variation;
- AFIB: no P wave, RR intervals drawn independently (gamma, coefficient of variation 0.15-0.3),
  fibrillatory waves (4-9 Hz, 0.03-0.1 mV) added to the dipole, mostly along the atrial axis;
- 1AVB: the P wave moved earlier so that PR is 210-320 ms;
- CLBBB: no septal q, a wide (QRS 130-170 ms) leftward-posterior QRS (broad R in I, aVL, V5-V6,
  QS in V1-V3) with a notch, and a T vector opposite to the QRS (secondary ST-T change);
- CRBBB / IRBBB: a late rightward-anterior R' term (rsR' in V1-V2, wide S in I and V6), QRS 125-150 ms
  (complete) or 100-115 ms (incomplete); T opposite to R' in V1-V3 for CRBBB;
- LAFB: QRS forces turned superiorly (frontal QRS axis about -45 to -75 degrees);
- LVH: QRS voltage x1.6-2.2 (Sokolow-Lyon above 3.5 mV) with a lateral strain pattern half the time;
- IMI / ASMI+AMI / LMI: a wide initial force pointing away from the territory (pathological Q in
  II/III/aVF, V1-V4, or I/aVL/V5-V6), a smaller R there and a T turned away from it;
- STD_ / ISC_: an ST-segment term (J+40 to J+160 ms) that depresses ST in the lateral and inferior leads;
- INVT: T vector inverted towards the right and up (negative T in I, II, aVF, V4-V6);
- LNGQT: the T wave moved later and widened, QTc 480-560 ms;
- PVC / PAC: 1-3 premature beats (coupling 55-75 % of the RR); a PVC is a wide QRS with no P and a
  discordant T followed by a compensatory pause, a PAC a normal QRS after a differently pointing P.

Amplitudes are in mV, angles in degrees, times in ms. These are our modelling choices, made to
reproduce the textbook criteria above; they are not fitted to recordings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardiofm.physio.dipole import DipoleParams
from cardiofm.physio.rr import TWO_PI, rr_process

X, Y, Z = np.eye(3)
INFERIOR, ANTERIOR, LATERAL = Y, -Z, X / 1.0  # directions the territories' leads look from
QRS_WAVES = ("Q", "R", "S")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@dataclass
class WaveformPlan:
    """Everything needed to render one record of given conditions."""

    dipole: DipoleParams
    hr_mean: float
    hr_std: float = 1.0
    rr: np.ndarray | None = None
    rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gain: float = 1.0
    af_amplitude: float = 0.0
    ectopic: dict[int, DipoleParams] = field(default_factory=dict)
    truth: dict[str, Any] = field(default_factory=dict)


def _rotate_waves(dp: DipoleParams, waves: tuple[str, ...], deg: float) -> None:
    """Turn the frontal-plane (X, Y) part of some waves' vectors by ``deg`` (positive: towards +Y)."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    for w in waves:
        i = dp.wave_index(w)
        dp.a[:, i] = rot @ dp.a[:, i]


def _shift_pr(dp: DipoleParams, target_pr_ms: float, hr: float) -> None:
    """Move the P wave so that PR (dipole convention) equals ``target_pr_ms``."""
    delta_ms = target_pr_ms - dp.intervals(hr).pr_ms
    dp.theta[:, dp.wave_index("P")] -= TWO_PI * delta_ms / 1000.0  # P times do not scale with rate


def _wide_qrs(dp: DipoleParams, factor: float) -> None:
    for w in QRS_WAVES:
        i = dp.wave_index(w)
        dp.b[:, i] *= factor
        dp.theta[:, i] *= factor


def _infarct(dp: DipoleParams, territory: np.ndarray, rng: np.random.Generator) -> None:
    """Pathological Q (initial force away from the territory), reduced R and T turned away from it."""
    q = dp.wave_index("Q")
    dp.a[:, q] = -_unit(territory) * rng.uniform(0.35, 0.6) + 0.3 * dp.a[:, q]
    dp.b[:, q] = dp.b[:, q] * 1.6
    dp.theta[:, q] = dp.theta[:, q] * 1.3
    r = dp.wave_index("R")
    along = float(dp.a[:, r] @ _unit(territory))
    if along > 0:
        dp.a[:, r] -= 0.5 * along * _unit(territory)
    for w in ("Tp", "Tm"):
        i = dp.wave_index(w)
        along = float(dp.a[:, i] @ _unit(territory))
        dp.a[:, i] -= (1.0 + rng.uniform(0.3, 0.8)) * max(along, 0.05) * _unit(territory)


def _heart_rate(codes: set[str], rng: np.random.Generator) -> tuple[float, float]:
    if "SBRAD" in codes:
        return float(rng.uniform(40, 57)), float(rng.uniform(0.5, 1.5))
    if "STACH" in codes:
        return float(rng.uniform(102, 140)), float(rng.uniform(0.5, 1.5))
    if "SARRH" in codes:
        return float(rng.uniform(58, 85)), float(rng.uniform(5.0, 9.0))
    if "AFIB" in codes:
        return float(rng.uniform(65, 130)), 0.0
    return float(np.clip(rng.normal(72, 9), 60, 98)), float(rng.uniform(0.5, 2.0))


def plan_waveform(conditions: list[str], rng: np.random.Generator, *, duration_s: float = 10.0,
                  age: float = 60.0, sex: str = "F") -> WaveformPlan:
    """Choose dipole, rhythm and ectopy for a record with ``conditions`` (codes of :mod:`.conditions`)."""
    codes = set(conditions)
    dp = DipoleParams.normal()
    hr, hr_std = _heart_rate(codes, rng)
    truth: dict[str, Any] = {}
    rotation = (float(rng.normal(0, 6)), float(rng.normal(0, 6)), float(rng.normal(0, 12)))
    gain = float(np.exp(rng.normal(0.0, 0.15))) * (0.92 if sex == "F" else 1.0) * (1.0 - 0.002 * (age - 60))

    if "1AVB" in codes:
        truth["target_pr_ms"] = float(rng.uniform(210, 320))
        _shift_pr(dp, truth["target_pr_ms"], hr)
    if "CLBBB" in codes:
        factor = rng.uniform(1.75, 2.1)
        dp.set_wave("Q", a=np.zeros(3))
        dp.set_wave("R", a=_unit(X + 0.9 * Z + 0.4 * Y) * rng.uniform(2.0, 2.8))
        dp.set_wave("S", a=_unit(X + 1.1 * Z) * rng.uniform(0.5, 0.8))
        _wide_qrs(dp, factor)
        qrs_dir = _unit(dp.a[:, dp.wave_index("R")])
        for w in ("Tp", "Tm"):
            i = dp.wave_index(w)
            dp.a[:, i] = -qrs_dir * np.linalg.norm(dp.a[:, i]) * rng.uniform(1.0, 1.6)
    elif "CRBBB" in codes or "IRBBB" in codes:
        complete = "CRBBB" in codes
        late = 0.46 if complete else 0.27
        dp.add_term(_unit(-X - 1.3 * Z), theta=late, b=0.08 if complete else 0.05,
                    amplitude=rng.uniform(0.5, 0.9) if complete else rng.uniform(0.25, 0.45), group="QRS", label="R'")
        s = dp.wave_index("S")
        dp.a[:, s] = dp.a[:, s] + _unit(-X) * (0.35 if complete else 0.15)
        dp.b[:, s] *= 1.4 if complete else 1.15
        if complete:
            dp.add_term(_unit(X + 1.0 * Z), theta=1.3, b=0.35, amplitude=0.12, rate_exponent=0.5, group=None,
                        label="secondary T")
    if "LAFB" in codes:
        _rotate_waves(dp, ("R", "S"), -float(rng.uniform(95, 125)))
    if "LVH" in codes:
        k = float(rng.uniform(1.6, 2.2))
        for w in ("R", "S"):
            dp.scale_wave(w, amplitude=k, width=1.08)
        if rng.random() < 0.5:
            dp.add_term(-_unit(X + 0.3 * Y), theta=1.4, b=0.35, amplitude=0.18, rate_exponent=0.5, label="strain")
    territories = {"IMI": INFERIOR, "ASMI": ANTERIOR, "AMI": ANTERIOR, "LMI": LATERAL}
    for code, direction in territories.items():
        if code in codes:
            _infarct(dp, direction, rng)
    if codes & {"STD_", "ISC_"}:
        depth = float(rng.uniform(0.08, 0.2)) * (1.4 if "ISC_" in codes else 1.0)
        truth["st_depression_mv"] = depth
        dp.add_term(-_unit(X + Y - 0.5 * Z), theta=0.65, b=0.22, amplitude=depth * 1.6, rate_exponent=0.5,
                    label="ST depression")
    if "INVT" in codes:
        for w in ("Tp", "Tm"):
            i = dp.wave_index(w)
            dp.a[:2, i] *= -rng.uniform(0.6, 1.0)
    if "LNGQT" in codes:
        truth["target_qtc_ms"] = float(rng.uniform(480, 560))
        _long_qt(dp, truth["target_qtc_ms"], hr)

    if "1AVB" not in codes and "AFIB" not in codes:  # other edits may have moved Q: keep a normal PR
        _shift_pr(dp, float(np.clip(rng.normal(160, 18), 125, 198)), hr)
    plan = WaveformPlan(dp, hr, hr_std, rotation_deg=rotation, gain=gain, truth=truth)
    n_beats = int(math.ceil(duration_s * hr / 60.0 * 1.4)) + 4
    if "AFIB" in codes:
        dp.set_wave("P", a=np.zeros(3))
        cv = rng.uniform(0.15, 0.3)
        plan.rr = rng.gamma(1 / cv**2, 60.0 / hr * cv**2, size=n_beats).clip(0.3, 2.0)
        plan.af_amplitude = float(rng.uniform(0.03, 0.1))
    if codes & {"PVC", "PAC"}:
        plan.rr = rr_process(n_beats, hr, hr_std, rng=rng) if plan.rr is None else plan.rr
        _add_ectopy(plan, codes, rng)
    return plan


def _long_qt(dp: DipoleParams, target_qtc_ms: float, hr: float) -> None:
    qt_target = target_qtc_ms * math.sqrt(60.0 / hr) / 1000.0
    now = dp.intervals(hr).qt_ms / 1000.0
    stretch = qt_target / now
    for w in ("Tp", "Tm"):
        i = dp.wave_index(w)
        dp.theta[:, i] *= stretch
        dp.b[:, i] *= 0.5 + 0.5 * stretch


def _add_ectopy(plan: WaveformPlan, codes: set[str], rng: np.random.Generator) -> None:
    rr = np.asarray(plan.rr, dtype=np.float64).copy()
    beats = sorted(rng.choice(np.arange(2, min(len(rr) - 2, 10)), size=int(rng.integers(1, 4)), replace=False))
    kinds = []
    for k in beats:
        pvc = "PVC" in codes and ("PAC" not in codes or rng.random() < 0.5)
        base = rr[k - 1]
        coupling = base * rng.uniform(0.55, 0.75)
        rr[k - 1], rr[k] = coupling, (2 * base - coupling) if pvc else base
        other = plan.dipole.copy()
        if pvc:
            other.set_wave("P", a=np.zeros(3))
            direction = _unit(rng.normal(size=3) + np.array([0.0, 0.0, 0.8]))
            other.set_wave("Q", a=np.zeros(3))
            other.set_wave("R", a=direction * rng.uniform(1.4, 2.2), b=0.16)
            other.set_wave("S", a=-direction * 0.3, b=0.12, theta=0.3)
            for w in ("Tp", "Tm"):
                other.set_wave(w, a=-direction * 0.35)
        else:
            other.set_wave("P", a=_unit(rng.normal(size=3)) * 0.12)
        plan.ectopic[k] = other
        kinds.append("PVC" if pvc else "PAC")
    plan.rr = rr
    plan.truth["ectopic_beats"] = ";".join(f"{k}:{t}" for k, t in zip(beats, kinds, strict=True))


def fibrillatory_waves(n: int, fs: float, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Atrial fibrillatory waves as a dipole (3, n): a few 4-9 Hz components with drifting phase."""
    t = np.arange(n) / fs
    axis = _unit(np.array([0.3, 0.6, -0.7]) + 0.2 * rng.normal(size=3))
    wave = np.zeros(n)
    for _ in range(3):
        f = rng.uniform(4.0, 9.0)
        drift = np.cumsum(rng.normal(0, 0.05, size=n))
        wave += np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi) + drift)
    wave *= amplitude / (np.std(wave) * 2.0 + 1e-12)
    return axis[:, None] * wave[None, :]
