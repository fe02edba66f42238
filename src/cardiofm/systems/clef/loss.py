"""CLEF losses: clinically-guided weighted contrastive learning (CLEF paper, eqs. 1, 2 and 4-7).

A batch of ``B`` samples gives two views ``z1`` and ``z2`` (each ``(B, h)``). The ``2B`` views are stacked as
``Z = [z1; z2]``, so view ``a`` belongs to sample ``a mod B`` and its positive is view ``(a + B) mod 2B``.

- :func:`nt_xent`, eq. 1 (SimCLR): ``L_ij = -log exp(s_ij / tau) / sum_{k != i} exp(s_ik / tau)`` with cosine
  similarity ``s``, averaged over all ``2B`` anchors.
- :func:`missing_weight`, eq. 4: ``M_ik = exp(-(A - m_i)/A * (A - m_k)/A)`` with ``m`` the number of missing
  metadata variables (as written; complete pairs get ``exp(-1)``, fully missing pairs get 1, i.e. the printed
  equation weights complete pairs *least*, against the paper's prose in section 2.3).
- :func:`missing_trust`: the trust factor ``t_ik = (A - m_i)/A * (A - m_k)/A`` (the exponent of eq. 4), 1 for a
  complete pair and 0 when either sample has every input missing.
- :func:`risk_dissimilarity`, eq. 5: ``delta_ik = (r_i - r_k)^2`` min-max normalised over the negative pairs
  (``i != k``) into ``[alpha, 1]``; the positive pair (diagonal) gets ``D = 0``.
- :func:`clef_weights`: the negative-pair weights, sample level ``(B, B)``, diagonal 0, by ``missing_mode``
  (:data:`MISSING_WEIGHT_MODES`): ``"printed"`` ``W = D * M`` (eq. 4 as printed), ``"trust"``
  ``W = t * D + (1 - t)`` (the prose reading: missing inputs move W towards 1, plain NT-Xent), ``"off"`` ``W = D``.
- :func:`weighted_nt_xent`, eqs. 2 and 6: as eq. 1 but each negative ``exp(s_ik / tau)`` in the denominator is
  multiplied by ``W[i mod B, k mod B]`` (both views of a sample share its weights); the positive term keeps weight
  1 and self-similarity is excluded. The paper's leading ``-1/(2B)`` in eq. 6 double-counts the minus sign already
  inside ``L^w_ij``; the loss here is the positive mean ``1/(2B) sum_i L^w_ij``.
- :func:`dissimilarity_alignment`, eq. 7: ``L^d = 1/B^2 sum_{i,j} ((1 + s(z1_i, z2_j)) / 2 - (1 - W_ij))^2`` over
  the ``B x B`` cross-view similarities, with ``W_ii = 0`` for the positive pair (target similarity 1).
- :func:`clef_loss`: ``L = L^w + lam * L^d`` (the paper uses ``lam = 1``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from cardiofm.errors import ConfigError

__all__ = [
    "clef_loss",
    "MISSING_WEIGHT_MODES",
    "check_missing_mode",
    "clef_weights",
    "dissimilarity_alignment",
    "missing_trust",
    "missing_weight",
    "nt_xent",
    "risk_dissimilarity",
    "weighted_nt_xent",
]


MISSING_WEIGHT_MODES: tuple[str, ...] = ("printed", "trust", "off")
"""Choices for the missing-metadata factor: eq. 4 as printed, the prose's "trust" reading, or none."""


def check_missing_mode(mode: object) -> str:
    """``mode`` as one of :data:`MISSING_WEIGHT_MODES`; anything else raises :class:`ConfigError` naming them."""
    if not isinstance(mode, str) or mode not in MISSING_WEIGHT_MODES:
        raise ConfigError(f"missing_weight must be one of {', '.join(MISSING_WEIGHT_MODES)}; got {mode!r}")
    return mode


def _check_views(z1: torch.Tensor, z2: torch.Tensor) -> None:
    if z1.ndim != 2 or z2.ndim != 2:
        raise ConfigError(f"z1 and z2 must be (B, h) tensors, got shapes {tuple(z1.shape)} and {tuple(z2.shape)}")
    if z1.shape != z2.shape:
        raise ConfigError(f"z1 and z2 must have the same shape, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    if z1.shape[0] < 1 or z1.shape[1] < 1:
        raise ConfigError(f"z1 and z2 must be non-empty, got shape {tuple(z1.shape)}")


def _check_tau(tau: float) -> None:
    if not (isinstance(tau, (int, float)) and math.isfinite(tau) and tau > 0):
        raise ConfigError(f"tau must be a finite positive number, got {tau!r}")


def _check_weights(weights: torch.Tensor, batch: int) -> None:
    if weights.shape != (batch, batch):
        raise ConfigError(f"weights must be ({batch}, {batch}) for a batch of {batch}, got {tuple(weights.shape)}")
    if not bool(torch.isfinite(weights).all()):
        raise ConfigError("weights contain NaN or infinite values")
    if bool((weights < 0).any()):
        raise ConfigError("weights must be non-negative")


def _check_a(A: int) -> None:
    if isinstance(A, bool) or not isinstance(A, int) or A < 1:
        raise ConfigError(f"A (number of metadata variables) must be a positive integer, got {A!r}")


def _view_similarity(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Cosine similarity between all ``2B`` stacked views, ``(2B, 2B)``."""
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    return z @ z.T


def _weighted_xent(z1: torch.Tensor, z2: torch.Tensor, weights: torch.Tensor | None, tau: float) -> torch.Tensor:
    """Shared body of eqs. 1 and 6; ``weights`` is sample level ``(B, B)`` or ``None`` for all ones."""
    batch = z1.shape[0]
    logits = _view_similarity(z1, z2) / tau
    n = 2 * batch
    idx = torch.arange(n, device=z1.device)
    pos = (idx + batch) % n
    if weights is None:
        w_view = torch.ones(n, n, dtype=logits.dtype, device=logits.device)
    else:
        w_view = weights.to(dtype=logits.dtype, device=logits.device).repeat(2, 2)
    w_view = w_view.clone()
    w_view[idx, pos] = 1.0  # the positive pair is never weighted
    w_view[idx, idx] = 0.0  # self-similarity excluded (the indicator 1[k != i])
    shift = logits.max(dim=1, keepdim=True).values.detach()
    log_denom = torch.log((w_view * torch.exp(logits - shift)).sum(dim=1)) + shift.squeeze(1)
    return (log_denom - logits[idx, pos]).mean()


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float = 0.07) -> torch.Tensor:
    """SimCLR NT-Xent (eq. 1) over the ``2B`` views of ``z1, z2`` (each ``(B, h)``); returns a scalar."""
    _check_views(z1, z2)
    _check_tau(tau)
    return _weighted_xent(z1, z2, None, tau)


def weighted_nt_xent(z1: torch.Tensor, z2: torch.Tensor, weights: torch.Tensor, tau: float = 0.07) -> torch.Tensor:
    """Weighted NT-Xent ``L^w`` (eqs. 2 and 6); returns a scalar.

    ``weights`` is the sample-level ``(B, B)`` matrix ``W``: the negative pair of views ``(a, b)`` is weighted by
    ``W[a mod B, b mod B]``, so both views of a sample share its row. The diagonal of ``W`` is ignored: the
    positive pair always has weight 1 and self-similarity is excluded. ``W = 1`` gives :func:`nt_xent`.
    """
    _check_views(z1, z2)
    _check_tau(tau)
    _check_weights(weights, z1.shape[0])
    return _weighted_xent(z1, z2, weights, tau)


def risk_dissimilarity(risk: torch.Tensor, alpha: float = 0.2) -> torch.Tensor:
    """Risk-score dissimilarity ``D`` (eq. 5), ``(B, B)`` from risk scores ``(B,)``.

    ``delta_ik = (r_i - r_k)^2`` is min-max normalised over the negative pairs ``i != k`` to
    ``D_ik = (1 - alpha) (delta_ik - delta_min) / (delta_max - delta_min) + alpha``, so the largest difference maps
    to 1 and the smallest to ``alpha``. The diagonal (the positive pair) is 0, as the paper states.
    When all negative-pair differences are equal (including all risks equal, or ``B = 2``) the normalisation is
    0/0; this returns 1 for every negative pair, so the risk term leaves the negatives uniform as in SimCLR.
    """
    if not isinstance(alpha, (int, float)) or not (0.0 <= alpha <= 1.0):
        raise ConfigError(f"alpha must be in [0, 1], got {alpha!r}")
    if risk.ndim != 1 or risk.shape[0] < 1:
        raise ConfigError(f"risk must be a non-empty (B,) tensor, got shape {tuple(risk.shape)}")
    if not torch.is_floating_point(risk):
        risk = risk.to(torch.get_default_dtype())
    if not bool(torch.isfinite(risk).all()):
        raise ConfigError("risk contains NaN or infinite values; impute or drop those samples first")
    batch = risk.shape[0]
    delta = (risk[:, None] - risk[None, :]) ** 2
    off = ~torch.eye(batch, dtype=torch.bool, device=risk.device)
    d = torch.zeros_like(delta)
    if batch < 2:
        return d
    neg = delta[off]
    d_min, d_max = neg.min(), neg.max()
    span = d_max - d_min
    if float(span) <= 0.0:
        d[off] = 1.0
        return d
    d[off] = (1.0 - alpha) * (neg - d_min) / span + alpha
    return d


def _present_fraction(n_missing: torch.Tensor, A: int) -> torch.Tensor:
    """``(A - m_i) / A`` per sample, validating ``n_missing`` (integers in ``0..A``); float64 for integer input."""
    _check_a(A)
    if n_missing.ndim != 1 or n_missing.shape[0] < 1:
        raise ConfigError(f"n_missing must be a non-empty (B,) tensor, got shape {tuple(n_missing.shape)}")
    m = n_missing.to(torch.float64) if not torch.is_floating_point(n_missing) else n_missing
    if not bool(torch.isfinite(m).all()):
        raise ConfigError("n_missing contains NaN or infinite values")
    if bool(((m < 0) | (m > A)).any()) or bool((m != torch.round(m)).any()):
        raise ConfigError(f"n_missing must be integers in 0..{A}, got {n_missing.tolist()}")
    return (A - m) / A


def _out_dtype(out: torch.Tensor, n_missing: torch.Tensor) -> torch.Tensor:
    return out.to(torch.get_default_dtype()) if not torch.is_floating_point(n_missing) else out


def missing_weight(n_missing: torch.Tensor, A: int = 7) -> torch.Tensor:
    """Missing-metadata multiplier ``M`` (eq. 4 as printed), ``(B, B)``: ``M_ik = exp(-(A - m_i)/A * (A - m_k)/A)``.

    ``n_missing`` holds the number of missing variables ``m_i`` per sample, integers in ``0..A``. As printed, M is
    smallest (``exp(-1) ~ 0.37``) for a complete pair and 1 when either sample has every input missing, so
    ``W = D * M`` weights the pairs with the least trustworthy risk difference the most; see :func:`missing_trust`
    for the reading that matches the paper's prose.
    """
    present = _present_fraction(n_missing, A)
    return _out_dtype(torch.exp(-present[:, None] * present[None, :]), n_missing)


def missing_trust(n_missing: torch.Tensor, A: int = 7) -> torch.Tensor:
    """Trust factor ``t_ik = (A - m_i)/A * (A - m_k)/A`` in ``[0, 1]``, ``(B, B)``.

    The product of the two samples' fractions of available inputs (the exponent of eq. 4, so ``M = exp(-t)``):
    1 for a complete pair, 0 when either sample has all ``A`` inputs missing, and non-increasing in each ``m_i``.
    """
    present = _present_fraction(n_missing, A)
    return _out_dtype(present[:, None] * present[None, :], n_missing)


def clef_weights(
    risk: torch.Tensor, n_missing: torch.Tensor, alpha: float = 0.2, A: int = 7, missing_mode: str = "printed"
) -> torch.Tensor:
    """Negative-pair weights ``W``, ``(B, B)`` with diagonal 0, from risk dissimilarity ``D`` (eq. 5).

    ``missing_mode`` chooses how the number of missing inputs enters:

    - ``"printed"`` (default): ``W = D * M`` with ``M_ik = exp(-t_ik)`` (eq. 4 exactly as printed, Hadamard
      product as in section 2.3). Complete pairs get ``D / e``, pairs with everything missing get ``D``.
    - ``"trust"``: ``W_ik = t_ik * D_ik + (1 - t_ik) * 1 = 1 - t_ik (1 - D_ik)`` with the trust factor
      ``t_ik = (A - m_i)/A * (A - m_k)/A`` (:func:`missing_trust`). This is the reading of the paper's prose
      ("when many metadata variables are missing ... M moves the weighting closer to a uniform SimCLR-like
      behavior"): a complete pair keeps the full risk weight ``D``, a pair where either sample has every input
      missing gets exactly 1 (plain NT-Xent for that negative), and W is non-decreasing in ``m_i`` and ``m_k``
      (strictly increasing while ``D < 1``). ``W`` stays in ``[alpha, 1]``.
    - ``"off"``: ``W = D`` (the paper's ablation without M).

    ``"printed"`` is the default so that the paper's equation, and runs and results made before the choice
    existed, are reproduced unchanged; ``"trust"`` is the opt-in reading that matches the stated purpose.
    """
    check_missing_mode(missing_mode)
    if risk.ndim != 1 or n_missing.ndim != 1 or risk.shape != n_missing.shape:
        raise ConfigError(
            f"risk and n_missing must be (B,) tensors of equal length, got {tuple(risk.shape)} and "
            f"{tuple(n_missing.shape)}"
        )
    d = risk_dissimilarity(risk, alpha)
    if missing_mode == "printed":
        return d * missing_weight(n_missing, A).to(dtype=d.dtype, device=d.device)
    if missing_mode == "off":
        _present_fraction(n_missing, A)  # still validate the counts
        return d
    t = missing_trust(n_missing, A).to(dtype=d.dtype, device=d.device)
    w = 1.0 - t * (1.0 - d)
    return w * (1.0 - torch.eye(len(w), dtype=w.dtype, device=w.device))


def dissimilarity_alignment(z1: torch.Tensor, z2: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Dissimilarity alignment loss ``L^d`` (eq. 7); returns a scalar.

    ``L^d = 1/B^2 sum_{i,j} ((1 + cos(z1_i, z2_j)) / 2 - (1 - W_ij))^2`` over the ``B x B`` cross-view pairs.
    The diagonal is the positive pair, for which the paper sets ``W = 0`` (target rescaled similarity 1); it is
    forced to 0 here whatever ``weights`` holds there. The loss is 0 when the rescaled similarities equal ``1 - W``.
    """
    _check_views(z1, z2)
    batch = z1.shape[0]
    _check_weights(weights, batch)
    sim = F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T
    w = weights.to(dtype=sim.dtype, device=sim.device)
    w = w * (1.0 - torch.eye(batch, dtype=sim.dtype, device=sim.device))
    return (((1.0 + sim) / 2.0 - (1.0 - w)) ** 2).sum() / batch**2


def clef_loss(
    z1: torch.Tensor,
    z2: torch.Tensor,
    risk: torch.Tensor,
    n_missing: torch.Tensor,
    *,
    alpha: float = 0.2,
    tau: float = 0.07,
    lam: float = 1.0,
    A: int = 7,
    missing_mode: str = "printed",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Full CLEF objective ``L = L^w + lam * L^d``; ``missing_mode`` as in :func:`clef_weights`.

    Returns ``(total, parts)`` where ``parts`` has ``"weighted"`` (``L^w``), ``"alignment"`` (``L^d``) and
    ``"weights"`` (the ``(B, B)`` matrix ``W``, detached).
    """
    _check_views(z1, z2)
    if risk.shape != (z1.shape[0],) or n_missing.shape != (z1.shape[0],):
        raise ConfigError(
            f"risk and n_missing must be ({z1.shape[0]},) for a batch of {z1.shape[0]}, got "
            f"{tuple(risk.shape)} and {tuple(n_missing.shape)}"
        )
    if not (isinstance(lam, (int, float)) and math.isfinite(lam) and lam >= 0):
        raise ConfigError(f"lam must be a finite non-negative number, got {lam!r}")
    w = clef_weights(risk, n_missing, alpha, A, missing_mode).detach().to(dtype=z1.dtype, device=z1.device)
    l_w = weighted_nt_xent(z1, z2, w, tau)
    l_d = dissimilarity_alignment(z1, z2, w)
    total = l_w + lam * l_d
    return total, {"weighted": l_w, "alignment": l_d, "weights": w}
