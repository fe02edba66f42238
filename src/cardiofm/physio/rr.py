"""Heart rhythm for the synthetic ECG: McSharry's RR process and the cardiac phase clock.

``rr_process`` follows the spectral method of McSharry, Clifford, Tarassenko & Smith (2003, IEEE TBME
50(3):289-294, section II) as implemented in ECGSYN (PhysioNet, ``rrprocess.m``): the power spectrum
of the RR tachogram is a sum of two Gaussians, one at the Mayer-wave frequency (LF, ~0.1 Hz) and one
at the respiratory frequency (HF, ~0.25 Hz), with powers in the ratio LF/HF. Its square root is given
random phases, inverted by an FFT, and the series is rescaled to the requested mean and standard
deviation of RR (mean 60/hr_mean s, standard deviation 60 hr_std / hr_mean^2 s).

``phase_from_rr`` turns RR intervals into the phase theta(t) in [-pi, pi) that drives both the one-lead
McSharry ODE and the 3-D dipole: theta advances by 2 pi per beat at the constant angular speed
omega = 2 pi / RR of that beat, and crosses 0 at each R fiducial. The R-to-R intervals of the result
are exactly the given RR intervals.
"""

from __future__ import annotations

import math

import numpy as np

from cardiofm.errors import ConfigError

TWO_PI = 2.0 * math.pi
_UPSAMPLE = 16


def wrap_phase(theta: np.ndarray | float) -> np.ndarray:
    """Wrap angles to [-pi, pi)."""
    return np.mod(np.asarray(theta, dtype=np.float64) + math.pi, TWO_PI) - math.pi


def rr_process(n_beats: int, hr_mean: float, hr_std: float, lf_mean: float = 0.1, lf_sd: float = 0.01,
               hf_mean: float = 0.25, hf_sd: float = 0.01, lf_hf: float = 0.5,
               rng: np.random.Generator | int | None = None, fs_rr: float = 1.0) -> np.ndarray:
    """``n_beats`` RR intervals (seconds) with a bimodal (LF + HF) spectrum.

    Args:
        n_beats: number of intervals to return.
        hr_mean: mean heart rate (bpm); hr_std: its standard deviation (bpm). ``hr_std=0`` gives a
            constant RR of 60/hr_mean.
        lf_mean, lf_sd, hf_mean, hf_sd: centre and width (Hz) of the LF and HF spectral peaks.
        lf_hf: ratio of LF to HF power.
        rng: random generator or seed (phases of the spectrum).
        fs_rr: sampling rate (Hz) of the tachogram that is synthesised and then read at each beat.
    """
    if n_beats < 1:
        raise ConfigError(f"rr_process: n_beats must be >= 1, got {n_beats}")
    if not (hr_mean > 0 and hr_std >= 0):
        raise ConfigError(f"rr_process: need hr_mean > 0 and hr_std >= 0, got {hr_mean}, {hr_std}")
    if min(lf_sd, hf_sd) <= 0 or lf_hf < 0:
        raise ConfigError("rr_process: lf_sd and hf_sd must be > 0 and lf_hf >= 0")
    rng = np.random.default_rng(rng)
    rr_mean = 60.0 / hr_mean
    rr_std = 60.0 * hr_std / hr_mean**2
    # Tachogram long enough to cover every beat (shortest RR ~ mean - 4 sd), at least 256 samples.
    span = n_beats * max(rr_mean, 1e-3) * 1.5 + 10.0
    n = max(256, int(2 ** math.ceil(math.log2(span * fs_rr))))
    f = np.fft.rfftfreq(n, d=1.0 / fs_rr)
    power = (lf_hf * np.exp(-0.5 * ((f - lf_mean) / lf_sd) ** 2) / math.sqrt(TWO_PI * lf_sd**2)
             + np.exp(-0.5 * ((f - hf_mean) / hf_sd) ** 2) / math.sqrt(TWO_PI * hf_sd**2))
    spectrum = np.sqrt(power) * np.exp(1j * rng.uniform(0.0, TWO_PI, f.size))
    spectrum[0] = 0.0
    if n % 2 == 0:
        spectrum[-1] = spectrum[-1].real
    # Zero-padding the spectrum gives the band-limited interpolation of the tachogram on a grid 16x finer
    # (ECGSYN splines it to its internal rate), so reading it between samples does not damp HF.
    x = np.fft.irfft(spectrum, n * _UPSAMPLE)
    sd = x.std()
    x = (x - x.mean()) * (rr_std / sd if sd > 0 else 0.0)
    tacho = rr_mean + x
    # Read the tachogram at each beat time (ECGSYN walks its tachogram the same way).
    t_grid = np.arange(x.size) / (fs_rr * _UPSAMPLE)
    rr = np.empty(n_beats)
    t = 0.0
    for k in range(n_beats):
        rr[k] = np.interp(t, t_grid, tacho)
        t += rr[k]
    if (rr <= 0).any():
        raise ConfigError(f"rr_process: hr_std={hr_std} is too large for hr_mean={hr_mean} (non-positive RR)")
    return rr


def r_times(rr_s: np.ndarray, theta0: float) -> np.ndarray:
    """Times (s) at which the phase crosses 0 (the R fiducials) for RR intervals ``rr_s``.

    The segment before the first R peak runs at the speed of the first beat.
    """
    rr = np.asarray(rr_s, dtype=np.float64)
    t0 = float(np.mod(-theta0, TWO_PI)) * rr[0] / TWO_PI
    return t0 + np.concatenate([[0.0], np.cumsum(rr)])


def phase_from_rr(rr_s: np.ndarray, fs: float, n_samples: int, theta0: float = -math.pi) -> np.ndarray:
    """Phase theta(t) in [-pi, pi) at ``n_samples`` samples of rate ``fs``; theta(0) = theta0.

    Between consecutive R fiducials the angular speed is 2 pi / RR of that beat (piecewise constant).
    Raises :class:`ConfigError` if the RR intervals do not cover the requested duration.
    """
    rr = np.asarray(rr_s, dtype=np.float64)
    if rr.ndim != 1 or rr.size == 0 or (rr <= 0).any():
        raise ConfigError("phase_from_rr: rr_s must be a non-empty 1-D array of positive intervals (s)")
    tr = r_times(rr, theta0)
    t = np.arange(n_samples) / fs
    if n_samples and t[-1] >= tr[-1]:
        raise ConfigError(f"phase_from_rr: {rr.size} RR intervals cover {tr[-1]:.2f} s, "
                          f"need more than {t[-1]:.2f} s; pass more beats")
    k = np.searchsorted(tr, t, side="right")  # 0 before the first R, else index of the beat + 1
    before = k == 0
    theta = np.empty(n_samples)
    theta[before] = theta0 + TWO_PI * t[before] / rr[0]
    kk = k[~before] - 1
    theta[~before] = TWO_PI * (t[~before] - tr[kk]) / rr[kk]
    return wrap_phase(theta)


def beat_onsets(theta: np.ndarray, centre: float = 0.0) -> np.ndarray:
    """Sample indices where the phase passes ``centre`` going forward (nearest sample to the crossing).

    With ``centre=0`` these are the R fiducials; with a wave's centre, that wave's peaks.
    """
    d = wrap_phase(np.asarray(theta, dtype=np.float64) - centre)
    prev, cur = d[:-1], d[1:]
    hit = np.flatnonzero((prev < 0) & (cur >= 0) & (cur - prev < math.pi))
    # Linear interpolation of the crossing, rounded to the nearest sample.
    frac = -prev[hit] / (cur[hit] - prev[hit])
    idx = hit + np.where(frac < 0.5, 0, 1)
    if d.size and d[0] == 0.0:
        idx = np.concatenate([[0], idx])
    return idx.astype(np.int64)
