"""Reports: ECG printouts and result plots (``plots``), HTML run reports (``html``), terminal tables."""

from __future__ import annotations

from typing import Any

__all__ = ["plot_ecg"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing cardiofm.report.html or .tables does not import matplotlib.
    if name == "plot_ecg":
        from cardiofm.report.plots import plot_ecg

        return plot_ecg
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
