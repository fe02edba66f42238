"""A 3-D cardiac dipole as sums of Gaussian waves in the cardiac phase (Frank X, Y, Z, mV).

Each axis k of the dipole is V_k(theta) = sum_i a_{k,i} exp(-dtheta_{k,i}^2 / (2 b_{k,i}^2)), dtheta the
wrapped difference between the phase theta(t) and the wave's centre. This is the closed form of the
Gaussian-wave dynamical models: McSharry et al. (2003) integrate its theta-derivative as an ODE;
Sameni, Clifford, Jutten & Shamsollahi (2007, "Multichannel ECG and noise modeling: application to
maternal and fetal ECG signals", EURASIP J Adv Signal Process 2007:043407) extend it to the three
coordinates of the cardiac dipole driven by one phase; Sayadi, Shamsollahi & Clifford (2010,
"Synthetic ECG generation and Bayesian filtering using a Gaussian wave-based dynamical model",
Physiol Meas 31(10):1309-1329) give the Gaussian-wave state space with one Gaussian per
characteristic wave. The same phase clock (:mod:`cardiofm.physio.rr`) drives the one-lead ODE.

Axes follow Frank's lead system as used by Dower's matrix: +X to the patient's left, +Y to the feet,
+Z to the back (a posterior QRS force is negative in V1-V3).

Default normal heart (:meth:`DipoleParams.normal`): our own values, tuned by eye and by the numbers
(see ``tests/test_leads.py``) so that the 12 leads through Dower's matrix show a normal adult ECG at
60 bpm: P 0.1-0.15 mV upright in I and II, PR ~160 ms, QRS ~85-90 ms with a septal q in I/V6, R in II
~1.1 mV, R/S < 1 in V1 and > 1 in V6 with transition near V3, upright T in I, II, V2-V6, everything
negative in aVR, QT ~400 ms. The layout of the loop (initial anterior-rightward forces, main
left-inferior, late posterior, T left-inferior-anterior) follows the normal VCG and the parameter
ranges of the simECG/PAF simulators built on Sameni et al.'s model (Q/R/S at -0.1/0/0.1 rad, T
Gaussians near 1.1-1.6 rad with negative Z). Not fitted to recordings.

Rate: wave centres and widths are given at 60 bpm and multiplied by (hr/60)^e at heart rate hr, with
e = 1 for P, Q, R, S (constant times and durations) and e = 1/2 for T (the T wave's times from R scale
with sqrt(RR), so Bazett's QTc stays within a few percent between 60 and 110 bpm).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from cardiofm.errors import ConfigError
from cardiofm.physio.mcsharry import WAVES, Intervals, group_edges
from cardiofm.physio.rr import TWO_PI

AXES: tuple[str, ...] = ("X", "Y", "Z")
# Edges of a wave group for the ground-truth intervals: where the tallest wave has fallen to 1.1 % of
# its peak (theta -+ 3b). Chosen so the truth means "visible onset/offset" at clinical gain; with the
# tangent rule (2b) the multi-lead delineator reads QRS ~37 ms and QT ~42 ms longer than the truth.
DIPOLE_EDGE_K = 3.0
_GROUP_OF = {"P": "P", "Q": "QRS", "R": "QRS", "S": "QRS", "Tp": "T", "Tm": "T"}


@dataclass
class GaussianTerm:
    """An extra Gaussian wave along a fixed direction: ``amplitude * direction * exp(-dtheta^2 / 2 b^2)``.

    Use it for what the six standard waves cannot draw: an ST plateau (a wide term centred between S
    and T), a delta wave, a U wave, a notch. ``group`` ("P", "QRS", "T" or None) says which interval
    it extends in :meth:`DipoleParams.intervals`; None leaves the intervals alone.
    """

    direction: np.ndarray
    theta: float
    b: float
    amplitude: float = 1.0
    rate_exponent: float = 1.0
    group: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        self.direction = np.asarray(self.direction, dtype=np.float64).reshape(3)


@dataclass
class DipoleParams:
    """Wave amplitudes (mV), centres and widths (rad at 60 bpm), each ``(3 axes, 6 waves)``.

    Rows are ``AXES`` (X, Y, Z), columns ``WAVES`` (P, Q, R, S, Tp, Tm). A column is the wave's
    dipole vector, so e.g. ``set_wave("Q", a=vector)`` points the Q wave in a direction, ``scale_wave``
    widens or inverts a wave, and ``extra`` holds additional :class:`GaussianTerm` waves.
    """

    a: np.ndarray
    theta: np.ndarray
    b: np.ndarray
    rate_exponent: np.ndarray = field(default_factory=lambda: np.array([1.0, 1.0, 1.0, 1.0, 0.5, 0.5]))
    extra: list[GaussianTerm] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("a", "theta", "b"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            if arr.shape != (3, len(WAVES)):
                raise ConfigError(f"DipoleParams.{name} must have shape (3, {len(WAVES)}), got {arr.shape}")
            setattr(self, name, arr)
        if (self.b <= 0).any():
            raise ConfigError("DipoleParams.b: every width must be > 0")
        self.rate_exponent = np.array(self.rate_exponent, dtype=np.float64).reshape(len(WAVES))

    @classmethod
    def normal(cls) -> DipoleParams:
        """The default normal adult heart (our tuned values; see the module docstring)."""
        #              P      Q      R      S      Tp     Tm
        a = np.array([[0.10, -0.12, 1.20, -0.22, 0.30, 0.20],    # X (left)
                      [0.12, -0.04, 0.80, -0.08, 0.14, 0.10],    # Y (feet)
                      [0.02, -0.28, 0.30, 0.75, -0.12, -0.06]])  # Z (back)
        theta = np.array([[-0.92, -0.16, 0.00, 0.16, 1.50, 1.90],
                          [-0.92, -0.16, 0.00, 0.16, 1.50, 1.90],
                          [-0.92, -0.13, 0.00, 0.11, 1.50, 1.90]])
        b = np.array([[0.15, 0.045, 0.052, 0.05, 0.36, 0.20],
                      [0.15, 0.045, 0.052, 0.05, 0.36, 0.20],
                      [0.15, 0.045, 0.052, 0.056, 0.36, 0.20]])
        return cls(a=a, theta=theta, b=b)

    def copy(self) -> DipoleParams:
        """A deep copy (arrays and extra terms)."""
        return copy.deepcopy(self)

    @staticmethod
    def wave_index(wave: str) -> int:
        """Column of ``wave`` ("P", "Q", "R", "S", "Tp", "Tm")."""
        try:
            return WAVES.index(wave)
        except ValueError:
            raise ConfigError(f"unknown wave {wave!r}; expected one of {', '.join(WAVES)}") from None

    def set_wave(self, wave: str, a: np.ndarray | float | None = None, theta: np.ndarray | float | None = None,
                 b: np.ndarray | float | None = None) -> DipoleParams:
        """Set a wave's amplitude vector, centre and/or width (scalars apply to all axes); returns self."""
        i = self.wave_index(wave)
        for name, value in (("a", a), ("theta", theta), ("b", b)):
            if value is not None:
                getattr(self, name)[:, i] = value
        return self

    def scale_wave(self, wave: str, amplitude: float = 1.0, width: float = 1.0) -> DipoleParams:
        """Multiply a wave's amplitude (negative inverts it) and width; returns self."""
        i = self.wave_index(wave)
        self.a[:, i] *= amplitude
        self.b[:, i] *= width
        return self

    def add_term(self, direction: np.ndarray, theta: float, b: float, amplitude: float = 1.0,
                 rate_exponent: float = 1.0, group: str | None = None, label: str = "") -> DipoleParams:
        """Append an extra :class:`GaussianTerm`; returns self."""
        self.extra.append(GaussianTerm(np.asarray(direction), theta, b, amplitude, rate_exponent, group, label))
        return self

    def _terms(self, hr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
        """All waves as (amplitude vectors (3, m), centres (3, m), widths (3, m), groups), rate-scaled."""
        f = hr / 60.0
        s = f**self.rate_exponent
        a, th, b = self.a, self.theta * s, self.b * s
        groups: list[str | None] = [_GROUP_OF[w] for w in WAVES]
        if self.extra:
            ex_a = np.stack([g.amplitude * g.direction for g in self.extra], axis=1)
            ex_s = np.array([f**g.rate_exponent for g in self.extra])
            ex_th = np.broadcast_to(np.array([g.theta for g in self.extra]) * ex_s, ex_a.shape)
            ex_b = np.broadcast_to(np.array([g.b for g in self.extra]) * ex_s, ex_a.shape)
            a, th, b = (np.concatenate([u, v], axis=1) for u, v in ((a, ex_a), (th, ex_th), (b, ex_b)))
            groups += [g.group for g in self.extra]
        return a, th, b, groups

    def dipole(self, theta_t: np.ndarray, hr: float = 60.0) -> np.ndarray:
        """The dipole ``(3, n)`` in mV along a phase trajectory ``theta_t`` ``(n,)``, waves scaled to ``hr``."""
        a, th, b, _ = self._terms(hr)
        d = np.mod(np.asarray(theta_t, dtype=np.float64)[None, None, :] - th[:, :, None] + math.pi, TWO_PI) - math.pi
        return np.einsum("km,kmn->kn", a, np.exp(-0.5 * (d / b[:, :, None]) ** 2))

    def intervals(self, hr: float = 60.0, edge_k: float = DIPOLE_EDGE_K) -> Intervals:
        """PR, QRS, QT, RR (ms) at ``hr``: group edges over all axes (heights |a|), see ``group_edges``."""
        a, th, b, groups = self._terms(hr)
        edges = {}
        for g in ("P", "QRS", "T"):
            cols = [j for j, gj in enumerate(groups) if gj == g]
            edges[g] = group_edges(th[:, cols].ravel(), b[:, cols].ravel(), np.abs(a[:, cols]).ravel(), edge_k)
        ms = 1000.0 / (TWO_PI * hr / 60.0)
        q_on, q_off = edges["QRS"]
        return Intervals(pr_ms=(q_on - edges["P"][0]) * ms, qrs_ms=(q_off - q_on) * ms,
                         qt_ms=(edges["T"][1] - q_on) * ms, rr_ms=60000.0 / hr)
