"""Phase-normalised cycles and McSharry's ODE on them (cardiofm.physio.cycles)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cardiofm.errors import ConfigError
from cardiofm.physio.cycles import (
    average_cycle,
    cycle_beats,
    cycle_derivative,
    euler_residual,
    fit_cycle_params,
    phase_grid,
    simulate_cycle,
)
from cardiofm.physio.leads import simulate_12lead
from cardiofm.physio.mcsharry import McSharryParams
from cardiofm.physio.mcsharry_torch import dynamics_torch


def _base(n_phase: int = 64, before: float = 0.35) -> np.ndarray:
    return McSharryParams.default().copy(theta0=float(phase_grid(n_phase, before)[0])).to_vector()


def _perturbed(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = _base()
    w = p[:18].reshape(6, 3)
    w[:, 0] *= 1 + 0.2 * rng.standard_normal(6)
    w[:, 1] += 0.05 * rng.standard_normal(6)
    w[:, 2] *= 1 + 0.1 * rng.standard_normal(6)
    return p


def test_phase_grid() -> None:
    g = phase_grid()
    assert g.shape == (64,)
    assert g[0] == pytest.approx(-2 * math.pi * 0.35)
    assert abs(g[round(0.35 * 64)]) < 2 * math.pi / 64 / 2
    np.testing.assert_allclose(np.diff(g), 2 * math.pi / 64)
    assert phase_grid(32, 0.5)[0] == pytest.approx(-math.pi)
    with pytest.raises(ConfigError, match="before"):
        phase_grid(64, 1.0)
    with pytest.raises(ConfigError, match="n_phase"):
        phase_grid(2)


def test_cycle_beats_on_spikes() -> None:
    fs, n = 100.0, 1000
    peaks = np.arange(50, 1100, 100)  # 11 peaks every 1 s; the last one lies beyond the signal
    t = np.arange(n)
    sig = np.zeros((2, n))
    for p in peaks:
        sig[0] += np.exp(-0.5 * ((t - p) / 2.0) ** 2)
    sig[1] = -sig[0]
    beats = cycle_beats(sig, fs, peaks)
    # peaks 150..950 have two neighbours; 950's window (915..1015) leaves the signal -> 8 beats
    assert beats.shape == (8, 2, 64)
    r_idx = round(0.35 * 64)
    assert (beats[:, 0].argmax(axis=1) == r_idx).all()
    assert (beats[:, 1].argmin(axis=1) == r_idx).all()
    # the window starts 35 samples before R: sample 0 of the cycle is sig[R - 35]
    np.testing.assert_allclose(beats[:, 0, 0], sig[0, peaks[1:9] - 35])
    avg = average_cycle(sig, fs, peaks)
    assert avg.shape == (2, 64) and avg[0].argmax() == r_idx
    assert cycle_beats(sig, fs, [500, 600]).shape == (0, 2, 64)
    assert np.isnan(average_cycle(sig, fs, [500])).all()
    with pytest.raises(ConfigError):
        cycle_beats(sig, fs, [100, np.nan, 300])


def test_euler_residual_zero_on_simulated_cycle() -> None:
    params = torch.tensor(np.stack([_base(), _perturbed(3)]))
    h = simulate_cycle(params, torch.tensor([0.05, -0.02], dtype=torch.float64))
    assert h.shape == (2, 64)
    assert float(h[0].max()) > 0.5  # a real R wave
    res = euler_residual(h, params)
    assert res.shape == (2, 63)
    assert float(res.abs().max()) < 1e-5
    res32 = euler_residual(h.float(), params.float())
    assert float(res32.abs().max()) < 1e-5
    shifted = torch.roll(h, 3, dims=1)
    assert float(euler_residual(shifted, params).abs().max()) > 1e-2
    noisy = h + 0.01 * torch.randn(h.shape, generator=torch.Generator().manual_seed(0), dtype=h.dtype)
    assert float(euler_residual(noisy, params).abs().mean()) > 1e-3
    # default h0 is the params' z0
    params2 = params.clone()
    params2[:, 24] = torch.tensor([0.05, -0.02], dtype=torch.float64)
    torch.testing.assert_close(simulate_cycle(params2), h)


def test_cycle_derivative_matches_dynamics_torch() -> None:
    params = torch.tensor(np.stack([_perturbed(1), -_perturbed(2)]), dtype=torch.float32)
    h = torch.randn(2, 64, generator=torch.Generator().manual_seed(1))
    f = cycle_derivative(h, params)
    theta = phase_grid()
    for b in range(2):
        for k in range(64):
            state = torch.tensor([[math.cos(theta[k]), math.sin(theta[k]), float(h[b, k])]])
            ref = dynamics_torch(state, params[b:b + 1], 0.0, omega=2 * math.pi, hr_mean=60.0,
                                 rate_scaling=False, resp_amp_mv=0.0)[0, 2]
            assert float(f[b, k]) == pytest.approx(float(ref), rel=1e-5, abs=1e-5)


def test_gradients_flow() -> None:
    params = torch.tensor(np.stack([_base(), _perturbed(4)]), requires_grad=True)
    h = torch.randn(2, 64, dtype=torch.float64, requires_grad=True)
    euler_residual(h, params).pow(2).mean().backward()
    assert h.grad is not None and float(h.grad.abs().sum()) > 0
    assert params.grad is not None and float(params.grad[:, :18].abs().sum()) > 0
    params.grad = None
    simulate_cycle(params).sum().backward()
    assert params.grad is not None and float(params.grad[:, 24].abs().min()) > 0


def test_fit_recovers_upright_and_inverted() -> None:
    up, inv = _perturbed(5), _perturbed(6)
    inv[:18].reshape(6, 3)[:, 0] *= -1
    params = torch.tensor(np.stack([up, inv]))
    target = simulate_cycle(params, torch.tensor([0.03, -0.02], dtype=torch.float64))
    fit = fit_cycle_params(target)
    assert fit.params.shape == (2, 25) and fit.fitted.shape == (2, 64)
    assert (fit.relative_rmse < 0.05).all(), fit.relative_rmse
    np.testing.assert_allclose(fit.rmse, np.sqrt(((fit.fitted - target.numpy()) ** 2).mean(axis=1)))
    assert fit.params[0, 6] > 0 > fit.params[1, 6]  # R amplitude keeps the lead's sign
    assert (fit.params[:, 18:23] == _base()[18:23]).all()
    assert np.allclose(fit.params[:, 23], phase_grid()[0])
    # params reproduce the fitted cycle on their own (z0 carries the start value)
    np.testing.assert_allclose(simulate_cycle(torch.tensor(fit.params)).numpy(), fit.fitted)
    # the unfitted start is clearly worse
    start = fit_cycle_params(target, steps=0)
    assert (start.rmse > 2 * fit.rmse).all()


def test_fit_on_synthetic_12lead_average_cycle() -> None:
    rec = simulate_12lead(duration_s=10, fs=100, hr_mean=70, rng=0)
    avg = average_cycle(rec.signal, rec.fs, rec.metadata["r_peaks"])
    assert np.isfinite(avg).all()
    lead_ii = avg[rec.leads.index("II")]
    lead_avr = avg[rec.leads.index("aVR")]
    fit = fit_cycle_params(np.stack([lead_ii, lead_avr]))
    assert (fit.relative_rmse < 0.15).all(), fit.relative_rmse
    one = fit_cycle_params(torch.tensor(lead_ii))  # 1-D torch input
    assert one.params.shape == (1, 25)
    np.testing.assert_allclose(one.rmse, fit.rmse[:1], rtol=1e-6)


def test_bad_input_raises() -> None:
    cycles = np.zeros((3, 64))
    cycles[2, 10] = np.nan
    with pytest.raises(ConfigError, match="row 2"):
        fit_cycle_params(cycles)
    with pytest.raises(ConfigError):
        fit_cycle_params(np.zeros((2, 3, 64)))
    with pytest.raises(ConfigError):
        cycle_derivative(torch.zeros(2, 64), torch.zeros(3, 25))
    with pytest.raises(ConfigError):
        simulate_cycle(torch.zeros(2, 24))
    with pytest.raises(ConfigError):
        cycle_beats(np.zeros((2, 100)), 0.0, [10, 50, 90])
