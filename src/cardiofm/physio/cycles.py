"""Phase-normalised cardiac cycles and McSharry's ODE on them (SE-Diff's beat-decoder regulariser).

SE-Diff decodes one cardiac cycle per lead and asks it to obey McSharry's z-equation: the discrete
derivative of the decoded cycle h should match f_z(x, y, h; eta), with eta McSharry wave parameters
fitted beforehand to the real class-average beat of each diagnostic class. This module holds the pieces:
cutting real beats into cycles, the ODE's right-hand side and explicit-Euler residual on a cycle, the
Euler simulation of a cycle, and a batched least-squares fit of eta to target cycles.

Convention. A cycle is ``n_phase`` samples (default 64) spanning one RR interval, from
``R - before * RR`` to ``R + (1 - before) * RR`` (default ``before = 0.35``; the end is excluded).
Sample l has phase ``theta_l = 2 pi (l / n_phase - before)``: the grid starts at ``-2 pi before`` and
runs once round the circle, R (McSharry's R_theta = 0) sits at phase 0, near index
``round(before * n_phase)``. :func:`phase_grid` returns these unwrapped (monotonic) phases; for
``before = 0.5`` they lie in [-pi, pi), otherwise the last ones exceed pi and equal, modulo 2 pi, the
wrapped phases that ``atan2`` gives (all wave pulls wrap their angle differences, so nothing changes).
The cycle is read as one beat at 60 bpm: time step ``dt = 1 / n_phase`` s, angular speed
``omega = 2 pi`` rad/s, the state on the limit cycle ``(x, y) = (cos theta_l, sin theta_l)``, no
respiratory baseline (``resp_amp_mv = 0``) and no heart-rate scaling of theta and b
(``rate_scaling=False``). Amplitudes are in mV (the pull carries ``MV_PER_UNIT``).

Parameters are ``(B, 25)`` in :data:`cardiofm.physio.mcsharry.PARAM_NAMES` order. A cycle's Euler
recursion is ``h_{l+1} = h_l + dt * f_z(cos theta_l, sin theta_l, h_l)``, started from ``h_0`` (by
default the parameter vector's ``z0``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from cardiofm.errors import ConfigError
from cardiofm.physio.mcsharry import B_MIN, PARAM_NAMES, WAVES, McSharryParams
from cardiofm.physio.mcsharry_torch import dynamics_torch

N_PHASE = 64
BEFORE = 0.35
_N_WAVE = 3 * len(WAVES)  # the 18 wave parameters (a, theta, b) x 6
_Z0 = PARAM_NAMES.index("z0")
_THETA0 = PARAM_NAMES.index("theta0")


def _check_grid(n_phase: int, before: float) -> None:
    if int(n_phase) != n_phase or n_phase < 4:
        raise ConfigError(f"cycles: n_phase must be an integer >= 4, got {n_phase!r}")
    if not (np.isfinite(before) and 0.0 <= before < 1.0):
        raise ConfigError(f"cycles: before must be a fraction of the RR interval in [0, 1), got {before!r}")


def phase_grid(n_phase: int = N_PHASE, before: float = BEFORE) -> np.ndarray:
    """Phases ``2 pi (l / n_phase - before)`` of the ``n_phase`` cycle samples (float64, unwrapped)."""
    _check_grid(n_phase, before)
    return 2.0 * math.pi * (np.arange(n_phase, dtype=np.float64) / n_phase - before)


# --------------------------------------------------------------------------------------- real beats

def cycle_beats(signal: np.ndarray, fs: float, r_peaks: np.ndarray, n_phase: int = N_PHASE,
                before: float = BEFORE) -> np.ndarray:
    """Phase-normalised beats ``(n_beats, leads, n_phase)`` (float64) of ``signal`` ``(leads, n)``.

    ``r_peaks`` are R-peak sample indices (at ``fs`` Hz; may be fractional). Each R peak with a
    neighbour on both sides gets RR = the mean of its two neighbouring RR intervals; the window
    ``[R - before * RR, R + (1 - before) * RR)`` is linearly interpolated onto ``n_phase`` points.
    Beats whose window leaves the signal are skipped; with none left the result is ``(0, leads, n_phase)``.
    A 1-D signal is one lead.
    """
    _check_grid(n_phase, before)
    if not (np.isfinite(fs) and fs > 0):
        raise ConfigError(f"cycle_beats: fs must be a positive sampling rate, got {fs!r}")
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] < 2:
        raise ConfigError(f"cycle_beats: signal must be (leads, samples) with >= 2 samples, got {x.shape}")
    p = np.asarray(r_peaks, dtype=np.float64).ravel()
    if not np.isfinite(p).all():
        raise ConfigError("cycle_beats: r_peaks hold NaN/inf")
    p = np.sort(p)
    if np.any(np.diff(p) <= 0):
        raise ConfigError("cycle_beats: r_peaks must be distinct sample indices")
    n = x.shape[1]
    if p.size < 3:
        return np.zeros((0, x.shape[0], n_phase))
    rr = (p[2:] - p[:-2]) / 2.0
    start = p[1:-1] - before * rr
    pos = start[:, None] + rr[:, None] * (np.arange(n_phase) / n_phase)[None, :]  # (beats, n_phase)
    keep = (pos[:, 0] >= 0.0) & (pos[:, -1] <= n - 1)
    pos = pos[keep]
    if pos.shape[0] == 0:
        return np.zeros((0, x.shape[0], n_phase))
    lo = np.minimum(np.floor(pos).astype(np.int64), n - 2)
    frac = pos - lo
    out = x[:, lo] * (1.0 - frac) + x[:, lo + 1] * frac  # (leads, beats, n_phase)
    return np.ascontiguousarray(np.moveaxis(out, 1, 0))


def average_cycle(signal: np.ndarray, fs: float, r_peaks: np.ndarray, n_phase: int = N_PHASE,
                  before: float = BEFORE) -> np.ndarray:
    """Median over beats of :func:`cycle_beats`, ``(leads, n_phase)``; all NaN when no beat fits."""
    beats = cycle_beats(signal, fs, r_peaks, n_phase, before)
    if beats.shape[0] == 0:
        return np.full(beats.shape[1:], np.nan)
    return np.median(beats, axis=0)


# --------------------------------------------------------------------------------------- ODE on a cycle

def _check_batch(h: Tensor, params: Tensor, name: str) -> Tensor:
    if h.ndim != 2 or h.shape[1] < 2:
        raise ConfigError(f"{name}: h must be (B, n_phase) with n_phase >= 2, got {tuple(h.shape)}")
    if params.shape != (h.shape[0], len(PARAM_NAMES)):
        raise ConfigError(f"{name}: params must be (B, {len(PARAM_NAMES)}) = ({h.shape[0]}, "
                          f"{len(PARAM_NAMES)}) for h of shape {tuple(h.shape)}, got {tuple(params.shape)}")
    return params.to(dtype=h.dtype, device=h.device)


def _grid_xy(n_phase: int, before: float, like: Tensor) -> tuple[Tensor, Tensor]:
    th = torch.as_tensor(phase_grid(n_phase, before), dtype=like.dtype, device=like.device)
    return torch.cos(th), torch.sin(th)


def _f_z(x: Tensor, y: Tensor, z: Tensor, params: Tensor) -> Tensor:
    """f_z of McSharry's ODE in this module's convention; x, y, z ``(N,)``, params ``(N, 25)``."""
    state = torch.stack([x, y, z], dim=1)
    return dynamics_torch(state, params, 0.0, omega=2 * math.pi, hr_mean=60.0, rate_scaling=False,
                          resp_amp_mv=0.0)[:, 2]


def cycle_derivative(h: Tensor, params: Tensor, *, before: float = BEFORE) -> Tensor:
    """dz/dt = f_z(cos theta_l, sin theta_l, h_l; params) at every phase sample, ``(B, n_phase)``.

    Differentiable in ``h`` and ``params``; all B * n_phase samples go through one
    :func:`dynamics_torch` call.
    """
    params = _check_batch(h, params, "cycle_derivative")
    bsz, n_phase = h.shape
    cx, sx = _grid_xy(n_phase, before, h)
    rep = params.repeat_interleave(n_phase, dim=0)  # row b * n_phase + l -> params[b]
    f = _f_z(cx.repeat(bsz), sx.repeat(bsz), h.reshape(-1), rep)
    return f.reshape(bsz, n_phase)


def euler_residual(h: Tensor, params: Tensor, *, before: float = BEFORE) -> Tensor:
    """``(h_{l+1} - h_l) - dt * f_z(h_l)``, ``(B, n_phase - 1)``: zero on an explicit-Euler trajectory."""
    dt = 1.0 / h.shape[-1] if h.ndim == 2 else 1.0
    f = cycle_derivative(h, params, before=before)
    return (h[:, 1:] - h[:, :-1]) - dt * f[:, :-1]


def simulate_cycle(params: Tensor, h0: Tensor | None = None, n_phase: int = N_PHASE,
                   before: float = BEFORE) -> Tensor:
    """Explicit-Euler cycle ``(B, n_phase)`` from ``h0`` ``(B,)`` (default: the params' z0), differentiable."""
    if params.ndim != 2 or params.shape[1] != len(PARAM_NAMES):
        raise ConfigError(f"simulate_cycle: params must be (B, {len(PARAM_NAMES)}), got {tuple(params.shape)}")
    _check_grid(n_phase, before)
    z = params[:, _Z0] if h0 is None else torch.as_tensor(h0, dtype=params.dtype, device=params.device)
    if z.shape != (params.shape[0],):
        raise ConfigError(f"simulate_cycle: h0 must be ({params.shape[0]},), got {tuple(z.shape)}")
    # f_z(x, y, z) = f_z(x, y, 0) - z: the wave pull does not involve z, so the recursion is linear,
    # z_{l+1} = (1 - dt) z_l + dt g_l with g = f_z at z = 0, and is solved for all l at once.
    dt = 1.0 / n_phase
    g = cycle_derivative(torch.zeros(params.shape[0], n_phase, dtype=params.dtype, device=params.device),
                         params, before=before)
    ll = torch.arange(n_phase, dtype=params.dtype, device=params.device)
    expo = ll[:, None] - 1.0 - ll[None, :]  # (l, k): power of (1 - dt) carrying step k's input to sample l
    carry = torch.where(expo >= 0, (1.0 - dt) ** expo.clamp_min(0.0), torch.zeros_like(expo))
    return z[:, None] * (1.0 - dt) ** ll + (dt * g) @ carry.T


# --------------------------------------------------------------------------------------- fitting

@dataclass
class CycleFit:
    """Result of :func:`fit_cycle_params`: ``params`` ``(B, 25)``, ``fitted`` cycles ``(B, n_phase)``,
    ``rmse`` ``(B,)`` in mV and ``relative_rmse`` = rmse / peak-to-peak of each target."""

    params: np.ndarray
    fitted: np.ndarray
    rmse: np.ndarray
    relative_rmse: np.ndarray


def _as_cycles(cycles: np.ndarray | Tensor) -> np.ndarray:
    arr = cycles.detach().cpu().numpy() if isinstance(cycles, Tensor) else np.asarray(cycles)
    if not np.issubdtype(arr.dtype, np.number):
        raise ConfigError(f"fit_cycle_params: cycles must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ConfigError(f"fit_cycle_params: cycles must be (B, n_phase) or (n_phase,), got {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        raise ConfigError(f"fit_cycle_params: cycle row {int(bad[0])} holds NaN/inf "
                          f"(rows with non-finite values: {bad.tolist()[:10]})")
    return arr


def _value_at_r(c: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Each row's value at phase 0 (linear interpolation on the grid) minus its median."""
    return np.array([np.interp(0.0, theta, row) for row in c]) - np.median(c, axis=1)


def _softplus_inv(v: np.ndarray) -> np.ndarray:
    return v + np.log(-np.expm1(-v))


def fit_cycle_params(cycles: np.ndarray | Tensor, before: float = BEFORE, steps: int = 300, lr: float = 0.05,
                     seed: int = 0) -> CycleFit:
    """Fit McSharry's 18 wave parameters and z0 to each target cycle (``(B, n_phase)`` or ``(n_phase,)``).

    Adam (float64, ``steps`` iterations at ``lr``) on the MSE between :func:`simulate_cycle` and the
    target, the whole batch at once. Start: :meth:`McSharryParams.default`, every amplitude a scaled by
    s = (target at R - target median) / (the same for the default cycle), so an inverted lead starts
    with negative waves; z0 starts at the target's first sample. theta and a are optimised directly,
    b as ``B_MIN + softplus(u)``. The RR-spectrum fields stay at the defaults, theta0 is set to the
    grid's first phase. ``seed`` seeds torch's generator (the fit itself is deterministic).
    """
    target = _as_cycles(cycles)
    bsz, n_phase = target.shape
    _check_grid(n_phase, before)
    if int(steps) != steps or steps < 0:
        raise ConfigError(f"fit_cycle_params: steps must be a non-negative integer, got {steps!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ConfigError(f"fit_cycle_params: lr must be positive, got {lr!r}")
    torch.manual_seed(seed)
    theta = phase_grid(n_phase, before)
    base = McSharryParams.default().copy(theta0=float(theta[0]), z0=0.0).to_vector()
    base_t = torch.as_tensor(base, dtype=torch.float64)[None]
    ref = simulate_cycle(base_t, n_phase=n_phase, before=before).numpy()
    scale = _value_at_r(target, theta) / _value_at_r(ref, theta)[0]

    w0 = base[:_N_WAVE].reshape(len(WAVES), 3)
    a = torch.tensor(scale[:, None] * w0[None, :, 0], dtype=torch.float64, requires_grad=True)
    th = torch.tensor(np.tile(w0[:, 1], (bsz, 1)), dtype=torch.float64, requires_grad=True)
    u = torch.tensor(np.tile(_softplus_inv(w0[:, 2] - B_MIN), (bsz, 1)), dtype=torch.float64,
                     requires_grad=True)
    z0 = torch.tensor(target[:, 0].copy(), dtype=torch.float64, requires_grad=True)
    rest = torch.as_tensor(base[_N_WAVE:], dtype=torch.float64).expand(bsz, -1)
    tgt = torch.as_tensor(target)

    def assemble() -> Tensor:
        b = B_MIN + torch.nn.functional.softplus(u)
        waves = torch.stack([a, th, b], dim=2).reshape(bsz, _N_WAVE)
        return torch.cat([waves, rest[:, :_Z0 - _N_WAVE], z0[:, None]], dim=1)

    opt = torch.optim.Adam([a, th, u, z0], lr=lr)
    for _ in range(int(steps)):
        opt.zero_grad()
        # Sum of per-cycle MSEs: each cycle's gradient does not depend on the batch size.
        loss = ((simulate_cycle(assemble(), n_phase=n_phase, before=before) - tgt) ** 2).mean(dim=1).sum()
        loss.backward()
        opt.step()
    with torch.no_grad():
        params = assemble()
        fitted = simulate_cycle(params, n_phase=n_phase, before=before).numpy()
    rmse = np.sqrt(np.mean((fitted - target) ** 2, axis=1))
    ptp = np.ptp(target, axis=1)
    return CycleFit(params=params.numpy().copy(), fitted=fitted, rmse=rmse,
                    relative_rmse=rmse / np.maximum(ptp, 1e-12))
