"""SE-Diff's parts: U-Net, latent VAE, simulator terms, the module's losses and its sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cardiofm.errors import ConfigError
from cardiofm.models.ecg_vae import BeatDecoder, LatentVAE
from cardiofm.models.unet1d import UNet1D
from cardiofm.physio.cycles import fit_cycle_params, simulate_cycle
from cardiofm.physio.mcsharry import McSharryParams
from cardiofm.signal.record import LEADS_12
from cardiofm.systems.sediff import loss as sim
from cardiofm.systems.sediff.module import SEDiffConfig, SEDiffModule, meta_features

torch.set_num_threads(1)


def _eta(n: int, scale: float = 0.05) -> torch.Tensor:
    """``n`` perturbed copies of McSharry's default parameters (float64)."""
    g = torch.Generator().manual_seed(0)
    base = torch.tensor(McSharryParams.default().to_vector(), dtype=torch.float64)
    return base * (1 + scale * torch.randn(n, base.numel(), generator=g, dtype=torch.float64))


def _consistent_cycles(b: int = 3, n_phase: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Cycles whose parents I and II follow the ODE and whose other frontal leads obey the identities."""
    eta = torch.zeros(b, 12, 25, dtype=torch.float64)
    h = torch.zeros(b, 12, n_phase, dtype=torch.float64)
    for k in range(12):
        eta[:, k] = _eta(b)
    i, ii = (LEADS_12.index(n) for n in ("I", "II"))
    h[:, i] = simulate_cycle(eta[:, i], n_phase=n_phase)
    h[:, ii] = simulate_cycle(eta[:, ii], n_phase=n_phase)
    for child, (beta, gamma) in sim.FRONTAL.items():
        h[:, LEADS_12.index(child)] = beta * h[:, i] + gamma * h[:, ii]
    return h, eta


def test_unet_keeps_shapes_starts_at_zero_and_uses_the_condition():
    net = UNet1D(8, base=16, mults=(1, 2, 2), cond_dim=12, heads=4)
    z, t = torch.randn(3, 8, 125), torch.tensor([0, 10, 999])
    cond = torch.randn(3, 2, 12)
    assert net(z, t, cond).shape == (3, 8, 125)  # 125 is padded to 128 inside and cropped back
    assert net(z, t, cond).abs().max() == 0  # zero-initialised output layer
    torch.nn.init.normal_(net.out.weight, std=0.1)
    a, b = net(z, t, cond), net(z, t, torch.randn(3, 2, 12))
    assert not torch.allclose(a, b)  # cross-attention reads the condition
    assert not torch.allclose(net(z, t, cond), net(z, t + 1, cond))  # and the timestep
    with pytest.raises(ConfigError, match="condition tokens"):
        net(z, t, torch.randn(3, 2, 5))
    with pytest.raises(ConfigError, match="latents"):
        net(torch.randn(3, 4, 125), t, cond)


def test_vae_shapes_stride_and_kl():
    vae = LatentVAE(12, latent_channels=8, stride=8, width=16)
    x = torch.randn(2, 12, 1000)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (2, 8, 125)
    assert vae.decode(mu).shape == x.shape
    assert torch.allclose(vae.kl(torch.zeros(1, 8, 5), torch.zeros(1, 8, 5)), torch.zeros(1))
    assert vae.kl(torch.ones(1, 8, 5), torch.zeros(1, 8, 5)).item() == pytest.approx(0.5)
    assert BeatDecoder(8, 12, 64)(mu).shape == (2, 12, 64)
    with pytest.raises(ConfigError, match="power of two"):
        LatentVAE(12, stride=6)
    with pytest.raises(ConfigError, match="multiple of the stride"):
        vae.encode(torch.randn(2, 12, 1001))


def test_inter_lead_residual_is_zero_on_lead_consistent_input_and_not_otherwise():
    h, eta = _consistent_cycles()
    res = sim.inter_lead_cycle_residual(h, eta)
    assert res.shape == (3, 4, 63)
    assert res.abs().max() < 1e-9
    scale = sim.step_scale(h)
    assert sim.inter_lead_loss(h, eta, scale).abs().max() < 1e-12
    bad = h.clone()
    bad[:, LEADS_12.index("aVL"), 30:] += 0.05  # a step in aVL breaks aVL = I - II/2
    assert sim.inter_lead_loss(bad, eta, scale).min() > 1e-4
    # signal form: limb leads built from I and II satisfy the identities exactly
    from cardiofm.physio.leads import limb_leads

    rng = np.random.default_rng(0)
    x = np.zeros((2, 12, 300))
    for k in range(2):
        x[k, :6] = limb_leads(rng.normal(size=300), rng.normal(size=300))
    xt = torch.from_numpy(x)
    assert sim.inter_lead_signal_residual(xt).abs().max() < 1e-12
    xt[:, 2] += 0.1  # lead III off by 0.1 mV
    assert torch.allclose(sim.inter_lead_signal_residual(xt)[:, 0], torch.full((2, 300), 0.1, dtype=xt.dtype))


def test_euler_and_spectral_terms():
    h, eta = _consistent_cycles()
    i = LEADS_12.index("I")
    one = h[:, i:i + 1]
    assert sim.euler_loss(one, eta[:, i:i + 1], sim.step_scale(one)).max() < 1e-12
    noisy = one + 0.02 * torch.randn_like(one)
    assert sim.euler_loss(noisy, eta[:, i:i + 1], sim.step_scale(one)).min() > 1e-3
    assert sim.spectral_loss(h, h).abs().max() < 1e-12
    assert sim.spectral_loss(h, h.roll(5, dims=-1)).abs().max() < 1e-9  # a phase shift keeps |FFT|
    assert sim.spectral_loss(2 * h, h).min() > 0.5


def test_the_fitted_eta_makes_a_class_cycle_nearly_euler_consistent():
    target = simulate_cycle(_eta(2, 0.1)).float()
    fit = fit_cycle_params(target.numpy())
    params = torch.from_numpy(fit.params)
    fitted = torch.from_numpy(fit.fitted)
    assert fit.relative_rmse.max() < 0.05
    res = sim.euler_loss(fitted[:, None], params[:, None], sim.step_scale(fitted[:, None]))
    assert res.max() < 1e-6


def _module(**kw) -> SEDiffModule:
    cfg = dict(stage="diffusion", length=256, latent_channels=4, stride=4, vae_width=8, unet_base=16,
               unet_mults=(1, 2), text_dim=10, token_dim=16, diffusion_steps=50, sample_steps=5,
               classes=["A", "_other"], n_phase=32)
    cfg.update(kw)
    torch.manual_seed(0)
    m = SEDiffModule(SEDiffConfig(**cfg))
    m.eta.copy_(torch.from_numpy(McSharryParams.default().to_vector()).float().expand_as(m.eta))
    torch.nn.init.normal_(m.unet.out.weight, std=0.05)
    m.ema.load_state_dict(m.unet.state_dict())
    return m


def _batch(b: int = 4, n_phase: int = 32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {"x": torch.randn(b, 12, 256, generator=g), "beat": torch.randn(b, 12, n_phase, generator=g),
            "beat_ok": torch.tensor([True, True, False, True][:b]), "text": torch.randn(b, 10, generator=g),
            "retrieved": torch.randn(b, 10, generator=g), "meta": meta_features(torch.tensor([70.0, math.nan, 50, 60]),
                                                                                torch.tensor([0.0, 1, math.nan, 1])),
            "cls": torch.tensor([0, 1, 0, 1])}


def test_diffusion_stage_trains_the_denoiser_through_the_simulator_terms_not_the_vae():
    m = _module().train()
    out = m.diffusion_losses(_batch())
    assert {"diff", "euler", "inter", "spec", "loss"} <= set(out)
    assert all(torch.isfinite(v) for v in out.values())
    out["loss"].backward()
    assert m.unet.out.weight.grad is not None and m.unet.out.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in m.vae.parameters())
    assert all(p.grad is None for p in m.beat.parameters())
    # the simulator terms alone also reach the denoiser (through the clean-latent estimate)
    m.zero_grad()
    only_sim = m.diffusion_losses(_batch())
    (only_sim["euler"] + only_sim["inter"]).backward()
    assert m.unet.out.weight.grad.abs().sum() > 0
    off = _module(w_euler=0.0, w_inter=0.0, w_spec=0.0).diffusion_losses(_batch())
    assert set(off) == {"diff", "loss"}


def test_vae_stage_losses_and_optimiser():
    m = _module(stage="vae").train()
    out = m.vae_losses(_batch())
    assert {"recon", "kl", "beat", "loss"} <= set(out) and torch.isfinite(out["loss"])
    opt = m.configure_optimizers()
    n_params = sum(p.numel() for g in opt.param_groups for p in g["params"])
    assert n_params == sum(p.numel() for p in [*m.vae.parameters(), *m.beat.parameters()])


def test_sampling_is_seeded_and_guidance_zero_is_the_unconditional_model():
    m = _module().eval()
    b = _batch()
    a1 = m.sample(b["text"], b["meta"], b["retrieved"], seed=3)["signal"]
    a2 = m.sample(b["text"], b["meta"], b["retrieved"], seed=3)["signal"]
    assert a1.shape == (4, 12, 256) and torch.equal(a1, a2)
    assert not torch.equal(a1, m.sample(b["text"], b["meta"], b["retrieved"], seed=4)["signal"])
    other = torch.randn_like(b["text"])
    u1 = m.sample(b["text"], b["meta"], b["retrieved"], seed=3, guidance=0.0)["signal"]
    u2 = m.sample(other, b["meta"], torch.randn_like(b["retrieved"]), seed=3, guidance=0.0)["signal"]
    assert torch.allclose(u1, u2)  # w = 0 ignores the condition
    assert not torch.allclose(a1, m.sample(other, b["meta"], b["retrieved"], seed=3)["signal"])


def test_retrieval_token_and_config_checks():
    m = _module(use_retrieval=False)
    b = _batch()
    assert m.condition(b["text"], b["meta"], None).shape == (4, 2, 16)
    assert _module().condition(b["text"], b["meta"], b["retrieved"]).shape == (4, 3, 16)
    with pytest.raises(ConfigError, match="retrieval"):
        _module().condition(b["text"], b["meta"], None)
    with pytest.raises(ConfigError, match="stage"):
        SEDiffConfig(stage="both")
    with pytest.raises(ConfigError, match="multiple of the stride"):
        SEDiffConfig(length=1001)
    with pytest.raises(ConfigError, match="frontal"):
        SEDiffConfig(in_leads=2, leads=("I", "V1"))
    with pytest.raises(ConfigError, match="w_spec"):
        SEDiffConfig(w_spec=-1)
    meta = meta_features(torch.tensor([60.0, math.nan]), torch.tensor([math.nan, 0.0]))
    assert meta.tolist() == [[0.0, 0.5, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]]
