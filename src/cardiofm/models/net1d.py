"""Net1D / ResNeXt1D: the CLEF backbone (CLEF Appendix C.3, Table S7).

The structure follows Shenda Hong's ``resnet1d/net1d.py``, which CLEF adapts:

* stem: conv (kernel 16, stride 2, "same" padding) -> BN -> swish, to ``base_filters`` (the paper's *d*);
* stages of blocks; each block is pre-activation
  ``[BN-swish] 1x1 conv -> BN-swish k=16 grouped conv -> BN-swish 1x1 conv`` to the stage width *h*,
  with a middle width of ``int(h * ratio)`` and ``h // group_width`` groups in the grouped conv,
  then squeeze-excitation gating (mean over time -> Linear h->h/2 -> swish -> Linear -> sigmoid);
* the first block of each stage strides (default 2, per stage configurable); its shortcut is
  max-pooled by the same stride and zero-padded in channels when the width changes;
* the pooled embedding is the time-mean of the last stage (``embed_dim`` = last stage width).

No sampling rate is assumed; every length works ("same" padding rounds lengths up).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from cardiofm.errors import ConfigError
from cardiofm.models.registry import check_input, register_model


class SameConv1d(nn.Conv1d):
    """Conv1d with TensorFlow-style "same" padding: output length ``ceil(n / stride)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        k, s = self.kernel_size[0], self.stride[0]
        pad = max(0, (-(-n // s) - 1) * s + k - n)
        if pad:
            x = F.pad(x, (pad // 2, pad - pad // 2))
        return super().forward(x)


def _same_max_pool(x: torch.Tensor, k: int) -> torch.Tensor:
    n = x.shape[-1]
    pad = (-n) % k
    if pad:  # pad with the edge value so the max is unaffected by padding
        x = F.pad(x, (pad // 2, pad - pad // 2), mode="replicate")
    return F.max_pool1d(x, k)


class SqueezeExcite(nn.Module):
    """Channel gating: time-mean -> Linear(h, h/2) -> swish -> Linear(h/2, h) -> sigmoid -> scale."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, max(1, channels // 2))
        self.fc2 = nn.Linear(max(1, channels // 2), channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.fc2(F.silu(self.fc1(x.mean(-1)))))
        return x * g.unsqueeze(-1)


class Net1DBlock(nn.Module):
    """Pre-activation bottleneck block: 1x1 -> grouped k-conv (strided) -> 1x1, SE, shortcut."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        ratio: float,
        kernel_size: int,
        stride: int,
        group_width: int,
        dropout: float,
        preact: bool,
    ) -> None:
        super().__init__()
        mid = int(out_ch * ratio)
        groups = max(1, out_ch // group_width)
        if mid < 1 or mid % groups:
            raise ConfigError(
                f"net1d: middle width int({out_ch} * ratio={ratio}) = {mid} is not divisible by "
                f"{groups} groups ({out_ch} // group_width={group_width}); change ratio or group_width"
            )
        self.in_ch, self.out_ch, self.stride = in_ch, out_ch, stride

        def drop() -> nn.Module:
            return nn.Dropout(dropout) if dropout > 0 else nn.Identity()

        self.pre1 = nn.Sequential(nn.BatchNorm1d(in_ch), nn.SiLU(), drop()) if preact else nn.Identity()
        self.conv1 = SameConv1d(in_ch, mid, 1)
        self.pre2 = nn.Sequential(nn.BatchNorm1d(mid), nn.SiLU(), drop())
        self.conv2 = SameConv1d(mid, mid, kernel_size, stride=stride, groups=groups)
        self.pre3 = nn.Sequential(nn.BatchNorm1d(mid), nn.SiLU(), drop())
        self.conv3 = SameConv1d(mid, out_ch, 1)
        self.se = SqueezeExcite(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.pre1(x))
        out = self.conv2(self.pre2(out))
        out = self.se(self.conv3(self.pre3(out)))
        short = _same_max_pool(x, self.stride) if self.stride > 1 else x
        if self.out_ch != self.in_ch:
            extra = self.out_ch - self.in_ch
            short = F.pad(short, (0, 0, extra // 2, extra - extra // 2))
        return out + short


class Net1D(nn.Module):
    """ResNeXt1D encoder of CLEF (see the module docstring for the block structure).

    Args:
        in_leads: input leads (CLEF uses 1).
        base_filters: stem width, the paper's hidden dimension *d*.
        ratio: middle width of each block relative to its output width (the paper's iota).
        group_width: channels per group; the grouped conv has ``h // group_width`` groups.
        widths: output width *h* of each stage.
        blocks: number of blocks of each stage (the paper's gamma).
        kernel_size: kernel of the stem and of the grouped convs (16 in CLEF).
        stride: downsampling of the first block of each stage (int, or one per stage).
        dropout: dropout probability after each pre-activation (0 disables).
    """

    def __init__(
        self,
        in_leads: int = 1,
        base_filters: int = 32,
        ratio: float = 0.5,
        group_width: int = 8,
        widths: Sequence[int] = (32, 64, 64, 128, 128, 256),
        blocks: Sequence[int] = (1, 1, 2, 2, 2, 2),
        kernel_size: int = 16,
        stride: int | Sequence[int] = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        widths, blocks = [int(w) for w in widths], [int(b) for b in blocks]
        strides = [int(stride)] * len(widths) if isinstance(stride, int) else [int(s) for s in stride]
        if not widths or len(blocks) != len(widths) or len(strides) != len(widths):
            raise ConfigError(
                f"net1d: widths ({len(widths)}), blocks ({len(blocks)}) and stride ({len(strides)}) "
                "must have one entry per stage"
            )
        if min(widths) < 1 or min(blocks) < 1 or min(strides) < 1 or base_filters < 1 or kernel_size < 1:
            raise ConfigError("net1d: widths, blocks, stride, base_filters and kernel_size must be positive")
        if not 0 <= dropout < 1:
            raise ConfigError(f"net1d: dropout must be in [0, 1), got {dropout}")
        self.in_leads = in_leads
        self.embed_dim = widths[-1]
        self.stem = nn.Sequential(
            SameConv1d(in_leads, base_filters, kernel_size, stride=2), nn.BatchNorm1d(base_filters), nn.SiLU()
        )
        stages = []
        ch = base_filters
        for i, (w, nb, s) in enumerate(zip(widths, blocks, strides, strict=True)):
            stage = [
                Net1DBlock(
                    ch if b == 0 else w, w, ratio, kernel_size, s if b == 0 else 1, group_width, dropout,
                    preact=not (i == 0 and b == 0),  # the stem already ends in BN-swish
                )
                for b in range(nb)
            ]
            stages.append(nn.Sequential(*stage))
            ch = w
        self.stages = nn.Sequential(*stages)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``(batch, time_steps, embed_dim)`` of the last stage."""
        check_input(x, self.in_leads, "net1d")
        return self.stages(self.stem(x)).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled embedding ``(batch, embed_dim)``: time-mean of the last stage."""
        check_input(x, self.in_leads, "net1d")
        return self.stages(self.stem(x)).mean(-1)


# CLEF Table S7. Parameter counts (in_leads=1) as the paper states: S 448K, M 30.7M, L 296M.
register_model(
    "net1d_s", base_filters=32, ratio=0.5, group_width=8,
    widths=[32, 64, 64, 128, 128, 256], blocks=[1, 1, 2, 2, 2, 2],
)(Net1D)
register_model(
    "net1d_m", base_filters=64, ratio=1.0, group_width=16,
    widths=[64, 160, 160, 400, 400, 1024, 1024], blocks=[2, 2, 2, 3, 3, 4, 4],
)(Net1D)
register_model(
    "net1d_l", base_filters=128, ratio=1.5, group_width=32,
    widths=[128, 256, 256, 512, 512, 1024, 1024, 2048, 2048], blocks=[2, 3, 3, 4, 4, 5, 5, 6, 6],
)(Net1D)
# Small and fast, for tests and demos (~10k parameters).
register_model(
    "net1d_tiny", base_filters=8, ratio=1.0, group_width=4, widths=[8, 16, 32], blocks=[1, 1, 1], stride=4,
)(Net1D)
