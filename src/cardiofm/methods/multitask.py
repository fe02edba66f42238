"""Multi-task loss balancing used by AnyECG-CCTA: uncertainty weighting and PCGrad.

- :class:`UncertaintyWeighting`, eq. 1 of the paper (Kendall, Gal & Cipolla 2018):
  L = sum_t (1 / (2 sigma_t^2)) L_t + log sigma_t, with sigma_t learnable. It is parameterised by
  s_t = log sigma_t^2 for numerical stability: L = sum_t 0.5 exp(-s_t) L_t + 0.5 s_t.
- :func:`pcgrad`, eq. 2 (Yu et al. 2020, "Gradient surgery for multi-task learning"): for each task
  gradient g_i and every other task j (in random order) with g_i . g_j < 0,
  g_i <- g_i - (g_i . g_j / ||g_j||^2) g_j; the projected gradients are summed.
  :func:`pcgrad_gradients` / :func:`pcgrad_backward` apply it to a model's shared parameters.

PCGrad is not linear in the batch, so under data parallelism (``torch.distributed`` initialised with
more than one process, e.g. Lightning DDP) the mean of PCGrad on each process's part of the batch is
not PCGrad of the batch, and which tasks conflict would depend on the number of devices. Here the
per-task gradients are first averaged over the processes (:func:`average_over_processes`, weighted
by local batch size), projected once with a task order that is the same on every rank, and the same
combined gradient is returned on every rank: the update equals single-process PCGrad on the
concatenated batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import distributed as dist
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
    """Sum of the task gradients (all the same shape) after projecting away pairwise conflicts.

    Yu et al. 2020, algorithm 1: for each task i, the other tasks j are visited in an order drawn
    afresh from ``generator`` (a random permutation per task and per step) and g_i is projected onto
    the normal plane of g_j whenever the *projected* g_i still conflicts with the *original* g_j.
    Purely local: it does no communication (see :func:`pcgrad_gradients` for the distributed case).
    """
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


def _process_group_size(group: Any = None) -> int:
    """Number of processes in ``group`` when ``torch.distributed`` is initialised, else 1."""
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return dist.get_world_size(group)


def _shared_generator(generator: torch.Generator | None, device: torch.device, group: Any) -> torch.Generator:
    """A generator for the projection order, seeded alike on every process: a seed is drawn from
    ``generator`` (the global RNG when ``None``) and, under ``torch.distributed``, the first rank's
    seed is broadcast, so the order cannot differ between ranks even if their generators do."""
    seed = torch.randint(0, 2**62, (1,), generator=generator)
    if _process_group_size(group) > 1:
        seed = seed.to(device)
        dist.broadcast(seed, src=dist.get_global_rank(group, 0) if group is not None else 0, group=group)
    return torch.Generator().manual_seed(int(seed.item()))


def average_over_processes(flat: torch.Tensor, batch_size: int | None = None, group: Any = None) -> torch.Tensor:
    """``flat`` averaged over the processes of ``group`` (unchanged when not distributed).

    Each process's ``flat`` is a gradient of a loss that is a *mean over its local batch*; the
    average is weighted by ``batch_size`` (the local batch size) so that the result is the gradient
    of the mean loss over the global batch even when the local batches differ in size. With
    ``batch_size=None`` every process counts equally, which is the same when all local batches are
    equally large (as with Lightning's ``DistributedSampler``). Every rank gets the same result.
    """
    world = _process_group_size(group)
    if world == 1:
        return flat
    if batch_size is None:
        weight = 1.0 / world
    else:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        total = torch.tensor([float(batch_size)], dtype=torch.float64, device=flat.device)
        dist.all_reduce(total, group=group)
        weight = batch_size / float(total.item())
    out = flat * weight
    dist.all_reduce(out, group=group)
    return out


def _flat_grads(loss: torch.Tensor, params: Sequence[nn.Parameter], retain_graph: bool) -> torch.Tensor:
    gs = torch.autograd.grad(loss, params, retain_graph=retain_graph, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(gs, params, strict=True)])


def pcgrad_gradients(losses: Sequence[torch.Tensor], shared: Sequence[nn.Parameter],
                     generator: torch.Generator | None = None, *, total: torch.Tensor | None = None,
                     own: Sequence[nn.Parameter] = (), batch_size: int | None = None,
                     group: Any = None) -> list[torch.Tensor]:
    """Gradients for ``shared`` then ``own`` parameters: PCGrad of the task ``losses`` on ``shared``,
    the plain gradient of ``total`` on ``own`` (task heads, task weights).

    Under ``torch.distributed`` with more than one process, every task's flattened gradient (and the
    ``own`` gradient) is first averaged over ``group`` with :func:`average_over_processes` -- the
    per-task gradient of the global batch, assuming each loss is a mean over the local batch of
    ``batch_size`` samples -- and the projection is done once on those global gradients with a task
    order drawn alike on all ranks (see :func:`pcgrad`). The result is therefore the same on every
    rank and equal to single-process PCGrad on the concatenated batch; a later DDP all-reduce that
    averages these identical gradients leaves them unchanged. Every rank must call this at the same
    point (it runs collectives).
    """
    if own and total is None:
        raise ConfigError("pcgrad_gradients: own parameters need the total loss")
    shared, own = list(shared), list(own)
    parts = [_flat_grads(loss, shared, retain_graph=True) for loss in losses] if shared else []
    if own:
        parts.append(_flat_grads(total, own, retain_graph=False))
    if not parts:
        return []
    sizes = [part.numel() for part in parts]
    synced = average_over_processes(torch.cat(parts), batch_size, group).split(sizes)  # one all-reduce
    flat = []
    if shared:
        order = _shared_generator(generator, synced[0].device, group)
        flat.append(pcgrad(list(synced[:len(losses)]), order))
    if own:
        flat.append(synced[-1])
    params = shared + own
    return [g.view_as(p) for g, p in zip(torch.cat(flat).split([p.numel() for p in params]), params, strict=True)]


def pcgrad_backward(losses: Sequence[torch.Tensor], params: Sequence[nn.Parameter],
                    generator: torch.Generator | None = None, *, batch_size: int | None = None,
                    group: Any = None) -> None:
    """Set ``p.grad`` of ``params`` to the PCGrad combination of the tasks' gradients.

    Under ``torch.distributed`` the gradients are those of the global batch, the same on every rank
    (see :func:`pcgrad_gradients`); do not all-reduce them again with a sum.
    """
    params = [p for p in params if p.requires_grad]
    for p, g in zip(params, pcgrad_gradients(losses, params, generator, batch_size=batch_size, group=group),
                    strict=True):
        p.grad = g.detach().clone()
