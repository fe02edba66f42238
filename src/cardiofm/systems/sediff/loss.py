"""SE-Diff's simulator terms: Euler consistency with McSharry's ODE, the frontal inter-lead constraint, a spectral loss.

All three act on beat cycles ``h`` ``(B, 12, n_phase)`` (one phase-normalised cardiac cycle per lead, the
convention of :mod:`cardiofm.physio.cycles`: dt = 1 / n_phase, 60 bpm) decoded from the denoiser's estimate of
the clean latent, so their gradients reach the denoiser:

* **Euler consistency** (``L_Euler``): per lead, the discrete derivative ``h[l+1] - h[l]`` against
  ``dt * f_z(x_l, y_l, h_l; eta)`` with ``eta`` the McSharry parameters pre-fitted to the record's class and that
  lead (:func:`cardiofm.physio.cycles.euler_residual`).
* **Inter-lead** (``L_inter``): the six frontal leads obey Einthoven's and Goldberger's identities, so every
  child lead is a fixed combination ``beta * p + gamma * q`` of the parents I and II (:data:`FRONTAL`). For the
  cycles, the child's discrete derivative is matched against ``dt * (beta f_z(p; eta_p) + gamma f_z(q; eta_q))``,
  the parents' simulator derivatives; for the decoded 10 s signals ``x`` (when given), the child itself against
  ``beta x_p + gamma x_q``. Both parts are zero on lead-consistent input whose parents follow the ODE.
* **Spectral** (``L_spec``): the L1 distance between the magnitude spectra (rFFT over phase) of the decoded
  and the record's real average cycle.

Each term is divided by a scale of the real data in the batch (the mean square of the real cycles' steps, of the
real limb leads, the mean real magnitude), so the terms are unit-free and their weights comparable with the
diffusion loss. Terms are per sample, ``(B,)``; the caller weights and averages them.
"""

from __future__ import annotations

import torch
from torch import Tensor

from cardiofm.errors import ConfigError
from cardiofm.physio.cycles import cycle_derivative, euler_residual
from cardiofm.signal.record import LEADS_12

# child lead -> (beta, gamma) on the parents (I, II): III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2
FRONTAL: dict[str, tuple[float, float]] = {"III": (-1.0, 1.0), "aVR": (-0.5, -0.5), "aVL": (1.0, -0.5),
                                           "aVF": (-0.5, 1.0)}
PARENTS = ("I", "II")
_EPS = 1e-8


def _idx(leads: tuple[str, ...], name: str) -> int:
    if name not in leads:
        raise ConfigError(f"the inter-lead constraint needs lead {name}; the model has {', '.join(leads)}")
    return leads.index(name)


def _check(h: Tensor, params: Tensor | None = None) -> None:
    if h.ndim != 3:
        raise ConfigError(f"beat cycles must be (batch, leads, n_phase), got {tuple(h.shape)}")
    if params is not None and params.shape[:2] != h.shape[:2]:
        raise ConfigError(f"McSharry parameters {tuple(params.shape)} do not match cycles {tuple(h.shape)}")


def step_scale(real: Tensor) -> Tensor:
    """Mean square of the real cycles' sample-to-sample steps, per sample ``(B,)`` (the Euler/inter scale)."""
    return torch.diff(real, dim=-1).pow(2).mean(dim=(1, 2)).clamp_min(_EPS)


def euler_loss(h: Tensor, params: Tensor, scale: Tensor) -> Tensor:
    """``L_Euler`` per sample: mean over leads and steps of the squared Euler residual / ``scale``."""
    _check(h, params)
    b, n_leads, n = h.shape
    res = euler_residual(h.reshape(b * n_leads, n), params.reshape(b * n_leads, -1))
    return res.reshape(b, n_leads, -1).pow(2).mean(dim=(1, 2)) / scale


def inter_lead_cycle_residual(h: Tensor, params: Tensor, leads: tuple[str, ...] = LEADS_12) -> Tensor:
    """``(B, 4, n_phase - 1)``: child steps minus dt times the parents' combined simulator derivatives."""
    _check(h, params)
    b, _, n = h.shape
    p, q = (_idx(leads, name) for name in PARENTS)
    fp = cycle_derivative(h[:, p], params[:, p])[:, :-1]
    fq = cycle_derivative(h[:, q], params[:, q])[:, :-1]
    out = []
    for child, (beta, gamma) in FRONTAL.items():
        c = _idx(leads, child)
        out.append(torch.diff(h[:, c], dim=-1) - (beta * fp + gamma * fq) / n)
    return torch.stack(out, dim=1)


def inter_lead_signal_residual(x: Tensor, leads: tuple[str, ...] = LEADS_12) -> Tensor:
    """``(B, 4, samples)``: each frontal child lead minus its Einthoven/Goldberger combination of I and II."""
    p, q = (_idx(leads, name) for name in PARENTS)
    return torch.stack([x[:, _idx(leads, child)] - (beta * x[:, p] + gamma * x[:, q])
                        for child, (beta, gamma) in FRONTAL.items()], dim=1)


def inter_lead_loss(h: Tensor, params: Tensor, scale: Tensor, x: Tensor | None = None,
                    x_scale: Tensor | None = None, leads: tuple[str, ...] = LEADS_12) -> Tensor:
    """``L_inter`` per sample: the cycle part, plus the signal part when decoded signals ``x`` are given."""
    loss = inter_lead_cycle_residual(h, params, leads).pow(2).mean(dim=(1, 2)) / scale
    if x is not None:
        if x_scale is None:
            raise ConfigError("inter_lead_loss: give x_scale with the decoded signals")
        loss = loss + inter_lead_signal_residual(x, leads).pow(2).mean(dim=(1, 2)) / x_scale
    return loss


def limb_scale(real_x: Tensor, leads: tuple[str, ...] = LEADS_12) -> Tensor:
    """Mean square of the real leads I and II per sample ``(B,)`` (the scale of the signal inter-lead part)."""
    idx = [_idx(leads, name) for name in PARENTS]
    return real_x[:, idx].pow(2).mean(dim=(1, 2)).clamp_min(_EPS)


def spectral_loss(h: Tensor, real: Tensor) -> Tensor:
    """``L_spec`` per sample: mean |(|F h| - |F real|)| / mean |F real| over leads and frequencies."""
    _check(h)
    if real.shape != h.shape:
        raise ConfigError(f"spectral_loss: cycles {tuple(h.shape)} and real cycles {tuple(real.shape)} differ")
    fh, fr = torch.fft.rfft(h, dim=-1).abs(), torch.fft.rfft(real, dim=-1).abs()
    return (fh - fr).abs().mean(dim=(1, 2)) / fr.mean(dim=(1, 2)).clamp_min(_EPS)
