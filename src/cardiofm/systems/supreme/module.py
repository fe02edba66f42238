"""SuPreME supervised multimodal pretraining (Sec. 3.2, App. A.2, Sec. 4 "Supervised ECG Pre-training").

An ECG encoder's tokens (``forward_features``) and the frozen text embeddings of the entity descriptions
(one query per label column, projected by eq. 6's :class:`~cardiofm.text.projection.TextProjection`) meet
in the Cardiac Fusion Network, which gives one logit per (recording, entity); the loss is binary
cross-entropy over the entity labels. Because the queries are text, :meth:`SupremeModule.zero_shot` scores
any new descriptions (eq. 4).

The text embeddings are computed once by the caller with a frozen encoder (the paper: MedCPT; here any of
:mod:`cardiofm.text.encoders`) and passed as ``query_embeddings``; the module keeps them in a buffer, so they
travel with checkpoints but are never trained. Batches are ``{"x": (B, leads, T), "y": (B, n_labels)}`` from
:class:`cardiofm.data.torch.StoreDataModule`.

Optimisation as the paper's pretraining: AdamW, lr 1e-3, weight decay 1e-8, cosine annealing with warm
restarts, "an initial cycle length T_0 of 5000 steps and T_mult = 1, down to a minimum learning rate of
1e-8", stepped every optimisation step (``restart_steps``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cardiofm.errors import ConfigError
from cardiofm.methods.registry import MethodConfig, register_method
from cardiofm.methods.validation import MacroAurocValidation

FUSIONS = ("cfn", "linear")


@dataclass
class SupremeConfig(MethodConfig):
    """Hyper-parameters of :class:`SupremeModule`.

    ``query_embeddings`` is required: the frozen text embeddings of the training entities' descriptions,
    one row of ``text_dim`` numbers per label column, in label-column order (e.g.
    ``create_text_encoder("minilm").encode(descriptions).tolist()``).
    ``d_model=None`` uses the encoder's ``embed_dim`` (no token projection). ``restart_steps`` is the
    cosine-restart period ``T_0`` in optimisation steps (paper: 5000), ``restart_mult`` its ``T_mult``
    (paper: 1), ``min_lr`` its floor (paper: 1e-8). ``mlp_hidden=None`` is the paper's linear classification
    layer after the CFN. ``fusion="linear"`` is the "w/o CFN (Linear)" ablation
    (:class:`~cardiofm.models.fusion.LinearQueryHead`).
    """

    encoder: str = "vit_tiny"
    encoder_cfg: dict[str, Any] = field(default_factory=dict)
    in_leads: int = 12
    n_labels: int = 1
    label_names: list[str] | None = None
    fusion: str = "cfn"
    d_model: int | None = None
    n_layers: int = 4
    n_heads: int = 4
    dropout: float = 0.1
    mlp_hidden: int | None = None
    text_dim: int = 384
    text_hidden: int | None = None
    query_embeddings: list[list[float]] | None = None
    lr: float = 1e-3
    weight_decay: float = 1e-8
    restart_steps: int = 5000
    restart_mult: int = 1
    min_lr: float = 1e-8
    pretrained: str | None = None
    text_encoder: str = "minilm"    # embeds the label descriptions when query_embeddings is not given

    @classmethod
    def prepare_values(cls, values: dict[str, Any], codes: list[str], descriptions: list[str]) -> dict[str, Any]:
        """Fill ``query_embeddings`` (and ``text_dim``) from the task's labels when a recipe leaves them out:
        each code's lexicon description (its clinical definition) or, for codes the lexicon lacks, the
        label's own description, embedded by the frozen ``text_encoder``."""
        if values.get("query_embeddings") is not None:
            return values
        from cardiofm.text import default_lexicon
        from cardiofm.text.encoders import create_text_encoder

        lexicon = default_lexicon()
        texts = [lexicon.get(c).description if c in lexicon else d for c, d in zip(codes, descriptions, strict=True)]
        encoder = create_text_encoder(values.get("text_encoder", "minilm"))
        q = encoder.encode(texts)
        return {**values, "query_embeddings": q.astype(float).tolist(), "text_dim": int(q.shape[1])}

    def query_matrix(self) -> np.ndarray:
        """``query_embeddings`` as a checked float32 array ``(n_labels, text_dim)``."""
        if self.query_embeddings is None:
            raise ConfigError(
                "method.query_embeddings is missing: SuPreME needs the frozen text embedding of each label "
                f"column's description ({self.n_labels} rows of {self.text_dim} numbers, in label order), e.g. "
                "cardiofm.text.encoders.create_text_encoder('minilm').encode(descriptions).tolist()")
        try:
            q = np.asarray(self.query_embeddings, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"method.query_embeddings must be a numeric matrix (n_labels, text_dim): {exc}") from None
        if q.shape != (self.n_labels, self.text_dim):
            raise ConfigError(
                f"method.query_embeddings has shape {q.shape}, expected (n_labels={self.n_labels}, "
                f"text_dim={self.text_dim}): one row per label column, as wide as the text encoder "
                "(set text_dim to the encoder's dim)")
        if not np.isfinite(q).all():
            raise ConfigError("method.query_embeddings holds NaN or infinite values; re-embed the descriptions")
        return q

    def validate(self) -> None:
        """Raise :class:`ConfigError` for any invalid field."""
        for name in ("in_leads", "n_labels", "n_layers", "n_heads", "text_dim", "restart_steps", "restart_mult"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"method.{name} must be a positive integer, got {v!r}")
        for name in ("d_model", "mlp_hidden", "text_hidden"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ConfigError(f"method.{name} must be a positive integer or null, got {v!r}")
        if self.fusion not in FUSIONS:
            raise ConfigError(f"method.fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"method.dropout must be in [0, 1), got {self.dropout!r}")
        if not (self.lr > 0 and self.weight_decay >= 0 and 0 <= self.min_lr <= self.lr):
            raise ConfigError(f"method: need lr > 0, weight_decay >= 0 and 0 <= min_lr <= lr; got lr={self.lr}, "
                              f"weight_decay={self.weight_decay}, min_lr={self.min_lr}")
        if self.label_names is not None and len(self.label_names) != self.n_labels:
            raise ConfigError(f"method.label_names has {len(self.label_names)} names for n_labels={self.n_labels}")
        self.query_matrix()


@register_method("supreme", config=SupremeConfig)
class SupremeModule(MacroAurocValidation, L.LightningModule):
    """ECG encoder tokens + projected text queries -> Cardiac Fusion Network -> one logit per entity."""

    def __init__(self, config: SupremeConfig | dict[str, Any]) -> None:
        super().__init__()
        self.config = config if isinstance(config, SupremeConfig) else SupremeConfig(**config)
        cfg = self.config
        cfg.validate()
        self.save_hyperparameters({"config": asdict(cfg)})
        from cardiofm.models.fusion import CardiacFusionNetwork, LinearQueryHead
        from cardiofm.models.registry import build_encoder
        from cardiofm.text.projection import TextProjection

        self.encoder = build_encoder(cfg.encoder, cfg.in_leads, cfg.encoder_cfg, pretrained=cfg.pretrained)
        embed_dim = int(self.encoder.embed_dim)
        d = embed_dim if cfg.d_model is None else cfg.d_model
        self.d_model = d
        self.token_proj: nn.Module = nn.Identity() if d == embed_dim else nn.Linear(embed_dim, d)
        if isinstance(self.token_proj, nn.Linear):
            nn.init.normal_(self.token_proj.weight, std=0.02)
            nn.init.zeros_(self.token_proj.bias)
        self.text_proj = TextProjection(cfg.text_dim, d, cfg.text_hidden)
        if cfg.fusion == "cfn":
            self.fusion: nn.Module = CardiacFusionNetwork(d, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
                                                          dropout=cfg.dropout, mlp_hidden=cfg.mlp_hidden)
        else:
            self.fusion = LinearQueryHead(d)
        self.register_buffer("query_embeddings", torch.from_numpy(cfg.query_matrix()))

    # ---- forward ------------------------------------------------------------------------------
    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """ECG tokens ``(B, N, d_model)``."""
        return self.token_proj(self.encoder.forward_features(x))

    def _check_queries(self, query_embeddings: np.ndarray | torch.Tensor) -> torch.Tensor:
        q = query_embeddings
        if not isinstance(q, torch.Tensor):
            try:
                q = torch.as_tensor(np.asarray(q, dtype=np.float32))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"zero_shot: query embeddings must be a numeric (n_queries, "
                                  f"{self.config.text_dim}) array: {exc}") from None
        if q.ndim != 2 or q.shape[0] < 1 or q.shape[1] != self.config.text_dim:
            raise ConfigError(f"zero_shot: query embeddings must have shape (n_queries, {self.config.text_dim}), "
                              f"got {tuple(q.shape)}; embed the descriptions with the text encoder used in training")
        if not torch.isfinite(q).all():
            raise ConfigError("zero_shot: query embeddings hold NaN or infinite values")
        return q

    def _logits(self, x: torch.Tensor, query_embeddings: torch.Tensor) -> torch.Tensor:
        return self.fusion(self.text_proj(query_embeddings), self.tokens(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_labels)`` for the training entities, in label-column order."""
        return self._logits(x, self.query_embeddings)

    def zero_shot(self, x: torch.Tensor, query_embeddings: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Logits ``(B, Q)`` for arbitrary queries: their frozen text embeddings ``(Q, text_dim)``.

        The embeddings must come from the text encoder that embedded the training queries. With the
        CFN, a query's logit depends on the set it is scored with (the queries attend to each other).
        Call ``.eval()`` first for deterministic outputs (dropout).
        """
        q = self._check_queries(query_embeddings)
        return self._logits(x, q.to(self.query_embeddings.device, self.query_embeddings.dtype))

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy over the entity labels (mean over recordings and entities)."""
        return F.binary_cross_entropy_with_logits(logits, y.to(logits.dtype))

    # ---- training -----------------------------------------------------------------------------
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(self(batch["x"]), batch["y"])
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["x"]))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits = self(batch["x"])
        self.log("val_loss", self.loss(logits, batch["y"]), batch_size=len(batch["x"]), sync_dist=True)
        self.collect_validation(logits, batch["y"])

    def configure_optimizers(self) -> dict[str, Any]:
        """AdamW + CosineAnnealingWarmRestarts(T_0=restart_steps, T_mult=restart_mult, eta_min=min_lr), per step."""
        cfg = self.config
        opt = torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=cfg.lr,
                                weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=cfg.restart_steps,
                                                                     T_mult=cfg.restart_mult, eta_min=cfg.min_lr)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
