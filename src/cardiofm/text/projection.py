"""SuPreME's learnable projection of frozen text embeddings into the fusion width (eq. 6)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cardiofm.errors import ConfigError


class TextProjection(nn.Module):
    """SuPreME's projection of frozen text embeddings into the fusion width (eq. 6, Appendix A.2).

    ``E'(q) = W2 · ReLU(W1 · E(q))``: two linear layers with a ReLU between them. Weights are drawn from
    N(0, 0.02) as Appendix A.2 states for linear layers, biases start at zero. The paper applies layer
    normalisation to the text embeddings inside the fusion network; ``layer_norm=True`` appends one here
    for use without it.

    Args:
        in_dim: text encoder width (``encoder.dim``).
        out_dim: fusion width (the ECG encoder's ``embed_dim``).
        hidden_dim: width of the hidden layer; ``out_dim`` when not given.
        bias: linear layers with bias (eq. 6 writes none; default ``True`` as in ``nn.Linear``).
        layer_norm: append ``LayerNorm(out_dim)``.
        init_std: standard deviation of the initial weights.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int | None = None, *, bias: bool = True,
                 layer_norm: bool = False, init_std: float = 0.02) -> None:
        super().__init__()
        hidden_dim = out_dim if hidden_dim is None else hidden_dim
        for field, v in (("in_dim", in_dim), ("out_dim", out_dim), ("hidden_dim", hidden_dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"TextProjection {field} must be a positive integer, got {v!r}")
        if not init_std > 0:
            raise ConfigError(f"TextProjection init_std must be positive, got {init_std!r}")
        self.in_dim, self.out_dim, self.hidden_dim = in_dim, out_dim, hidden_dim
        self.init_std = float(init_std)
        self.fc1 = nn.Linear(in_dim, hidden_dim, bias=bias)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden_dim, out_dim, bias=bias)
        self.norm: nn.Module = nn.LayerNorm(out_dim) if layer_norm else nn.Identity()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights ~ N(0, init_std), biases 0, LayerNorm to identity."""
        for fc in (self.fc1, self.fc2):
            nn.init.normal_(fc.weight, mean=0.0, std=self.init_std)
            if fc.bias is not None:
                nn.init.zeros_(fc.bias)
        if isinstance(self.norm, nn.LayerNorm):
            self.norm.reset_parameters()

    def forward(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``(..., in_dim)`` text embeddings (a tensor or an encoder's numpy output) -> ``(..., out_dim)``."""
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(np.asarray(x))
        if x.ndim < 1 or x.shape[-1] != self.in_dim:
            raise ConfigError(f"TextProjection expects text embeddings (..., {self.in_dim}), got shape "
                              f"{tuple(x.shape)}; build it with in_dim=encoder.dim")
        x = x.to(device=self.fc1.weight.device, dtype=self.fc1.weight.dtype)
        return self.norm(self.fc2(self.act(self.fc1(x))))
