"""SE-Diff's latent space: a convolutional VAE (12 x L ECG <-> d x T latent, T = L / S) and a beat decoder.

* :class:`LatentVAE`: the encoder halves the length log2(S) times (stride-2 convolutions, GroupNorm, SiLU) and
  ends in the mean and log-variance of a diagonal Gaussian over ``(d, L / S)``; the decoder mirrors it with
  transposed convolutions. ``kl()`` is KL(q(z|x) || N(0, I)) per sample, averaged over latent elements.
* :class:`BeatDecoder`: latent sequence -> one phase-normalised cardiac cycle per lead ``(leads, n_phase)``
  (the convention of :mod:`cardiofm.physio.cycles`). It pools the latent over time, so it summarises the
  morphology of the record's beats, the quantity the simulator terms constrain.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cardiofm.errors import ConfigError


def _gn(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(next(g for g in (8, 4, 2, 1) if c % g == 0), c)


def _widths(width: int, n: int) -> list[int]:
    return [width * min(2 ** (i // 2), 4) for i in range(n + 1)]


class LatentVAE(nn.Module):
    """``encode(x) -> (mu, logvar)`` ``(B, d, L/S)``; ``decode(z) -> (B, leads, L)``."""

    def __init__(self, in_leads: int = 12, latent_channels: int = 8, stride: int = 8, width: int = 64) -> None:
        super().__init__()
        n = int(round(math.log2(stride))) if stride >= 1 else -1
        if n < 0 or 2**n != stride:
            raise ConfigError(f"SE-Diff VAE: stride must be a power of two (1, 2, 4, 8, 16, ...), got {stride}")
        self.in_leads, self.latent_channels, self.stride = in_leads, latent_channels, stride
        w = _widths(width, n)
        enc: list[nn.Module] = [nn.Conv1d(in_leads, w[0], 7, padding=3)]
        for i in range(n):
            enc += [_gn(w[i]), nn.SiLU(), nn.Conv1d(w[i], w[i + 1], 4, stride=2, padding=1),
                    _gn(w[i + 1]), nn.SiLU(), nn.Conv1d(w[i + 1], w[i + 1], 3, padding=1)]
        enc += [_gn(w[n]), nn.SiLU(), nn.Conv1d(w[n], 2 * latent_channels, 3, padding=1)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv1d(latent_channels, w[n], 3, padding=1)]
        for i in reversed(range(n)):
            dec += [_gn(w[i + 1]), nn.SiLU(), nn.ConvTranspose1d(w[i + 1], w[i], 4, stride=2, padding=1),
                    _gn(w[i]), nn.SiLU(), nn.Conv1d(w[i], w[i], 3, padding=1)]
        dec += [_gn(w[0]), nn.SiLU(), nn.Conv1d(w[0], in_leads, 7, padding=3)]
        self.decoder = nn.Sequential(*dec)

    def check(self, x: Tensor) -> None:
        if x.ndim != 3 or x.shape[1] != self.in_leads or x.shape[-1] % self.stride:
            raise ConfigError(f"SE-Diff VAE expects (batch, {self.in_leads}, L) with L a multiple of the stride "
                              f"{self.stride}, got {tuple(x.shape)}")

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        self.check(x)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    @staticmethod
    def sample(mu: Tensor, logvar: Tensor) -> Tensor:
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp()

    @staticmethod
    def kl(mu: Tensor, logvar: Tensor) -> Tensor:
        """KL(N(mu, exp(logvar)) || N(0, 1)) per sample, averaged over latent elements."""
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(dim=(1, 2))


class BeatDecoder(nn.Module):
    """Latent ``(B, d, T)`` -> one cardiac cycle per lead ``(B, leads, n_phase)``."""

    def __init__(self, latent_channels: int = 8, leads: int = 12, n_phase: int = 64, width: int = 128) -> None:
        super().__init__()
        self.leads, self.n_phase = leads, n_phase
        self.conv = nn.Sequential(nn.Conv1d(latent_channels, width // 2, 3, padding=1), nn.SiLU(),
                                  nn.Conv1d(width // 2, width, 3, stride=2, padding=1), nn.SiLU())
        self.head = nn.Sequential(nn.Linear(2 * width, 2 * width), nn.SiLU(), nn.Linear(2 * width, leads * n_phase))

    def forward(self, z: Tensor) -> Tensor:
        h = self.conv(z)
        pooled = torch.cat([h.mean(dim=-1), F.adaptive_max_pool1d(h, 1).squeeze(-1)], dim=1)
        return self.head(pooled).reshape(-1, self.leads, self.n_phase)
