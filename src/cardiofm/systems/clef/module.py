"""Self-supervised pretraining of an encoder on two views per record: CLEF and its SSL baselines.

Objectives, by ``ContrastiveConfig.objective`` (a registry, one class each):

- ``clef``: clinically guided contrastive learning (CLEF paper, eqs. 4-7; losses in
  :mod:`cardiofm.systems.clef.loss`): NT-Xent whose negatives are weighted by ``W`` from the risk
  dissimilarity ``D`` and the number of missing SCORE2 inputs, plus ``lam`` times the dissimilarity-alignment
  loss. ``missing_weight`` is ``printed`` (``W = D * M``, eq. 4 as printed; default), ``trust``
  (``W = t D + 1 - t``: missing inputs move W towards plain NT-Xent, as the paper's prose describes) or ``off``
  (``W = D``); see :func:`cardiofm.systems.clef.loss.clef_weights`. ``missing_weight=off`` and ``lam=0`` are the
  paper's ablations (without M, without ``L^d``).
- ``simclr``: plain NT-Xent (eq. 1), i.e. CLEF with every weight 1 and no alignment term.
- ``byol``: BYOL (Grill et al. 2020): online encoder + projector + predictor regress the
  exponential-moving-average target network's projection of the other view; no negatives.
- ``moco``: MoCo (He et al. 2020, v2 heads): queries from the online encoder + projector, keys from
  its momentum copy, negatives from a queue of ``moco_queue`` past keys (both views serve as queries).

As in the paper (and its released code) the contrastive losses act on the encoder's pooled embedding;
``projector=True`` adds SimCLR's MLP projection head. Batches come from
:class:`cardiofm.data.views.TwoViewDataModule` (``x1``, ``x2``, ``risk``, ``n_missing``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

from cardiofm.errors import ConfigError
from cardiofm.methods.optim import lightning_optimizers
from cardiofm.methods.registry import MethodConfig, register_method
from cardiofm.registry import Registry
from cardiofm.systems.clef.loss import (
    MISSING_WEIGHT_MODES,
    clef_weights,
    dissimilarity_alignment,
    nt_xent,
    weighted_nt_xent,
)


@dataclass
class ContrastiveConfig(MethodConfig):
    """Hyper-parameters of :class:`ContrastiveModule`; defaults are the CLEF paper's (Appendix C.1)."""

    objective: str = "clef"
    encoder: str = "net1d_tiny"
    encoder_cfg: dict[str, Any] = field(default_factory=dict)
    in_leads: int = 1
    tau: float = 0.07
    alpha: float = 0.2
    lam: float = 1.0
    A: int = 7                      # number of SCORE2 inputs
    # missing-metadata factor: printed (W = D * M, eq. 4 as printed) | trust (W = t D + 1 - t, the prose's
    # reading) | off (W = D, the ablation "without M"); true/false are read as printed/off (older recipes)
    missing_weight: str = "printed"
    projector: bool = False         # SimCLR-style MLP head on the embedding (BYOL always has one)
    proj_dim: int = 128
    proj_hidden: int = 512
    byol_momentum: float = 0.996    # base EMA rate, raised to 1 on a cosine schedule (BYOL)
    moco_momentum: float = 0.99     # key-encoder EMA rate (MoCo)
    moco_queue: int = 4096          # negatives kept from past batches (MoCo; the paper's 65536 is for ImageNet)
    lr: float = 1e-4
    weight_decay: float = 5e-5
    warmup_frac: float = 0.0
    # unused by pretraining; accepted so a supervised recipe's method keys can be reused
    n_labels: int = 0
    label_names: list[str] | None = None

    def __post_init__(self) -> None:
        mode = self.missing_weight
        if isinstance(mode, bool):  # the former switch: true = eq. 4 as printed, false = no M
            mode = "printed" if mode else "off"
        if not isinstance(mode, str) or mode not in MISSING_WEIGHT_MODES:
            raise ConfigError(f"method.missing_weight must be one of {', '.join(MISSING_WEIGHT_MODES)} "
                              f"(or true/false for printed/off); got {self.missing_weight!r}")
        self.missing_weight = mode


OBJECTIVES: Registry[type[Objective]] = Registry("contrastive objective")
register_objective = OBJECTIVES.register


def _mlp(dim: int, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))


class Objective(nn.Module):
    """A self-supervised loss over a batch of two views; may own extra networks (heads, targets)."""

    def __init__(self, cfg: ContrastiveConfig, encoder: nn.Module) -> None:
        super().__init__()
        self.cfg = cfg
        dim = encoder.embed_dim
        self.projector = _mlp(dim, cfg.proj_hidden, cfg.proj_dim) if cfg.projector else nn.Identity()

    def embed_views(self, encoder: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Both views through encoder and projector in one pass (batch-norm sees both views)."""
        x1, x2 = batch["x1"], batch["x2"]
        z = self.projector(encoder(torch.cat([x1, x2])))
        return z[: len(x1)], z[len(x1):]

    def loss(self, encoder: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def after_step(self, encoder: nn.Module, progress: float) -> None:
        """Called after each optimiser step; ``progress`` runs from 0 to 1 over training."""


@register_objective("simclr")
class SimCLR(Objective):
    def loss(self, encoder: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z1, z2 = self.embed_views(encoder, batch)
        total = nt_xent(z1, z2, self.cfg.tau)
        return total, {"nt_xent": total.detach()}


@register_objective("clef")
class CLEF(Objective):
    def weights(self, risk: torch.Tensor, n_missing: torch.Tensor) -> torch.Tensor:
        """Negative-pair weights ``W`` by ``cfg.missing_weight`` (see ``clef_weights``), ``(B, B)``, no gradient."""
        w = clef_weights(risk.float(), n_missing, self.cfg.alpha, self.cfg.A, self.cfg.missing_weight)
        return w.float().detach()

    def loss(self, encoder: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z1, z2 = self.embed_views(encoder, batch)
        w = self.weights(batch["risk"], batch["n_missing"]).to(z1)
        l_w = weighted_nt_xent(z1, z2, w, self.cfg.tau)
        parts = {"weighted": l_w.detach()}
        total = l_w
        if self.cfg.lam > 0:
            l_d = dissimilarity_alignment(z1, z2, w)
            total = total + self.cfg.lam * l_d
            parts["alignment"] = l_d.detach()
        off = ~torch.eye(len(w), dtype=torch.bool, device=w.device)
        parts["mean_weight"] = w[off].mean() if len(w) > 1 else w.sum()
        return total, parts


@register_objective("byol")
class BYOL(Objective):
    def __init__(self, cfg: ContrastiveConfig, encoder: nn.Module) -> None:
        super().__init__(cfg, encoder)
        dim = encoder.embed_dim
        self.projector = _mlp(dim, cfg.proj_hidden, cfg.proj_dim)
        self.predictor = _mlp(cfg.proj_dim, cfg.proj_hidden, cfg.proj_dim)
        self.target_encoder = copy.deepcopy(encoder).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(False)

    @staticmethod
    def _regression(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (2 - 2 * (F.normalize(p, dim=1) * F.normalize(z, dim=1)).sum(dim=1)).mean()

    def loss(self, encoder: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x = torch.cat([batch["x1"], batch["x2"]])
        n = len(batch["x1"])
        p = self.predictor(self.projector(encoder(x)))
        with torch.no_grad():
            self.target_encoder.train(encoder.training)
            t = self.target_projector(self.target_encoder(x))
        total = self._regression(p[:n], t[n:]) + self._regression(p[n:], t[:n])
        return total, {"byol": total.detach()}

    @torch.no_grad()
    def after_step(self, encoder: nn.Module, progress: float) -> None:
        m = 1 - (1 - self.cfg.byol_momentum) * (math.cos(math.pi * min(max(progress, 0.0), 1.0)) + 1) / 2
        _ema(encoder, self.target_encoder, m)
        _ema(self.projector, self.target_projector, m)


def _ema(online: nn.Module, target: nn.Module, m: float) -> None:
    """``target <- m * target + (1 - m) * online`` for parameters; buffers (batch-norm statistics) copied."""
    for po, pt in zip(online.parameters(), target.parameters(), strict=True):
        pt.mul_(m).add_(po.detach(), alpha=1 - m)
    for bo, bt in zip(online.buffers(), target.buffers(), strict=True):
        bt.copy_(bo)


@register_objective("moco")
class MoCo(Objective):
    def __init__(self, cfg: ContrastiveConfig, encoder: nn.Module) -> None:
        super().__init__(cfg, encoder)
        if cfg.moco_queue < 1:
            raise ConfigError(f"method.moco_queue must be positive, got {cfg.moco_queue}")
        self.projector = _mlp(encoder.embed_dim, cfg.proj_hidden, cfg.proj_dim)
        self.key_encoder = copy.deepcopy(encoder).requires_grad_(False)
        self.key_projector = copy.deepcopy(self.projector).requires_grad_(False)
        self.register_buffer("queue", F.normalize(torch.randn(cfg.moco_queue, cfg.proj_dim), dim=1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    def _nce(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
        # a copy: the queue is updated in place before backward runs
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ self.queue.clone().T], dim=1) / self.cfg.tau
        return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long, device=q.device))

    def loss(self, encoder: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x = torch.cat([batch["x1"], batch["x2"]])
        n = len(batch["x1"])
        q = self.projector(encoder(x))
        with torch.no_grad():
            self.key_encoder.train(encoder.training)
            k = self.key_projector(self.key_encoder(x))
        total = (self._nce(q[:n], k[n:]) + self._nce(q[n:], k[:n])) / 2
        if self.training:  # validation never changes the queue
            self._enqueue(F.normalize(k.detach(), dim=1))
        return total, {"moco": total.detach()}

    @torch.no_grad()
    def _enqueue(self, keys: torch.Tensor) -> None:
        size = len(self.queue)
        keys = keys[-size:]
        idx = (int(self.queue_ptr) + torch.arange(len(keys), device=keys.device)) % size
        self.queue[idx] = keys
        self.queue_ptr.fill_((int(self.queue_ptr) + len(keys)) % size)

    @torch.no_grad()
    def after_step(self, encoder: nn.Module, progress: float) -> None:
        _ema(encoder, self.key_encoder, self.cfg.moco_momentum)
        _ema(self.projector, self.key_projector, self.cfg.moco_momentum)


@register_method("contrastive", config=ContrastiveConfig)
class ContrastiveModule(L.LightningModule):
    """Encoder + a self-supervised objective; logs ``train_loss`` and ``val_loss``."""

    def __init__(self, config: ContrastiveConfig | dict[str, Any]) -> None:
        super().__init__()
        self.config = config if isinstance(config, ContrastiveConfig) else ContrastiveConfig(**config)
        cfg = self.config
        try:
            objective = OBJECTIVES.get(cfg.objective)
        except ConfigError as exc:
            raise ConfigError(f"method.objective: {exc}") from None
        if not (cfg.tau > 0 and 0 <= cfg.alpha <= 1 and cfg.lam >= 0):
            raise ConfigError(f"method: need tau > 0, 0 <= alpha <= 1, lam >= 0; got tau={cfg.tau}, alpha={cfg.alpha}, "
                              f"lam={cfg.lam}")
        self.save_hyperparameters({"config": asdict(cfg)})
        from cardiofm.models import create_model

        self.encoder = create_model(cfg.encoder, in_leads=cfg.in_leads, **cfg.encoder_cfg)
        self.objective = objective(cfg, self.encoder)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder's pooled embedding ``(B, embed_dim)``."""
        return self.encoder(x)

    def _step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        total, parts = self.objective.loss(self.encoder, batch)
        n = len(batch["x1"])
        self.log(f"{stage}_loss", total, prog_bar=True, batch_size=n, on_step=stage == "train", on_epoch=True,
                 sync_dist=stage == "val")
        for k, v in parts.items():
            self.log(f"{stage}_{k}", v, batch_size=n, on_step=False, on_epoch=True, sync_dist=stage == "val")
        return total

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        total = max(int(self.trainer.estimated_stepping_batches), 1) if self._trainer is not None else 1
        self.objective.after_step(self.encoder, self.global_step / total)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def configure_optimizers(self) -> dict[str, Any]:
        return lightning_optimizers(self, self.config.lr, self.config.weight_decay, self.config.warmup_frac)
