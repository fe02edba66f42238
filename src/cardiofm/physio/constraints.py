"""Unconstrained numbers -> McSharry parameters inside their physiological ranges (CardioPRIME, Table 1).

CardioPRIME (following Wang & Fox, 2023) maps each sampled latent value into its parameter's range "using a
weighted combination of the sigmoid, hyperbolic tangent, and natural logarithm functions, with learned weights
initialized from a uniform distribution, and constrained to a valid distribution using the softmax function".
Each of the three maps sends the real line onto [0, 1]:

* sigmoid: ``s(u) = 1 / (1 + exp(-u))``;
* tanh: ``(tanh(u) + 1) / 2`` (= ``s(2u)``, a steeper sigmoid);
* log: ``ln(1 + (e - 1) s(u))``, the natural logarithm of a point between 1 and e (skewed towards the top).

Parameter ``i`` is ``lo_i + (hi_i - lo_i) * sum_k w_ik m_k(u_i)`` with ``w_i = softmax(l_i)`` over the three
maps; a convex combination of numbers in [0, 1] stays in [0, 1], so every parameter lies in its range
whatever the input and the weights. At ``u = 0`` the sigmoid and tanh maps give the centre of the range
(the log map 0.62 of the way up), so a prior centred at 0 in the unconstrained space is a prior at the
centre of the ranges.

The ranges are :data:`cardiofm.physio.mcsharry.PARAM_RANGES` (Table 1; theta0 and z0 are ours) plus the mean
heart rate ``hr_mean`` in bpm (:data:`HR_RANGE`), which McSharry's model needs and Table 1 does not list.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from cardiofm.errors import ConfigError
from cardiofm.physio.mcsharry import PARAM_NAMES, PARAM_RANGES

HR_RANGE = (40.0, 150.0)
CONSTRAINED_NAMES: tuple[str, ...] = (*PARAM_NAMES, "hr_mean")
MAPS = ("sigmoid", "tanh", "log")


def default_ranges() -> dict[str, tuple[float, float]]:
    """Table 1's ranges in :data:`CONSTRAINED_NAMES` order, with ``hr_mean``."""
    return {**{n: PARAM_RANGES[n] for n in PARAM_NAMES}, "hr_mean": HR_RANGE}


def unit_maps(u: Tensor) -> Tensor:
    """The three maps of ``u`` onto [0, 1], stacked on a new last axis ``(..., 3)``."""
    s = torch.sigmoid(u)
    return torch.stack([s, torch.sigmoid(2.0 * u), torch.log1p((math.e - 1.0) * s)], dim=-1)


class RangeConstraint(nn.Module):
    """Maps ``(B, P)`` unconstrained values to ``(B, P)`` parameters inside ``ranges`` (module docstring).

    Args:
        ranges: name -> (low, high) with low < high, in output column order (default :func:`default_ranges`).
        seed: seed of the uniform initialisation of the map-weight logits (``None``: torch's global generator).
    """

    def __init__(self, ranges: dict[str, tuple[float, float]] | None = None, *, seed: int | None = 0) -> None:
        super().__init__()
        ranges = default_ranges() if ranges is None else dict(ranges)
        if not ranges:
            raise ConfigError("RangeConstraint: no parameter ranges given")
        bad = [n for n, (lo, hi) in ranges.items() if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi)]
        if bad:
            raise ConfigError(f"RangeConstraint: ranges must be finite with low < high; bad: {', '.join(bad)}")
        self.names = tuple(ranges)
        lo = torch.tensor([ranges[n][0] for n in self.names], dtype=torch.float64)
        hi = torch.tensor([ranges[n][1] for n in self.names], dtype=torch.float64)
        self.register_buffer("low", lo.float())
        self.register_buffer("width", (hi - lo).float())
        gen = None if seed is None else torch.Generator().manual_seed(seed)
        self.logits = nn.Parameter(torch.rand(len(self.names), len(MAPS), generator=gen))

    @property
    def n_params(self) -> int:
        return len(self.names)

    def weights(self) -> Tensor:
        """Softmax weights of the three maps per parameter ``(P, 3)``."""
        return torch.softmax(self.logits, dim=-1)

    def forward(self, u: Tensor) -> Tensor:
        if u.ndim != 2 or u.shape[1] != self.n_params:
            raise ConfigError(f"RangeConstraint: expected (batch, {self.n_params}) values, got {tuple(u.shape)}")
        frac = (unit_maps(u) * self.weights()).sum(-1)
        # float rounding can put sigmoid(u) at exactly 0 or 1, which is still inside the closed range
        return self.low + self.width * frac.clamp(0.0, 1.0)
