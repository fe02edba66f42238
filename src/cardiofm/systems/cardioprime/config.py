"""CardioPRIME's typed config section ``evaluate``: the held-out analysis."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CardioPrimeEvaluate:
    """Settings of the analysis written after training (clustering bootstrap)."""

    n_boot: int = 1000  # bootstrap resamples of the clustering metrics' CIs
