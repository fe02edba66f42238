"""``resnet1d_wang``: the 1D ResNet baseline of Strodthoff et al. 2021 (PTB-XL benchmark).

Configuration as in that benchmark's ``resnet1d_wang`` (``ecg_ptbxl_benchmarking``): stem conv kernel 7,
stride 1, 128 filters, BN, ReLU, no stem pooling; three stages of one BasicBlock each (conv k=5 -> BN ->
ReLU -> conv k=3 -> BN, + shortcut, ReLU), all 128 wide, stride 1 in the first stage and 2 in the others
(shortcut: 1x1 strided conv + BN). Convolutions have no bias.

The benchmark's head (concat pooling -> BN/dropout/linear) is not part of the encoder. The pooled
embedding here is that head's concat pooling, ``[adaptive max pool, adaptive avg pool]``, so
``embed_dim = 2 * channels`` (256). ``forward_features`` must return ``embed_dim``-wide tokens, so with
concat pooling each ``channels``-wide time step appears twice (max over the first half and mean over the
second half of the tokens give the pooled embedding); ``pool="avg"`` gives plain tokens and ``embed_dim = channels``.
"""

from __future__ import annotations

import torch
from torch import nn

from cardiofm.errors import ConfigError
from cardiofm.models.registry import check_input, register_model


class BasicBlock1d(nn.Module):
    """Two convolutions (kernels k1, k2) with BN, a residual connection and ReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernels: tuple[int, int], stride: int) -> None:
        super().__init__()
        k1, k2 = kernels
        self.conv1 = nn.Conv1d(in_ch, out_ch, k1, stride=stride, padding=(k1 - 1) // 2, bias=False)
        self.bn1 = nn.BatchNorm1d(out_ch)
        self.conv2 = nn.Conv1d(out_ch, out_ch, k2, padding=(k2 - 1) // 2, bias=False)
        self.bn2 = nn.BatchNorm1d(out_ch)
        self.relu = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm1d(out_ch)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet1dWang(nn.Module):
    """PTB-XL benchmark ResNet encoder.

    Args:
        in_leads: number of input leads.
        channels: filters of the stem and of every stage (128).
        kernel_sizes: kernels of the two convolutions of a block ((5, 3)).
        stem_kernel: kernel of the stem convolution (7).
        blocks: blocks per stage ((1, 1, 1)).
        stride: stride of the first block of every stage after the first (2).
        pool: ``"concat"`` (max and avg, ``embed_dim = 2 * channels``) or ``"avg"`` (``embed_dim = channels``).
    """

    def __init__(
        self,
        in_leads: int = 12,
        channels: int = 128,
        kernel_sizes: tuple[int, int] = (5, 3),
        stem_kernel: int = 7,
        blocks: tuple[int, ...] = (1, 1, 1),
        stride: int = 2,
        pool: str = "concat",
    ) -> None:
        super().__init__()
        kernel_sizes = tuple(int(k) for k in kernel_sizes)
        if len(kernel_sizes) != 2 or min(kernel_sizes) < 1:
            raise ConfigError(f"resnet1d_wang: kernel_sizes must be two positive ints, got {kernel_sizes}")
        if min(channels, stem_kernel, stride, *blocks) < 1 or not blocks:
            raise ConfigError("resnet1d_wang: channels, stem_kernel, stride and blocks must be positive")
        if pool not in ("concat", "avg"):
            raise ConfigError(f"resnet1d_wang: pool must be 'concat' or 'avg', got {pool!r}")
        self.in_leads = in_leads
        self.pool = pool
        self.embed_dim = 2 * channels if pool == "concat" else channels
        self.stem = nn.Sequential(
            nn.Conv1d(in_leads, channels, stem_kernel, padding=(stem_kernel - 1) // 2, bias=False),
            nn.BatchNorm1d(channels),
            nn.ReLU(),
        )
        layers = []
        for i, nb in enumerate(blocks):
            for b in range(nb):
                s = stride if (i > 0 and b == 0) else 1
                layers.append(BasicBlock1d(channels, channels, kernel_sizes, s))  # type: ignore[arg-type]
        self.stages = nn.Sequential(*layers)

    def _maps(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_leads, "resnet1d_wang")
        return self.stages(self.stem(x))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``(batch, time_steps, embed_dim)``; with concat pooling each step is repeated in both halves."""
        maps = self._maps(x).transpose(1, 2)
        return torch.cat([maps, maps], dim=-1) if self.pool == "concat" else maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled embedding ``(batch, embed_dim)``: concat of time-max and time-mean (or the mean)."""
        maps = self._maps(x)
        if self.pool == "avg":
            return maps.mean(-1)
        return torch.cat([maps.amax(-1), maps.mean(-1)], dim=1)


register_model("resnet1d_wang")(ResNet1dWang)
