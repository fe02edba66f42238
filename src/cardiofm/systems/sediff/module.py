"""SE-Diff (../shared/papers/se-diff.txt): text-conditioned latent diffusion for 12-lead ECGs with a simulator prior.

One LightningModule, trained in two stages (``stage``):

1. ``"vae"``: the latent VAE (:class:`~cardiofm.models.ecg_vae.LatentVAE`, 12 x L -> d x L/S) and the beat decoder
   (latent -> one cycle per lead): ``MSE(x, D(z)) + kl_weight * KL + beat_weight * (MSE + L_spec)`` of the decoded
   cycle against the record's real average cycle.
2. ``"diffusion"``: VAE and beat decoder frozen; latents are the posterior means standardised per channel
   (``latent_mean``, ``latent_std``, measured on the training set). A 1D U-Net predicts the noise (DDPM
   epsilon loss, cosine schedule) from the noised latent, the step and the condition tokens
   ``c = (text, metadata, retrieved report)``: the text and report embeddings (frozen sentence encoder) pass
   through a linear layer each, age/sex (with missing flags) through an MLP. With probability ``cond_drop`` the
   whole condition is replaced by zeros, so one network is conditional and unconditional (classifier-free
   guidance at sampling). The simulator terms (:mod:`cardiofm.systems.sediff.loss`) act on the beat decoder's
   cycle of the clean-latent estimate ``z0_hat = (z_t - sqrt(1 - a_t) eps_hat) / sqrt(a_t)`` and, for the
   inter-lead term, on its VAE decoding too; each sample's terms are weighted by ``a_t`` (the share of signal
   in ``z_t``: the estimate means little at high noise):
   ``L = L_diff + w_euler L_Euler + w_inter L_inter + w_spec L_spec``.

``eta`` holds the McSharry parameters per (class, lead), pre-fitted by the engine to the classes' average
cycles; a record uses its class's. Sampling uses DDIM on the exponential moving average of the U-Net (decay
``min(ema_decay, (1 + step) / (10 + step))``, so a short run does not sample from its initial weights).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from cardiofm.errors import ConfigError
from cardiofm.methods.diffusion import NoiseSchedule, ddim_sample
from cardiofm.methods.registry import MethodConfig, register_method
from cardiofm.models.ecg_vae import BeatDecoder, LatentVAE
from cardiofm.models.unet1d import UNet1D
from cardiofm.signal.record import LEADS_12
from cardiofm.systems.sediff import loss as sim

STAGES = ("vae", "diffusion")
META_DIM = 4  # (age - 60) / 15, sex (1 male, 0 female), age missing, sex missing


@dataclass
class SEDiffConfig(MethodConfig):
    stage: str = "vae"
    in_leads: int = 12
    leads: tuple[str, ...] = LEADS_12
    length: int = 1000
    fs: float = 100.0
    latent_channels: int = 8
    stride: int = 8
    vae_width: int = 64
    kl_weight: float = 1e-3
    beat_weight: float = 1.0
    n_phase: int = 64
    text_dim: int = 384
    token_dim: int = 128
    use_retrieval: bool = True
    unet_base: int = 64
    unet_mults: tuple[int, ...] = (1, 2, 2)
    heads: int = 4
    diffusion_steps: int = 1000
    schedule: str = "cosine"
    cond_drop: float = 0.1
    w_euler: float = 0.5
    w_inter: float = 0.5
    w_spec: float = 0.1
    lr_vae: float = 1e-3
    lr: float = 5e-4
    weight_decay: float = 1e-2
    ema_decay: float = 0.995
    sample_steps: int = 50
    guidance: float = 2.0
    classes: list[str] = field(default_factory=list)
    uses_labels = False

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ConfigError(f"method.stage must be one of {STAGES}, got {self.stage!r}")
        self.leads = tuple(self.leads)
        self.unet_mults = tuple(int(m) for m in self.unet_mults)
        if len(self.leads) != self.in_leads:
            raise ConfigError(f"SE-Diff: {self.in_leads} input leads but {len(self.leads)} lead names")
        if self.length % self.stride:
            raise ConfigError(f"SE-Diff: the signal length {self.length} is not a multiple of the stride {self.stride}")
        for name in ("w_euler", "w_inter", "w_spec", "kl_weight", "beat_weight", "cond_drop"):
            if getattr(self, name) < 0:
                raise ConfigError(f"method.{name} must be >= 0, got {getattr(self, name)}")
        if self.w_inter > 0 and not set(sim.FRONTAL) | set(sim.PARENTS) <= set(self.leads):
            raise ConfigError("method.w_inter > 0 needs the six frontal leads (I, II, III, aVR, aVL, aVF)")


def meta_features(age: Tensor, male: Tensor) -> Tensor:
    """``(B, 4)`` metadata inputs from age (years, NaN unknown) and sex (1 male, 0 female, NaN unknown)."""
    a_missing, s_missing = torch.isnan(age), torch.isnan(male)
    a = torch.where(a_missing, torch.zeros_like(age), (age - 60.0) / 15.0)
    s = torch.where(s_missing, torch.full_like(male, 0.5), male)
    return torch.stack([a, s, a_missing.float(), s_missing.float()], dim=1)


@register_method("sediff", config=SEDiffConfig)
class SEDiffModule(L.LightningModule):
    def __init__(self, config: SEDiffConfig | dict[str, Any]) -> None:
        super().__init__()
        cfg = config if isinstance(config, SEDiffConfig) else SEDiffConfig(**config)
        self.config = cfg
        self.save_hyperparameters({"config": asdict(cfg)})
        self.vae = LatentVAE(cfg.in_leads, cfg.latent_channels, cfg.stride, cfg.vae_width)
        self.beat = BeatDecoder(cfg.latent_channels, cfg.in_leads, cfg.n_phase)
        self.text_proj = nn.Linear(cfg.text_dim, cfg.token_dim)
        self.retr_proj = nn.Linear(cfg.text_dim, cfg.token_dim)
        self.meta_proj = nn.Sequential(nn.Linear(META_DIM, cfg.token_dim), nn.SiLU(), nn.Linear(cfg.token_dim,
                                                                                                 cfg.token_dim))
        self.unet = UNet1D(cfg.latent_channels, cfg.unet_base, cfg.unet_mults, cond_dim=cfg.token_dim, heads=cfg.heads)
        self.ema = copy.deepcopy(self.unet).requires_grad_(False)
        self.schedule = NoiseSchedule(cfg.diffusion_steps, cfg.schedule)
        self.register_buffer("latent_mean", torch.zeros(cfg.latent_channels))
        self.register_buffer("latent_std", torch.ones(cfg.latent_channels))
        self.register_buffer("eta", torch.zeros(max(1, len(cfg.classes)), cfg.in_leads, 25))
        if cfg.stage == "diffusion":
            self.vae.requires_grad_(False)
            self.beat.requires_grad_(False)

    # ------------------------------------------------------------------ latents and conditions
    def to_latent(self, x: Tensor) -> Tensor:
        mu, _ = self.vae.encode(x)
        return (mu - self.latent_mean[:, None]) / self.latent_std[:, None]

    def from_latent(self, z: Tensor) -> Tensor:
        return z * self.latent_std[:, None] + self.latent_mean[:, None]

    def condition(self, text: Tensor, meta: Tensor, retrieved: Tensor | None) -> Tensor:
        """Condition tokens ``(B, 2 or 3, token_dim)``: text, metadata and (with ``use_retrieval``) the report."""
        tokens = [self.text_proj(text), self.meta_proj(meta)]
        if self.config.use_retrieval:
            if retrieved is None:
                raise ConfigError("this SE-Diff model was trained with retrieval: give the retrieved-report embedding")
            tokens.append(self.retr_proj(retrieved))
        return torch.stack(tokens, dim=1)

    def _batch_condition(self, batch: dict[str, Tensor]) -> Tensor:
        return self.condition(batch["text"], batch["meta"], batch.get("retrieved"))

    # ------------------------------------------------------------------ losses
    def vae_losses(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        x = batch["x"]
        mu, logvar = self.vae.encode(x)
        z = self.vae.sample(mu, logvar) if self.training else mu
        recon = self.vae.decode(z)
        out = {"recon": (recon - x).pow(2).mean(), "kl": self.vae.kl(mu, logvar).mean()}
        ok = batch["beat_ok"].bool()
        if ok.any():
            h = self.beat(mu[ok])
            real = batch["beat"][ok]
            out["beat"] = (h - real).pow(2).mean() + sim.spectral_loss(h, real).mean()
        else:
            out["beat"] = x.new_zeros(())
        c = self.config
        out["loss"] = out["recon"] + c.kl_weight * out["kl"] + c.beat_weight * out["beat"]
        return out

    def diffusion_losses(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> dict[str, Tensor]:
        c = self.config
        x = batch["x"]
        with torch.no_grad():
            z0 = self.to_latent(x)
        cond = self._batch_condition(batch)
        if self.training and c.cond_drop > 0:
            keep = torch.rand(cond.shape[0], device=cond.device) >= c.cond_drop
            cond = cond * keep[:, None, None].to(cond.dtype)
        t = torch.randint(0, self.schedule.steps, (x.shape[0],), device=x.device, generator=generator)
        eps = torch.randn(z0.shape, device=x.device, generator=generator)
        zt = self.schedule.q_sample(z0, t, eps)
        eps_hat = self.unet(zt, t, cond)
        out = {"diff": (eps_hat - eps).pow(2).mean()}
        loss = out["diff"]
        if c.w_euler or c.w_inter or c.w_spec:
            ab = self.schedule.alpha_bar.to(x.device, x.dtype)[t]
            z0_hat = ((zt - (1 - ab).sqrt()[:, None, None] * eps_hat) / ab.sqrt()[:, None, None]).clamp(-6, 6)
            lat = self.from_latent(z0_hat)
            ok = batch["beat_ok"].to(x.dtype)
            real = torch.nan_to_num(batch["beat"])
            h = self.beat(lat)
            eta = self.eta[batch["cls"].long()]
            scale = sim.step_scale(real).where(ok.bool(), torch.ones_like(ok))
            weight = ab * ok / ok.sum().clamp_min(1.0)
            terms = {"euler": (c.w_euler, lambda: sim.euler_loss(h, eta, scale)),
                     "inter": (c.w_inter, lambda: sim.inter_lead_loss(
                         h, eta, scale, self.vae.decode(lat), sim.limb_scale(x, c.leads), c.leads)),
                     "spec": (c.w_spec, lambda: sim.spectral_loss(h, real))}
            for name, (w, fn) in terms.items():
                if w > 0:
                    out[name] = (fn() * weight).sum()
                    loss = loss + w * out[name]
        out["loss"] = loss
        return out

    def _losses(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> dict[str, Tensor]:
        return self.vae_losses(batch) if self.config.stage == "vae" else self.diffusion_losses(batch, generator)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        out = self._losses(batch)
        self.log_dict({f"train_{k}": v.detach() for k, v in out.items()}, prog_bar=False, on_epoch=True,
                      on_step=False, batch_size=batch["x"].shape[0])
        return out["loss"]

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        gen = torch.Generator(device=batch["x"].device).manual_seed(1000 + batch_idx)  # same noise every epoch
        out = self._losses(batch, gen)
        self.log_dict({f"val_{k}": v for k, v in out.items()}, prog_bar=True, on_epoch=True, on_step=False,
                      batch_size=batch["x"].shape[0])

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.config.stage != "diffusion":
            return
        step = int(self.global_step)
        d = min(self.config.ema_decay, (1.0 + step) / (10.0 + step))  # warm-up: early averages forget the init
        with torch.no_grad():
            for pe, p in zip(self.ema.parameters(), self.unet.parameters(), strict=True):
                pe.lerp_(p, 1.0 - d) if d > 0 else pe.copy_(p)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        c = self.config
        if c.stage == "vae":
            return torch.optim.Adam([*self.vae.parameters(), *self.beat.parameters()], lr=c.lr_vae)
        params = [*self.unet.parameters(), *self.text_proj.parameters(), *self.retr_proj.parameters(),
                  *self.meta_proj.parameters()]
        return torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)

    # ------------------------------------------------------------------ sampling
    @torch.inference_mode()
    def sample(self, text: Tensor, meta: Tensor, retrieved: Tensor | None = None, *, seed: int = 0,
               guidance: float | None = None, steps: int | None = None, eta: float = 0.0) -> dict[str, Tensor]:
        """Generate one ECG per condition row: ``signal`` ``(B, leads, length)`` (mV), ``cycle``, ``latent``."""
        c = self.config
        cond = self.condition(text, meta, retrieved)
        gen = torch.Generator(device=cond.device).manual_seed(int(seed))
        shape = (cond.shape[0], c.latent_channels, c.length // c.stride)
        net = self.ema if c.ema_decay > 0 else self.unet
        z = ddim_sample(lambda zz, tt, cc: net(zz, tt, cc), self.schedule, shape, cond,
                        steps=steps or c.sample_steps, eta=eta, guidance=c.guidance if guidance is None else guidance,
                        generator=gen, device=cond.device)
        lat = self.from_latent(z)
        return {"signal": self.vae.decode(lat), "cycle": self.beat(lat), "latent": lat}

    @torch.inference_mode()
    def reconstruct(self, x: Tensor) -> Tensor:
        """The VAE's reconstruction of ``x`` from its posterior mean."""
        mu, _ = self.vae.encode(x)
        return self.vae.decode(mu)
