"""Explanations of ECG models (AnyECG-CCTA): risk-group average beats and integrated-gradient attributions.

``beats`` needs only NumPy/neurokit2; ``attribution`` imports torch and captum when first used.
"""

from __future__ import annotations

from typing import Any

from cardiofm.explain.beats import FALLBACK_LEADS, GroupBeats, detect_r_peaks, group_average_beats, risk_groups

__all__ = ["FALLBACK_LEADS", "BeatAttribution", "GroupBeats", "beat_aligned_attribution", "detect_r_peaks",
           "group_average_beats", "integrated_gradients", "lead_importance", "risk_groups", "time_importance"]

_LAZY = ("BeatAttribution", "beat_aligned_attribution", "integrated_gradients", "lead_importance", "time_importance")


def __getattr__(name: str) -> Any:
    # Lazy, so importing cardiofm.explain (e.g. for average beats) does not import torch and captum.
    if name in _LAZY:
        from cardiofm.explain import attribution

        return getattr(attribution, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
