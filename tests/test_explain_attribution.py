from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cardiofm.errors import ConfigError
from cardiofm.explain import beat_aligned_attribution, integrated_gradients, lead_importance, time_importance
from cardiofm.signal.record import LEADS_12

FS = 100.0


class Linear(nn.Module):
    """f(x) = sum(w * x): integrated gradients from a zero baseline are exactly w * x."""

    def __init__(self, w: np.ndarray) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.as_tensor(w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.w * x).sum(dim=(1, 2))[:, None]


class SmallConv(nn.Module):
    def __init__(self, leads: int = 12, outputs: int = 3, mask: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("mask", mask if mask is not None else torch.ones(1, leads, 1))
        self.body = nn.Sequential(nn.Conv1d(leads, 8, 7, padding=3), nn.BatchNorm1d(8), nn.ReLU(),
                                  nn.Dropout(0.5), nn.Conv1d(8, 8, 5, padding=2), nn.Tanh())
        self.head = nn.Linear(8, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x * self.mask).mean(-1)) * 5.0


def _x(n: int = 3, leads: int = 12, samples: int = 300, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, leads, samples)).astype(np.float32)


def test_linear_model_known_answer() -> None:
    w = np.random.default_rng(1).normal(size=(12, 300)).astype(np.float32)
    x = _x()
    model = Linear(w)
    attr, delta = integrated_gradients(model, x, 0, return_delta=True)
    assert attr.shape == x.shape and attr.dtype == np.float32
    np.testing.assert_allclose(attr, w * x, atol=1e-5)
    assert np.abs(delta).max() < 1e-3
    base = np.full((12, 300), 0.3, dtype=np.float32)
    np.testing.assert_allclose(integrated_gradients(model, torch.as_tensor(x), 0, baseline=torch.as_tensor(base),
                                                    steps=8), w * (x - base), atol=1e-5)
    np.testing.assert_allclose(integrated_gradients(model, x, 0, baseline=0.3, steps=8), w * (x - 0.3), atol=1e-5)
    one = integrated_gradients(model, x[0], 0, steps=4)  # one (leads, samples) record
    assert one.shape == (12, 300)


def test_completeness_on_conv_net() -> None:
    torch.manual_seed(0)
    model = SmallConv()
    x = _x(4)
    attr, delta = integrated_gradients(model, x, [0, 1, 2, 1], steps=64, return_delta=True)
    model.eval()
    with torch.no_grad():
        fx = model(torch.as_tensor(x))[torch.arange(4), torch.tensor([0, 1, 2, 1])].numpy()
        f0 = model(torch.zeros(4, 12, 300))[torch.arange(4), torch.tensor([0, 1, 2, 1])].numpy()
    total = attr.reshape(4, -1).sum(1)
    assert np.abs(fx - f0).min() > 0.01  # a non-trivial difference to explain
    np.testing.assert_allclose(total, fx - f0, atol=0.02 * np.abs(fx - f0).max())
    np.testing.assert_allclose(delta, total - (fx - f0), atol=1e-4)
    # batching inside and outside captum does not change the answer
    again = integrated_gradients(model, x, [0, 1, 2, 1], steps=64, batch_size=3, internal_batch_size=50)
    np.testing.assert_allclose(again, attr, atol=1e-5)


def test_attribution_lands_where_the_model_reads() -> None:
    torch.manual_seed(0)
    v2 = LEADS_12.index("V2")
    mask = torch.zeros(1, 12, 1000)
    mask[0, v2, 100:200] = 1.0
    model = SmallConv(mask=mask)
    x = _x(3, samples=1000, seed=2)
    attr = integrated_gradients(model, x, 0, steps=32)
    a = np.abs(attr)
    inside = a[:, v2, 100:200].sum(axis=-1) / a.sum(axis=(1, 2))
    assert (inside > 0.9).all()
    imp = lead_importance(attr)
    assert imp.shape == (3, 12)
    np.testing.assert_allclose(imp.sum(1), 1.0, rtol=1e-5)
    assert (imp.argmax(1) == v2).all() and (imp[:, v2] > 0.9).all()
    ti = time_importance(attr, FS, 0.04)
    assert ti.shape == (3, 1000)
    np.testing.assert_allclose(ti.sum(1), 1.0, rtol=1e-5)
    assert (ti[:, 95:205].sum(1) > 0.9).all()
    per_lead = time_importance(attr, FS, 0.0, per_lead=True)
    assert per_lead.shape == (3, 12, 1000)
    np.testing.assert_allclose(per_lead.sum(axis=(1, 2)), 1.0, rtol=1e-5)
    assert lead_importance(np.zeros((12, 10))).sum() == 0.0  # all-zero attribution: zeros, not NaN


def test_model_state_restored_and_no_parameter_gradients() -> None:
    model = SmallConv()
    model.train()
    model.body[1].eval()  # a submodule the user froze in eval mode
    model.head.bias.requires_grad_(False)
    x = _x(2)
    with torch.no_grad():  # works even when the caller disabled gradients
        a1 = integrated_gradients(model, x, 1, steps=16)
    a2 = integrated_gradients(model, x, 1, steps=16)
    np.testing.assert_allclose(a1, a2, atol=1e-6)  # eval mode during the call: dropout off
    assert model.training and model.body[0].training and not model.body[1].training
    assert model.body[0].weight.requires_grad and not model.head.bias.requires_grad
    assert all(p.grad is None for p in model.parameters())


def test_bad_input_raises_clear_errors() -> None:
    model = SmallConv(outputs=3)
    x = _x(2)
    with pytest.raises(ConfigError, match="out of range.*3 output"):
        integrated_gradients(model, x, 3)
    with pytest.raises(ConfigError, match="non-negative integer"):
        integrated_gradients(model, x, -1)
    with pytest.raises(ConfigError, match="one per record"):
        integrated_gradients(model, x, [0, 1, 2])
    with pytest.raises(ConfigError, match="rejected.*leads"):
        integrated_gradients(model, x[:, :6], 0)
    with pytest.raises(ConfigError, match="records, leads, samples"):
        integrated_gradients(model, x[0, 0], 0)
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        integrated_gradients(model, bad, 0)
    with pytest.raises(ConfigError, match="broadcast"):
        integrated_gradients(model, x, 0, baseline=np.zeros((5, 7)))
    with pytest.raises(ConfigError, match="baseline"):
        integrated_gradients(model, x, 0, baseline="noise")
    with pytest.raises(ConfigError, match="steps"):
        integrated_gradients(model, x, 0, steps=0)
    with pytest.raises(ConfigError, match="nn.Module"):
        integrated_gradients(lambda t: t, x, 0)

    class Pair(nn.Module):
        def forward(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return t.mean(-1), t.std(-1)

    with pytest.raises(ConfigError, match="logits"):
        integrated_gradients(Pair(), x, 0)
    assert model.training  # restored after a failed call too


def _spikes(seconds: float = 10.0, rr: float = 0.8) -> np.ndarray:
    t = np.arange(int(seconds * FS)) / FS
    wave = sum(np.exp(-0.5 * ((t - p) / 0.012) ** 2) for p in np.arange(0.5, seconds - 0.3, rr))
    return np.stack([wave, 1.5 * wave]).astype(np.float32)  # leads I, II


def test_beat_aligned_attribution_peaks_where_attribution_is() -> None:
    x = _spikes()
    r = np.flatnonzero((x[1] > np.roll(x[1], 1)) & (x[1] >= np.roll(x[1], -1)) & (x[1] > 0.5))
    attr = np.zeros_like(x)
    attr[0, r + 4] = 1.0  # 40 ms after each R peak, in lead I only
    sig = np.stack([x, x, np.zeros_like(x)])
    ba = beat_aligned_attribution(np.stack([attr, 3 * attr, attr]), sig, FS, leads=("I", "II"))
    assert ba.n_records == 2 and ba.dropped == [2]
    assert ba.attribution.shape == (2, ba.time_s.size) and ba.beat.shape == (2, ba.time_s.size)
    assert ba.time_s[int(np.argmax(ba.attribution[0]))] == pytest.approx(0.04)
    assert ba.attribution[1].max() == 0.0
    np.testing.assert_allclose(ba.record_attribution[0], ba.record_attribution[1], atol=1e-7)  # normalised
    np.testing.assert_allclose(ba.lead_importance(), [1.0, 0.0])
    assert ba.time_s[int(np.argmax(ba.beat[1]))] == 0.0
    raw = beat_aligned_attribution(np.stack([attr, 3 * attr, attr]), sig, FS, leads=("I", "II"), normalise=False)
    assert raw.record_attribution[1].max() == pytest.approx(3 * raw.record_attribution[0].max())
    with pytest.raises(ConfigError, match="same shape"):
        beat_aligned_attribution(attr[None], sig, FS, leads=("I", "II"))


def test_plots_write_pngs(tmp_path) -> None:
    from cardiofm.report.explainplots import plot_attribution, plot_beat_attribution

    x = np.tile(_spikes(), (6, 1))
    attr = np.zeros_like(x)
    attr[7, 100:200] = np.linspace(0, 1, 100)
    fig = plot_attribution(x, attr, FS, LEADS_12, tmp_path / "a12.png", title="toy")
    assert (tmp_path / "a12.png").stat().st_size > 20_000
    bars = [ax for ax in fig.axes if ax.get_xlabel().startswith("share")]
    assert len(bars) == 1 and bars[0].patches[LEADS_12.index("V2")].get_width() == pytest.approx(100.0)
    plot_attribution(x[1], attr[7], FS, ["II"], tmp_path / "a1.png")
    assert (tmp_path / "a1.png").stat().st_size > 5_000
    ba = beat_aligned_attribution(np.stack([attr]), np.stack([x]), FS, leads=LEADS_12)
    plot_beat_attribution(ba, tmp_path / "beat.png")
    assert (tmp_path / "beat.png").stat().st_size > 20_000
    with pytest.raises(ConfigError, match="same shape"):
        plot_attribution(x, attr[:6], FS, LEADS_12)
