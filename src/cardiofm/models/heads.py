"""Prediction heads on a pooled embedding ``(batch, embed_dim) -> (batch, n_out)``, with a small registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cardiofm.errors import ConfigError
from cardiofm.registry import Registry

HEADS: Registry[Callable[..., nn.Module]] = Registry("head")


def register_head(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Register a head class ``cls(embed_dim, n_out, **cfg)`` under ``name``."""
    return HEADS.register(name)


def list_heads() -> list[str]:
    """Sorted names of the registered heads."""
    return HEADS.names()


def _check_dims(embed_dim: int, n_out: int) -> None:
    for field, v in (("embed_dim", embed_dim), ("n_out", n_out)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"head {field} must be a positive integer, got {v!r}")


@register_head("linear")
class LinearHead(nn.Module):
    """One linear layer (a linear probe)."""

    def __init__(self, embed_dim: int, n_out: int) -> None:
        super().__init__()
        _check_dims(embed_dim, n_out)
        self.fc = nn.Linear(embed_dim, n_out)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.fc(z)


@register_head("mlp")
class MLPHead(nn.Module):
    """Linear -> GELU -> dropout -> linear."""

    def __init__(self, embed_dim: int, n_out: int, hidden: int = 256, dropout: float = 0.0) -> None:
        super().__init__()
        _check_dims(embed_dim, n_out)
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise ConfigError(f"mlp head hidden must be a positive integer, got {hidden!r}")
        if not 0 <= dropout < 1:
            raise ConfigError(f"mlp head dropout must be in [0, 1), got {dropout}")
        self.net = nn.Sequential(nn.Linear(embed_dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def create_head(name: str, embed_dim: int, n_out: int, **cfg: Any) -> nn.Module:
    """Build head ``name``; unknown names or config keys raise ConfigError."""
    head = HEADS.get(name)
    try:
        return head(embed_dim, n_out, **cfg)
    except TypeError as exc:
        raise ConfigError(f"head {name!r}: invalid config {cfg}: {exc}") from exc
