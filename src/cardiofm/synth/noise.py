"""Recording noise for synthetic ECGs, added at the electrodes so the lead identities still hold.

Real noise enters through the electrodes, not through the leads: each of the nine electrodes
(RA, LA, LL, V1-V6) gets its own noise, and the 12 leads are formed from the electrodes exactly as
an electrocardiograph forms them (I = LA - RA, II = LL - RA, aVR = RA - (LA + LL)/2, ...,
Vi = Ei - WCT with WCT = (RA + LA + LL)/3). Einthoven's and Goldberger's identities therefore hold
for the noisy signal too (in exact arithmetic).

Noise types, each present in a record with its own probability:

- ``bw`` baseline wander and ``ma`` muscle artefact: windows of the MIT-BIH Noise Stress Test
  records (:class:`cardiofm.data.augment.NoiseBank`, the shipped excerpt by default);
- ``pl`` power-line interference: a 50 or 60 Hz sinusoid (only where fs > 2 x its frequency);
- ``em`` electrode motion: the NSTDB ``em`` record is not available here, so it is modelled as
  sparse step-and-decay transients on single electrodes (a stand-in, not recorded noise).

The summed noise is scaled to a per-record SNR drawn uniformly from ``snr_db`` (signal power: the
mean over leads of each lead's variance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardiofm.data.augment import NoiseBank

ELECTRODES = ("RA", "LA", "LL", "V1", "V2", "V3", "V4", "V5", "V6")


def leads_from_electrodes(e: np.ndarray) -> np.ndarray:
    """(9, n) electrode potentials (RA, LA, LL, V1..V6) -> (12, n) leads in ``LEADS_12`` order."""
    ra, la, ll = e[0], e[1], e[2]
    wct = (ra + la + ll) / 3.0
    limb = [la - ra, ll - ra, ll - la, ra - (la + ll) / 2, la - (ra + ll) / 2, ll - (ra + la) / 2]
    return np.stack(limb + [e[3 + k] - wct for k in range(6)])


@dataclass
class NoiseConfig:
    """Which noise a record gets and how strong (per-record SNR in dB, drawn uniformly)."""

    snr_db: tuple[float, float] = (12.0, 30.0)
    p: dict[str, float] = field(default_factory=lambda: {"bw": 0.7, "ma": 0.4, "pl": 0.2, "em": 0.1})
    powerline_hz: tuple[float, ...] = (50.0, 60.0)


class RecordingNoise:
    """Draws electrode-level noise for records at one sampling rate."""

    def __init__(self, fs: float, config: NoiseConfig | None = None, bank: NoiseBank | None = None) -> None:
        self.fs = float(fs)
        self.config = config or NoiseConfig()
        self.bank = bank or NoiseBank(kinds=("bw", "ma"), fs=self.fs, split="all")

    def electrode_noise(self, kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """Unit-scale noise (9, n) of one kind."""
        if kind in ("bw", "ma"):
            return self.bank.sample(kind, n, len(ELECTRODES), rng)
        t = np.arange(n) / self.fs
        if kind == "pl":
            f = float(rng.choice([f for f in self.config.powerline_hz if 2 * f < self.fs] or [0.0]))
            if f == 0.0:
                return np.zeros((len(ELECTRODES), n), dtype=np.float32)
            phase = rng.uniform(0, 2 * np.pi, size=(len(ELECTRODES), 1))
            amp = rng.uniform(0.5, 1.0, size=(len(ELECTRODES), 1))
            return (amp * np.sin(2 * np.pi * f * t[None] + phase)).astype(np.float32)
        if kind == "em":
            out = np.zeros((len(ELECTRODES), n), dtype=np.float32)
            for _ in range(int(rng.integers(1, 4))):
                e, start = int(rng.integers(len(ELECTRODES))), int(rng.integers(n))
                tau = rng.uniform(0.2, 1.0) * self.fs
                step = rng.choice([-1.0, 1.0]) * np.exp(-np.arange(n - start) / tau)
                out[e, start:] += step.astype(np.float32)
            return out
        raise ValueError(f"unknown noise kind {kind!r}")

    def __call__(self, signal: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
        """Noisy copy of a (12, n) ``LEADS_12`` signal and what was added (types, SNR in dB)."""
        n = signal.shape[-1]
        kinds = [k for k, p in self.config.p.items() if rng.random() < p]
        info: dict[str, Any] = {"noise": ";".join(kinds), "snr_db": np.nan}
        if not kinds:
            return signal.astype(np.float32), info
        e = np.zeros((len(ELECTRODES), n), dtype=np.float64)
        for k in kinds:
            part = self.electrode_noise(k, n, rng).astype(np.float64)
            leads = leads_from_electrodes(part)
            power = float(np.mean(np.var(leads, axis=-1)))
            if power > 0:
                e += part * rng.uniform(0.5, 1.0) / np.sqrt(power)
        noise = leads_from_electrodes(e)
        snr = float(rng.uniform(*self.config.snr_db))
        p_sig = float(np.mean(np.var(signal.astype(np.float64), axis=-1)))
        p_noise = float(np.mean(np.var(noise, axis=-1)))
        gain = np.sqrt(p_sig / (p_noise * 10 ** (snr / 10))) if p_noise > 0 else 0.0
        info["snr_db"] = round(snr, 2)
        return (signal.astype(np.float64) + gain * noise).astype(np.float32), info
