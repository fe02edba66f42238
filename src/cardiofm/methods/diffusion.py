"""Denoising diffusion for SE-Diff's latents: noise schedules, DDPM (epsilon) training loss, DDIM sampling with
classifier-free guidance.

* :class:`NoiseSchedule`: ``beta_t`` for t = 1..T (``"linear"``, Ho et al. 2020: 1e-4 to 0.02 over 1000 steps;
  or ``"cosine"``, Nichol & Dhariwal 2021, ``alpha_bar(t) = cos^2((t/T + s) / (1 + s) * pi / 2)`` normalised,
  s = 0.008, betas clipped at 0.999); ``alpha_bar`` is the cumulative product of ``1 - beta``. Index ``t`` of the
  arrays is step t + 1 (0-based).
* :meth:`NoiseSchedule.q_sample`: ``z_t = sqrt(alpha_bar_t) z_0 + sqrt(1 - alpha_bar_t) eps``.
* :func:`ddpm_loss`: the mean squared error between the true noise and the model's prediction (the "simple"
  loss of Ho et al.).
* :func:`ddim_sample`: DDIM (Song et al. 2021) on an evenly spaced subsequence of the steps; ``eta = 0`` is
  deterministic given the starting noise, ``eta = 1`` is DDPM-like. Classifier-free guidance (Ho & Salimans
  2022) combines the conditional and the unconditional prediction as
  ``eps = eps(z, t, null) + w * (eps(z, t, c) - eps(z, t, null))``: ``w = 0`` is the unconditional model,
  ``w = 1`` the conditional one. :func:`drop_condition` trains both in one model (condition dropout).

Models are callables ``model(z_t, t, cond) -> eps`` with ``t`` a ``(B,)`` long tensor of 0-based steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from cardiofm.errors import ConfigError

EpsModel = Callable[[Tensor, Tensor, Tensor | None], Tensor]
SCHEDULES = ("linear", "cosine")


class NoiseSchedule:
    """The forward process of a DDPM (module docstring)."""

    def __init__(self, steps: int = 1000, kind: str = "linear", beta_start: float = 1e-4, beta_end: float = 0.02,
                 cosine_s: float = 0.008) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(f"NoiseSchedule: steps must be a positive integer, got {steps!r}")
        if kind == "linear":
            if not 0 < beta_start <= beta_end < 1:
                raise ConfigError(f"NoiseSchedule: need 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}")
            betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
        elif kind == "cosine":
            x = torch.arange(steps + 1, dtype=torch.float64) / steps
            f = torch.cos((x + cosine_s) / (1 + cosine_s) * math.pi / 2) ** 2
            betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
        else:
            raise ConfigError(f"NoiseSchedule: kind must be one of {SCHEDULES}, got {kind!r}")
        self.steps, self.kind = steps, kind
        self.betas = betas
        self.alphas = 1.0 - betas
        self.alpha_bar = torch.cumprod(self.alphas, dim=0)

    def _at(self, values: Tensor, t: Tensor, like: Tensor) -> Tensor:
        t = torch.as_tensor(t, device=like.device).long()
        if t.ndim != 1 or t.shape[0] != like.shape[0]:
            raise ConfigError(f"steps t must be (batch,) = ({like.shape[0]},), got {tuple(t.shape)}")
        if bool((t < 0).any() or (t >= self.steps).any()):
            raise ConfigError(f"steps t must lie in [0, {self.steps - 1}]")
        v = values.to(device=like.device, dtype=like.dtype)[t]
        return v.reshape(-1, *([1] * (like.ndim - 1)))

    def q_sample(self, z0: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        """Noised latents ``z_t`` of clean ``z0`` with noise ``eps`` at 0-based steps ``t``."""
        if eps.shape != z0.shape:
            raise ConfigError(f"q_sample: noise {tuple(eps.shape)} and latents {tuple(z0.shape)} differ")
        ab = self._at(self.alpha_bar, t, z0)
        return ab.sqrt() * z0 + (1 - ab).sqrt() * eps


def ddpm_loss(model: EpsModel, schedule: NoiseSchedule, z0: Tensor, cond: Tensor | None = None, *,
              generator: torch.Generator | None = None) -> Tensor:
    """E_t,eps ||eps - model(z_t, t, cond)||^2 with t uniform over the steps (one draw per sample)."""
    t = torch.randint(0, schedule.steps, (z0.shape[0],), device=z0.device, generator=generator)
    eps = torch.randn(z0.shape, device=z0.device, dtype=z0.dtype, generator=generator)
    pred = model(schedule.q_sample(z0, t, eps), t, cond)
    return (pred - eps).pow(2).mean()


def drop_condition(cond: Tensor, p: float, null: Tensor | None = None, *,
                   generator: torch.Generator | None = None) -> Tensor:
    """Replace each row of ``cond`` by ``null`` (default zeros) with probability ``p`` (classifier-free training)."""
    if not 0 <= p <= 1:
        raise ConfigError(f"drop_condition: p must lie in [0, 1], got {p}")
    keep = torch.rand(cond.shape[0], device=cond.device, generator=generator) >= p
    null = torch.zeros_like(cond[0]) if null is None else null.to(cond)
    return torch.where(keep.reshape(-1, *([1] * (cond.ndim - 1))), cond, null.expand_as(cond))


def _guided(model: EpsModel, z: Tensor, t: Tensor, cond: Tensor | None, null: Tensor | None, w: float) -> Tensor:
    if cond is None or w == 1.0:
        return model(z, t, cond)
    uncond = model(z, t, null if null is not None else torch.zeros_like(cond))
    if w == 0.0:
        return uncond
    return uncond + w * (model(z, t, cond) - uncond)


@torch.no_grad()
def ddim_sample(model: EpsModel, schedule: NoiseSchedule, shape: tuple[int, ...], cond: Tensor | None = None, *,
                steps: int = 50, eta: float = 0.0, guidance: float = 1.0, null: Tensor | None = None,
                generator: torch.Generator | None = None, device: torch.device | str = "cpu",
                z_start: Tensor | None = None) -> Tensor:
    """Latents ``shape`` sampled by DDIM over ``steps`` evenly spaced steps (module docstring).

    The starting noise comes from ``generator`` (or ``z_start``), so a seeded generator gives the same samples.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= schedule.steps:
        raise ConfigError(f"ddim_sample: steps must be an integer in [1, {schedule.steps}], got {steps!r}")
    if eta < 0:
        raise ConfigError(f"ddim_sample: eta must be >= 0, got {eta}")
    z = torch.randn(shape, generator=generator, device=device) if z_start is None else z_start.clone()
    seq = torch.linspace(schedule.steps - 1, 0, steps).round().long().unique_consecutive()
    ab = schedule.alpha_bar.to(z.device, torch.float64)
    for i, t in enumerate(seq.tolist()):
        tt = torch.full((shape[0],), t, dtype=torch.long, device=z.device)
        eps = _guided(model, z, tt, cond, null, guidance).to(torch.float64)
        a_t = ab[t]
        a_prev = ab[seq[i + 1]] if i + 1 < len(seq) else torch.tensor(1.0, dtype=torch.float64, device=z.device)
        z0 = (z.to(torch.float64) - (1 - a_t).sqrt() * eps) / a_t.sqrt()
        sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).clamp(min=0).sqrt()
        direction = (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps
        noise = torch.randn(shape, generator=generator, device=z.device).to(torch.float64) if eta > 0 else 0.0
        z = (a_prev.sqrt() * z0 + direction + sigma * noise).to(z.dtype)
    return z
