"""The ``evaluate`` section of a classifier run (AnyECG-CCTA's clinical evaluation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EvaluateConfig:
    """What ``cardiofm evaluate`` computes beyond discrimination; every key optional.

    ``thresholds``: risk threshold per label code (``default_threshold`` otherwise); ``trend``: code -> ordinal
    grade column (Spearman trend); ``survival``: ``{time, event, horizon_days}`` columns (Kaplan-Meier);
    ``subgroups``: column -> ``{cuts: [...]}`` or ``category`` (forest plot); ``normal_ecg``: ``{task, code}`` of
    the normal-ECG label; ``beats`` / ``attribution``: settings of the explanations; ``sets``: which prediction
    sets to evaluate (``internal``, ``test``); ``n_boot``: bootstrap resamples of every CI; ``bootstrap_rule``:
    ``strodthoff`` (a resample is kept if every scored class has a positive; a class without a negative in a
    resample is skipped there, Strodthoff et al. 2021) or ``strict`` (both labels of every scored class, redrawn
    otherwise); ``min_positives`` / ``min_negatives``: a class with fewer in a prediction set is reported as not
    scored (left out of macro averages and of the per-task analyses).
    """

    thresholds: dict[str, float] = field(default_factory=dict)
    default_threshold: float = 0.5
    trend: dict[str, str] = field(default_factory=dict)
    survival: dict[str, Any] | None = None
    subgroups: dict[str, Any] = field(default_factory=dict)
    normal_ecg: dict[str, Any] | None = None
    beats: dict[str, Any] = field(default_factory=dict)
    attribution: dict[str, Any] = field(default_factory=dict)
    sets: list[str] = field(default_factory=lambda: ["internal", "test"])
    n_boot: int = 1000
    bootstrap_rule: str = "strodthoff"
    min_positives: int = 2
    min_negatives: int = 2
