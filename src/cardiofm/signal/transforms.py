"""Signal transforms: resample, band-pass, z-score, select leads, crop/pad, windows.

Pure NumPy/SciPy functions on ``float32`` arrays whose last axis is time: one record
``(leads, samples)`` or a batch ``(batch, leads, samples)``. :class:`Preprocess` chains them into
the fixed pipeline a Store applies to every record.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from cardiofm.errors import ConfigError, LeadError
from cardiofm.signal.record import LEADS_12, ECGRecord, normalise_lead_name, normalise_lead_names

CROP_MODES = ("start", "center", "random")
PAD_MODES = ("zero", "edge", "wrap")
NORMALISE_MODES = ("zscore",)
_NP_PAD = {"zero": "constant", "edge": "edge", "wrap": "wrap"}


def _sps() -> Any:
    """``scipy.signal``, imported on first use (it takes about a second; the CLI and recipe loading need none)."""
    from scipy import signal

    return signal


def valid_rate(fs: float, name: str = "fs") -> float:
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number in Hz, got {fs!r}") from None
    if not np.isfinite(fs) or fs <= 0:
        raise ConfigError(f"{name} must be a positive sampling rate in Hz, got {fs!r}")
    return fs


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Resample along the last axis with a polyphase filter (``scipy.signal.resample_poly``).

    The up/down factors come from ``Fraction(fs_out / fs_in).limit_denominator(1000)``; the output
    has ``round(n * fs_out / fs_in)`` samples. Equal rates return a float32 copy.
    """
    fs_in, fs_out = valid_rate(fs_in, "fs_in"), valid_rate(fs_out, "fs_out")
    x = np.asarray(x, dtype=np.float32)
    if fs_in == fs_out:
        return x.copy()
    n = x.shape[-1]
    n_out = int(round(n * fs_out / fs_in))
    if n == 0:
        return np.zeros(x.shape[:-1] + (0,), dtype=np.float32)
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    # padtype="line" removes the first-to-last trend before filtering, so a baseline offset
    # does not ring at the edges the way zero padding would.
    up, down = ratio.numerator, ratio.denominator
    y = _sps().resample_poly(x.astype(np.float64), up, down, axis=-1, padtype="line", window=_poly_fir(up, down))
    if y.shape[-1] > n_out:
        y = y[..., :n_out]
    elif y.shape[-1] < n_out:
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n_out - y.shape[-1])], mode="edge")
    return np.ascontiguousarray(y, dtype=np.float32)


@lru_cache(maxsize=64)
def _poly_fir(up: int, down: int) -> np.ndarray:
    """resample_poly's default anti-aliasing FIR (Kaiser, beta 5), designed once per ratio."""
    max_rate = max(up, down)
    h = _sps().firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))
    h.setflags(write=False)
    return h


@lru_cache(maxsize=64)
def _butter_sos(order: int, lo: float | None, hi: float | None, fs: float) -> np.ndarray:
    """Second-order sections of the Butterworth design, cached (designing costs as much as filtering)."""
    if lo is not None and hi is not None:
        return _sps().butter(order, [lo, hi], btype="bandpass", fs=fs, output="sos")
    if lo is not None:
        return _sps().butter(order, lo, btype="highpass", fs=fs, output="sos")
    return _sps().butter(order, hi, btype="lowpass", fs=fs, output="sos")


def bandpass(x: np.ndarray, fs: float, low: float | None = 0.67, high: float | None = 40.0,
             order: int = 5) -> np.ndarray:
    """Zero-phase Butterworth filter along the last axis (``butter(..., output="sos")`` + ``sosfiltfilt``).

    Defaults follow CLEF: 5th order, 0.67-40 Hz. ``high=None`` or ``high`` at/above the Nyquist
    frequency (``fs / 2``) gives a high-pass at ``low`` only; ``low=None`` (or 0) gives a low-pass at
    ``high`` only; neither returns a copy. Signals shorter than SciPy's default edge padding are
    filtered with the padding cut to fit, so short inputs work (with more edge transient).
    """
    fs = valid_rate(fs)
    if order < 1:
        raise ConfigError(f"filter order must be a positive integer, got {order!r}")
    nyq = fs / 2.0
    lo = None if low is None or low <= 0 else float(low)
    hi = None if high is None or high >= nyq else float(high)
    if lo is not None and lo >= nyq:
        raise ConfigError(f"band-pass low cut-off {lo:g} Hz is at or above Nyquist ({nyq:g} Hz at fs={fs:g})")
    if lo is not None and hi is not None and lo >= hi:
        raise ConfigError(f"band-pass low cut-off {lo:g} Hz must be below the high cut-off {hi:g} Hz")
    x = np.asarray(x, dtype=np.float32)
    if lo is None and hi is None:
        return x.copy()
    sos = _butter_sos(order, lo, hi, fs)
    n = x.shape[-1]
    if n == 0:
        return x.copy()
    # scipy's default padlen for sosfiltfilt; it must stay below the signal length.
    zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    padlen = min(3 * (2 * len(sos) + 1 - zeros), n - 1)
    y = _sosfiltfilt(sos, x.astype(np.float64), padlen)
    return np.ascontiguousarray(y, dtype=np.float32)


@lru_cache(maxsize=64)
def _sos_zi(sos_bytes: bytes, n_sections: int) -> np.ndarray:
    sos = np.frombuffer(sos_bytes, dtype=np.float64).reshape(n_sections, 6)
    return _sps().sosfilt_zi(sos)


def _sosfiltfilt(sos: np.ndarray, x: np.ndarray, padlen: int) -> np.ndarray:
    """``scipy.signal.sosfiltfilt`` (odd extension, steady-state initial conditions) along the last
    axis, with the initial-condition solve cached per filter: it costs as much as the filtering."""
    if padlen > 0:
        left = 2 * x[..., :1] - x[..., padlen:0:-1]
        right = 2 * x[..., -1:] - x[..., -2:-padlen - 2:-1]
        ext = np.concatenate([left, x, right], axis=-1)
    else:
        ext = x
    zi = _sos_zi(np.ascontiguousarray(sos, dtype=np.float64).tobytes(), len(sos))
    zi = zi.reshape((len(sos),) + (1,) * (x.ndim - 1) + (2,))
    y, _ = _sps().sosfilt(sos, ext, axis=-1, zi=zi * ext[..., :1])
    y = y[..., ::-1]
    y, _ = _sps().sosfilt(sos, y, axis=-1, zi=zi * y[..., :1])
    y = y[..., ::-1]
    return y[..., padlen:y.shape[-1] - padlen] if padlen > 0 else y


def zscore(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Standardise each lead (last axis) to mean 0, std 1; leads with std <= ``eps`` become 0."""
    x64 = np.asarray(x, dtype=np.float64)
    mean = x64.mean(axis=-1, keepdims=True)
    std = x64.std(axis=-1, keepdims=True)
    flat = std <= eps
    out = np.where(flat, 0.0, (x64 - mean) / np.where(flat, 1.0, std))
    return out.astype(np.float32)


def select_leads(x: np.ndarray, leads_in: Sequence[str], leads_out: Sequence[str],
                 where: object = "<signal>") -> np.ndarray:
    """Rows of ``x`` (axis -2) for ``leads_out``, in that order; names in any spelling (``"avr"``).

    Raises :class:`LeadError` (naming ``where``, e.g. the file) when a wanted lead is not among ``leads_in``.
    """
    x = np.asarray(x, dtype=np.float32)
    have = normalise_lead_names(leads_in, path=where)
    if x.ndim < 2 or x.shape[-2] != len(have):
        raise LeadError(where, f"signal of shape {x.shape} does not have {len(have)} leads "
                               f"({', '.join(have)}) on axis -2")
    want = [normalise_lead_name(n) for n in leads_out]
    missing = [n for n in want if n not in have]
    if missing:
        raise LeadError(where, f"lead(s) {', '.join(missing)} missing; the recording has {', '.join(have)}")
    return np.ascontiguousarray(x[..., [have.index(n) for n in want], :])


def _check_pad(pad: str) -> str:
    if pad not in PAD_MODES:
        raise ConfigError(f"pad must be one of {', '.join(PAD_MODES)}, got {pad!r}")
    return pad


def pad_to(x: np.ndarray, length: int, pad: str = "zero") -> np.ndarray:
    """Pad the end of the last axis up to ``length`` samples (no-op copy when already that long).

    ``"zero"`` appends zeros after the signal, ``"edge"`` repeats the last sample, ``"wrap"`` tiles
    the signal from its start again (as often as needed).
    """
    _check_pad(pad)
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[-1]
    if n >= length:
        return x.copy()
    if n == 0 and pad != "zero":
        raise ConfigError(f"cannot pad an empty signal with pad={pad!r}; use pad='zero'")
    widths = [(0, 0)] * (x.ndim - 1) + [(0, length - n)]
    return np.pad(x, widths, mode=_NP_PAD[pad])  # type: ignore[call-overload]


def crop(x: np.ndarray, length: int, mode: str = "start", rng: np.random.Generator | None = None,
         pad: str = "zero") -> np.ndarray:
    """Fix the last axis to ``length`` samples.

    Longer inputs are cut: ``"start"`` keeps the first ``length`` samples, ``"center"`` the middle
    ones (extra sample dropped at the end), ``"random"`` a window at a start drawn from ``rng``
    (required). Shorter inputs are padded at the end by :func:`pad_to`'s ``pad`` rule.
    """
    if int(length) != length or length < 1:
        raise ConfigError(f"crop length must be a positive integer, got {length!r}")
    length = int(length)
    if mode not in CROP_MODES:
        raise ConfigError(f"crop mode must be one of {', '.join(CROP_MODES)}, got {mode!r}")
    _check_pad(pad)
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[-1]
    if n <= length:
        return pad_to(x, length, pad)
    if mode == "start":
        start = 0
    elif mode == "center":
        start = (n - length) // 2
    else:
        if rng is None:
            raise ConfigError("crop mode 'random' needs rng=np.random.default_rng(seed)")
        start = int(rng.integers(0, n - length + 1))
    return np.ascontiguousarray(x[..., start:start + length])


def windows(x: np.ndarray, length: int, stride: int | None = None, pad: str = "zero") -> np.ndarray:
    """Cut the signal into windows of ``length`` samples every ``stride`` samples (default: ``length``).

    The windows cover the whole signal; the last one is completed by the ``pad`` rule. The window
    axis comes first: ``(leads, n)`` gives ``(n_windows, leads, length)``.
    """
    if int(length) != length or length < 1:
        raise ConfigError(f"window length must be a positive integer, got {length!r}")
    stride = int(length if stride is None else stride)
    if stride < 1:
        raise ConfigError(f"window stride must be a positive integer, got {stride!r}")
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[-1]
    n_win = 1 if n <= length else 1 + -(-(n - length) // stride)
    xp = pad_to(x, (n_win - 1) * stride + length, pad)
    view = np.lib.stride_tricks.sliding_window_view(xp, length, axis=-1)[..., ::stride, :]
    return np.ascontiguousarray(np.moveaxis(view, -2, 0))


@dataclass
class Preprocess:
    """The fixed preprocessing of a Store: select leads -> resample -> filter -> crop/pad -> normalise.

    Attributes:
        fs: output sampling rate in Hz.
        length: output length in samples at ``fs``; ``None`` keeps the (resampled) full length.
        leads: output leads, in order (any spelling; stored canonical).
        band: ``(low, high)`` cut-offs in Hz for :func:`bandpass`, either may be ``None``;
            ``None`` for no filtering. CLEF: 0.67-40 Hz, 5th order.
        filter_order: Butterworth order.
        normalise: ``"zscore"`` (per lead) or ``None``.
        crop_mode: ``"start"``, ``"center"`` or ``"random"`` (seeded from the record id unless an
            ``rng`` is passed, so a rebuilt store is identical).
        pad: ``"zero"``, ``"edge"`` or ``"wrap"`` for records shorter than ``length``.
    """

    fs: float = 500.0
    length: int | None = 5000
    leads: tuple[str, ...] = LEADS_12
    band: tuple[float | None, float | None] | None = (0.67, 40.0)
    filter_order: int = 5
    normalise: str | None = "zscore"
    crop_mode: str = "start"
    pad: str = "zero"

    def __post_init__(self) -> None:
        self.fs = valid_rate(self.fs, "Preprocess.fs")
        if self.length is not None:
            if isinstance(self.length, bool) or int(self.length) != self.length or self.length < 1:
                raise ConfigError(f"Preprocess.length must be a positive integer or None, "
                                  f"got {self.length!r}")
            self.length = int(self.length)
        if isinstance(self.leads, str) or not self.leads:
            raise ConfigError(f"Preprocess.leads must be a non-empty list of lead names, got {self.leads!r}")
        try:
            self.leads = normalise_lead_names(self.leads, path="Preprocess.leads")
        except LeadError as exc:
            raise ConfigError(str(exc)) from None
        self.band = self._check_band(self.band)
        if isinstance(self.filter_order, bool) or int(self.filter_order) != self.filter_order \
                or self.filter_order < 1:
            raise ConfigError(f"Preprocess.filter_order must be a positive integer, "
                              f"got {self.filter_order!r}")
        self.filter_order = int(self.filter_order)
        if isinstance(self.normalise, str) and self.normalise.lower() == "none":
            self.normalise = None
        if self.normalise is not None and self.normalise not in NORMALISE_MODES:
            raise ConfigError(f"Preprocess.normalise must be one of {', '.join(NORMALISE_MODES)} or None, "
                              f"got {self.normalise!r}")
        if self.crop_mode not in CROP_MODES:
            raise ConfigError(f"Preprocess.crop_mode must be one of {', '.join(CROP_MODES)}, "
                              f"got {self.crop_mode!r}")
        if self.pad not in PAD_MODES:
            raise ConfigError(f"Preprocess.pad must be one of {', '.join(PAD_MODES)}, got {self.pad!r}")

    @staticmethod
    def _check_band(band: Any) -> tuple[float | None, float | None] | None:
        if band is None:
            return None
        if isinstance(band, str) or len(band) != 2:
            raise ConfigError(f"Preprocess.band must be (low, high) in Hz or None, got {band!r}")
        try:
            low, high = (None if b is None else float(b) for b in band)
        except (TypeError, ValueError):
            raise ConfigError(f"Preprocess.band values must be numbers or None, got {band!r}") from None
        for b in (low, high):
            if b is not None and (not np.isfinite(b) or b < 0):
                raise ConfigError(f"Preprocess.band cut-offs must be non-negative Hz, got {band!r}")
        if low is not None and high is not None and low >= high:
            raise ConfigError(f"Preprocess.band low cut-off {low:g} Hz must be below "
                              f"high cut-off {high:g} Hz")
        return (low, high)

    def __call__(self, record: ECGRecord, rng: np.random.Generator | None = None) -> np.ndarray:
        """Preprocess one record; returns float32 ``(len(leads), length)``."""
        x = select_leads(record.signal, record.leads, self.leads, where=record.path or record.record_id)
        x = resample(x, record.fs, self.fs)
        if self.band is not None:
            x = bandpass(x, self.fs, self.band[0], self.band[1], order=self.filter_order)
        if self.length is not None:
            if self.crop_mode == "random" and rng is None:
                rng = np.random.default_rng(zlib.crc32(str(record.record_id).encode()))
            x = crop(x, self.length, mode=self.crop_mode, rng=rng, pad=self.pad)
        if self.normalise == "zscore":
            x = zscore(x)
        return np.ascontiguousarray(x, dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (lists instead of tuples)."""
        d = asdict(self)
        d["leads"] = list(self.leads)
        d["band"] = None if self.band is None else list(self.band)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocess:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(d) - known)
        if extra:
            raise ConfigError(f"unknown Preprocess field(s) {', '.join(extra)}; "
                              f"known: {', '.join(sorted(known))}")
        kw = dict(d)
        if "leads" in kw and not isinstance(kw["leads"], str):
            kw["leads"] = tuple(kw["leads"])
        if kw.get("band") is not None and not isinstance(kw["band"], str):
            kw["band"] = tuple(kw["band"])
        return cls(**kw)
