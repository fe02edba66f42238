"""The report of a run whose analysis is its metrics and plots: ``report.html`` with both, and the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_summary_report(run: Any, cfg: Any, title: str) -> Path:
    """``<run>/report.html``: ``title``, the run's ``metrics.json``, every plot of ``<run>/plots`` (and its
    subfolders) inlined, and the config; escaped and self-contained (:mod:`cardiofm.report.html`)."""
    from cardiofm.report.html import write_report

    return write_report(run.path / "report.html", f"{title}: {run.path.name}", cfg.to_dict(), run.metrics(),
                        sorted(run.plots.rglob("*.png")))
