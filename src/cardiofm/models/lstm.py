"""Bidirectional LSTM encoder: the CardioPRIME ECG encoder (CardioPRIME Sec. 3, architecture table).

CardioPRIME feeds a 4 s 12-lead window to a one-layer BiLSTM (hidden size 128) and projects the
concatenated hidden state h (2 * 128) linearly to a 50-d embedding z_LSTM. Here:

* optional stem: ``stem_stride > 1`` adds a strided Conv1d (kernel ``2 * stem_stride``, "same" padding,
  ``stem_channels`` out, BN, GELU) that shortens the sequence by ``stem_stride`` before the LSTM (the paper
  has none; an LSTM over thousands of steps is slow on CPU, so the test-sized model uses one);
* tokens: the per-step BiLSTM outputs (forward and backward concatenated) through the same linear
  projection, ``(batch, steps, embed_dim)``;
* pooled: ``pool="last"`` (default, as the paper) projects the final forward state concatenated with the
  final backward state; ``pool="mean"`` projects the time-mean of the per-step outputs.

The VAE heads (mean / log-variance) belong to the method, not to this encoder.
"""

from __future__ import annotations

import torch
from torch import nn

from cardiofm.errors import ConfigError
from cardiofm.models.net1d import SameConv1d
from cardiofm.models.registry import check_input, register_model


class LSTMEncoder(nn.Module):
    """BiLSTM encoder (see the module docstring).

    Args:
        in_leads: number of input leads.
        hidden_size: LSTM hidden size per direction.
        num_layers: stacked LSTM layers.
        embed_dim: width of the linear projection (CardioPRIME: 50).
        dropout: dropout between LSTM layers (needs ``num_layers > 1``).
        stem_stride: stride of the optional conv stem (1 = no stem).
        stem_channels: output channels of the conv stem.
        pool: ``"last"`` (final states of both directions) or ``"mean"`` (time-mean of outputs).
    """

    def __init__(
        self,
        in_leads: int = 12,
        hidden_size: int = 128,
        num_layers: int = 1,
        embed_dim: int = 50,
        dropout: float = 0.0,
        stem_stride: int = 1,
        stem_channels: int = 64,
        pool: str = "last",
    ) -> None:
        super().__init__()
        if min(hidden_size, num_layers, embed_dim, stem_stride, stem_channels) < 1:
            raise ConfigError("lstm: hidden_size, num_layers, embed_dim, stem_stride, stem_channels must be positive")
        if pool not in ("last", "mean"):
            raise ConfigError(f"lstm: pool must be 'last' or 'mean', got {pool!r}")
        if not 0 <= dropout < 1:
            raise ConfigError(f"lstm: dropout must be in [0, 1), got {dropout}")
        self.in_leads = in_leads
        self.embed_dim = embed_dim
        self.pool = pool
        if stem_stride > 1:
            k = 2 * stem_stride
            self.stem: nn.Module = nn.Sequential(
                SameConv1d(in_leads, stem_channels, k, stride=stem_stride),
                nn.BatchNorm1d(stem_channels),
                nn.GELU(),
            )
            lstm_in = stem_channels
        else:
            self.stem = nn.Identity()
            lstm_in = in_leads
        self.lstm = nn.LSTM(
            lstm_in, hidden_size, num_layers=num_layers, batch_first=True, bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.proj = nn.Linear(2 * hidden_size, embed_dim)

    def _run(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_input(x, self.in_leads, "lstm")
        out, (h, _) = self.lstm(self.stem(x).transpose(1, 2))  # out (B, T, 2H); h (layers*2, B, H)
        return out, torch.cat([h[-2], h[-1]], dim=-1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``(batch, steps, embed_dim)``: projected per-step BiLSTM outputs."""
        return self.proj(self._run(x)[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled embedding ``(batch, embed_dim)`` (final states or time-mean, per ``pool``)."""
        out, last = self._run(x)
        return self.proj(last if self.pool == "last" else out.mean(1))


# CardioPRIME: BiLSTM, hidden 128, 1 layer, dropout 0, linear projection to 50 dims; no stem.
register_model("lstm_cardioprime", hidden_size=128, num_layers=1, embed_dim=50, stem_stride=1)(LSTMEncoder)
# Small and fast, for tests and demos.
register_model(
    "lstm_tiny", hidden_size=16, num_layers=1, embed_dim=16, stem_stride=8, stem_channels=16, pool="mean",
)(LSTMEncoder)
