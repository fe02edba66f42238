from __future__ import annotations

import pytest
import torch

from cardiofm.errors import ConfigError
from cardiofm.methods.optim import adamw_warmup_cosine, warmup_cosine_factor


def test_schedule_shape():
    f = [warmup_cosine_factor(s, 10, 110) for s in range(110)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert f[10] == pytest.approx(1.0) and f[60] == pytest.approx(0.5) and f[-1] < 0.01
    assert all(a >= b for a, b in zip(f[10:], f[11:], strict=False))
    assert warmup_cosine_factor(200, 10, 110, min_factor=0.1) == pytest.approx(0.1)
    with pytest.raises(ConfigError):
        warmup_cosine_factor(0, 20, 10)


def test_optimizer_steps_follow_the_schedule():
    w = torch.nn.Parameter(torch.zeros(2))
    opt, sched = adamw_warmup_cosine([w], lr=1e-2, weight_decay=0.01, warmup_steps=5, total_steps=20)
    lrs = []
    for _ in range(20):
        opt.zero_grad()
        (w - 1).square().sum().backward()
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert max(lrs) == pytest.approx(1e-2) and lrs[-1] < 1e-4 and w.detach().gt(0).all()
