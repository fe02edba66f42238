"""1D ViT with lead and time-position embeddings: the SuPreME ECG encoder (SuPreME Sec. 3.2, App. A.2).

* Each lead is cut into non-overlapping patches of ``patch_size`` samples (one Conv1d shared by all leads),
  so a token is one (lead, time-patch); the sequence is lead-major: lead 1 patches 1..N, lead 2, ...
* token = patch embedding + learnable lead embedding e_i + learnable time-position embedding p_j.
  The position table has ``pos_patches`` entries and is linearly interpolated when an input has another
  number of patches, so any length / sampling rate works.
* A length that is not a multiple of ``patch_size`` is zero-padded at the end to the next multiple.
* Pre-norm transformer blocks (x + DropPath(MHA(LN(x))), x + DropPath(MLP(LN(x)))) with stochastic depth
  rising linearly from 0 to ``drop_path`` over the blocks, then a final LayerNorm.
* Pooling: mean over all tokens (no CLS token), as in MERL's ViT that SuPreME builds on; ``forward_features``
  returns all ``leads * patches`` tokens for fusion heads such as SuPreME's Cardiac Fusion Network.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from cardiofm.errors import ConfigError
from cardiofm.models.registry import check_input, register_model


class DropPath(nn.Module):
    """Stochastic depth: zero the residual branch per sample with probability ``p`` (training only)."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class Attention(nn.Module):
    """Multi-head self-attention (scaled dot product)."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block with stochastic depth on both residual branches."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float, drop_path: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_dim, dim), nn.Dropout(dropout)
        )
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class ViT1D(nn.Module):
    """1D ViT over (lead, time-patch) tokens (see the module docstring).

    Args:
        in_leads: number of input leads (one learnable lead embedding each).
        patch_size: patch length in samples (SuPreME: 125 = 0.25 s at 500 Hz).
        dim: token width (``embed_dim``).
        depth: number of transformer blocks.
        heads: attention heads (must divide ``dim``).
        mlp_dim: hidden width of the block MLP.
        pos_patches: size of the time-position table (SuPreME: 5000 / 125 = 40); interpolated otherwise.
        dropout: dropout in attention and MLP.
        drop_path: stochastic-depth rate of the last block (linear from 0).
    """

    def __init__(
        self,
        in_leads: int = 12,
        patch_size: int = 125,
        dim: int = 192,
        depth: int = 12,
        heads: int = 3,
        mlp_dim: int = 768,
        pos_patches: int = 40,
        dropout: float = 0.0,
        drop_path: float = 0.1,
    ) -> None:
        super().__init__()
        if min(patch_size, dim, depth, heads, mlp_dim, pos_patches) < 1:
            raise ConfigError("vit1d: patch_size, dim, depth, heads, mlp_dim and pos_patches must be positive")
        if dim % heads:
            raise ConfigError(f"vit1d: heads={heads} must divide dim={dim}")
        if not (0 <= dropout < 1 and 0 <= drop_path < 1):
            raise ConfigError(f"vit1d: dropout ({dropout}) and drop_path ({drop_path}) must be in [0, 1)")
        self.in_leads = in_leads
        self.embed_dim = dim
        self.patch_size = patch_size
        self.patch_embed = nn.Conv1d(1, dim, kernel_size=patch_size, stride=patch_size)
        self.lead_embed = nn.Parameter(torch.zeros(in_leads, dim))
        self.pos_embed = nn.Parameter(torch.zeros(pos_patches, dim))
        rates = [drop_path * i / max(1, depth - 1) for i in range(depth)]
        self.blocks = nn.Sequential(*(Block(dim, heads, mlp_dim, dropout, r) for r in rates))
        self.norm = nn.LayerNorm(dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.trunc_normal_(self.lead_embed, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def _pos(self, n: int) -> torch.Tensor:
        pos = self.pos_embed
        if n == pos.shape[0]:
            return pos
        return F.interpolate(pos.T[None], size=n, mode="linear", align_corners=False)[0].T

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``(batch, leads * patches, dim)`` after the final LayerNorm, lead-major order."""
        check_input(x, self.in_leads, "vit1d")
        b, leads, t = x.shape
        pad = (-t) % self.patch_size
        if pad:
            x = F.pad(x, (0, pad))
        z = self.patch_embed(x.reshape(b * leads, 1, t + pad))  # (B*L, D, N)
        n = z.shape[-1]
        z = z.transpose(1, 2).reshape(b, leads, n, self.embed_dim)
        z = z + self.lead_embed[None, :, None, :] + self._pos(n)[None, None]
        z = self.blocks(z.reshape(b, leads * n, self.embed_dim))
        return self.norm(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled embedding ``(batch, dim)``: mean over all tokens."""
        return self.forward_features(x).mean(1)


# SuPreME: "A 1D ViT-tiny ... with a patch size of 125"; ViT-Tiny = width 192, depth 12, 3 heads, MLP 768
# (the sizes of MERL's vit_tiny, the ECG ViT SuPreME builds on). Stochastic depth 0.1 (the paper gives no rate).
register_model("vit_tiny", patch_size=125, dim=192, depth=12, heads=3, mlp_dim=768, drop_path=0.1)(ViT1D)
register_model("vit_small", patch_size=125, dim=384, depth=12, heads=6, mlp_dim=1536, drop_path=0.1)(ViT1D)
# Small and fast, for tests and demos.
register_model("vit_micro", patch_size=50, dim=32, depth=2, heads=2, mlp_dim=64, pos_patches=20, drop_path=0.1)(ViT1D)
