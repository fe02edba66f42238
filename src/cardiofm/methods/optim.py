"""AdamW with linear warm-up and cosine decay (the schedule AnyECG-CCTA and most recipes use)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from cardiofm.errors import ConfigError


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int, min_factor: float = 0.0) -> float:
    """Learning-rate multiplier: 0 -> 1 linearly over ``warmup_steps``, then cosine down to ``min_factor``."""
    if total_steps <= 0 or warmup_steps < 0 or warmup_steps > total_steps:
        raise ConfigError(f"need 0 <= warmup_steps <= total_steps, total > 0; got {warmup_steps}, {total_steps}")
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def adamw_warmup_cosine(params: Iterable[torch.nn.Parameter], lr: float, weight_decay: float, warmup_steps: int,
                        total_steps: int, min_factor: float = 0.0
                        ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """An AdamW optimiser and its per-step scheduler."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: warmup_cosine_factor(s, warmup_steps, total_steps, min_factor))
    return opt, sched


def lightning_optimizers(module: torch.nn.Module, lr: float, weight_decay: float, warmup_frac: float
                         ) -> dict[str, object]:
    """``configure_optimizers`` output for a LightningModule: AdamW over its trainable parameters with
    warm-up over ``warmup_frac`` of the trainer's steps, then cosine decay, stepped every batch."""
    trainer = getattr(module, "_trainer", None)
    total = int(trainer.estimated_stepping_batches) if trainer is not None else 1000
    params = [p for p in module.parameters() if p.requires_grad]
    opt, sched = adamw_warmup_cosine(params, lr, weight_decay, int(warmup_frac * total), max(total, 1))
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
