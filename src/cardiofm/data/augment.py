"""On-the-fly augmentations for one signal ``(leads, samples)`` (NumPy, run in DataLoader workers).

Every augmentation is a callable ``aug(x, rng, strength=1.0)`` returning a new float32 array (``x`` is
never changed); ``strength`` >= 0 scales the magnitude (0: unchanged) and ``p`` is the probability
it applies at all. Amplitudes are in the signal's units (mV raw, standard deviations z-scored).
Recipes list them as data, e.g. ``build_augmentation([{"name": "scale"}, {"name": "mask", "p": 0.5}])``;
``ANYECG_AUGMENT`` and ``CLEF_VIEWS`` spell out the two papers' pipelines.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from cardiofm.errors import CardiofmError, ConfigError
from cardiofm.registry import Registry
from cardiofm.signal.transforms import resample

AUGMENTATIONS: Registry[type[Augmentation]] = Registry("augmentation")
NSTDB_ENV = "CARDIOFM_NSTDB"
NOISE_SPLITS = ("train", "eval", "all")

# AnyECG-CCTA: shift +-10 %, scale U[0.9, 1.1], Gaussian noise (variance ~ strength; the paper gives
# no sigma, 0.05 is ours), one occluded segment of 2-10 % of the length.
ANYECG_AUGMENT: list[dict[str, Any]] = [
    {"name": "shift"}, {"name": "scale"}, {"name": "gaussian_noise", "sigma": 0.05, "variance_scaling": True},
    {"name": "mask"},
]
# CLEF: one of {baseline wander, muscle noise, white noise, masking, none} with equal probability.
# phi = 0.02 is the paper's value (for its own noise files); white-noise sigma is not given (ours).
CLEF_VIEWS: list[dict[str, Any]] = [{"name": "one_of", "choices": [
    {"name": "nstdb_noise", "kind": "bw", "phi": 0.02}, {"name": "nstdb_noise", "kind": "ma", "phi": 0.02},
    {"name": "gaussian_noise", "sigma": 0.05}, {"name": "mask", "p_mask": 0.2, "segment_frac": 0.1},
    "none"]}]


# Named pipelines a recipe may give as ``data.augment: <name>``; a system may add its own.
AUGMENT_RECIPES: Registry[list[dict[str, Any]]] = Registry("augmentation recipe")
AUGMENT_RECIPES.add("anyecg", ANYECG_AUGMENT)
AUGMENT_RECIPES.add("clef", CLEF_VIEWS)


def augment_recipe(spec: str | list[Any] | None) -> list[Any] | None:
    """``data.augment`` -> an augmentation list: ``None``/``"none"`` (no augmentation), a recipe name of
    :data:`AUGMENT_RECIPES`, or an explicit list."""
    if spec is None or spec == "none":
        return None
    if isinstance(spec, str):
        if spec not in AUGMENT_RECIPES:
            raise ConfigError(f"data.augment: unknown recipe {spec!r}; use none, one of "
                              f"{', '.join(AUGMENT_RECIPES.names())} or a list of augmentations")
        return list(AUGMENT_RECIPES[spec])
    if isinstance(spec, list):
        return spec
    raise ConfigError(f"data.augment: expected a recipe name or a list, got {spec!r}")


def register_augmentation(name: str) -> Callable[[type], type]:
    """Class decorator: make an augmentation available to :func:`build_augmentation` by ``name``."""

    def wrap(cls: type) -> type:
        AUGMENTATIONS.add(name, cls)
        cls.name = name
        return cls

    return wrap


class Augmentation:
    """Base class: handles ``p``, copies and dtype; subclasses implement :meth:`apply`."""

    name: ClassVar[str] = ""
    needs_fs: ClassVar[bool] = False

    def __init__(self, p: float = 1.0) -> None:
        if not 0.0 <= float(p) <= 1.0:
            raise ConfigError(f"augmentation {self.name!r}: p must lie in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if strength < 0:
            raise ConfigError(f"augmentation strength must be >= 0, got {strength!r}")
        if self.p < 1.0 and rng.random() >= self.p:
            return x.copy()
        return np.asarray(self.apply(x, rng, float(strength)), dtype=np.float32)

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        """Return the augmented copy of ``x`` (must not write into ``x``)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class Compose:
    """Apply augmentations in order; each one draws its own ``p``."""

    def __init__(self, augs: Sequence[Callable[..., np.ndarray]]) -> None:
        self.augs = list(augs)

    def __call__(self, x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
        out = np.array(x, dtype=np.float32, copy=True)
        for aug in self.augs:
            out = aug(out, rng, strength)
        return out


@register_augmentation("none")
class Identity(Augmentation):
    """No change (the "no perturbation" choice of CLEF's views)."""

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        return x.copy()


@register_augmentation("one_of")
class OneOf(Augmentation):
    """Apply one of ``choices`` (uniform or ``weights``); spec ``{"name": "one_of", "choices": [...]}``."""

    def __init__(self, choices: Sequence[Callable[..., np.ndarray]], weights: Sequence[float] | None = None,
                 p: float = 1.0) -> None:
        super().__init__(p)
        if not choices:
            raise ConfigError("one_of needs at least one choice")
        self.choices = list(choices)
        w = np.ones(len(self.choices)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(self.choices),) or (w < 0).any() or w.sum() <= 0:
            raise ConfigError(f"one_of weights must be {len(self.choices)} non-negative numbers, "
                              f"got {weights!r}")
        self.weights = w / w.sum()

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        return self.choices[int(rng.choice(len(self.choices), p=self.weights))](x, rng, strength)


@register_augmentation("scale")
class Scale(Augmentation):
    """Multiply by one factor drawn from U[1 - max_change*s, 1 + max_change*s] (AnyECG: [0.9, 1.1])."""

    def __init__(self, max_change: float = 0.1, p: float = 1.0) -> None:
        super().__init__(p)
        self.max_change = float(max_change)

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        d = self.max_change * strength
        return x * np.float32(rng.uniform(1.0 - d, 1.0 + d))


@register_augmentation("shift")
class Shift(Augmentation):
    """Roll along time by an integer drawn from +-``max_frac*s`` of the length (AnyECG: 10 %)."""

    def __init__(self, max_frac: float = 0.1, p: float = 1.0) -> None:
        super().__init__(p)
        self.max_frac = float(max_frac)

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        k = int(round(self.max_frac * strength * x.shape[-1]))
        return np.roll(x, int(rng.integers(-k, k + 1)), axis=-1)


def _snr_gain(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Per-lead gain bringing ``noise`` to var(x) / 10^(snr_db/10) (signal power about its mean)."""
    target = np.var(x, axis=-1, keepdims=True, dtype=np.float64) / 10.0 ** (snr_db / 10.0)
    pn = np.einsum("...i,...i->...", noise, noise, dtype=np.float64)[..., None] / noise.shape[-1]
    return np.sqrt(np.divide(target, pn, out=np.zeros_like(pn), where=pn > 0))


_NORMAL_TABLE_SIZE = 1 << 20


@lru_cache(maxsize=1)
def _normal_table() -> np.ndarray:
    """2^20 standard-normal float32 values, drawn once per process from a fixed seed."""
    return np.random.default_rng(0x5EED).standard_normal(_NORMAL_TABLE_SIZE, dtype=np.float32)


def fast_white_noise(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Standard-normal noise ``(leads, n)`` as random windows of a cached Gaussian table.

    Each lead takes a window at a random offset with a random sign. Every window is white Gaussian
    noise; windows of different samples may overlap in the table, which does not matter for
    augmentation and makes this ~10x cheaper than drawing fresh normals on a slow CPU.
    """
    leads, n = shape
    table = _normal_table()
    if n > table.size:
        return rng.standard_normal(shape, dtype=np.float32)
    starts = rng.integers(0, table.size - n + 1, size=leads)
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(leads, 1))
    return np.stack([table[s:s + n] for s in starts]) * signs


@register_augmentation("gaussian_noise")
class GaussianNoise(Augmentation):
    """Add white Gaussian noise, independent per lead.

    Std ``sigma*s`` in signal units, or, with ``snr_db``, each lead's noise is scaled to power =
    signal power / 10^(snr_db/10) exactly (signal power: mean square about the lead's mean) and then
    times ``s``.
    ``variance_scaling=True`` scales the variance (not the std) by ``s``, as AnyECG words it.
    The noise comes from :func:`fast_white_noise`; ``exact=True`` draws fresh normals instead.
    """

    def __init__(self, sigma: float = 0.05, snr_db: float | None = None, variance_scaling: bool = False,
                 exact: bool = False, p: float = 1.0) -> None:
        super().__init__(p)
        self.sigma, self.snr_db, self.variance_scaling = float(sigma), snr_db, bool(variance_scaling)
        self.exact = bool(exact)

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        amp = math.sqrt(strength) if self.variance_scaling else strength
        if x.ndim == 2 and not self.exact:
            noise = fast_white_noise(x.shape, rng)
        else:
            noise = rng.standard_normal(x.shape, dtype=np.float32)
        gain = self.sigma if self.snr_db is None else _snr_gain(x, noise, float(self.snr_db))
        noise *= np.float32(amp) * np.asarray(gain, dtype=np.float32)
        return x + noise


@register_augmentation("mask")
class Mask(Augmentation):
    """Set time segments of all leads to 0.

    Default (``p_mask=None``), AnyECG-CCTA's local occlusion: one contiguous segment whose length
    is drawn from U[min_frac, max_frac] = U[2 %, 10 %] of the signal, times ``s``.
    With ``p_mask`` set, CLEF's random masking (``p_mask=0.2, segment_frac=0.1``): the signal is cut
    into consecutive segments of ``segment_frac`` of its length and each is zeroed with
    probability ``p_mask*s``.
    """

    def __init__(self, min_frac: float = 0.02, max_frac: float = 0.10, p_mask: float | None = None,
                 segment_frac: float = 0.1, p: float = 1.0) -> None:
        super().__init__(p)
        if not 0.0 <= min_frac <= max_frac <= 1.0 or not 0.0 < segment_frac <= 1.0:
            raise ConfigError(f"mask fractions must satisfy 0 <= min_frac <= max_frac <= 1 and "
                              f"0 < segment_frac <= 1, got {min_frac}, {max_frac}, {segment_frac}")
        if p_mask is not None and not 0.0 <= p_mask <= 1.0:
            raise ConfigError(f"mask p_mask must lie in [0, 1], got {p_mask!r}")
        self.min_frac, self.max_frac = float(min_frac), float(max_frac)
        self.p_mask, self.segment_frac = p_mask, float(segment_frac)

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        out = x.copy()
        n = x.shape[-1]
        if self.p_mask is None:
            length = min(int(round(rng.uniform(self.min_frac, self.max_frac) * strength * n)), n)
            start = int(rng.integers(0, n - length + 1))
            out[..., start:start + length] = 0.0
            return out
        seg = max(1, int(round(self.segment_frac * n)))
        starts = np.arange(0, n, seg)
        hit = rng.random(len(starts)) < min(self.p_mask * strength, 1.0)
        for a in starts[hit]:
            out[..., a:a + seg] = 0.0
        return out


@register_augmentation("baseline_wander")
class BaselineWander(Augmentation):
    """Add synthetic baseline wander: a sum of ``n_components`` sinusoids of ``freq_range`` Hz.

    Frequencies are shared by all leads (one breathing pattern); each lead gets its own phases and
    amplitudes, each amplitude drawn from U[0, amplitude*s] in signal units (mV for raw signals).
    """

    needs_fs = True

    def __init__(self, fs: float, amplitude: float = 0.2, n_components: int = 3,
                 freq_range: tuple[float, float] = (0.05, 0.5), p: float = 1.0) -> None:
        super().__init__(p)
        if fs <= 0 or n_components < 1 or not 0 < freq_range[0] <= freq_range[1]:
            raise ConfigError(f"baseline_wander needs fs > 0, n_components >= 1 and 0 < low <= high Hz, "
                              f"got fs={fs}, n_components={n_components}, freq_range={freq_range}")
        self.fs, self.amplitude, self.n_components = float(fs), float(amplitude), int(n_components)
        self.freq_range = (float(freq_range[0]), float(freq_range[1]))

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        leads, n = x.shape[-2], x.shape[-1]
        t = np.arange(n) / self.fs
        freqs = rng.uniform(*self.freq_range, size=(1, self.n_components, 1))
        phases = rng.uniform(0.0, 2 * np.pi, size=(leads, self.n_components, 1))
        amps = rng.uniform(0.0, self.amplitude * strength, size=(leads, self.n_components, 1))
        wander = (amps * np.sin(2 * np.pi * freqs * t + phases)).sum(axis=1)
        return x + wander.astype(np.float32)


def default_nstdb_dir() -> Path:
    """Where noise records are read from: ``$CARDIOFM_NSTDB`` if set, else the packaged excerpt."""
    env = os.environ.get(NSTDB_ENV)
    return Path(env) if env else Path(str(files("cardiofm").joinpath("resources", "nstdb")))


@lru_cache(maxsize=8)
def _load_raw(directory: str, kind: str) -> tuple[np.ndarray, float]:
    from cardiofm.data.io import read_wfdb

    try:
        rec = read_wfdb(Path(directory) / kind)
    except CardiofmError as exc:
        raise ConfigError(f"NSTDB noise record {kind!r} in {directory} cannot be read ({exc})") from None
    return rec.signal, rec.fs


@lru_cache(maxsize=32)
def _load_part(directory: str, kind: str, fs: float, split: str) -> np.ndarray:
    """One split of a noise record, resampled to ``fs``: float32 ``(channels, n)``. Cached per process."""
    sig, fs_in = _load_raw(directory, kind)
    cut = sig.shape[-1] * 2 // 3
    part = {"train": sig[:, :cut], "eval": sig[:, cut:], "all": sig}[split]
    # each split is resampled on its own, so the filter never mixes train and eval samples
    out = resample(part, fs_in, fs)
    out.flags.writeable = False
    return out


class NoiseBank:
    """Physiological noise from the MIT-BIH Noise Stress Test records (``bw``, ``ma``) at rate ``fs``.

    ``split="train"`` draws from the first 2/3 of each record, ``"eval"`` from the last 1/3,
    ``"all"`` from all of it. ``path=None`` reads ``$CARDIOFM_NSTDB`` or else the 3-minute excerpt
    shipped with the package. Records are read and resampled when the bank is made and cached per
    process (forked DataLoader workers inherit the cache, spawned ones read once each); the bank
    itself holds only its settings, so it pickles cheaply.
    """

    def __init__(self, path: str | Path | None = None, kinds: Sequence[str] = ("bw", "ma"),
                 fs: float = 500.0, split: str = "train") -> None:
        if split not in NOISE_SPLITS:
            raise ConfigError(f"NoiseBank split must be one of {', '.join(NOISE_SPLITS)}, got {split!r}")
        if fs <= 0:
            raise ConfigError(f"NoiseBank fs must be positive, got {fs!r}")
        self.path = Path(path) if path is not None else default_nstdb_dir()
        self.kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        self.fs, self.split = float(fs), split
        self._key = str(self.path.resolve())
        if not self.path.is_dir():
            raise ConfigError(f"NSTDB folder {self.path} does not exist; pass NoiseBank(path=...) or set "
                              f"{NSTDB_ENV} to a folder holding bw.hea/bw.dat, ma.hea/ma.dat "
                              f"(e.g. ../shared/data/nstdb)")
        for kind in self.kinds:
            if not (self.path / f"{kind}.hea").exists():
                raise ConfigError(f"NSTDB record {kind!r} not found in {self.path} (no {kind}.hea); "
                                  f"point {NSTDB_ENV} or NoiseBank(path=...) at the full records, "
                                  "e.g. ../shared/data/nstdb")
            self.noise(kind)  # read now: errors surface at build time, forked workers inherit the cache

    def noise(self, kind: str) -> np.ndarray:
        """The split's noise of one record at ``fs``: float32 ``(channels, n)`` (cached, do not modify)."""
        if kind not in self.kinds:
            raise ConfigError(f"noise kind {kind!r} is not in this bank ({', '.join(self.kinds)})")
        return _load_part(self._key, kind, self.fs, self.split)

    def offset_s(self, kind: str) -> float:
        """Time in seconds from the record's start at which this split begins."""
        if self.split != "eval":
            return 0.0
        sig, fs_in = _load_raw(self._key, kind)
        return (sig.shape[-1] * 2 // 3) / fs_in

    def __repr__(self) -> str:
        return f"NoiseBank({str(self.path)!r}, kinds={self.kinds!r}, fs={self.fs:g}, split={self.split!r})"

    def sample(self, kind: str, n_samples: int, n_leads: int, rng: np.random.Generator,
               return_starts: bool = False) -> Any:
        """Zero-mean noise ``(n_leads, n_samples)``; each lead gets a random channel and window.

        Windows longer than the split wrap around within it. With ``return_starts`` also returns
        ``(channels, starts)`` (start sample of each lead's window within the split, at ``fs``).
        """
        src = self.noise(kind)
        n_ch, n = src.shape
        channels = rng.integers(0, n_ch, size=n_leads)
        starts = rng.integers(0, n - min(n_samples, n) + 1, size=n_leads)
        if n_samples <= n:  # plain slices; a gather only when a window must wrap around
            out = np.stack([src[c, s:s + n_samples] for c, s in zip(channels, starts, strict=True)])
        else:
            idx = (starts[:, None] + np.arange(n_samples)[None, :]) % n
            out = src[channels[:, None], idx]
        out = out - out.mean(axis=-1, keepdims=True, dtype=np.float64).astype(np.float32)
        return (out, (channels, starts)) if return_starts else out


@register_augmentation("nstdb_noise")
class NSTDBNoise(Augmentation):
    """Add recorded noise (NSTDB ``bw`` baseline wander / ``ma`` muscle artifact) from a :class:`NoiseBank`.

    ``kind`` is one record or a list to pick from uniformly per call. Scaling: ``x + phi*s*n`` (CLEF,
    ``phi`` times the noise in mV; default 1.0), or with ``snr_db`` the noise is scaled per lead to
    power = signal power / 10^(snr_db/10) and then times ``s``. ``split`` keeps training and
    evaluation noise apart (see :class:`NoiseBank`).
    """

    needs_fs = True

    def __init__(self, fs: float, kind: str | Sequence[str] = ("bw", "ma"), phi: float | None = None,
                 snr_db: float | None = None, split: str = "train", path: str | None = None,
                 p: float = 1.0) -> None:
        super().__init__(p)
        if phi is not None and snr_db is not None:
            raise ConfigError("nstdb_noise takes either phi or snr_db, not both")
        self.kind = (kind,) if isinstance(kind, str) else tuple(kind)
        self.phi = 1.0 if phi is None and snr_db is None else phi
        self.snr_db = snr_db
        self.bank = NoiseBank(path=path, kinds=self.kind, fs=fs, split=split)

    def apply(self, x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        kind = self.kind[int(rng.integers(len(self.kind)))]
        noise = self.bank.sample(kind, x.shape[-1], x.shape[-2], rng)
        gain = self.phi if self.snr_db is None else _snr_gain(x, noise, float(self.snr_db))
        noise *= np.float32(strength) * np.asarray(gain, dtype=np.float32)
        return x + noise


def _build_one(entry: str | Mapping[str, Any], fs: float | None) -> Augmentation:
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, Mapping) or "name" not in entry:
        raise ConfigError(f"augmentation spec must be a name or a dict with 'name', got {entry!r}")
    params = dict(entry)
    name = params.pop("name")
    cls = AUGMENTATIONS.get(name)
    if name == "one_of":
        params["choices"] = [_build_one(c, fs) for c in params.get("choices", [])]
    if getattr(cls, "needs_fs", False) and params.get("fs") is None:
        if fs is None:
            raise ConfigError(f"augmentation {name!r} needs the sampling rate: add 'fs' to its spec "
                              "or pass build_augmentation(..., fs=...)")
        params["fs"] = fs
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ConfigError(f"augmentation {name!r} has no parameter(s) {', '.join(unknown)}; "
                          f"accepted: {', '.join(sorted(accepted))}")
    return cls(**params)


def build_augmentation(spec: Sequence[str | Mapping[str, Any]] | Mapping[str, Any] | str | None,
                       fs: float | None = None) -> Compose:
    """Build a :class:`Compose` from a list of names or ``{"name": ..., **params}`` dicts.

    ``fs`` fills in the sampling rate of augmentations that need one (``baseline_wander``,
    ``nstdb_noise``) when their spec does not give it. Unknown names raise :class:`ConfigError`.
    """
    if spec is None:
        return Compose([])
    if isinstance(spec, (str, Mapping)):
        spec = [spec]
    return Compose([_build_one(e, fs) for e in spec])


def cosine_strength(epoch: float, total_epochs: float, low: float = 0.5, high: float = 1.0) -> float:
    """AnyECG-CCTA's cosine-annealed augmentation strength (eq. 3), from ``high`` at 0 to ``low`` at E.

    The paper prints alpha(e) = 0.5 + 0.5 cos(pi e / E), which falls from 1 to 0, yet says the
    strength goes from 1.0 to 0.5. We read the printed curve as the shape and map it onto the
    stated range: ``low + (high - low) * (0.5 + 0.5 cos(pi e / E))``. ``epoch`` is clipped to [0, E].
    """
    if total_epochs <= 0:
        raise ConfigError(f"total_epochs must be positive, got {total_epochs!r}")
    e = min(max(float(epoch), 0.0), float(total_epochs))
    return float(low + (high - low) * (0.5 + 0.5 * math.cos(math.pi * e / total_epochs)))
