"""Multi-task loss balancing used by AnyECG-CCTA: uncertainty weighting and PCGrad.

- :class:`UncertaintyWeighting`, eq. 1 of the paper (Kendall, Gal & Cipolla 2018):
  L = sum_t (1 / (2 sigma_t^2)) L_t + log sigma_t, with sigma_t learnable. It is parameterised by
  s_t = log sigma_t^2 for numerical stability: L = sum_t 0.5 exp(-s_t) L_t + 0.5 s_t.
- :func:`pcgrad`, eq. 2 (Yu et al. 2020, "Gradient surgery for multi-task learning"): for each task
  gradient g_i and every other task j (in random order) with g_i . g_j < 0,
  g_i <- g_i - (g_i . g_j / ||g_j||^2) g_j; the projected gradients are summed.
  :func:`pcgrad_backward` applies it to a model's shared parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cardiofm.errors import ConfigError


class UncertaintyWeighting(nn.Module):
    """Learnable per-task weights: ``forward(losses) -> total``; ``sigma`` gives the current sigma_t."""

    def __init__(self, n_tasks: int, init_log_var: float = 0.0) -> None:
        super().__init__()
        if n_tasks < 1:
            raise ConfigError(f"need at least one task, got {n_tasks}")
        self.log_var = nn.Parameter(torch.full((n_tasks,), float(init_log_var)))

    def forward(self, losses: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        task_losses = torch.stack(list(losses)) if not isinstance(losses, torch.Tensor) else losses
        if task_losses.shape != self.log_var.shape:
            raise ConfigError(f"expected {self.log_var.numel()} task losses, got shape {tuple(task_losses.shape)}")
        return (0.5 * torch.exp(-self.log_var) * task_losses + 0.5 * self.log_var).sum()

    @property
    def sigma(self) -> torch.Tensor:
        return torch.exp(0.5 * self.log_var.detach())


def pcgrad(grads: Sequence[torch.Tensor], generator: torch.Generator | None = None) -> torch.Tensor:
    """Sum of the task gradients (flattened, same shape) after projecting away pairwise conflicts."""
    if not grads:
        raise ConfigError("pcgrad needs at least one task gradient")
    g = torch.stack([t.reshape(-1) for t in grads])
    projected = g.clone()
    n = g.shape[0]
    for i in range(n):
        order = torch.randperm(n, generator=generator).tolist()
        for j in order:
            if j == i:
                continue
            dot = projected[i] @ g[j]
            if dot < 0:
                projected[i] = projected[i] - dot / (g[j] @ g[j]).clamp_min(1e-12) * g[j]
    return projected.sum(0).reshape(grads[0].shape)


def pcgrad_backward(losses: Sequence[torch.Tensor], params: Sequence[nn.Parameter],
                    generator: torch.Generator | None = None) -> None:
    """Set ``p.grad`` of ``params`` to the PCGrad combination of the tasks' gradients."""
    params = [p for p in params if p.requires_grad]
    per_task = []
    for loss in losses:
        gs = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        per_task.append(torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                                   for g, p in zip(gs, params, strict=True)]))
    combined = pcgrad(per_task, generator)
    offset = 0
    for p in params:
        k = p.numel()
        p.grad = combined[offset:offset + k].view_as(p).clone()
        offset += k
