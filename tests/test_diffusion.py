"""Diffusion core for SE-Diff: schedule values and shapes, seeded sampling, exact recovery, guidance."""

from __future__ import annotations

import math

import pytest
import torch

from cardiofm.errors import ConfigError
from cardiofm.methods.diffusion import NoiseSchedule, ddim_sample, ddpm_loss, drop_condition


def test_linear_and_cosine_schedules_have_the_published_values():
    lin = NoiseSchedule(1000)
    assert lin.betas[0].item() == pytest.approx(1e-4) and lin.betas[-1].item() == pytest.approx(0.02)
    assert lin.alpha_bar[0].item() == pytest.approx(1 - 1e-4)
    assert torch.all(lin.alpha_bar[1:] < lin.alpha_bar[:-1]) and 0 < lin.alpha_bar[-1].item() < 1e-4
    assert lin.alpha_bar[-1].item() == pytest.approx(math.prod(1 - b for b in lin.betas.tolist()), rel=1e-9)
    cos = NoiseSchedule(1000, "cosine")
    want = math.cos((500 / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2
    assert cos.alpha_bar[499].item() == pytest.approx(want, rel=1e-6)
    assert cos.betas.max().item() <= 0.999
    with pytest.raises(ConfigError, match="kind"):
        NoiseSchedule(10, "sigmoid")


def test_q_sample_shapes_and_moments():
    s = NoiseSchedule(100)
    z0 = torch.full((4000, 2, 3), 2.0)
    t = torch.full((4000,), 60)
    zt = s.q_sample(z0, t, torch.randn_like(z0, generator=None))
    ab = s.alpha_bar[60].item()
    assert zt.shape == z0.shape
    assert zt.mean().item() == pytest.approx(2 * math.sqrt(ab), abs=0.03)
    assert zt.std().item() == pytest.approx(math.sqrt(1 - ab), abs=0.03)
    with pytest.raises(ConfigError, match=r"\[0, 99\]"):
        s.q_sample(z0[:2], torch.tensor([0, 100]), torch.zeros_like(z0[:2]))


def _oracle(schedule: NoiseSchedule, target: torch.Tensor):
    """The exact noise predictor for data that is always ``target`` (plus a condition shift)."""
    def model(z, t, cond):
        ab = schedule.alpha_bar[t].to(z.dtype).reshape(-1, *([1] * (z.ndim - 1)))
        x0 = target + (0 if cond is None else cond.reshape(-1, *([1] * (z.ndim - 1))))
        return (z - ab.sqrt() * x0) / (1 - ab).sqrt()
    return model


def test_ddim_recovers_a_point_mass_and_is_deterministic_with_a_seed():
    s = NoiseSchedule(200)
    target = torch.tensor([[0.5, -1.0, 2.0]])
    model = _oracle(s, target)
    out = ddim_sample(model, s, (3, 1, 3), steps=20, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, target.expand(3, 1, 3), atol=1e-4)
    a = ddim_sample(model, s, (2, 1, 3), steps=10, eta=1.0, generator=torch.Generator().manual_seed(7))
    b = ddim_sample(model, s, (2, 1, 3), steps=10, eta=1.0, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_guidance_zero_is_the_unconditional_model_and_one_the_conditional():
    s = NoiseSchedule(100)
    model = _oracle(s, torch.zeros(1, 4))
    cond = torch.tensor([3.0, 3.0])
    g = torch.Generator()
    kw = {"steps": 10, "z_start": torch.randn(2, 1, 4, generator=g.manual_seed(1))}
    uncond = ddim_sample(model, s, (2, 1, 4), None, **kw)
    assert torch.allclose(ddim_sample(model, s, (2, 1, 4), cond, guidance=0.0, **kw), uncond)
    cond_only = ddim_sample(model, s, (2, 1, 4), cond, guidance=1.0, **kw)
    assert torch.allclose(cond_only, torch.full((2, 1, 4), 3.0), atol=1e-4)
    assert torch.allclose(ddim_sample(model, s, (2, 1, 4), cond, guidance=2.0, **kw), torch.full((2, 1, 4), 6.0),
                          atol=1e-3)  # extrapolates past the conditional mean


def test_ddpm_loss_and_condition_dropout():
    s = NoiseSchedule(50)
    target = torch.zeros(1, 3)
    assert ddpm_loss(_oracle(s, target), s, torch.zeros(8, 1, 3), generator=torch.Generator().manual_seed(0)) < 1e-10
    assert ddpm_loss(lambda z, t, c: torch.zeros_like(z), s, torch.zeros(512, 1, 3)).item() == pytest.approx(1, abs=0.1)
    cond = torch.ones(1000, 5)
    dropped = drop_condition(cond, 0.3, generator=torch.Generator().manual_seed(0))
    rows = (dropped == 0).all(1).float().mean().item()
    assert rows == pytest.approx(0.3, abs=0.05) and ((dropped == 0) | (dropped == 1)).all()
    assert torch.equal(drop_condition(cond, 0.0), cond) and (drop_condition(cond, 1.0) == 0).all()
