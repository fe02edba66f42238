"""Dipole -> 12 leads: Dower coefficients, lead identities, the default normal ECG, ground truth."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from cardiofm.errors import ConfigError
from cardiofm.physio.dipole import DipoleParams
from cardiofm.physio.leads import (
    DOWER_LEADS,
    DOWER_MATRIX,
    INVERSE_DOWER_MATRIX,
    project,
    rotation_matrix,
    simulate_12lead,
    to_vcg,
)
from cardiofm.signal.record import LEADS_12, ECGRecord

FS = 500.0
L = {name: i for i, name in enumerate(LEADS_12)}


@pytest.fixture(scope="module")
def normal() -> ECGRecord:
    return simulate_12lead(10.0, FS, hr_mean=72.0, hr_std=1.0, rng=7)


def _identity_errors(sig: np.ndarray) -> np.ndarray:
    i, ii, iii, avr, avl, avf = (sig[L[n]].astype(np.float64) for n in ("I", "II", "III", "aVR", "aVL", "aVF"))
    return np.array([np.abs(iii - (ii - i)).max(), np.abs(avr + (i + ii) / 2).max(),
                     np.abs(avl - (i - ii / 2)).max(), np.abs(avf - (ii - i / 2)).max(),
                     np.abs(avr + avl + avf).max()])


def test_dower_coefficients_match_the_published_tables() -> None:
    assert DOWER_LEADS == ("V1", "V2", "V3", "V4", "V5", "V6", "I", "II")
    np.testing.assert_array_equal(DOWER_MATRIX[0], [-0.515, 0.157, -0.917])   # V1
    np.testing.assert_array_equal(DOWER_MATRIX[3], [1.213, 0.127, -0.601])    # V4
    np.testing.assert_array_equal(DOWER_MATRIX[7], [0.235, 1.066, -0.132])    # II
    assert INVERSE_DOWER_MATRIX[0, 0] == -0.172 and INVERSE_DOWER_MATRIX[1, 7] == 0.887
    assert INVERSE_DOWER_MATRIX[2, 1] == -0.310
    # Edenbrandt & Pahlm's matrix is the pseudo-inverse of Dower's, rounded to three decimals.
    assert np.abs(np.linalg.pinv(DOWER_MATRIX) - INVERSE_DOWER_MATRIX).max() <= 0.0005 + 1e-12


def test_project_and_back() -> None:
    rng = np.random.default_rng(0)
    d = rng.normal(size=(3, 400))
    twelve = project(d)
    assert twelve.shape == (12, 400) and twelve.dtype == np.float64
    assert _identity_errors(twelve).max() <= 1e-12
    np.testing.assert_allclose(to_vcg(twelve), d, atol=2e-3 * np.abs(d).max())
    batch = project(np.stack([d, 2 * d]))
    np.testing.assert_allclose(batch[1], 2 * twelve)
    with pytest.raises(ConfigError):
        project(np.zeros((4, 10)))


def test_identities_hold_on_float32_for_random_rotations_and_gains() -> None:
    rng = np.random.default_rng(1)
    for k in range(5):
        rot = tuple(rng.uniform(-90, 90, 3))
        rec = simulate_12lead(4.0, FS, hr_mean=rng.uniform(50, 110), rotation_deg=rot, rng=k,
                              gain=rng.uniform(0.5, 2), limb_gain=rng.uniform(0.5, 2),
                              precordial_gain=rng.uniform(0.5, 2, 6))
        assert rec.signal.dtype == np.float32
        assert _identity_errors(rec.signal).max() <= 1e-6


def test_rotation_matrix_is_orthonormal_and_moves_the_axis() -> None:
    r = rotation_matrix((20, -35, 50))
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)

    def frontal_axis(rec: ECGRecord) -> float:
        rp = rec.metadata["r_peaks"][2]
        win = slice(rp - 40, rp + 40)  # QRS only
        return math.degrees(math.atan2(rec.signal[L["aVF"], win].sum(), rec.signal[L["I"], win].sum()))

    base = simulate_12lead(3.0, FS, rng=2, theta0=-2.0)
    turned = simulate_12lead(3.0, FS, rng=2, theta0=-2.0, rotation_deg=(0, 0, 30))
    assert 30 < frontal_axis(base) < 75  # normal axis
    assert frontal_axis(turned) - frontal_axis(base) == pytest.approx(30.0, abs=3.0)


def test_normal_morphology(normal: ECGRecord) -> None:
    s = normal.signal
    rp = normal.metadata["r_peaks"]
    r = rp[(rp > 200) & (rp < s.shape[1] - 300)][0]
    qrs = slice(r - 50, r + 50)              # +-100 ms
    t_wave = slice(r + 100, r + 200)         # 200-400 ms after R
    amp = {n: (s[L[n], qrs].max(), -s[L[n], qrs].min()) for n in LEADS_12}
    assert 0.8 < amp["II"][0] < 1.6 and s[L["II"], r] > 0.8
    assert s[L["aVR"], r] < -0.5 and amp["aVR"][0] < amp["aVR"][1]
    assert amp["V1"][0] / amp["V1"][1] < 1 and amp["V6"][0] / amp["V6"][1] > 1
    r_wave = [amp[f"V{k}"][0] for k in range(1, 5)]
    assert r_wave == sorted(r_wave)  # R progression V1 -> V4
    for lead in ("I", "II", "V2", "V3", "V4", "V5", "V6"):
        assert s[L[lead], t_wave].max() > 0.1, lead
    assert s[L["aVR"], t_wave].min() < -0.1
    iv = normal.metadata["intervals"]
    assert 120 < iv["pr_ms"] < 200 and 70 < iv["qrs_ms"] < 110 and 340 < iv["qt_ms"] < 440


def test_r_peaks_match_rr_and_heart_rate(normal: ECGRecord) -> None:
    rp, rr = normal.metadata["r_peaks"], normal.metadata["rr"]
    assert rp.size == rr.size
    np.testing.assert_allclose(np.diff(rp) / FS, rr[:-1], atol=1.01 / FS)
    ii = normal.signal[L["II"]]
    for r in rp[(rp > 25) & (rp < ii.size - 25)]:
        assert abs(int(np.argmax(ii[r - 25:r + 26])) - 25) <= 2
    assert 60.0 / (np.diff(rp).mean() / FS) == pytest.approx(72.0, abs=1.0)


def test_reproducible_for_a_seed() -> None:
    a = simulate_12lead(5.0, FS, hr_mean=80, rng=11)
    b = simulate_12lead(5.0, FS, hr_mean=80, rng=11)
    c = simulate_12lead(5.0, FS, hr_mean=80, rng=12)
    np.testing.assert_array_equal(a.signal, b.signal)
    assert not np.array_equal(a.signal, c.signal)
    assert a.leads == LEADS_12 and a.fs == FS and a.n_samples == 2500


def test_fast() -> None:
    simulate_12lead(10.0, FS, rng=0)
    t0 = time.perf_counter()
    for k in range(10):
        simulate_12lead(10.0, FS, rng=k)
    assert (time.perf_counter() - t0) / 10 < 0.05  # ~4 ms on two slow cores; loose for a shared machine


def test_rate_scaling_gives_bazett_qt() -> None:
    p = DipoleParams.normal()
    slow, fast = p.intervals(60.0), p.intervals(110.0)
    assert fast.pr_ms == pytest.approx(slow.pr_ms) and fast.qrs_ms == pytest.approx(slow.qrs_ms)
    assert fast.qt_ms < slow.qt_ms
    assert fast.qt_ms / math.sqrt(fast.rr_ms / 1000) == pytest.approx(slow.qt_ms, rel=0.05)  # QTc (Bazett) ~ kept


def test_dipole_params_are_editable() -> None:
    base = DipoleParams.normal()
    wide = base.copy().scale_wave("Q", width=1.5).scale_wave("R", width=1.5).scale_wave("S", width=1.5)
    assert wide.intervals().qrs_ms > 1.15 * base.intervals().qrs_ms
    assert base.intervals().qrs_ms == DipoleParams.normal().intervals().qrs_ms  # copy() is deep

    inverted = base.copy().scale_wave("Tp", amplitude=-1).scale_wave("Tm", amplitude=-1)
    st = base.copy().add_term(direction=[0.3, 0.4, -0.3], theta=0.75, b=0.3, amplitude=0.5, label="ST")
    theta = np.linspace(-math.pi, math.pi, 2001)
    t_idx, st_idx = np.argmin(np.abs(theta - 1.6)), np.argmin(np.abs(theta - 0.6))
    ii = {k: project(p.dipole(theta))[L["II"]] for k, p in (("base", base), ("inv", inverted), ("st", st))}
    assert ii["base"][t_idx] > 0.1 and ii["inv"][t_idx] < -0.1
    assert ii["st"][st_idx] - ii["base"][st_idx] > 0.1
    assert st.intervals() == base.intervals()  # an extra term with group=None leaves the intervals alone

    q_inferior = base.copy().set_wave("Q", a=[0.0, -0.5, 0.0])
    assert project(q_inferior.dipole(theta))[L["III"]].min() < project(base.dipole(theta))[L["III"]].min() - 0.3
    with pytest.raises(ConfigError):
        base.wave_index("U")
    with pytest.raises(ConfigError):
        DipoleParams(a=np.zeros((3, 5)), theta=np.zeros((3, 6)), b=np.ones((3, 6)))
