from __future__ import annotations

import pytest
import torch

from cardiofm.errors import ConfigError
from cardiofm.methods.multitask import UncertaintyWeighting, pcgrad, pcgrad_backward


def test_pcgrad_removes_the_conflict_two_tasks():
    g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])
    assert g1 @ g2 < 0
    p1 = g1 - (g1 @ g2) / (g2 @ g2) * g2
    p2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    assert torch.allclose(pcgrad([g1, g2]), p1 + p2)
    assert abs(float(p1 @ g2)) < 1e-6 and abs(float(p2 @ g1)) < 1e-6  # orthogonal to the other task


def test_pcgrad_leaves_agreeing_gradients_alone():
    g1, g2 = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.1])
    assert torch.allclose(pcgrad([g1, g2]), g1 + g2)
    with pytest.raises(ConfigError):
        pcgrad([])


def test_pcgrad_backward_on_a_toy_model():
    w = torch.nn.Parameter(torch.tensor([0.0, 0.0]))
    l1 = ((w - torch.tensor([1.0, 0.0])) ** 2).sum()   # pulls to +x
    l2 = ((w - torch.tensor([-1.0, 1.0])) ** 2).sum()  # pulls to -x, +y: conflicts in x
    pcgrad_backward([l1, l2], [w])
    g1 = torch.tensor([-2.0, 0.0])
    g2 = torch.tensor([2.0, -2.0])
    expected = pcgrad([g1, g2])
    assert torch.allclose(w.grad, expected)


def test_uncertainty_weights_move_towards_the_noisier_task():
    uw = UncertaintyWeighting(2)
    opt = torch.optim.SGD(uw.parameters(), lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        uw(torch.tensor([0.1, 2.0])).backward()
        opt.step()
    sigma = uw.sigma
    # the optimum is sigma_t^2 = L_t: the larger loss gets the larger sigma (smaller weight)
    assert sigma[1] > sigma[0]
    assert torch.allclose(sigma**2, torch.tensor([0.1, 2.0]), rtol=0.05)
    with pytest.raises(ConfigError):
        uw(torch.tensor([1.0, 2.0, 3.0]))
