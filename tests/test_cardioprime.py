"""CardioPRIME's model and loss: ranges, closed-form KLs, the Jacobian penalty, the clinical branch, learning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from cardiofm.errors import ConfigError
from cardiofm.physio.constraints import CONSTRAINED_NAMES, RangeConstraint, default_ranges
from cardiofm.physio.mcsharry import PARAM_NAMES
from cardiofm.physio.mcsharry_torch import dynamics_torch
from cardiofm.systems.cardioprime.loss import jacobian_frobenius, kl_diag, kl_prior_projected
from cardiofm.systems.cardioprime.module import CardioPrimeConfig, CardioPrimeModule

torch.set_num_threads(1)


def _small(**kw) -> CardioPrimeModule:
    torch.manual_seed(0)
    kw = {"align": "none", "rate": "learned", **kw}
    return CardioPrimeModule(CardioPrimeConfig(in_leads=3, window=120, hidden=16, tab_hidden=8, jac_points=4, **kw))


# ---- ranges -------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.0, 1.0, 30.0, 1e4])
def test_parameters_stay_inside_their_ranges_for_any_input_and_weights(scale: float):
    c = RangeConstraint()
    with torch.no_grad():
        c.logits.normal_(0, 5)
    u = torch.randn(64, c.n_params, generator=torch.Generator().manual_seed(1)) * scale
    p = c(u)
    lo, hi = (torch.tensor([r[i] for r in default_ranges().values()]) for i in (0, 1))
    assert p.shape == (64, len(CONSTRAINED_NAMES)) and torch.all(p >= lo) and torch.all(p <= hi)
    assert c.weights().sum(-1).allclose(torch.ones(c.n_params))


def test_zero_maps_to_the_range_centre_under_sigmoid_and_tanh_and_weights_learn():
    c = RangeConstraint({"a": (2.0, 4.0), "b": (-1.0, 1.0)})
    with torch.no_grad():
        c.logits.copy_(torch.tensor([[20.0, 0, 0], [0, 20.0, 0]]))  # all sigmoid, all tanh
    assert torch.allclose(c(torch.zeros(1, 2)), torch.tensor([[3.0, 0.0]]), atol=1e-6)
    c.logits.data.copy_(torch.tensor([[0.0, 0, 20.0], [0, 0, 20.0]]))  # the log map: ln(1 + (e-1)/2) of the way
    frac = math.log1p((math.e - 1) / 2)
    assert torch.allclose(c(torch.zeros(1, 2)), torch.tensor([[2 + 2 * frac, -1 + 2 * frac]]), atol=1e-5)
    c(torch.randn(4, 2)).sum().backward()
    assert c.logits.grad is not None and c.logits.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="low < high"):
        RangeConstraint({"a": (1.0, 1.0)})
    with pytest.raises(ConfigError, match="expected"):
        c(torch.zeros(3, 5))


# ---- KL terms -----------------------------------------------------------------------------------
def test_kl_diag_equals_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mq, lq, mp, lp = (torch.randn(5, 7, generator=g) for _ in range(4))
    want = kl_divergence(Normal(mq, (0.5 * lq).exp()), Normal(mp, (0.5 * lp).exp())).sum(-1)
    assert torch.allclose(kl_diag(mq, lq, mp, lp), want, atol=1e-5)
    assert torch.allclose(kl_diag(mq, lq, mq, lq), torch.zeros(5), atol=1e-6)
    with pytest.raises(ConfigError, match="shapes"):
        kl_diag(mq, lq, mp[:, :3], lp)


def test_kl_prior_projected_equals_the_full_covariance_closed_form():
    g = torch.Generator().manual_seed(0)
    b, latent, p = 4, 9, 5
    mu, logvar = torch.randn(b, latent, generator=g, dtype=torch.float64), torch.randn(b, latent, generator=g,
                                                                                         dtype=torch.float64)
    w, c = torch.randn(p, latent, generator=g, dtype=torch.float64), torch.randn(p, generator=g, dtype=torch.float64)
    m, s = torch.randn(p, generator=g, dtype=torch.float64), 1.3
    got = kl_prior_projected(mu, logvar, w, c, m, s, jitter=1e-5)
    for i in range(b):
        cov = w @ torch.diag(logvar[i].exp()) @ w.T + 1e-5 * torch.eye(p, dtype=torch.float64)
        q = MultivariateNormal(w @ mu[i] + c, covariance_matrix=cov)
        prior = MultivariateNormal(m, covariance_matrix=s**2 * torch.eye(p, dtype=torch.float64))
        assert float(got[i]) == pytest.approx(float(kl_divergence(prior, q)), rel=1e-6)
    with pytest.raises(ConfigError, match="widen"):
        kl_prior_projected(mu, logvar, torch.randn(12, latent, dtype=torch.float64), None, torch.zeros(12))


# ---- Jacobian -----------------------------------------------------------------------------------
def test_jacobian_penalty_equals_autograd_and_is_differentiable():
    from cardiofm.physio.mcsharry import McSharryParams

    base = torch.tensor(McSharryParams.default().to_vector(), dtype=torch.float64)
    params = base.repeat(3, 1).requires_grad_(True)
    state = torch.tensor([[1.0, 0.0, 0.02], [0.0, 1.0, -0.1], [-0.7, -0.7, 0.5]], dtype=torch.float64)
    t = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    got = jacobian_frobenius(lambda s: dynamics_torch(s, params, t), state)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(
            lambda s, i=i: dynamics_torch(s[None], params[i:i + 1], t[i:i + 1])[0], state[i])
        assert float(got[i].detach()) == pytest.approx(float(jac.pow(2).sum()), rel=1e-9)
    got.sum().backward()
    assert torch.isfinite(got).all() and params.grad is not None and torch.isfinite(params.grad).all()
    assert params.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="one derivative"):
        jacobian_frobenius(lambda s: s[:, :2], state)


# ---- the module ---------------------------------------------------------------------------------
def test_forward_shapes_ranges_and_outputs():
    m = _small(tab_dim=4).eval()
    x = torch.randn(6, 3, 120)
    out = m(x)
    assert out["recon"].shape == x.shape and out["state"].shape == (6, 3, 120)
    assert out["mu"].shape == (6, 50) and out["params"].shape == (6, len(CONSTRAINED_NAMES))
    assert torch.equal(m(x)["recon"], out["recon"])  # eval: the posterior mean, no sampling
    params = m.ode_parameters(x)
    assert list(params) == list(CONSTRAINED_NAMES) and params["hr_mean"].shape == (6,)
    for name, (lo, hi) in default_ranges().items():
        assert np.all(params[name] >= lo) and np.all(params[name] <= hi), name
    assert m.embed(x).shape == (6, 50) and len(PARAM_NAMES) + 1 == len(CONSTRAINED_NAMES)


def test_baseline_clinical_branch_gets_no_gradient_and_integrated_does():
    x, tab = torch.randn(4, 3, 120), torch.randn(4, 4)
    base = _small(tab_dim=4, alpha1=0.0)
    terms = base.losses({"x": x, "tab": tab})
    terms["loss"].backward()
    assert "kl_clinical" not in terms and all(p.grad is None for p in base.clinical.parameters())
    assert base.log_dt.grad is not None and base.log_dt.grad.abs() > 0  # the solver's step is learned
    integ = _small(tab_dim=4, alpha1=2.0)
    terms = integ.losses({"x": x, "tab": tab})
    terms["loss"].backward()
    assert terms["kl_clinical"] > 0 and all(p.grad is not None and p.grad.abs().sum() > 0
                                            for p in integ.clinical.parameters())
    assert all(torch.isfinite(v) for v in terms.values())


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ConfigError, match="tab_dim"):
        CardioPrimeModule(CardioPrimeConfig(alpha1=2.0, tab_dim=0))
    with pytest.raises(ConfigError, match="latent"):
        CardioPrimeModule(CardioPrimeConfig(latent=10, alpha1=0.0))
    m = _small(tab_dim=4)
    with pytest.raises(ConfigError, match="windows"):
        m(torch.randn(2, 12, 120))
    with pytest.raises(ConfigError, match="finite"):
        m.losses({"x": torch.randn(2, 3, 120), "tab": torch.full((2, 4), float("nan"))})
    with pytest.raises(ConfigError, match="clinical vector"):
        m.losses({"x": torch.randn(2, 3, 120)})


def test_reconstruction_improves_on_a_fixed_batch():
    torch.manual_seed(0)
    m = _small(alpha1=0.0, tab_dim=0)
    t = torch.arange(120) / 100.0
    x = torch.stack([torch.sin(2 * math.pi * 1.2 * t + k) for k in range(3)])[None].repeat(4, 1, 1)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        terms = m.losses({"x": x}, sample=False)
        first = float(terms["mse"].detach()) if first is None else first
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()
    assert float(m.losses({"x": x}, sample=False)["mse"]) < 0.5 * first


def test_longer_records_are_windowed_randomly_in_training_and_centred_otherwise():
    m = _small(alpha1=0.0)
    x = torch.arange(300, dtype=torch.float32).repeat(2, 3, 1)
    assert torch.equal(m.window(x, random=False)[0, 0], torch.arange(90, 210, dtype=torch.float32))
    starts = {int(m.window(x, random=True)[0, 0, 0]) for _ in range(20)}
    assert len(starts) > 1 and all(0 <= s <= 180 for s in starts)
    assert m.embed(torch.randn(2, 3, 300)).shape == (2, 50)
    with pytest.raises(ConfigError, match="120-sample windows"):
        m.window(torch.randn(2, 3, 100))


def test_aligned_windows_measured_rate_and_the_phase_range():
    torch.manual_seed(0)
    m = CardioPrimeModule(CardioPrimeConfig(in_leads=3, window=120, hidden=16, jac_points=4, alpha1=0.0))
    lo, hi = m.constraint.low[23].item(), (m.constraint.low[23] + m.constraint.width[23]).item()
    assert (lo, hi) == pytest.approx((-0.5, 0.5))  # theta0 around the R wave the window starts on
    x = torch.arange(300, dtype=torch.float32).repeat(2, 3, 1)
    w = m.window(x, start=torch.tensor([10, 150]))
    assert w[0, 0, 0] == 10 and w[1, 2, -1] == 150 + 119
    with pytest.raises(ConfigError, match="one per record"):
        m.window(x, start=torch.tensor([10, 250]))
    hr = torch.tensor([72.0, 55.0])
    out = m(w, hr=hr)
    assert torch.allclose(out["params"][:, -1], hr)  # the ODE runs at the measured rate
    terms = m.losses({"x": x, "start": torch.tensor([0, 100]), "hr": hr})
    assert torch.isfinite(terms["loss"])
    with pytest.raises(ConfigError, match="heart rate"):
        m.losses({"x": x})
    assert CardioPrimeConfig.data_options({"window": 400}) == {"beat_window": 400}
    assert CardioPrimeConfig.data_options({"align": "none", "rate": "learned"}) == {}
    with pytest.raises(ConfigError, match="align"):
        CardioPrimeModule(CardioPrimeConfig(align="beat", alpha1=0.0))
