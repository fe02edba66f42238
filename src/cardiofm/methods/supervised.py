"""Supervised multi-task fine-tuning (AnyECG-CCTA): BCE heads per task, uncertainty weighting,
PCGrad, original + augmented views each step, linear-probe or full fine-tuning.

Batches come from :class:`cardiofm.data.torch.StoreDataModule` (``x``, ``y``, and ``x_orig`` when
the data module returns both views). The label matrix ``y`` is split into tasks by
``SupervisedConfig.tasks`` (task name -> label columns); by default every column is its own binary
task, as AnyECG's four vessel targets are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

from cardiofm.errors import ConfigError
from cardiofm.methods.multitask import UncertaintyWeighting, pcgrad_gradients
from cardiofm.methods.optim import lightning_optimizers
from cardiofm.methods.registry import MethodConfig, register_method
from cardiofm.methods.validation import MacroAurocValidation


@dataclass
class SupervisedConfig(MethodConfig):
    """Hyper-parameters of :class:`SupervisedModule` (all have working defaults)."""

    encoder: str = "net1d_tiny"
    encoder_cfg: dict[str, Any] = field(default_factory=dict)
    in_leads: int = 12
    n_labels: int = 1
    label_names: list[str] | None = None
    tasks: dict[str, list[int]] | None = None
    lr: float = 1e-3
    weight_decay: float = 1e-2
    warmup_frac: float = 0.05
    uncertainty_weighting: bool = True
    pcgrad: bool = False
    both_views: bool = True
    freeze_encoder: bool = False
    pretrained: str | None = None
    head_dropout: float = 0.0

    def task_columns(self) -> dict[str, list[int]]:
        names = self.label_names or [f"label{j}" for j in range(self.n_labels)]
        tasks = self.tasks or {names[j]: [j] for j in range(self.n_labels)}
        cols = sorted(c for cs in tasks.values() for c in cs)
        if cols != list(range(self.n_labels)):
            raise ConfigError(f"method.tasks must cover each of the {self.n_labels} label columns exactly once, "
                              f"got {tasks}")
        return tasks


@register_method("supervised", config=SupervisedConfig)
class SupervisedModule(MacroAurocValidation, L.LightningModule):
    """Encoder + one linear head per task; logs ``val_macro_auroc`` for early stopping."""

    def __init__(self, config: SupervisedConfig | dict[str, Any]) -> None:
        super().__init__()
        self.config = config if isinstance(config, SupervisedConfig) else SupervisedConfig(**config)
        self.save_hyperparameters({"config": asdict(self.config)})
        from cardiofm.models.registry import build_encoder

        cfg = self.config
        self.tasks = cfg.task_columns()
        self.encoder = build_encoder(cfg.encoder, cfg.in_leads, cfg.encoder_cfg, pretrained=cfg.pretrained)
        if cfg.freeze_encoder:
            self.encoder.requires_grad_(False)
        dim = self.encoder.embed_dim
        self.heads = nn.ModuleDict({t: nn.Sequential(nn.Dropout(cfg.head_dropout), nn.Linear(dim, len(c)))
                                    for t, c in self.tasks.items()})
        self.weighting = UncertaintyWeighting(len(self.tasks)) if cfg.uncertainty_weighting else None
        self.automatic_optimization = not cfg.pcgrad

    # ---- forward ------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_labels)`` in label-column order."""
        z = self.encoder(x)
        out = z.new_empty(z.shape[0], self.config.n_labels)
        for t, cols in self.tasks.items():
            out[:, cols] = self.heads[t](z)
        return out

    def on_train_epoch_start(self) -> None:
        if self.config.freeze_encoder:  # linear probe: batch-norm statistics stay those of the encoder
            self.encoder.eval()

    def task_losses(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.stack([F.binary_cross_entropy_with_logits(logits[:, c], y[:, c]) for c in self.tasks.values()])

    def _losses(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, y = batch["x"], batch["y"]
        if self.config.both_views and "x_orig" in batch:  # AnyECG: original and augmented view together
            x, y = torch.cat([x, batch["x_orig"]]), torch.cat([y, y])
        return self.task_losses(self(x), y)

    def _weighted(self, losses: torch.Tensor) -> torch.Tensor:
        if self.weighting is None:
            return losses
        return 0.5 * torch.exp(-self.weighting.log_var) * losses + 0.5 * self.weighting.log_var

    # ---- training -----------------------------------------------------------------------------
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor | None:
        losses = self._losses(batch)
        per_task = self._weighted(losses)
        total = per_task.sum()
        n = len(batch["x"])
        self.log("train_loss", total, prog_bar=True, batch_size=n)
        for (t, _), v in zip(self.tasks.items(), losses.detach(), strict=True):
            self.log(f"train_bce_{t}", v, batch_size=n)
        if self.weighting is not None:
            for t, s in zip(self.tasks, self.weighting.sigma, strict=True):
                self.log(f"sigma_{t}", s, batch_size=n)
        if not self.config.pcgrad:
            return total
        self._pcgrad_step(per_task, total, n)
        return None

    def _pcgrad_step(self, per_task: torch.Tensor, total: torch.Tensor, batch_size: int) -> None:
        """PCGrad on the shared encoder, plain gradients for heads and task weights.

        :func:`~cardiofm.methods.multitask.pcgrad_gradients` averages the per-task (and head)
        gradients over the DDP processes, weighted by local batch size, and projects once on these
        global gradients with the task order drawn from the global step (the same on every rank, and
        a resumed run repeats it): every rank holds the same gradients, equal to single-process
        PCGrad on the whole batch. They are applied through one backward pass of the surrogate
        ``sum(p * g)`` so that DDP's gradient hooks fire as usual (DDP expects a backward after each
        forward); its all-reduce then averages identical values, which leaves them unchanged.
        """
        opt, sched = self.optimizers(), self.lr_schedulers()
        shared = [p for p in self.encoder.parameters() if p.requires_grad]
        own = [p for n, p in self.named_parameters() if not n.startswith("encoder.") and p.requires_grad]
        grads = pcgrad_gradients(per_task, shared, torch.Generator().manual_seed(int(self.global_step)),
                                 total=total, own=own, batch_size=batch_size)
        opt.zero_grad()
        surrogate = sum((p * g.detach()).sum() for p, g in zip(shared + own, grads, strict=True))
        self.manual_backward(surrogate)
        opt.step()
        sched.step()

    # ---- validation and prediction -------------------------------------------------------------
    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits = self(batch["x"])
        self.log("val_loss", self.task_losses(logits, batch["y"]).sum(), batch_size=len(batch["x"]), sync_dist=True)
        self.collect_validation(logits, batch["y"])

    def configure_optimizers(self) -> dict[str, Any]:
        return lightning_optimizers(self, self.config.lr, self.config.weight_decay, self.config.warmup_frac)
