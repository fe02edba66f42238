"""Tests for the CLEF losses (cardiofm.systems.clef.loss)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cardiofm.errors import ConfigError
from cardiofm.systems.clef.loss import (
    MISSING_WEIGHT_MODES,
    clef_loss,
    clef_weights,
    dissimilarity_alignment,
    missing_trust,
    missing_weight,
    nt_xent,
    risk_dissimilarity,
    weighted_nt_xent,
)


def _views(batch: int = 5, dim: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    z2 = z1 + 0.5 * torch.randn(batch, dim, generator=g, dtype=torch.float64)
    return z1, z2


def _brute_force(z1: torch.Tensor, z2: torch.Tensor, w: torch.Tensor | None, tau: float) -> float:
    """Eq. 6 with explicit loops over the 2B views."""
    batch = z1.shape[0]
    z = torch.cat([z1, z2]).tolist()
    n = 2 * batch

    def cos(a: list[float], b: list[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))

    total = 0.0
    for i in range(n):
        j = (i + batch) % n
        num = math.exp(cos(z[i], z[j]) / tau)
        den = 0.0
        for k in range(n):
            if k == i:
                continue
            weight = 1.0 if (k == j or w is None) else float(w[i % batch, k % batch])
            den += weight * math.exp(cos(z[i], z[k]) / tau)
        total += -math.log(num / den)
    return total / n


def test_nt_xent_matches_brute_force() -> None:
    z1, z2 = _views()
    assert float(nt_xent(z1, z2, tau=0.5)) == pytest.approx(_brute_force(z1, z2, None, 0.5), abs=1e-9)


def test_weighted_equals_nt_xent_when_weights_are_one() -> None:
    z1, z2 = _views(batch=6, dim=4, seed=1)
    ones = torch.ones(6, 6, dtype=torch.float64)
    for tau in (0.07, 0.2, 1.0):
        assert float(weighted_nt_xent(z1, z2, ones, tau)) == pytest.approx(float(nt_xent(z1, z2, tau)), abs=1e-6)


def test_weighted_nt_xent_float32_matches_nt_xent() -> None:
    z1, z2 = _views(batch=16, dim=32, seed=2)
    z1, z2 = z1.float(), z2.float()
    out = weighted_nt_xent(z1, z2, torch.ones(16, 16), 0.07)
    assert float(out) == pytest.approx(float(nt_xent(z1, z2, 0.07)), abs=1e-6)


def test_weighted_matches_brute_force_with_clef_weights() -> None:
    z1, z2 = _views(batch=5, dim=6, seed=3)
    risk = torch.tensor([0.05, 0.30, 0.12, 0.70, 0.12], dtype=torch.float64)
    n_missing = torch.tensor([0, 4, 2, 7, 1])
    w = clef_weights(risk, n_missing, alpha=0.2, A=7)
    for tau in (0.07, 0.3):
        got = float(weighted_nt_xent(z1, z2, w, tau))
        assert got == pytest.approx(_brute_force(z1, z2, w, tau), rel=1e-9)


def test_weight_diagonal_is_ignored_by_weighted_nt_xent() -> None:
    z1, z2 = _views(batch=4, seed=4)
    w = torch.rand(4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    w2 = w.clone()
    w2.fill_diagonal_(5.0)
    assert float(weighted_nt_xent(z1, z2, w, 0.1)) == pytest.approx(float(weighted_nt_xent(z1, z2, w2, 0.1)))


def test_missing_weight_matches_eq4_by_hand() -> None:
    m = missing_weight(torch.tensor([0, 7, 3]), A=7)
    assert m.shape == (3, 3)
    assert float(m[0, 0]) == pytest.approx(math.exp(-1.0))
    assert float(m[0, 1]) == pytest.approx(1.0)
    assert float(m[1, 1]) == pytest.approx(1.0)
    assert float(m[0, 2]) == pytest.approx(math.exp(-(7 / 7) * (4 / 7)))
    assert float(m[2, 2]) == pytest.approx(math.exp(-(4 / 7) * (4 / 7)))
    assert torch.allclose(m, m.T)
    assert bool(((m > 0) & (m <= 1)).all())


def test_risk_dissimilarity_min_max() -> None:
    risk = torch.tensor([0.1, 0.4, 0.2, 0.9])
    d = risk_dissimilarity(risk, alpha=0.2)
    assert torch.allclose(d, d.T)
    assert torch.all(torch.diagonal(d) == 0)
    # largest difference (0.1 vs 0.9) -> 1, smallest (0.1 vs 0.2) -> alpha
    assert float(d[0, 3]) == pytest.approx(1.0)
    assert float(d[0, 2]) == pytest.approx(0.2)
    off = d[~torch.eye(4, dtype=torch.bool)]
    assert float(off.min()) == pytest.approx(0.2)
    assert float(off.max()) == pytest.approx(1.0)
    # a middle value follows eq. 5
    delta = torch.tensor([0.3**2, 0.1**2, 0.8**2])
    expect = 0.8 * (0.2**2 - delta.min()) / (delta.max() - delta.min()) + 0.2
    assert float(d[1, 2]) == pytest.approx(float(expect), rel=1e-5)


def test_risk_dissimilarity_equal_case_returns_one() -> None:
    d = risk_dissimilarity(torch.full((4,), 0.3), alpha=0.2)
    off = ~torch.eye(4, dtype=torch.bool)
    assert torch.all(d[off] == 1.0)
    assert torch.all(torch.diagonal(d) == 0)
    assert risk_dissimilarity(torch.tensor([0.5])).shape == (1, 1)


def test_weights_bounded_by_alpha_min_m_and_one() -> None:
    g = torch.Generator().manual_seed(5)
    risk = torch.rand(12, generator=g)
    n_missing = torch.randint(0, 8, (12,), generator=g)
    alpha = 0.25
    w = clef_weights(risk, n_missing, alpha=alpha, A=7)
    m = missing_weight(n_missing, A=7)
    off = ~torch.eye(12, dtype=torch.bool)
    assert float(w[off].min()) >= alpha * float(m.min()) - 1e-7
    assert float(w[off].max()) <= 1.0 + 1e-7
    assert torch.allclose(w, risk_dissimilarity(risk, alpha) * m)


def test_gradients_finite_and_nonzero() -> None:
    z1, z2 = _views(batch=6, dim=5, seed=6)
    z1 = z1.float().requires_grad_(True)
    z2 = z2.float().requires_grad_(True)
    risk = torch.tensor([0.1, 0.2, 0.3, 0.05, 0.6, 0.2])
    n_missing = torch.tensor([0, 1, 4, 0, 2, 7])
    total, parts = clef_loss(z1, z2, risk, n_missing, alpha=0.2, tau=0.07, lam=1.0, A=7)
    assert set(parts) == {"weighted", "alignment", "weights"}
    assert float(total.detach()) == pytest.approx(
        float(parts["weighted"].detach() + parts["alignment"].detach()), rel=1e-6
    )
    total.backward()
    for grad in (z1.grad, z2.grad):
        assert grad is not None
        assert bool(torch.isfinite(grad).all())
        assert float(grad.abs().sum()) > 0


def test_lam_scales_alignment_term() -> None:
    z1, z2 = _views(batch=4, seed=7)
    risk = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    n_missing = torch.tensor([0, 0, 3, 5])
    t0, p0 = clef_loss(z1, z2, risk, n_missing, lam=0.0)
    t2, p2 = clef_loss(z1, z2, risk, n_missing, lam=2.0)
    assert float(t0) == pytest.approx(float(p0["weighted"]))
    assert float(t2) == pytest.approx(float(p2["weighted"] + 2.0 * p2["alignment"]))


def test_alignment_zero_when_similarities_match_target() -> None:
    # z1 = z2 = orthonormal rows: cos(z1_i, z2_j) = 1 on the diagonal, 0 off it, so (1 + s) / 2 = 0.5 off-diagonal.
    z = torch.eye(3, dtype=torch.float64)
    w = torch.full((3, 3), 0.5, dtype=torch.float64)
    assert float(dissimilarity_alignment(z, z.clone(), w)) == pytest.approx(0.0, abs=1e-12)
    # the diagonal of W is treated as 0 (positive pair, target similarity 1) whatever is passed
    w_diag = w.clone()
    w_diag.fill_diagonal_(0.9)
    assert float(dissimilarity_alignment(z, z.clone(), w_diag)) == pytest.approx(0.0, abs=1e-12)


def test_alignment_matches_eq7_by_hand() -> None:
    z1, z2 = _views(batch=4, dim=3, seed=8)
    w = torch.rand(4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sim = F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T
    w0 = w.clone()
    w0.fill_diagonal_(0.0)
    expect = sum((float((1 + sim[i, j]) / 2) - (1 - float(w0[i, j]))) ** 2 for i in range(4) for j in range(4)) / 16
    assert float(dissimilarity_alignment(z1, z2, w)) == pytest.approx(expect, rel=1e-12)


def test_alignment_larger_when_similar_pair_has_high_weight() -> None:
    z = torch.eye(2, dtype=torch.float64)
    near = torch.tensor([[0.0, 0.5], [0.5, 0.0]], dtype=torch.float64)
    far = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    # orthogonal negatives have rescaled similarity 0.5: W = 0.5 fits exactly, W = 1 (target 0) does not
    assert float(dissimilarity_alignment(z, z, near)) < float(dissimilarity_alignment(z, z, far))


@pytest.mark.parametrize(
    "call",
    [
        lambda: nt_xent(torch.randn(3, 4), torch.randn(4, 4)),
        lambda: nt_xent(torch.randn(3), torch.randn(3)),
        lambda: nt_xent(torch.randn(3, 4), torch.randn(3, 4), tau=0.0),
        lambda: weighted_nt_xent(torch.randn(3, 4), torch.randn(3, 4), torch.ones(4, 4)),
        lambda: weighted_nt_xent(torch.randn(3, 4), torch.randn(3, 4), torch.full((3, 3), float("nan"))),
        lambda: weighted_nt_xent(torch.randn(3, 4), torch.randn(3, 4), -torch.ones(3, 3)),
        lambda: dissimilarity_alignment(torch.randn(3, 4), torch.randn(3, 4), torch.ones(2, 2)),
        lambda: risk_dissimilarity(torch.tensor([0.1, float("nan"), 0.3])),
        lambda: risk_dissimilarity(torch.tensor([0.1, 0.2]), alpha=1.5),
        lambda: risk_dissimilarity(torch.ones(2, 2)),
        lambda: missing_weight(torch.tensor([0, 8]), A=7),
        lambda: missing_weight(torch.tensor([-1, 2]), A=7),
        lambda: missing_weight(torch.tensor([0.5, 2.0]), A=7),
        lambda: missing_weight(torch.tensor([0, 1]), A=0),
        lambda: clef_weights(torch.tensor([0.1, 0.2]), torch.tensor([0, 1, 2])),
        lambda: clef_weights(torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), missing_mode="exp"),
        lambda: clef_weights(torch.tensor([0.1, 0.2]), torch.tensor([0, 9]), missing_mode="off"),
        lambda: missing_trust(torch.tensor([0, 8]), A=7),
        lambda: clef_loss(torch.randn(3, 4), torch.randn(3, 4), torch.rand(2), torch.zeros(3, dtype=torch.long)),
        lambda: clef_loss(torch.randn(3, 4), torch.randn(3, 4), torch.tensor([0.1, float("nan"), 0.2]), torch.zeros(3)),
        lambda: clef_loss(torch.randn(3, 4), torch.randn(3, 4), torch.rand(3), torch.tensor([0, 9, 1])),
        lambda: clef_loss(torch.randn(3, 4), torch.randn(3, 4), torch.rand(3), torch.zeros(3), lam=-1.0),
    ],
)
def test_bad_input_raises_config_error(call: object) -> None:
    with pytest.raises(ConfigError):
        call()  # type: ignore[operator]


# --- method.missing_weight: printed | trust | off -------------------------------------------------------------

_RISK = torch.tensor([0.1, 0.4, 0.2, 0.9], dtype=torch.float64)


def test_missing_modes_known_values_with_a7() -> None:
    d = risk_dissimilarity(_RISK, alpha=0.2)
    both_complete = torch.zeros(4, dtype=torch.long)
    ptbxl = torch.full((4,), 5)  # PTB-XL: 5 of the 7 SCORE2 inputs missing
    all_missing = torch.full((4,), 7)
    off = ~torch.eye(4, dtype=torch.bool)
    # printed: eq. 4 as written weights complete pairs least
    assert torch.allclose(clef_weights(_RISK, both_complete, 0.2, 7, "printed")[off], d[off] * math.exp(-1.0))
    assert torch.allclose(clef_weights(_RISK, ptbxl, 0.2, 7, "printed")[off], d[off] * math.exp(-(2 / 7) ** 2))
    assert torch.allclose(clef_weights(_RISK, all_missing, 0.2, 7, "printed")[off], d[off])
    # trust: complete -> the full risk weight, all missing -> exactly 1 (plain NT-Xent)
    assert torch.allclose(clef_weights(_RISK, both_complete, 0.2, 7, "trust"), d)
    t = (2 / 7) ** 2
    assert torch.allclose(clef_weights(_RISK, ptbxl, 0.2, 7, "trust")[off], t * d[off] + (1 - t))
    w_all = clef_weights(_RISK, all_missing, 0.2, 7, "trust")
    assert torch.all(w_all[off] == 1.0) and torch.all(w_all.diagonal() == 0)
    # one sample fully missing is enough for its pairs to fall back to 1
    one = clef_weights(_RISK, torch.tensor([7, 0, 0, 0]), 0.2, 7, "trust")
    assert torch.all(one[0, 1:] == 1.0) and torch.allclose(one[1:, 1:], d[1:, 1:])
    # off: the risk weight alone, whatever is missing
    for n in (both_complete, ptbxl, all_missing):
        assert torch.allclose(clef_weights(_RISK, n, 0.2, 7, "off"), d)


def test_missing_trust_factor() -> None:
    t = missing_trust(torch.tensor([0, 7, 3]), A=7)
    assert float(t[0, 0]) == 1.0 and float(t[0, 1]) == 0.0 and float(t[1, 1]) == 0.0
    assert float(t[0, 2]) == pytest.approx(4 / 7) and float(t[2, 2]) == pytest.approx((4 / 7) ** 2)
    # the printed M is exp(-t)
    assert torch.allclose(missing_weight(torch.tensor([0, 7, 3]), A=7), torch.exp(-t))


def test_trust_weight_is_monotone_in_missing_inputs() -> None:
    risk = torch.tensor([0.05, 0.3, 0.9], dtype=torch.float64)
    d01 = float(risk_dissimilarity(risk, 0.2)[0, 1])
    assert d01 < 1.0
    prev = -1.0
    for m in range(8):
        w = float(clef_weights(risk, torch.tensor([m, 0, 0]), 0.2, 7, "trust")[0, 1])
        assert w > prev
        prev = w
    assert prev == 1.0
    # symmetric in the pair, and the same count on either side gives the same weight
    w = clef_weights(risk, torch.tensor([2, 4, 0]), 0.2, 7, "trust")
    assert torch.allclose(w, w.T)


def test_clef_loss_passes_missing_mode() -> None:
    z1, z2 = _views(batch=4, seed=7)
    n_missing = torch.tensor([0, 0, 5, 7])
    totals = {}
    for mode in MISSING_WEIGHT_MODES:
        total, parts = clef_loss(z1, z2, _RISK, n_missing, missing_mode=mode)
        assert math.isfinite(float(total))
        assert torch.allclose(parts["weights"], clef_weights(_RISK, n_missing, 0.2, 7, mode))
        totals[mode] = float(total)
    assert len({round(v, 12) for v in totals.values()}) == 3


def test_contrastive_config_missing_weight_validation() -> None:
    from cardiofm.systems.clef.module import ContrastiveConfig

    assert ContrastiveConfig().missing_weight == "printed"
    for mode in MISSING_WEIGHT_MODES:
        assert ContrastiveConfig(missing_weight=mode).missing_weight == mode
    # the former boolean switch (README ablation, older run folders): true = printed, false = off
    assert ContrastiveConfig(missing_weight=True).missing_weight == "printed"
    assert ContrastiveConfig(missing_weight=False).missing_weight == "off"
    for bad in ("exp", "Trust", None, 1):
        with pytest.raises(ConfigError, match="printed, trust, off"):
            ContrastiveConfig(missing_weight=bad)


def test_clef_objective_passes_missing_mode_through() -> None:
    from cardiofm.methods.registry import create_method

    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(6, 1, 200, generator=g)
    batch = {"x1": x1, "x2": x1 + 0.1 * torch.randn(6, 1, 200, generator=g),
             "risk": torch.tensor([0.02, 0.1, 0.3, 0.05, 0.2, 0.15]), "n_missing": torch.tensor([0, 0, 5, 5, 7, 3])}
    losses, weights = {}, {}
    for mode in MISSING_WEIGHT_MODES:
        torch.manual_seed(0)
        module = create_method("contrastive", {"encoder": "net1d_tiny", "in_leads": 1, "missing_weight": mode})
        module.eval()
        with torch.no_grad():
            loss, _ = module.objective.loss(module.encoder, batch)
        assert math.isfinite(float(loss))
        losses[mode] = float(loss)
        weights[mode] = module.objective.weights(batch["risk"], batch["n_missing"])
        expect = clef_weights(batch["risk"].float(), batch["n_missing"], 0.2, 7, mode).float()
        assert torch.allclose(weights[mode], expect)
    assert len({round(v, 9) for v in losses.values()}) == 3
    off = ~torch.eye(6, dtype=torch.bool)
    assert torch.all(weights["trust"][4][off[4]] == 1.0)  # sample 4 has all 7 inputs missing
