"""ECG printouts in the clinical paper layout, drawn at true scale with matplotlib (Agg, no window).

The figure is sized so that 1 mm of paper is 1 mm of the figure: at the default settings 25 mm per
second horizontally and 10 mm per mV vertically, on a 1 mm / 5 mm pink grid. The axes' data units
are seconds (x) and millivolts (y), so ``ax.transData`` maps 1 mV to ``gain_mm_mv`` mm of paper.
Row ``r`` (from the top) has its baseline at ``-(r + 0.5) * ROW_MV`` mV; each trace is a line labelled
with its lead name, drawn at its time on the page (column ``c`` of ``3x4+rhythm`` starts at ``c * T/4``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cardiofm.errors import ConfigError, LeadError, RecordError
from cardiofm.signal.record import LEADS_12, ECGRecord, normalise_lead_name

LAYOUTS: tuple[str, ...] = ("3x4+rhythm", "12x1")
GRID_3X4: tuple[tuple[str, ...], ...] = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"),
                                         ("III", "aVF", "V3", "V6"))
SAVE_FORMATS: tuple[str, ...] = (".png", ".pdf", ".svg")

MAX_SECONDS = 10.0   # a page shows at most the first 10 s
ROW_MV = 3.0         # height of one row (30 mm at 10 mm/mV), baseline in the middle; traces clip to it
CAL_S = 0.4          # calibration zone at the start of each row: 0.1 s flat, 0.2 s at 1 mV, 0.1 s flat
MARGIN_MM = 5.0      # white border left, right and below the paper
HEADER_MM = 12.0     # white band above the paper for the text header
MM_PER_INCH = 25.4

PAPER_COLOR = "#fff7f7"
MINOR_COLOR = "#f7c6c6"
MAJOR_COLOR = "#e58a8a"
TRACE_COLOR = "black"
TRACE_LW = 0.6


def paper_size_mm(seconds: float, n_rows: int, speed_mm_s: float = 25.0,
                  gain_mm_mv: float = 10.0) -> tuple[float, float]:
    """Figure (width, height) in mm for ``seconds`` of trace per row and ``n_rows`` rows."""
    width = 2 * MARGIN_MM + (CAL_S + seconds) * speed_mm_s
    height = HEADER_MM + n_rows * ROW_MV * gain_mm_mv + MARGIN_MM
    return width, height


def plot_ecg(record: ECGRecord, out: str | Path | None = None, *, layout: str = "3x4+rhythm",
             rhythm_lead: str = "II", speed_mm_s: float = 25.0, gain_mm_mv: float = 10.0,
             title: str | None = None, dpi: float = 150) -> Figure:
    """Draw ``record`` as a clinical ECG printout on true-scale paper.

    Args:
        record: the recording; at most its first 10 s are drawn.
        out: if given, the figure is saved there (``.png``, ``.pdf`` or ``.svg``; parent folders are
            created).
        layout: ``"3x4+rhythm"`` (rows I/aVR/V1/V4, II/aVL/V2/V5, III/aVF/V3/V6, each column a
            consecutive quarter of the page, plus a full-width strip of ``rhythm_lead``) or
            ``"12x1"`` (each lead full width on its own row). A record without all 12 standard leads
            is drawn one row per lead whatever the layout.
        rhythm_lead: lead of the rhythm strip (``"3x4+rhythm"`` only).
        speed_mm_s: paper speed, mm per second.
        gain_mm_mv: amplitude scale, mm per mV.
        title: replaces the record id as the header's first line.
        dpi: resolution of the figure and of saved raster images.

    Each lead's median over the shown window is subtracted (its DC offset) so that it sits on its
    row's baseline; no other filtering is done. Traces are clipped to their row.

    Returns:
        The figure. It is built without pyplot, so it holds no GUI or global state and needs no
        ``plt.close``: it is freed when dropped (after saving, when ``out`` is given).

    Raises:
        ConfigError: unknown layout, unsupported file suffix, or a non-positive speed/gain/dpi.
        LeadError: ``rhythm_lead`` is not in the record.
        RecordError: the record has no samples or no leads.
    """
    _check_options(layout, speed_mm_s, gain_mm_mv, dpi, out)
    where = record.path or record.record_id
    if record.n_samples == 0 or record.n_leads == 0:
        raise RecordError(where, f"nothing to plot: signal has shape {record.signal.shape}")
    seconds = min(record.duration, MAX_SECONDS)
    n_shown = min(record.n_samples, max(1, round(seconds * record.fs)))
    sig = record.signal[:, :n_shown].astype(np.float64)
    sig = sig - np.median(sig, axis=1, keepdims=True)  # DC offset only; the row baseline is the median

    has_12 = all(name in record.leads for name in LEADS_12)
    if layout == "3x4+rhythm" and has_12:
        rhythm = normalise_lead_name(rhythm_lead)
        if rhythm not in record.leads:
            raise LeadError(where, f"rhythm lead {rhythm_lead!r} is not in the record "
                                   f"(it has {', '.join(record.leads)}); pass rhythm_lead= one of them")
        col = seconds / 4
        rows: list[list[tuple[str, float, float]]] = [
            [(name, c * col, (c + 1) * col) for c, name in enumerate(row)] for row in GRID_3X4]
        rows.append([(rhythm, 0.0, seconds)])
    else:
        names: Sequence[str] = LEADS_12 if has_12 else record.leads
        rows = [[(name, 0.0, seconds)] for name in names]

    width_mm, height_mm = paper_size_mm(seconds, len(rows), speed_mm_s, gain_mm_mv)
    fig = Figure(figsize=(width_mm / MM_PER_INCH, height_mm / MM_PER_INCH), dpi=dpi, facecolor="white")
    ax = fig.add_axes((MARGIN_MM / width_mm, MARGIN_MM / height_mm, 1 - 2 * MARGIN_MM / width_mm,
                       len(rows) * ROW_MV * gain_mm_mv / height_mm), gid="ecg-paper")
    ax.set_xlim(-CAL_S, seconds)
    ax.set_ylim(-len(rows) * ROW_MV, 0.0)
    ax.set_axis_off()
    _draw_grid(ax, seconds, len(rows), speed_mm_s, gain_mm_mv)

    index = {name: i for i, name in enumerate(record.leads)}
    for r, row in enumerate(rows):
        baseline = -(r + 0.5) * ROW_MV
        band = Rectangle((-CAL_S, -(r + 1) * ROW_MV), CAL_S + seconds, ROW_MV, transform=ax.transData)
        ax.plot([-CAL_S, -0.3, -0.3, -0.1, -0.1, 0.0], baseline + np.array([0, 0, 1, 1, 0, 0]),
                color=TRACE_COLOR, lw=TRACE_LW * 1.3, solid_joinstyle="miter", clip_path=band,
                label="_calibration")
        for c, (name, t0, t1) in enumerate(row):
            a, b = round(t0 * record.fs), min(round(t1 * record.fs), n_shown)
            x = np.arange(a, b) / record.fs
            ax.plot(x, baseline + sig[index[name], a:b], color=TRACE_COLOR, lw=TRACE_LW, clip_path=band,
                    label=name)
            ax.text(t0 + 1.5 / speed_mm_s, -r * ROW_MV - 1.5 / gain_mm_mv, name, ha="left", va="top",
                    fontsize=8, fontweight="bold", zorder=4)
            if c > 0:  # separator tick where the column (lead) changes
                ax.plot([t0, t0], [baseline - 2.5 / gain_mm_mv, baseline + 2.5 / gain_mm_mv],
                        color=TRACE_COLOR, lw=1.0, label="_separator")
    _draw_header(fig, record, title, seconds, speed_mm_s, gain_mm_mv, width_mm, height_mm)

    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, facecolor=fig.get_facecolor())
    return fig


def _check_options(layout: str, speed: float, gain: float, dpi: float, out: str | Path | None) -> None:
    if layout not in LAYOUTS:
        raise ConfigError(f"layout: unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    for field, value in (("speed_mm_s", speed), ("gain_mm_mv", gain), ("dpi", dpi)):
        if not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise ConfigError(f"{field}: must be a positive number, got {value!r}")
    if out is not None and Path(out).suffix.lower() not in SAVE_FORMATS:
        raise ConfigError(f"out: cannot save {str(out)!r}; use a file name ending in "
                          f"{', '.join(SAVE_FORMATS)}")


def _draw_grid(ax: Axes, seconds: float, n_rows: int, speed: float, gain: float) -> None:
    """Pink paper: 1 mm minor and 5 mm major lines, counted from the top-left corner."""
    width_mm, height_mm = (CAL_S + seconds) * speed, n_rows * ROW_MV * gain
    ax.add_patch(Rectangle((-CAL_S, -height_mm / gain), CAL_S + seconds, height_mm / gain,
                           facecolor=PAPER_COLOR, edgecolor="none", zorder=0))
    minor: list[list[tuple[float, float]]] = []
    major: list[list[tuple[float, float]]] = []
    x0, x1, y0 = -CAL_S, seconds, -height_mm / gain
    for k in range(int(math.floor(width_mm + 1e-6)) + 1):
        x = x0 + k / speed
        (major if k % 5 == 0 else minor).append([(x, y0), (x, 0.0)])
    for k in range(int(math.floor(height_mm + 1e-6)) + 1):
        y = -k / gain
        (major if k % 5 == 0 else minor).append([(x0, y), (x1, y)])
    ax.add_collection(LineCollection(minor, colors=MINOR_COLOR, linewidths=0.3, zorder=1))
    ax.add_collection(LineCollection(major, colors=MAJOR_COLOR, linewidths=0.6, zorder=1))


def _describe_patient(meta: dict[str, Any]) -> list[str]:
    parts = []
    age = meta.get("age")
    if meta.get("age_over_89") is True:
        parts.append("age >89")
    elif isinstance(age, int | float | str) and str(age).strip() not in ("", "nan", "NaN"):
        try:
            parts.append(f"age {float(age):g}")
        except ValueError:
            parts.append(f"age {age}")
    sex = meta.get("sex")
    if isinstance(sex, str) and sex.strip():
        parts.append({"m": "male", "f": "female"}.get(sex.strip().lower(), sex.strip()))
    return parts


def _draw_header(fig: Figure, record: ECGRecord, title: str | None, seconds: float, speed: float,
                 gain: float, width_mm: float, height_mm: float) -> None:
    details = [] if title is None else [record.record_id]
    if record.patient_id:
        details.append(f"patient {record.patient_id}")
    details += _describe_patient(record.metadata)
    scale = f"{speed:g} mm/s   {gain:g} mm/mV   {record.fs:g} Hz"
    if record.duration > seconds + 1e-9:
        scale += f"   (first {seconds:g} s of {record.duration:g} s)"
    left, right = MARGIN_MM / width_mm, 1 - MARGIN_MM / width_mm
    top = 1 - 2.0 / height_mm
    fig.text(left, top, title or record.record_id, ha="left", va="top", fontsize=9, fontweight="bold")
    fig.text(right, top, scale, ha="right", va="top", fontsize=8)
    if details:
        fig.text(left, top - 4.5 / height_mm, "   ".join(details), ha="left", va="top", fontsize=8)
