"""A 1D U-Net denoiser for latent diffusion (SE-Diff): timestep embedding and cross-attention to condition tokens.

``UNet1D(in_channels, base=64, mults=(1, 2, 2), ...)`` maps noised latents ``z_t`` ``(B, C, T)``, 0-based diffusion
steps ``t`` ``(B,)`` and condition tokens ``cond`` ``(B, n_tokens, cond_dim)`` to a prediction of the noise, of
``z_t``'s shape. Each resolution has residual blocks (GroupNorm, SiLU, 3-tap convolutions; the timestep
embedding, a sinusoidal code passed through a two-layer MLP, is added between the two convolutions) followed by
a pre-norm cross-attention block in which the latent positions attend over the condition tokens (the way text
enters Stable Diffusion's U-Net). The encoder halves the length at each level but the last; the decoder mirrors
it with skip connections. ``cond=None`` skips cross-attention; the classifier-free "null" condition is a token
tensor of zeros, which the attention sees as tokens like any other. The output convolution starts at zero, so
an untrained denoiser predicts zero noise. ``T`` is padded to a multiple of ``2**(levels - 1)`` and cropped back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cardiofm.errors import ConfigError


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal embedding ``(B, dim)`` of integer steps ``t`` (Transformer positional code)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    return F.pad(emb, (0, 1)) if dim % 2 else emb


def _groups(channels: int) -> int:
    return next(g for g in (8, 4, 2, 1) if channels % g == 0)


class ResBlock1d(nn.Module):
    def __init__(self, c_in: int, c_out: int, t_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(_groups(c_in), c_in), nn.Conv1d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(t_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(_groups(c_out), c_out), nn.Conv1d(c_out, c_out, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(F.silu(temb))[:, :, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return self.skip(x) + h


class CrossAttention1d(nn.Module):
    """Latent positions (queries) attend over condition tokens (keys, values); residual, pre-norm."""

    def __init__(self, channels: int, cond_dim: int, heads: int = 4) -> None:
        super().__init__()
        if channels % heads:
            raise ConfigError(f"UNet1D: {channels} channels do not split into {heads} attention heads")
        self.norm = nn.LayerNorm(channels)
        self.attn = nn.MultiheadAttention(channels, heads, kdim=cond_dim, vdim=cond_dim, batch_first=True)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        q = self.norm(x.transpose(1, 2))
        out, _ = self.attn(q, cond, cond, need_weights=False)
        return x + out.transpose(1, 2)


class _Level(nn.Module):
    def __init__(self, c_in: int, c_out: int, t_dim: int, cond_dim: int | None, heads: int, n_res: int,
                 dropout: float) -> None:
        super().__init__()
        self.res = nn.ModuleList(ResBlock1d(c_in if i == 0 else c_out, c_out, t_dim, dropout) for i in range(n_res))
        self.attn = CrossAttention1d(c_out, cond_dim, heads) if cond_dim else None

    def forward(self, x: Tensor, temb: Tensor, cond: Tensor | None) -> Tensor:
        for block in self.res:
            x = block(x, temb)
        return self.attn(x, cond) if self.attn is not None and cond is not None else x


class UNet1D(nn.Module):
    """Noise predictor ``eps(z_t, t, cond)`` over latent sequences (module docstring)."""

    def __init__(self, in_channels: int, base: int = 64, mults: Sequence[int] = (1, 2, 2), cond_dim: int | None = None,
                 heads: int = 4, n_res: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        if in_channels < 1 or base < 1 or not mults or any(m < 1 for m in mults):
            raise ConfigError(f"UNet1D: need in_channels, base >= 1 and positive mults, got {in_channels}, {base}, "
                              f"{tuple(mults)}")
        self.in_channels, self.cond_dim, self.levels = in_channels, cond_dim, len(mults)
        t_dim = 4 * base
        self.t_dim = base
        self.time_mlp = nn.Sequential(nn.Linear(base, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.inp = nn.Conv1d(in_channels, base, 3, padding=1)
        chans = [base * m for m in mults]
        self.down, self.pool = nn.ModuleList(), nn.ModuleList()
        c = base
        for i, ch in enumerate(chans):
            self.down.append(_Level(c, ch, t_dim, cond_dim, heads, n_res, dropout))
            self.pool.append(nn.Conv1d(ch, ch, 3, stride=2, padding=1) if i < len(chans) - 1 else nn.Identity())
            c = ch
        self.mid = _Level(c, c, t_dim, cond_dim, heads, n_res, dropout)
        self.up, self.unpool = nn.ModuleList(), nn.ModuleList()
        for i, ch in reversed(list(enumerate(chans))):
            self.up.append(_Level(c + ch, ch, t_dim, cond_dim, heads, n_res, dropout))
            self.unpool.append(nn.ConvTranspose1d(ch, ch, 4, stride=2, padding=1) if i > 0 else nn.Identity())
            c = ch
        self.out_norm = nn.GroupNorm(_groups(c), c)
        self.out = nn.Conv1d(c, in_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, z: Tensor, t: Tensor, cond: Tensor | None = None) -> Tensor:
        if z.ndim != 3 or z.shape[1] != self.in_channels:
            raise ConfigError(f"UNet1D expects latents (batch, {self.in_channels}, length), got {tuple(z.shape)}")
        if cond is not None and (cond.ndim != 3 or cond.shape[0] != z.shape[0] or cond.shape[2] != self.cond_dim):
            raise ConfigError(f"UNet1D: condition tokens must be (batch, tokens, {self.cond_dim}), "
                              f"got {tuple(cond.shape)}")
        n = z.shape[-1]
        mult = 2 ** (self.levels - 1)
        x = F.pad(z, (0, (-n) % mult))
        temb = self.time_mlp(timestep_embedding(t, self.t_dim))
        h = self.inp(x)
        skips = []
        for level, pool in zip(self.down, self.pool, strict=True):
            h = level(h, temb, cond)
            skips.append(h)
            h = pool(h)
        h = self.mid(h, temb, cond)
        for level, unpool in zip(self.up, self.unpool, strict=True):
            h = level(torch.cat([h, skips.pop()], dim=1), temb, cond)
            h = unpool(h)
        return self.out(F.silu(self.out_norm(h)))[..., :n]
