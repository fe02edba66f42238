"""CardioPRIME's loss terms: Gaussian KL divergences and the Jacobian (Frobenius) penalty of the dynamics.

The loss (CardioPRIME, Methods) is ``mse_alpha * MSE + a1 KL(q_MLP || q_LSTM) + a2 KL(p_prior || q_LSTM)
+ lambda ||J||_F^2``:

* :func:`kl_diag` is KL(q || p) between diagonal Gaussians, summed over dimensions; the matching term
  is ``kl_diag(clinical posterior, ECG posterior)``.
* :func:`kl_prior_projected` is KL(p_prior || q) where q is the ECG posterior pushed through the linear
  reduction to the ODE's parameter space, ``u = W z + c`` with ``z ~ N(mu, diag(sigma^2))``, so
  ``q(u) = N(W mu + c, W diag(sigma^2) W^T)`` (a full covariance), and ``p_prior = N(m, s^2 I)``; the
  closed form is evaluated with a Cholesky factor.
* :func:`jacobian_frobenius` is ``||df/dstate||_F^2`` of a vector field at given states (Finlay et al.
  2020 penalise it to keep neural ODE dynamics smooth); for McSharry's three-dimensional state it is
  computed exactly with three vector-Jacobian products instead of Finlay's stochastic estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from cardiofm.errors import ConfigError

LOGVAR_LIMIT = 12.0  # log-variances are clamped to +-this before use (exp(12) ~ 1.6e5)


def kl_diag(mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor, logvar_p: Tensor) -> Tensor:
    """KL(N(mu_q, e^logvar_q) || N(mu_p, e^logvar_p)) of diagonal Gaussians, summed over the last axis."""
    if not (mu_q.shape == logvar_q.shape == mu_p.shape == logvar_p.shape):
        raise ConfigError(f"kl_diag: shapes differ: {tuple(mu_q.shape)}, {tuple(logvar_q.shape)}, "
                          f"{tuple(mu_p.shape)}, {tuple(logvar_p.shape)}")
    lq, lp = logvar_q.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT), logvar_p.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)
    return 0.5 * (lp - lq + (lq.exp() + (mu_q - mu_p) ** 2) / lp.exp() - 1.0).sum(-1)


def kl_prior_projected(mu: Tensor, logvar: Tensor, weight: Tensor, bias: Tensor | None, prior_mean: Tensor,
                       prior_std: float = 1.0, jitter: float = 1e-5) -> Tensor:
    """KL(N(prior_mean, prior_std^2 I) || N(W mu + c, W diag(e^logvar) W^T)) per row, ``(B,)``.

    Args:
        mu, logvar: the ECG posterior ``(B, L)``.
        weight, bias: the reduction ``u = z @ weight.T + bias`` (``weight`` ``(P, L)`` with P <= L).
        prior_mean: ``(P,)``; ``prior_std`` the prior's standard deviation (the paper: 1).
        jitter: added to the covariance diagonal so that its Cholesky factor exists.
    """
    if weight.ndim != 2 or mu.ndim != 2 or weight.shape[1] != mu.shape[1]:
        raise ConfigError(f"kl_prior_projected: weight {tuple(weight.shape)} does not fit mu {tuple(mu.shape)}")
    p = weight.shape[0]
    if p > weight.shape[1]:
        raise ConfigError(f"kl_prior_projected: the reduction must not widen ({weight.shape[1]} -> {p})")
    if not prior_std > 0:
        raise ConfigError(f"kl_prior_projected: prior_std must be positive, got {prior_std}")
    var = logvar.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT).exp()
    cov = torch.einsum("pl,bl,ql->bpq", weight, var, weight) + jitter * torch.eye(p, dtype=mu.dtype, device=mu.device)
    chol = torch.linalg.cholesky(cov)
    mean = mu @ weight.T + (0.0 if bias is None else bias)
    diff = (mean - prior_mean).unsqueeze(-1)
    maha = torch.linalg.solve_triangular(chol, diff, upper=False).squeeze(-1).pow(2).sum(-1)
    eye = torch.eye(p, dtype=mu.dtype, device=mu.device).expand_as(cov)
    inv_chol = torch.linalg.solve_triangular(chol, eye, upper=False)
    trace = prior_std ** 2 * inv_chol.pow(2).sum((-2, -1))
    logdet_q = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    logdet_p = 2.0 * p * math.log(prior_std)
    return 0.5 * (trace + maha - p + logdet_q - logdet_p)


def jacobian_frobenius(field: Callable[[Tensor], Tensor], state: Tensor, *, create_graph: bool = True) -> Tensor:
    """``||d field(state) / d state||_F^2`` per row of ``state`` ``(N, D)`` -> ``(N,)``.

    ``field`` must act row by row (row i of the output depends on row i of the input only), as an ODE
    right-hand side over a batch does; D vector-Jacobian products then give the exact norm. With
    ``create_graph`` the result can be backpropagated (to the field's parameters and the states).
    """
    if state.ndim != 2:
        raise ConfigError(f"jacobian_frobenius: states must be (N, D), got {tuple(state.shape)}")
    if not state.requires_grad:
        state = state.detach().requires_grad_(True)
    out = field(state)
    if out.shape != state.shape:
        raise ConfigError(f"jacobian_frobenius: the field maps {tuple(state.shape)} to {tuple(out.shape)}; "
                          "it must return one derivative per state component")
    total = torch.zeros(state.shape[0], dtype=state.dtype, device=state.device)
    for k in range(out.shape[1]):
        (row,) = torch.autograd.grad(out[:, k].sum(), state, create_graph=create_graph, retain_graph=True)
        total = total + row.pow(2).sum(-1)
    return total
