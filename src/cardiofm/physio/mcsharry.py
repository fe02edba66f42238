"""McSharry's dynamical ECG model: parameters (CardioPRIME's Table 1), NumPy reference, intervals.

The model (McSharry, Clifford, Tarassenko & Smith 2003, "A dynamical model for generating synthetic
electrocardiogram signals", IEEE TBME 50(3):289-294) moves a point around a limit cycle of radius 1 in
the (x, y) plane and lets each ECG wave pull the height z as the point passes that wave's angle::

    dx/dt = alpha x - omega y,   dy/dt = alpha y + omega x,   alpha = 1 - sqrt(x^2 + y^2)
    dz/dt = -G sum_i a_i dtheta_i exp(-dtheta_i^2 / (2 b_i^2)) - (z - z_b(t))
    theta = atan2(y, x),  dtheta_i = (theta - theta_i) wrapped to [-pi, pi),  omega = 2 pi / RR
    z_b(t) = A sin(2 pi f2 t)     (respiratory baseline; A = 0.15 mV, f2 = 0.25 Hz)

Waves are ``WAVES = (P, Q, R, S, Tp, Tm)``: McSharry's single T is split into an earlier T+ and a
later T- so that the T wave can be asymmetric (Clifford, Shoeb, McSharry & Janz 2005, "Model-based
filtering, compression and classification of the ECG", Int J Bioelectromagnetism 7(1), and Clifford,
Azuaje & McSharry 2006, ch. 4), with the parameter ranges of CardioPRIME's Table 1.

Sources of the constants (checked against ECGSYN, PhysioNet's C and MATLAB code by McSharry & Clifford):

- McSharry's defaults: theta = (-60, -15, 0, 15, 90) deg [= (-pi/3, -pi/12, 0, pi/12, pi/2), the paper's
  Table 1 and ECGSYN C; the MATLAB version uses -70 and 100 deg for P and T], a = (1.2, -5, 30, -7.5, 0.75),
  b = (0.25, 0.1, 0.1, 0.1, 0.4); RR spectrum LF 0.1 Hz (sd 0.01), HF 0.25 Hz (sd 0.01), LF/HF 0.5;
  hr 60 bpm, hr_std 1 bpm.
- Rate dependence (ECGSYN ``hrfact = sqrt(hr/60)``): every b_i is multiplied by (hr/60)^(1/2); the
  angles of Q and S by (hr/60)^(1/2), of P and T by (hr/60)^(1/4) (MATLAB; the C version leaves T
  alone), R's angle is 0 and unscaled. We scale T+ and T- like MATLAB's T. (With b^2 ~ hr and omega ~ hr,
  the drawn wave heights a b^2 G / omega do not change with the rate.)
- Scale: ECGSYN integrates in model units and finally maps z min-max onto [-0.4, 1.2] mV. A per-record
  min-max map would erase amplitude information, so here the pull is multiplied by a fixed gain
  ``MV_PER_UNIT`` = 27.5, the ratio that maps McSharry's default beat at 60 bpm onto that 1.6 mV range
  (computed: 1.6 / 0.0583 = 27.46); z is then in mV for every parameter set. ``simulate(...,
  rescale=True)`` applies ECGSYN's min-max map instead.

Parameter vector (25, CardioPRIME's order): for each wave in WAVES its (a, theta, b), then lf_mean,
lf_sd, hf_mean, hf_sd, lf_hf (Table 1's RR1_mean, RR1_sd, RR2_mean, RR2_sd, LF_HF_ratio), theta0
(initial phase) and z0 (initial z, mV). hr_mean and hr_std are not in the vector (CardioPRIME does not
learn them); they are fields of :class:`McSharryParams` and arguments of the simulators.

Intervals: the z-wave that a Gaussian pull draws is (up to the slow relaxation of z) a Gaussian in theta
with the same width b_i and height a_i b_i^2 G / omega. A wave's onset/offset is theta_i -/+ k_i b_i with
k_i = sqrt(4 + 2 ln(h_i / h_max)), h_max the tallest wave of its group (P | Q, R, S | T+, T-): k = 2
for the tallest wave (where the tangent at the inflection point theta_i +/- b_i meets the baseline, the
usual tangent rule), smaller for weaker waves, and a wave below e^-2 of the group's tallest does not
count. Phases become times by t = theta / omega.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.integrate import solve_ivp

from cardiofm.errors import ConfigError
from cardiofm.physio.rr import TWO_PI, beat_onsets, phase_from_rr, r_times, rr_process, wrap_phase

WAVES: tuple[str, ...] = ("P", "Q", "R", "S", "Tp", "Tm")
MV_PER_UNIT = 27.5
B_MIN = 1e-3  # widths are floored here in the simulators (Table 1 lets S_b reach 1e-16)
RATE_THETA_EXP = np.array([0.25, 0.5, 0.0, 0.5, 0.25, 0.25])
RATE_B_EXP = 0.5
EDGE_K = 2.0
GROUPS: dict[str, tuple[int, ...]] = {"P": (0,), "QRS": (1, 2, 3), "T": (4, 5)}

_D = math.pi / 180.0
PARAM_NAMES: tuple[str, ...] = tuple(f"{w}_{k}" for w in WAVES for k in ("a", "theta", "b")) + (
    "lf_mean", "lf_sd", "hf_mean", "hf_sd", "lf_hf", "theta0", "z0")
# CardioPRIME Table 1 (23 ranges); theta0 and z0 are "not specified" there: these two ranges are ours.
PARAM_RANGES: dict[str, tuple[float, float]] = {
    "P_a": (-1.7, 1.7), "P_theta": (-70 * _D, -50 * _D), "P_b": (0.24, 0.35),
    "Q_a": (-6.5, -1.5), "Q_theta": (-25 * _D, -5 * _D), "Q_b": (0.08, 0.12),
    "R_a": (15.0, 55.0), "R_theta": (-20 * _D, 20 * _D), "R_b": (0.09, 0.11),
    "S_a": (-0.8, -0.3), "S_theta": (5 * _D, 25 * _D), "S_b": (1e-16, 0.1),
    "Tp_a": (0.5, 0.9), "Tp_theta": (80 * _D, 120 * _D), "Tp_b": (0.3, 0.5),
    "Tm_a": (0.2, 0.9), "Tm_theta": (130 * _D, 150 * _D), "Tm_b": (0.15, 0.25),
    "lf_mean": (0.08, 0.12), "lf_sd": (0.008, 0.012), "hf_mean": (0.23, 0.27), "hf_sd": (0.008, 0.012),
    "lf_hf": (0.4, 0.6),
    "theta0": (-math.pi, math.pi), "z0": (-0.1, 0.1),
}
_RR_FIELDS = ("lf_mean", "lf_sd", "hf_mean", "hf_sd", "lf_hf", "theta0", "z0")


@dataclass
class McSharryParams:
    """One heart for McSharry's model. ``a``, ``theta`` (rad), ``b`` (rad) hold one value per wave in
    ``WAVES``, at the reference rate of 60 bpm (the simulators apply ECGSYN's rate scaling)."""

    a: np.ndarray
    theta: np.ndarray
    b: np.ndarray
    lf_mean: float = 0.1
    lf_sd: float = 0.01
    hf_mean: float = 0.25
    hf_sd: float = 0.01
    lf_hf: float = 0.5
    hr_mean: float = 60.0
    hr_std: float = 1.0
    theta0: float = -math.pi
    z0: float = 0.0

    def __post_init__(self) -> None:
        for name in ("a", "theta", "b"):
            arr = np.asarray(getattr(self, name), dtype=np.float64).copy()
            if arr.shape != (len(WAVES),):
                raise ConfigError(f"McSharryParams.{name} must have {len(WAVES)} values ({WAVES}), got {arr.shape}")
            setattr(self, name, arr)

    @classmethod
    def default(cls) -> McSharryParams:
        """McSharry's 2003 values in Table 1's parameterisation.

        P, Q, R, Tp take McSharry's (a, theta, b) unchanged (T -> T+); S_a = -7.5 lies outside Table 1's
        [-0.8, -0.3] and is clipped to -0.8. T- has no counterpart in McSharry's model: it gets the
        smallest amplitude Table 1 allows (0.2) at the centre of its theta and b ranges (140 deg, 0.2),
        so the T wave stays close to McSharry's single T. RR spectrum, hr_mean = 60, hr_std = 1: ECGSYN.
        theta0 = -pi, z0 = 0 (ours): start in diastole, on the baseline.
        """
        return cls(a=np.array([1.2, -5.0, 30.0, -0.8, 0.75, 0.2]),
                   theta=np.array([-60, -15, 0, 15, 90, 140]) * _D,
                   b=np.array([0.25, 0.1, 0.1, 0.1, 0.4, 0.2]))

    @classmethod
    def center(cls) -> McSharryParams:
        """The centre of every range of ``PARAM_RANGES`` (CardioPRIME's prior means)."""
        return cls.from_vector(np.array([(lo + hi) / 2 for lo, hi in PARAM_RANGES.values()]))

    def to_vector(self) -> np.ndarray:
        """The 25 values in ``PARAM_NAMES`` order."""
        waves = np.stack([self.a, self.theta, self.b], axis=1).reshape(-1)
        return np.concatenate([waves, [getattr(self, f) for f in _RR_FIELDS]])

    @classmethod
    def from_vector(cls, vec: np.ndarray, hr_mean: float = 60.0, hr_std: float = 1.0) -> McSharryParams:
        """Inverse of :meth:`to_vector` (hr_mean and hr_std are not in the vector)."""
        v = np.asarray(vec, dtype=np.float64).reshape(-1)
        if v.size != len(PARAM_NAMES):
            raise ConfigError(f"McSharry parameter vector must have {len(PARAM_NAMES)} values, got {v.size}")
        w = v[:18].reshape(len(WAVES), 3)
        extra = dict(zip(_RR_FIELDS, (float(x) for x in v[18:]), strict=True))
        return cls(a=w[:, 0], theta=w[:, 1], b=w[:, 2], hr_mean=hr_mean, hr_std=hr_std, **extra)

    def copy(self, **changes: object) -> McSharryParams:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def out_of_range(self) -> dict[str, float]:
        """Parameters outside ``PARAM_RANGES`` (name -> value); empty when all are inside."""
        vec = self.to_vector()
        return {n: float(x) for n, x, (lo, hi) in zip(PARAM_NAMES, vec, PARAM_RANGES.values(), strict=True)
                if not lo - 1e-12 <= x <= hi + 1e-12}

    def rate_adjusted(self, hr: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(theta, b) after ECGSYN's heart-rate scaling at ``hr`` bpm (default ``hr_mean``)."""
        f = (self.hr_mean if hr is None else hr) / 60.0
        return self.theta * f**RATE_THETA_EXP, np.maximum(self.b, B_MIN) * f**RATE_B_EXP


# ---------------------------------------------------------------------------------------------- intervals

@dataclass(frozen=True)
class Intervals:
    """ECG intervals in milliseconds (NaN where a wave group has zero amplitude)."""

    pr_ms: float
    qrs_ms: float
    qt_ms: float
    rr_ms: float

    def as_dict(self) -> dict[str, float]:
        return {"pr_ms": self.pr_ms, "qrs_ms": self.qrs_ms, "qt_ms": self.qt_ms, "rr_ms": self.rr_ms}


def counting_waves(height: np.ndarray, edge_k: float = EDGE_K) -> np.ndarray:
    """Mask of the waves of a group that count for its edges: height above e^(-k^2/2) of the tallest."""
    h = np.abs(np.asarray(height, dtype=np.float64))
    top = h.max() if h.size else 0.0
    return h > math.exp(-edge_k**2 / 2) * top if top > 0 else np.zeros(h.shape, dtype=bool)


def group_edges(theta: np.ndarray, b: np.ndarray, height: np.ndarray,
                edge_k: float = EDGE_K) -> tuple[float, float]:
    """(onset, offset) phase of a group of Gaussian waves with the given heights (see module docstring).

    ``edge_k`` is k of the tallest wave: its edges are at theta -+ k*b, where it has fallen to
    e^(-k^2/2) of its peak (2: the tangent rule, 13.5 %; 3: 1.1 %).
    """
    h = np.abs(np.asarray(height, dtype=np.float64))
    keep = counting_waves(h, edge_k)
    if not keep.any():
        return math.nan, math.nan
    top = h.max()
    k = np.sqrt(np.maximum(edge_k**2 + 2 * np.log(np.where(keep, h, top) / top), 0.0))
    return float(np.min((theta - k * b)[keep])), float(np.max((theta + k * b)[keep]))


def _edges(a: np.ndarray, th: np.ndarray, b: np.ndarray) -> dict[str, tuple[float, float]]:
    h = a * b**2
    return {g: group_edges(th[list(i)], b[list(i)], h[list(i)]) for g, i in GROUPS.items()}


def intervals(params: McSharryParams, hr: float | None = None) -> Intervals:
    """PR, QRS, QT and RR (ms) of ``params`` at ``hr`` bpm (default its ``hr_mean``)."""
    hr = params.hr_mean if hr is None else hr
    th, b = params.rate_adjusted(hr)
    e = _edges(params.a, th, b)
    ms = 1000.0 / (TWO_PI * hr / 60.0)
    q_on, q_off = e["QRS"]
    return Intervals(pr_ms=(q_on - e["P"][0]) * ms, qrs_ms=(q_off - q_on) * ms, qt_ms=(e["T"][1] - q_on) * ms,
                     rr_ms=60000.0 / hr)


def params_with_intervals(params: McSharryParams, pr_ms: float | None = None, qrs_ms: float | None = None,
                          qt_ms: float | None = None, hr: float | None = None, *,
                          clip: bool = True) -> McSharryParams:
    """A copy of ``params`` whose :func:`intervals` at ``hr`` are the requested ones.

    QRS: the Q, R, S waves that count for the QRS edges are stretched about R (their distance from R
    and their widths times f, amplitudes a / f^2 so the drawn heights stay). PR: the P wave is moved;
    if its centre would leave its range, it is held at the range's edge and widened or narrowed
    instead (drawn height kept). QT: the counting T waves are stretched about the R fiducial (theta and
    b times f, a / f^2). Waves too small to count for an edge are left alone.

    With ``clip=True`` (default) every changed parameter must stay inside ``PARAM_RANGES``; a request
    that needs a value outside raises :class:`ConfigError` naming it. Pathological intervals (a PR of
    260 ms, a QRS of 160 ms) need ``clip=False``, which allows out-of-range values.
    """
    hr = params.hr_mean if hr is None else float(hr)
    f_rate = hr / 60.0
    th_scale, b_scale = f_rate**RATE_THETA_EXP, f_rate**RATE_B_EXP
    a = params.a.copy()
    th, b = params.rate_adjusted(hr)
    rad = TWO_PI * hr / 60.0 / 1000.0  # radians per ms

    def current() -> dict[str, tuple[float, float]]:
        return _edges(a, th, b)

    def stretch(group: str, f: float, about: float) -> None:
        if not f > 0:
            raise ConfigError(f"params_with_intervals: requested interval needs a stretch factor {f:.3g} <= 0")
        idx = [i for i, keep in zip(GROUPS[group], counting_waves((a * b**2)[list(GROUPS[group])]), strict=True)
               if keep]
        th[idx] = about + f * (th[idx] - about)
        b[idx] *= f
        a[idx] /= f**2

    if qrs_ms is not None:
        on, off = current()["QRS"]
        stretch("QRS", qrs_ms * rad / (off - on), th[2])
    if pr_ms is not None:
        p_on_new = current()["QRS"][0] - pr_ms * rad
        p_on = current()["P"][0]
        th[0] += p_on_new - p_on
        lo, hi = PARAM_RANGES["P_theta"]
        if clip and not lo <= th[0] / th_scale[0] <= hi:
            edge = min(max(th[0] / th_scale[0], lo), hi) * th_scale[0]
            b_new = (edge - p_on_new) / EDGE_K
            if b_new > 0:
                a[0] *= (b[0] / b_new) ** 2
                th[0], b[0] = edge, b_new
    if qt_ms is not None:
        q_on = current()["QRS"][0]
        t_off = current()["T"][1]
        stretch("T", (q_on + qt_ms * rad) / t_off, 0.0)

    new = params.copy(a=a, theta=th / th_scale, b=b / b_scale)
    if clip:
        old = dict(zip(PARAM_NAMES, params.to_vector(), strict=True))
        bad = {k: v for k, v in new.out_of_range().items() if not math.isclose(v, old[k], rel_tol=1e-9)}
        if bad:
            detail = ", ".join(f"{k}={v:.4g} (range {PARAM_RANGES[k][0]:.4g}..{PARAM_RANGES[k][1]:.4g})"
                               for k, v in bad.items())
            raise ConfigError(f"params_with_intervals: the requested intervals need out-of-range values: "
                              f"{detail}; pass clip=False to allow them (pathology)")
    return new


# ---------------------------------------------------------------------------------------------- simulation

@dataclass
class McSharryResult:
    """Output of :func:`simulate`: time (s), z (mV), phase, RR intervals (s), R-peak samples, rate."""

    t: np.ndarray
    z: np.ndarray
    theta: np.ndarray
    rr: np.ndarray
    r_peaks: np.ndarray
    fs: float
    xy: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((2, 0)))


def simulate(params: McSharryParams, duration_s: float, fs: float, rng: np.random.Generator | int | None = None,
             rr: np.ndarray | None = None, method: str = "RK45", rtol: float = 1e-6, *,
             rate_scaling: bool = True, resp_amp_mv: float = 0.15, resp_hz: float = 0.25,
             rescale: bool = False) -> McSharryResult:
    """Integrate McSharry's three ODEs with ``scipy.integrate.solve_ivp`` (the reference implementation).

    Args:
        params: the heart; ``params.hr_mean`` sets ECGSYN's rate scaling of theta and b (``rate_scaling``).
        duration_s, fs: length (s) and sampling rate (Hz) of the output.
        rng: random generator or seed for the RR process (ignored when ``rr`` is given).
        rr: RR intervals (s) to use instead of :func:`rr_process`; they must cover ``duration_s``.
        method, rtol: passed to ``solve_ivp`` (atol is 1e-9).
        resp_amp_mv, resp_hz: respiratory baseline z_b(t).
        rescale: map z min-max onto [-0.4, 1.2] mV at the end, as ECGSYN does.
    """
    n = int(round(duration_s * fs))
    if n < 2:
        raise ConfigError(f"simulate: duration_s * fs must give at least 2 samples, got {n}")
    if rr is None:
        n_beats = int(math.ceil(duration_s * params.hr_mean / 60.0 * 1.3)) + 3
        rr = rr_process(n_beats, params.hr_mean, params.hr_std, params.lf_mean, params.lf_sd, params.hf_mean,
                        params.hf_sd, params.lf_hf, rng=rng)
    rr = np.asarray(rr, dtype=np.float64)
    t = np.arange(n) / fs
    phase_from_rr(rr, fs, n, params.theta0)  # validates coverage
    tr = r_times(rr, params.theta0)
    omega_beat = TWO_PI / rr
    th_i, b_i = params.rate_adjusted() if rate_scaling else (params.theta, np.maximum(params.b, B_MIN))
    a_i = MV_PER_UNIT * params.a
    inv2b2 = 1.0 / (2.0 * b_i**2)
    w_resp = TWO_PI * resp_hz

    def rhs(time: float, s: np.ndarray) -> list[float]:
        x, y, z = s
        alpha = 1.0 - math.hypot(x, y)
        k = max(int(np.searchsorted(tr, time, side="right")) - 1, 0)
        w = omega_beat[k]
        d = np.mod(math.atan2(y, x) - th_i + math.pi, TWO_PI) - math.pi
        pull = float(np.dot(a_i * d, np.exp(-d * d * inv2b2)))
        return [alpha * x - w * y, alpha * y + w * x, -pull - (z - resp_amp_mv * math.sin(w_resp * time))]

    y0 = [math.cos(params.theta0), math.sin(params.theta0), params.z0]
    sol = solve_ivp(rhs, (0.0, t[-1]), y0, method=method, t_eval=t, rtol=rtol, atol=1e-9, max_step=1.0 / fs)
    if not sol.success:
        raise ConfigError(f"simulate: solve_ivp failed: {sol.message}")
    x, y, z = sol.y
    theta = np.arctan2(y, x)
    if rescale:
        z = (z - z.min()) * 1.6 / max(z.max() - z.min(), 1e-12) - 0.4
    r_peaks = beat_onsets(theta, float(wrap_phase(th_i[2])))
    rr = rr[: int(np.searchsorted(tr, t[-1], side="right"))]  # beats whose R fiducial lies in the record
    return McSharryResult(t=t, z=z, theta=theta, rr=rr, r_peaks=r_peaks, fs=float(fs), xy=np.stack([x, y]))

