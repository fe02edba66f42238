"""SuPreME's Cardiac Fusion Network (Sec. 3.2, Fig. 6, App. A.2) and its linear-head ablation (Table 4(b)).

Both heads map text queries ``(Q, d)`` (shared by the batch) or ``(B, Q, d)`` and ECG tokens ``(B, N, d)``
to one logit per (recording, query), ``(B, Q)``. Neither holds anything per query, so any number of
queries, including descriptions never seen in training, can be scored: that is what zero-shot
classification needs (eq. 4: ``Pred = sigmoid(CFN(Emb_ECGs, Emb_Queries))``).

How the paper is read:

* "The CFN ... consists of multi-layer Transformer decoders, which align ECG signals with text-based cardiac
  queries by treating textual features as input queries and signal features as memory." Each layer:
  self-attention over the queries, cross-attention from the queries to the ECG tokens, feed-forward.
* Pre-norm, as eq. 5 writes the blocks: ``Z + Drop(MHA(Norm(Z)))``, ``Z + Drop(FF(Norm(Z)))``, then a final
  ``Norm``. (The sentence before eq. 5 says "followed by layer normalization"; the equations are taken.)
* "Both ECG and text embeddings undergo layer normalization": one LayerNorm on the memory, one on the queries,
  before the decoder.
* No mask on the query self-attention. App. A.2 describes the generic Transformer decoder, whose
  self-attention is masked "to ensure autoregressive sequence modeling"; the queries are a set, not a
  sequence, and a causal mask would make a query's logit depend on its position in the list. Without it the
  network is permutation-equivariant in the queries (no positional embedding either). A query's logit does
  depend on which other queries are scored with it, as in the paper's design.
* "The fused output is processed by an MLP head for classification" / "an MLP head (i.e., a linear
  classification layer)": ``mlp_hidden=None`` (default) is one ``Linear(d, 1)`` applied to every fused query;
  an integer gives ``Linear -> ReLU -> Dropout -> Linear``.
* "All weights in linear layers and attention modules are initialized with ... N(0, 0.02)": weights
  ~ N(0, 0.02), biases 0, LayerNorms at identity. Dropout 0.1 (Table 5(b)'s best value) on the attention
  weights, the residual branches and inside the feed-forward.
* The paper gives no number of layers or heads ("multi-layer"). The defaults, 4 layers and 4 heads, the ReLU
  feed-forward and its width (``4 * d_model``, Vaswani's ratio) are this project's choice; 4 x 4 is the
  query decoder of the knowledge-enhanced pretraining line (MedKLIP / KAD) whose design (frozen text
  queries, pre-norm decoder, N(0, 0.02) init, queries expanded over the batch) App. A.2 matches.
"""

from __future__ import annotations

import torch
from torch import nn

from cardiofm.errors import ConfigError

__all__ = ["CardiacFusionNetwork", "LinearQueryHead", "fusion_init_"]


def _positive_int(value: object, field: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{owner} {field} must be a positive integer, got {value!r}")
    return value


def fusion_init_(module: nn.Module, std: float = 0.02) -> None:
    """App. A.2 initialisation: linear and attention weights ~ N(0, std), biases 0, LayerNorm (1, 0)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.MultiheadAttention):
            if m.in_proj_weight is not None:
                nn.init.normal_(m.in_proj_weight, mean=0.0, std=std)
            else:  # separate q/k/v weights (kdim/vdim differ from embed_dim)
                for w in (m.q_proj_weight, m.k_proj_weight, m.v_proj_weight):
                    nn.init.normal_(w, mean=0.0, std=std)
            if m.in_proj_bias is not None:
                nn.init.zeros_(m.in_proj_bias)
        elif isinstance(m, nn.LayerNorm):
            m.reset_parameters()


def _check_inputs(queries: torch.Tensor, memory: torch.Tensor, d_model: int, owner: str) -> torch.Tensor:
    """Validate shapes and return the queries as ``(B, Q, d)`` (a shared ``(Q, d)`` set is expanded)."""
    if not isinstance(memory, torch.Tensor) or memory.ndim != 3 or memory.shape[-1] != d_model:
        shape = tuple(memory.shape) if isinstance(memory, torch.Tensor) else type(memory).__name__
        raise ConfigError(f"{owner}: memory must be ECG tokens (batch, n_tokens, {d_model}), got {shape}")
    if memory.shape[1] < 1:
        raise ConfigError(f"{owner}: memory has no tokens, shape {tuple(memory.shape)}")
    if not isinstance(queries, torch.Tensor) or queries.ndim not in (2, 3) or queries.shape[-1] != d_model:
        shape = tuple(queries.shape) if isinstance(queries, torch.Tensor) else type(queries).__name__
        raise ConfigError(f"{owner}: queries must be (n_queries, {d_model}) or (batch, n_queries, {d_model}), "
                          f"got {shape}; project text embeddings to d_model first")
    if queries.shape[-2] < 1:
        raise ConfigError(f"{owner}: no queries given, shape {tuple(queries.shape)}")
    b = memory.shape[0]
    if queries.ndim == 2:
        return queries.unsqueeze(0).expand(b, -1, -1)
    if queries.shape[0] != b:
        raise ConfigError(f"{owner}: per-sample queries have batch {queries.shape[0]}, the ECG tokens {b}")
    return queries


class CardiacFusionNetwork(nn.Module):
    """Transformer decoder with text queries over ECG-token memory, then a per-query head (module docstring).

    Args:
        d_model: width of queries and tokens.
        n_layers: decoder layers (the paper: "multi-layer"; default 4, see the module docstring).
        n_heads: attention heads (must divide ``d_model``).
        dropout: dropout on attention weights, residual branches and the feed-forward (paper: 0.1).
        mlp_hidden: hidden width of the output head; ``None`` is the paper's linear classification layer.
        ffn_dim: decoder feed-forward width; ``4 * d_model`` when not given.
        init_std: standard deviation of the initial weights (paper: 0.02).
    """

    def __init__(self, d_model: int, *, n_layers: int = 4, n_heads: int = 4, dropout: float = 0.1,
                 mlp_hidden: int | None = None, ffn_dim: int | None = None, init_std: float = 0.02) -> None:
        super().__init__()
        owner = "CardiacFusionNetwork"
        self.d_model = _positive_int(d_model, "d_model", owner)
        self.n_layers = _positive_int(n_layers, "n_layers", owner)
        self.n_heads = _positive_int(n_heads, "n_heads", owner)
        ffn_dim = _positive_int(4 * d_model if ffn_dim is None else ffn_dim, "ffn_dim", owner)
        if mlp_hidden is not None:
            _positive_int(mlp_hidden, "mlp_hidden", owner)
        if d_model % n_heads:
            raise ConfigError(f"{owner}: n_heads={n_heads} must divide d_model={d_model}")
        if not 0 <= dropout < 1:
            raise ConfigError(f"{owner}: dropout must be in [0, 1), got {dropout!r}")
        if not init_std > 0:
            raise ConfigError(f"{owner}: init_std must be positive, got {init_std!r}")
        self.init_std = float(init_std)
        self.query_norm = nn.LayerNorm(d_model)
        self.memory_norm = nn.LayerNorm(d_model)
        layer = nn.TransformerDecoderLayer(d_model, n_heads, dim_feedforward=ffn_dim, dropout=dropout,
                                           activation="relu", batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, n_layers, norm=nn.LayerNorm(d_model))
        if mlp_hidden is None:
            self.head: nn.Module = nn.Linear(d_model, 1)
        else:
            self.head = nn.Sequential(nn.Linear(d_model, mlp_hidden), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(mlp_hidden, 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights ~ N(0, init_std), biases 0, LayerNorms at identity (App. A.2)."""
        fusion_init_(self, self.init_std)

    def fuse(self, queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Fused query states ``(B, Q, d)`` after the decoder's final LayerNorm."""
        q = _check_inputs(queries, memory, self.d_model, "CardiacFusionNetwork")
        return self.decoder(self.query_norm(q), self.memory_norm(memory))

    def forward(self, queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, Q)`` from queries ``(Q, d)`` or ``(B, Q, d)`` and ECG tokens ``(B, N, d)``."""
        return self.head(self.fuse(queries, memory)).squeeze(-1)


class LinearQueryHead(nn.Module):
    """The "w/o CFN (Linear)" ablation of SuPreME's Table 4(b), as a query-based linear head.

    The paper replaces the CFN by "a simple linear projection" and still reports a zero-shot AUC for it
    (71.23%; also the "Linear Classification" columns of Table 2), so the linear variant must score text
    queries it never saw, not hold one weight row per training label. It is read here as: mean-pool the ECG
    tokens, layer-normalise it and the queries (as the CFN does), project the pooled ECG embedding linearly
    to ``d_model`` and take its scaled dot product with each query, plus a learnable bias::

        logit_bq = <W · LN(mean_n z_bn), LN(q_bq)> / sqrt(d) + b

    No attention and no interaction between queries: logits are independent per query.

    Args:
        d_model: width of queries and tokens.
        init_std: standard deviation of the initial projection weights (N(0, 0.02) as App. A.2).
    """

    def __init__(self, d_model: int, *, init_std: float = 0.02) -> None:
        super().__init__()
        self.d_model = _positive_int(d_model, "d_model", "LinearQueryHead")
        if not init_std > 0:
            raise ConfigError(f"LinearQueryHead: init_std must be positive, got {init_std!r}")
        self.init_std = float(init_std)
        self.query_norm = nn.LayerNorm(d_model)
        self.memory_norm = nn.LayerNorm(d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.bias = nn.Parameter(torch.zeros(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Projection weights ~ N(0, init_std), biases 0, LayerNorms at identity."""
        fusion_init_(self, self.init_std)
        nn.init.zeros_(self.bias)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, Q)`` from queries ``(Q, d)`` or ``(B, Q, d)`` and ECG tokens ``(B, N, d)``."""
        q = self.query_norm(_check_inputs(queries, memory, self.d_model, "LinearQueryHead"))
        z = self.proj(self.memory_norm(memory.mean(1)))  # (B, d)
        return torch.einsum("bd,bqd->bq", z, q) / self.d_model ** 0.5 + self.bias
