"""McSharry's model: parameters, RR process, phase clock, NumPy reference, torch Euler, intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch

from cardiofm.errors import ConfigError
from cardiofm.physio.mcsharry import (
    PARAM_NAMES,
    PARAM_RANGES,
    WAVES,
    McSharryParams,
    intervals,
    params_with_intervals,
    simulate,
)
from cardiofm.physio.mcsharry_torch import dynamics_torch, simulate_torch
from cardiofm.physio.rr import beat_onsets, phase_from_rr, r_times, rr_process

FS = 500.0


@pytest.fixture(scope="module")
def default() -> McSharryParams:
    return McSharryParams.default()


@pytest.fixture(scope="module")
def reference(default: McSharryParams):
    """RK45 reference, 4 s at 500 Hz, constant RR of 1 s (60 bpm)."""
    return simulate(default, 4.0, FS, rr=np.ones(8))


@pytest.fixture(scope="module")
def varying(default: McSharryParams):
    """RK45 with a random RR series: 8 s at 250 Hz, 72 bpm."""
    return simulate(default.copy(hr_mean=72.0, hr_std=2.0), 8.0, 250.0, rng=3)


# ------------------------------------------------------------------------------------------- parameters

def test_vector_layout_matches_table_1(default: McSharryParams) -> None:
    assert len(PARAM_NAMES) == 25 and tuple(PARAM_RANGES) == PARAM_NAMES
    assert WAVES == ("P", "Q", "R", "S", "Tp", "Tm")
    assert PARAM_NAMES[6:9] == ("R_a", "R_theta", "R_b") and PARAM_NAMES[-2:] == ("theta0", "z0")
    assert PARAM_RANGES["R_a"] == (15.0, 55.0)
    assert PARAM_RANGES["S_b"] == (1e-16, 0.1)
    assert np.allclose(PARAM_RANGES["Tm_theta"], np.deg2rad([130, 150]))
    assert np.allclose(PARAM_RANGES["P_theta"], np.deg2rad([-70, -50]))
    assert PARAM_RANGES["lf_hf"] == (0.4, 0.6)


def test_vector_round_trip(default: McSharryParams) -> None:
    v = default.to_vector()
    back = McSharryParams.from_vector(v, hr_mean=72.0, hr_std=2.0)
    np.testing.assert_array_equal(back.to_vector(), v)
    assert back.hr_mean == 72.0 and back.hr_std == 2.0
    rng = np.random.default_rng(0)
    w = rng.normal(size=25)
    np.testing.assert_array_equal(McSharryParams.from_vector(w).to_vector(), w)
    with pytest.raises(ConfigError):
        McSharryParams.from_vector(np.zeros(24))


def test_default_and_center(default: McSharryParams) -> None:
    assert default.out_of_range() == {}
    np.testing.assert_allclose(default.a, [1.2, -5.0, 30.0, -0.8, 0.75, 0.2])  # S_a clipped from -7.5
    np.testing.assert_allclose(default.theta[:5], [-math.pi / 3, -math.pi / 12, 0.0, math.pi / 12, math.pi / 2])
    mid = McSharryParams.center().to_vector()
    np.testing.assert_allclose(mid, [(lo + hi) / 2 for lo, hi in PARAM_RANGES.values()])


def test_rate_scaling_follows_ecgsyn(default: McSharryParams) -> None:
    th, b = default.rate_adjusted(60.0)
    np.testing.assert_allclose(th, default.theta)
    th, b = default.rate_adjusted(120.0)
    np.testing.assert_allclose(b, default.b * 2**0.5)
    np.testing.assert_allclose(th, default.theta * np.array([2**0.25, 2**0.5, 1.0, 2**0.5, 2**0.25, 2**0.25]))


# -------------------------------------------------------------------------------------- RR and phase

def test_rr_spectrum_peaks_at_lf_and_hf() -> None:
    rr = rr_process(4096, 60.0, 3.0, lf_mean=0.12, hf_mean=0.30, lf_hf=0.5, rng=0)
    assert rr.mean() == pytest.approx(1.0, abs=0.01)
    assert rr.std() == pytest.approx(60 * 3 / 60**2, rel=0.1)
    f, p = scipy.signal.welch(rr - rr.mean(), fs=1 / rr.mean(), nperseg=512)
    lf, hf = (f > 0.03) & (f < 0.19), (f > 0.2) & (f < 0.45)
    assert f[lf][p[lf].argmax()] == pytest.approx(0.12, abs=0.015)
    assert f[hf][p[hf].argmax()] == pytest.approx(0.30, abs=0.015)
    assert p[lf].sum() / p[hf].sum() == pytest.approx(0.5, rel=0.3)


def test_rr_reproducible_and_constant_without_std() -> None:
    np.testing.assert_array_equal(rr_process(30, 70, 2, rng=5), rr_process(30, 70, 2, rng=5))
    assert not np.array_equal(rr_process(30, 70, 2, rng=5), rr_process(30, 70, 2, rng=6))
    np.testing.assert_allclose(rr_process(10, 75, 0, rng=1), 0.8)


def test_phase_crosses_zero_at_rr_times() -> None:
    rr = rr_process(20, 80, 4, rng=2)
    theta = phase_from_rr(rr, FS, int(10 * FS), theta0=-2.0)
    assert theta[0] == pytest.approx(-2.0)
    assert theta.min() >= -math.pi and theta.max() < math.pi
    expected = np.round(r_times(rr, -2.0) * FS).astype(int)
    got = beat_onsets(theta, 0.0)
    assert np.abs(got - expected[: got.size]).max() <= 1  # nearest sample; ties may round either way
    assert got.size == np.sum(expected < theta.size)
    with pytest.raises(ConfigError, match="cover"):
        phase_from_rr(rr[:3], FS, int(10 * FS))


# ------------------------------------------------------------------------------------- NumPy reference

def test_r_peaks_match_rr_and_heart_rate(varying) -> None:
    res = varying
    fs = res.fs
    # R peaks of the waveform (local maxima) lie within 2 samples of the phase fiducials...
    for r in res.r_peaks[(res.r_peaks > 20) & (res.r_peaks < res.z.size - 20)]:
        assert abs(int(np.argmax(res.z[r - 20:r + 21])) - 20) <= 2
    # ...and are spaced by the RR series.
    np.testing.assert_allclose(np.diff(res.r_peaks) / fs, res.rr[: res.r_peaks.size - 1], atol=2 / fs)
    hr = 60.0 / (np.diff(res.r_peaks).mean() / fs)
    assert hr == pytest.approx(72.0, abs=1.0)
    assert res.z.max() == pytest.approx(1.25, abs=0.2)  # fixed gain: R about 1.2 mV


def test_simulate_reproducible_and_rescale(default: McSharryParams) -> None:
    a = simulate(default, 2.0, 100.0, rng=4)
    b = simulate(default, 2.0, 100.0, rng=4)
    np.testing.assert_array_equal(a.z, b.z)
    c = simulate(default, 2.0, 100.0, rng=4, rescale=True)
    assert c.z.min() == pytest.approx(-0.4) and c.z.max() == pytest.approx(1.2)


# ------------------------------------------------------------------------------------------- torch

def test_torch_euler_agrees_with_rk45(default: McSharryParams, reference) -> None:
    """Explicit Euler is first order: 0.056 mV at h = 2 ms, 0.014 mV with 4 sub-steps (see module doc)."""
    p = torch.tensor(default.to_vector())[None]
    z1 = simulate_torch(p, reference.z.size, FS)[0].numpy()
    z4 = simulate_torch(p, reference.z.size, FS, substeps=4)[0].numpy()
    e1, e4 = np.abs(z1 - reference.z).max(), np.abs(z4 - reference.z).max()
    assert e1 < 0.07 and e4 < 0.02
    assert e4 < e1 / 3  # converges at first order


def test_scan_equals_loop(default: McSharryParams) -> None:
    v = torch.tensor(np.stack([default.to_vector(), McSharryParams.center().to_vector()]), dtype=torch.float32)
    hr = torch.tensor([60.0, 95.0])
    scan, state = simulate_torch(v, 600, FS, hr_mean=hr, substeps=2, return_state=True)
    loop, state_l = simulate_torch(v, 600, FS, hr_mean=hr, substeps=2, method="loop", return_state=True)
    assert (scan - loop).abs().max() < 1e-4
    assert (state - state_l).abs().max() < 1e-4
    assert state.shape == (2, 3, 600)


def test_per_step_omega_sets_the_rate(default: McSharryParams) -> None:
    v = torch.tensor(default.to_vector(), dtype=torch.float32)[None]
    omega = torch.full((1, 2000), 2 * math.pi * 90 / 60)
    _, state = simulate_torch(v, 2000, FS, omega=omega, return_state=True)
    theta = torch.atan2(state[0, 1], state[0, 0]).numpy()
    assert np.diff(beat_onsets(theta)).mean() / FS == pytest.approx(60 / 90, abs=2 / FS)


def test_gradients_flow(default: McSharryParams) -> None:
    v = torch.tensor(default.to_vector(), dtype=torch.float32)[None].repeat(2, 1).requires_grad_(True)
    z = simulate_torch(v, 1000, FS, hr_mean=70.0)
    (g,) = torch.autograd.grad(z.square().sum(), v)
    assert torch.isfinite(g).all()
    assert (g[:, PARAM_NAMES.index("R_a")].abs() > 0).all()
    assert (g[:, PARAM_NAMES.index("R_theta")].abs() > 0).all()
    dt = torch.tensor(1 / FS, requires_grad=True)
    (gdt,) = torch.autograd.grad(simulate_torch(v.detach(), 200, FS, dt=dt).sum(), dt)
    assert torch.isfinite(gdt)


def test_dynamics_is_the_euler_right_hand_side(default: McSharryParams) -> None:
    v = torch.tensor(default.to_vector(), dtype=torch.float64)[None]
    _, state = simulate_torch(v, 3, FS, method="loop", return_state=True)
    f = dynamics_torch(state[:, :, 1], v, 1 / FS)
    np.testing.assert_allclose(state[:, :, 2].numpy(), (state[:, :, 1] + f / FS).numpy(), rtol=1e-12, atol=1e-12)
    jac = torch.autograd.functional.jacobian(lambda s: dynamics_torch(s[None], v, 0.3)[0], state[0, :, 1])
    assert jac.shape == (3, 3) and torch.isfinite(jac).all()
    assert jac[2, 2].item() == pytest.approx(-1.0)  # dz'/dz
    assert jac[0, 2].item() == 0.0 and jac[1, 2].item() == 0.0  # x, y do not depend on z


def test_simulate_torch_speed(default: McSharryParams) -> None:
    import time

    v = torch.tensor(default.to_vector(), dtype=torch.float32)[None].repeat(64, 1).requires_grad_(True)
    t0 = time.perf_counter()
    z = simulate_torch(v, 2000, FS)
    z.sum().backward()
    # ~0.05 s forward + backward on two idle slow cores; the bound is loose because the test machine is shared.
    assert time.perf_counter() - t0 < 3.0


# ---------------------------------------------------------------------------------------------- intervals

def test_default_intervals_are_plausible(default: McSharryParams) -> None:
    iv = intervals(default)
    assert 150 < iv.pr_ms < 220 and 70 < iv.qrs_ms < 110 and 380 < iv.qt_ms < 460 and iv.rr_ms == 1000.0
    fast = intervals(default, hr=100.0)
    assert fast.qt_ms < iv.qt_ms and fast.rr_ms == pytest.approx(600.0)


@pytest.mark.parametrize("kw", [{"pr_ms": 240.0}, {"qrs_ms": 90.0}, {"qt_ms": 450.0},
                                {"pr_ms": 200.0, "qrs_ms": 78.0, "qt_ms": 410.0, "hr": 75.0}])
def test_params_with_intervals_round_trip(default: McSharryParams, kw: dict) -> None:
    new = params_with_intervals(default, **kw)
    got = intervals(new, kw.get("hr")).as_dict()
    for key, want in kw.items():
        if key != "hr":
            assert got[key] == pytest.approx(want, abs=0.5)
    assert new.out_of_range() == {}


def test_pathological_intervals_need_clip_false(default: McSharryParams) -> None:
    with pytest.raises(ConfigError, match="clip=False"):
        params_with_intervals(default, pr_ms=300.0)
    with pytest.raises(ConfigError, match="R_b"):
        params_with_intervals(default, qrs_ms=140.0)
    new = params_with_intervals(default, pr_ms=300.0, qrs_ms=140.0, qt_ms=520.0, clip=False)
    iv = intervals(new)
    assert (iv.pr_ms, iv.qrs_ms, iv.qt_ms) == pytest.approx((300.0, 140.0, 520.0))
    assert {"P_theta", "R_b"} <= set(new.out_of_range())
