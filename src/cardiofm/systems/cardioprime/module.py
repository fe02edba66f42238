"""CardioPRIME: an ODE-constrained VAE whose ECG posterior is pulled towards clinical-phenotype posteriors.

The model (CardioPRIME, Methods, Figure 1, Tables 1 and 2):

1. A one-layer bidirectional LSTM (hidden 128) reads a 4 s 12-lead window and gives a 50-d Gaussian posterior
   ``q_LSTM = N(mu, diag(sigma^2))`` (``lstm_cardioprime`` with a 2 x 50 output: mean and log-variance).
2. A reparameterised sample is reduced linearly to the McSharry parameters (the 23 of Table 1, theta0 and
   z0, and the mean heart rate the ODE needs), each put inside its range by
   :class:`~cardiofm.physio.constraints.RangeConstraint` (a learned softmax mix of sigmoid, tanh and log maps).
3. The differentiable Euler solver (:func:`~cardiofm.physio.mcsharry_torch.simulate_torch`) integrates the ODE
   over the window with a learnable step, ``dt = exp(log_dt) / fs`` with ``log_dt`` initialised at ln(1) = 0.
4. A unidirectional LSTM (hidden 128) reads the trajectory (x, y, z) and a Conv1d projects it to the 12 leads.
5. Per clinical modality, a two-layer GELU MLP maps the phenotype vector to its own 50-d posterior q_MLP.

Loss: ``mse_alpha * MSE + alpha1 * KL(q_MLP || q_LSTM) + alpha2 * KL(p_prior || q_LSTM) + jac_alpha * ||J||_F^2``
with the paper's 100, 2, 1.5 and 5e-2. The prior lives in the reduced parameter space: N(0, I) there is centred
on the middle of every range (the constraint maps 0 to the centre), sigma = 1. The Jacobian is that of the
ODE's right-hand side with respect to its state, at ``jac_points`` random points of each trajectory, in
McSharry's model units (z divided by the mV gain).
``alpha1 = 0`` is the paper's baseline; the clinical MLP is then not run at all (it gets no gradient).

Choices the paper leaves open, stated:

* Windows start at an R peak (``align="r_peak"``; :mod:`cardiofm.data.anchors`), where McSharry's model puts
  the R wave (theta = 0), and the initial phase theta0 lives in ``theta0_range`` (+-0.5 rad) around it; the
  ODE runs at the record's measured heart rate (``rate="measured"``), which Table 1 does not list as a
  parameter. With random windows and a learned rate the model has to find each record's phase and rate by
  gradient descent through an oscillator, and on the synthetic cohort it does not: the reconstruction error
  stays at the signal's variance (``align="none", rate="learned"`` reproduces that).
* The RR-spectrum parameters (lf/hf means, spreads and ratio) shape McSharry's RR tachogram; the solver runs
  each 4 s window at a constant rate, so they only feel the prior term.

Batches: ``{"x": (B, leads, T)}`` with T >= ``window`` (a random window per batch in training, the centre
one otherwise) and, for the integrated model, ``{"tab": (B, tab_dim)}`` (finite,
standardised phenotype values).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn

from cardiofm.errors import ConfigError
from cardiofm.methods.registry import MethodConfig, register_method
from cardiofm.physio.constraints import CONSTRAINED_NAMES, HR_RANGE, RangeConstraint, default_ranges
from cardiofm.physio.mcsharry import MV_PER_UNIT, PARAM_NAMES
from cardiofm.physio.mcsharry_torch import dynamics_torch, simulate_torch
from cardiofm.systems.cardioprime.loss import LOGVAR_LIMIT, jacobian_frobenius, kl_diag, kl_prior_projected

ALIGNS = ("r_peak", "none")
RATES = ("measured", "learned")


@dataclass
class CardioPrimeConfig(MethodConfig):
    """Hyper-parameters of :class:`CardioPrimeModule` (defaults: the paper's Table 2)."""

    uses_labels: ClassVar[bool] = False  # trained without labels; the engine keeps every record

    in_leads: int = 12
    fs: float = 100.0
    window: int = 400             # samples of the input window (4 s at 100 Hz)
    hidden: int = 128             # encoder (per direction) and decoder LSTM width
    latent: int = 50
    tab_dim: int = 0              # width of the clinical modality's vector; 0 = no clinical branch
    tab_hidden: int = 128
    mse_alpha: float = 100.0
    alpha1: float = 2.0           # KL(q_MLP || q_LSTM); 0 = the paper's baseline
    alpha2: float = 1.5           # KL(p_prior || q_LSTM)
    jac_alpha: float = 5e-2
    prior_std: float = 1.0
    substeps: int = 2             # Euler steps per output sample
    jac_points: int = 16          # trajectory points per record for the Jacobian penalty
    decoder_kernel: int = 5
    lr: float = 1e-4
    align: str = "r_peak"         # "r_peak": windows start at an R peak; "none": random (training) / centre
    rate: str = "measured"        # "measured": the ODE runs at the record's heart rate; "learned": a parameter
    theta0_range: tuple[float, float] = (-0.5, 0.5)  # initial phase (rad) with R-aligned windows (R at 0)

    @classmethod
    def data_options(cls, values: dict[str, Any]) -> dict[str, Any]:
        """What the data loader must add: R-aligned window starts and heart rates (``start``, ``hr``)."""
        align, rate = values.get("align", cls.align), values.get("rate", cls.rate)
        wanted = align == "r_peak" or rate == "measured"
        return {"beat_window": int(values.get("window", cls.window))} if wanted else {}

    def validate(self) -> None:
        """Raise :class:`ConfigError` for an invalid field."""
        for name in ("in_leads", "window", "hidden", "latent", "tab_hidden", "substeps", "jac_points",
                     "decoder_kernel"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"method.{name} must be a positive integer, got {v!r}")
        if isinstance(self.tab_dim, bool) or not isinstance(self.tab_dim, int) or self.tab_dim < 0:
            raise ConfigError(f"method.tab_dim must be a non-negative integer, got {self.tab_dim!r}")
        if self.latent < len(CONSTRAINED_NAMES):
            raise ConfigError(f"method.latent must be at least {len(CONSTRAINED_NAMES)} (the ODE parameters)")
        for name in ("mse_alpha", "alpha1", "alpha2", "jac_alpha"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"method.{name} must be >= 0, got {getattr(self, name)!r}")
        if not (self.fs > 0 and self.prior_std > 0 and self.lr > 0):
            raise ConfigError("method: fs, prior_std and lr must be positive")
        if self.align not in ALIGNS or self.rate not in RATES:
            raise ConfigError(f"method.align must be one of {ALIGNS} and method.rate one of {RATES}, got "
                              f"{self.align!r}, {self.rate!r}")
        lo, hi = (float(v) for v in self.theta0_range)
        if not -math.pi <= lo < hi <= math.pi:
            raise ConfigError(f"method.theta0_range must satisfy -pi <= low < high <= pi, got {self.theta0_range}")
        if self.alpha1 > 0 and self.tab_dim == 0:
            raise ConfigError("method.alpha1 > 0 needs a clinical modality (method.tab_dim > 0); set alpha1: 0 for "
                              "the ECG-only baseline")


@register_method("cardioprime", config=CardioPrimeConfig)
class CardioPrimeModule(L.LightningModule):
    """BiLSTM posterior -> constrained McSharry parameters -> Euler solver -> LSTM decoder (module docstring)."""

    def __init__(self, config: CardioPrimeConfig | dict[str, Any]) -> None:
        super().__init__()
        self.config = config if isinstance(config, CardioPrimeConfig) else CardioPrimeConfig(**config)
        cfg = self.config
        cfg.validate()
        self.save_hyperparameters({"config": asdict(cfg)})
        from cardiofm.models import create_model

        self.encoder = create_model("lstm_cardioprime", in_leads=cfg.in_leads, hidden_size=cfg.hidden,
                                    embed_dim=2 * cfg.latent)
        ranges = default_ranges()
        if cfg.align == "r_peak":  # the window starts on an R wave, which McSharry's model puts at theta = 0
            ranges["theta0"] = (float(cfg.theta0_range[0]), float(cfg.theta0_range[1]))
        self.constraint = RangeConstraint(ranges)
        self.reduce = nn.Linear(cfg.latent, self.constraint.n_params)
        self.log_dt = nn.Parameter(torch.zeros(()))
        self.decoder = nn.LSTM(3, cfg.hidden, num_layers=1, batch_first=True)
        self.project = nn.Conv1d(cfg.hidden, cfg.in_leads, cfg.decoder_kernel, padding=cfg.decoder_kernel // 2)
        self.clinical: nn.Module | None = None
        if cfg.tab_dim:
            self.clinical = nn.Sequential(nn.Linear(cfg.tab_dim, cfg.tab_hidden), nn.GELU(),
                                          nn.Linear(cfg.tab_hidden, 2 * cfg.latent))
        self.register_buffer("prior_mean", torch.zeros(self.constraint.n_params))

    # ---- parts ---------------------------------------------------------------------------------
    def _check_x(self, x: Tensor) -> None:
        cfg = self.config
        if x.ndim != 3 or x.shape[1] != cfg.in_leads:
            raise ConfigError(f"CardioPRIME expects ECG windows (batch, {cfg.in_leads}, samples), got {tuple(x.shape)}")

    def window(self, x: Tensor, random: bool | None = None, start: Tensor | None = None) -> Tensor:
        """The model's ``window`` samples of longer records: from each record's ``start`` when given (R-aligned
        starts from the loader), else a random start per batch while training (or when ``random``), else the
        centre; shorter records are an error."""
        self._check_x(x)
        n, w = x.shape[-1], self.config.window
        if n < w:
            raise ConfigError(f"CardioPRIME needs {w}-sample windows ({w / self.config.fs:g} s), the records have {n}")
        if start is not None:
            st = torch.as_tensor(start, device=x.device).long().reshape(-1)
            if st.shape[0] != x.shape[0] or bool((st < 0).any() or (st + w > n).any()):
                raise ConfigError(f"window starts must be one per record within [0, {n - w}]")
            idx = (st[:, None] + torch.arange(w, device=x.device))[:, None, :].expand(-1, x.shape[1], -1)
            return x.gather(2, idx)
        random = self.training if random is None else random
        start = int(torch.randint(0, n - w + 1, ()).item()) if random else (n - w) // 2
        return x[..., start:start + w]

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """ECG posterior mean and log-variance, ``(B, latent)`` each, of ``window``-sample inputs."""
        self._check_x(x)
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)

    def clinical_posterior(self, tab: Tensor) -> tuple[Tensor, Tensor]:
        """Clinical posterior from a phenotype vector ``(B, tab_dim)``."""
        if self.clinical is None:
            raise ConfigError("this CardioPRIME model has no clinical branch (method.tab_dim = 0)")
        if tab.ndim != 2 or tab.shape[1] != self.config.tab_dim or not torch.isfinite(tab).all():
            raise ConfigError(f"clinical input must be finite (batch, {self.config.tab_dim}) values, got "
                              f"{tuple(tab.shape)}")
        mu, logvar = self.clinical(tab).chunk(2, dim=-1)
        return mu, logvar.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)

    def parameters_of(self, z: Tensor, hr: Tensor | None = None) -> Tensor:
        """Latent ``(B, latent)`` -> constrained ODE parameters ``(B, 26)`` in ``CONSTRAINED_NAMES`` order; with
        ``rate="measured"`` the last column is the records' measured heart rate ``hr`` ``(B,)``."""
        p = self.constraint(self.reduce(z))
        if self.config.rate == "learned":
            return p
        if hr is None:
            raise ConfigError("method.rate = 'measured' needs each record's heart rate (batch['hr'], from a loader "
                              "with beat_window); set method.rate=learned to learn it instead")
        hr = torch.as_tensor(hr, dtype=p.dtype, device=p.device).reshape(-1, 1).clamp(*HR_RANGE)
        return torch.cat([p[:, :-1], hr], dim=1)

    def dt(self) -> Tensor:
        return torch.exp(self.log_dt) / self.config.fs

    def simulate(self, params: Tensor, n_samples: int) -> Tensor:
        """The Euler trajectory ``(B, 3, n_samples)`` (x, y, z in mV) of constrained parameters."""
        ode, hr = params[:, : len(PARAM_NAMES)], params[:, len(PARAM_NAMES)]
        _, state = simulate_torch(ode, n_samples, self.config.fs, dt=self.dt(), hr_mean=hr,
                                  substeps=self.config.substeps, return_state=True)
        return state

    def decode(self, state: Tensor) -> Tensor:
        """Trajectory ``(B, 3, T)`` -> reconstructed ECG ``(B, leads, T)``."""
        out, _ = self.decoder(state.transpose(1, 2))
        return self.project(out.transpose(1, 2))

    def forward(self, x: Tensor, sample: bool | None = None, hr: Tensor | None = None) -> dict[str, Tensor]:
        """Posterior, parameters, trajectory and reconstruction of windows ``x``; samples z when training
        (or when ``sample`` says so), else uses the posterior mean; ``hr`` for ``rate="measured"``."""
        mu, logvar = self.posterior(x)
        sample = self.training if sample is None else sample
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        params = self.parameters_of(z, hr)
        state = self.simulate(params, x.shape[-1])
        return {"mu": mu, "logvar": logvar, "params": params, "state": state, "recon": self.decode(state)}

    # ---- loss ----------------------------------------------------------------------------------
    def jacobian_penalty(self, params: Tensor, state: Tensor) -> Tensor:
        """Mean ``||J||_F^2`` of the ODE right-hand side at ``jac_points`` random states of each trajectory."""
        b, _, t = state.shape
        k = min(self.config.jac_points, t)
        idx = torch.randint(0, t, (b, k), device=state.device)
        pts = torch.gather(state, 2, idx[:, None, :].expand(b, 3, k)).permute(0, 2, 1).reshape(b * k, 3)
        rep = params.repeat_interleave(k, dim=0)
        times = (idx.reshape(-1).to(state.dtype)) * self.dt()
        ode, hr = rep[:, : len(PARAM_NAMES)], rep[:, len(PARAM_NAMES)]
        # in McSharry's own units (z / MV_PER_UNIT), as the paper's solver: the mV gain would scale the
        # z row of J by 27.5 and the penalty by ~750
        to_mv = torch.tensor([1.0, 1.0, MV_PER_UNIT], dtype=pts.dtype, device=pts.device)
        units = pts / to_mv
        return jacobian_frobenius(lambda s: dynamics_torch(s * to_mv, ode, times, hr_mean=hr) / to_mv, units).mean()

    def losses(self, batch: dict[str, Tensor], sample: bool | None = None) -> dict[str, Tensor]:
        """Every term and the weighted total for a batch."""
        cfg = self.config
        x = self.window(batch["x"], start=batch.get("start"))
        out = self(x, sample=sample, hr=batch.get("hr"))
        terms = {"mse": (out["recon"] - x).pow(2).mean()}
        terms["kl_prior"] = kl_prior_projected(out["mu"], out["logvar"], self.reduce.weight, self.reduce.bias,
                                               self.prior_mean, cfg.prior_std).mean()
        terms["jacobian"] = self.jacobian_penalty(out["params"], out["state"])
        total = cfg.mse_alpha * terms["mse"] + cfg.alpha2 * terms["kl_prior"] + cfg.jac_alpha * terms["jacobian"]
        if cfg.alpha1 > 0:
            if "tab" not in batch:
                raise ConfigError("the integrated CardioPRIME model needs the clinical vector (batch['tab'])")
            mu_c, logvar_c = self.clinical_posterior(batch["tab"])
            terms["kl_clinical"] = kl_diag(mu_c, logvar_c, out["mu"], out["logvar"]).mean()
            total = total + cfg.alpha1 * terms["kl_clinical"]
        terms["loss"] = total
        return terms

    # ---- lightning -----------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        terms = self.losses(batch)
        n = len(batch["x"])
        self.log("train_loss", terms["loss"], prog_bar=True, batch_size=n)
        for k, v in terms.items():
            if k != "loss":
                self.log(f"train_{k}", v, batch_size=n)
        return terms["loss"]

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        with torch.enable_grad():  # the Jacobian penalty differentiates the field even in validation
            terms = self.losses(batch, sample=False)
        n = len(batch["x"])
        self.log("val_mse", terms["mse"], prog_bar=True, batch_size=n, sync_dist=True)
        self.log("val_loss", terms["loss"].detach(), batch_size=n, sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.config.lr)

    # ---- outputs -------------------------------------------------------------------------------
    @torch.no_grad()
    def embed(self, x: Tensor, start: Tensor | None = None) -> Tensor:
        """Posterior means ``(B, latent)`` of the windows at ``start`` (default: the centre): the embeddings
        the paper evaluates."""
        return self.posterior(self.window(x, random=False, start=start))[0]

    @torch.no_grad()
    def ode_parameters(self, x: Tensor, start: Tensor | None = None, hr: Tensor | None = None) -> dict[str, np.ndarray]:
        """The fitted McSharry parameters (and the heart rate used) of each window at its posterior mean."""
        p = self.parameters_of(self.embed(x, start), hr).cpu().numpy()
        return {name: p[:, j] for j, name in enumerate(CONSTRAINED_NAMES)}
