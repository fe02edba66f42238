"""Explanation figures (AnyECG-CCTA Figure 8 and attribution maps), built without pyplot (Agg).

* :func:`plot_group_beats`: risk-group average beats, mean +- SD per group in a multi-lead grid.
* :func:`plot_attribution`: one ECG with its attribution as a heat band behind each lead's trace and a
  per-lead importance bar.
* :func:`plot_beat_attribution`: the average beat with the beat-aligned attribution behind it.

Twelve standard leads are drawn in the clinical 3x4 arrangement (columns I-III, aVR-aVF, V1-V3,
V4-V6) or, for the strip view, top to bottom in the canonical order; any other set of leads is drawn
in its own order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from cardiofm.errors import ConfigError
from cardiofm.explain.beats import HIGH, LOW, GroupBeats
from cardiofm.report.plots import GRID_3X4, SAVE_FORMATS
from cardiofm.signal.record import LEADS_12, normalise_lead_names

GROUP_COLORS = {HIGH: "#d62728", LOW: "#1f77b4"}  # red high risk, blue low risk, as in the paper
LEFT_IN = 0.75  # room for the y label left of the panels
_OTHER_COLORS = ("#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _check_out(out: str | Path | None, dpi: float) -> None:
    if not isinstance(dpi, int | float) or not math.isfinite(dpi) or dpi <= 0:
        raise ConfigError(f"dpi must be a positive number, got {dpi!r}")
    if out is not None and Path(out).suffix.lower() not in SAVE_FORMATS:
        raise ConfigError(f"out: cannot save {str(out)!r}; use a file name ending in {', '.join(SAVE_FORMATS)}")


def _save(fig: Figure, out: str | Path | None, dpi: float) -> Figure:
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, facecolor="white")
    return fig


def _grid(leads: Sequence[str]) -> list[list[str | None]]:
    """Panel layout: the clinical 3x4 grid for the standard 12 leads, else rows of up to 4 in order."""
    if set(LEADS_12) <= set(leads) and len(leads) == 12:
        return [list(row) for row in GRID_3X4]
    cols = min(4, len(leads))
    rows = math.ceil(len(leads) / cols)
    flat: list[str | None] = list(leads) + [None] * (rows * cols - len(leads))
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


def _panels(fig: Figure, leads: Sequence[str], top_in: float, bottom_in: float, sharey: bool) -> dict[str, Axes]:
    """One axes per lead (``_grid`` layout) between ``top_in`` and ``bottom_in`` inches from the edges."""
    layout = _grid(leads)
    rows, cols = len(layout), len(layout[0])
    w, h = fig.get_figwidth(), fig.get_figheight()
    gs = fig.add_gridspec(rows, cols, left=LEFT_IN / w, right=1 - 0.2 / w, bottom=bottom_in / h, top=1 - top_in / h,
                          hspace=0.28, wspace=0.12)
    axes: dict[str, Axes] = {}
    first: Axes | None = None
    for r, row in enumerate(layout):
        for c, name in enumerate(row):
            if name is None:
                continue
            ax = fig.add_subplot(gs[r, c], sharex=first, sharey=first if sharey else None)
            first = first or ax
            axes[name] = ax
            ax.text(0.02, 0.95, name, transform=ax.transAxes, ha="left", va="top", fontsize=10,
                    fontweight="bold")
            ax.axvline(0.0, color="0.55", lw=0.7, ls="--", zorder=1)
            ax.grid(True, color="0.92", lw=0.6)
            ax.tick_params(labelsize=8)
            last_row = r == rows - 1 or layout[r + 1][c] is None
            if not last_row:
                ax.tick_params(labelbottom=False)
            else:
                ax.set_xlabel("time from R peak (ms)", fontsize=8)
            if c > 0 and sharey:
                ax.tick_params(labelleft=False)
    return axes


def _group_color(group: str, k: int) -> str:
    return GROUP_COLORS.get(group, _OTHER_COLORS[k % len(_OTHER_COLORS)])


def plot_group_beats(gb: GroupBeats, out: str | Path | None = None, *, title: str | None = None,
                     task: str | None = None, groups: Sequence[str] | None = None, sd: bool = True,
                     sharey: bool = True, dpi: float = 150) -> Figure:
    """Figure 8 of AnyECG-CCTA: each group's mean beat +- 1 SD across records, one panel per lead.

    Args:
        gb: the result of :func:`cardiofm.explain.beats.group_average_beats`.
        out: save the figure there (``.png``, ``.pdf`` or ``.svg``).
        title: the figure title (default "Average heartbeat by predicted risk", plus ``task``).
        task: the task or vessel named in the default title (e.g. ``"LAD stenosis"``).
        groups: the groups to draw, in order (default all of ``gb.groups``); empty groups are skipped.
        sd: draw the SD bands.
        sharey: one amplitude scale for all panels.
        dpi: resolution.

    High risk is red and low risk blue (as in the paper); the legend gives each group's records.
    """
    _check_out(out, dpi)
    chosen = tuple(gb.groups if groups is None else groups)
    unknown = [g for g in chosen if g not in gb.groups]
    if unknown:
        raise ConfigError(f"unknown group(s) {', '.join(map(str, unknown))}; groups are {', '.join(gb.groups)}")
    layout = _grid(gb.leads)
    drawn = [g for g in chosen if gb.n_records[g] > 0]
    stacked = len(layout[0]) < 3  # narrow figure: one legend entry per line
    legend_in = 0.25 * len(drawn) if stacked else 0.25
    fig = Figure(figsize=(max(3.3 * len(layout[0]) + 0.9, 7.5), 2.3 * len(layout) + 1.25 + legend_in), dpi=dpi,
                 facecolor="white")
    w, h = fig.get_figwidth(), fig.get_figheight()
    axes = _panels(fig, gb.leads, 0.5 + legend_in, 0.75, sharey)
    t_ms = gb.time_s * 1000.0
    handles: list[Any] = []
    labels: list[str] = []
    for g in drawn:
        color = _group_color(g, chosen.index(g))
        for i, lead in enumerate(gb.leads):
            ax = axes[lead]
            m, s = gb.mean[g][i], gb.sd[g][i]
            if sd and np.isfinite(s).any():
                ax.fill_between(t_ms, m - s, m + s, color=color, alpha=0.18, lw=0, zorder=2)
            ax.plot(t_ms, m, color=color, lw=1.4, zorder=3, label=g)
        line = Line2D([], [], color=color, lw=2)
        handles.append((Patch(color=color, alpha=0.25, lw=0), line) if sd else line)
        labels.append(f"{g}: n = {gb.n_records[g]:,} records ({gb.n_beats[g]:,} beats)")
    first = next(iter(axes.values()))
    first.set_xlim(t_ms[0], t_ms[-1])
    unit = {"beat": "z-score (per beat)", "record": "z-score (per record)"}.get(gb.zscore or "", "mV")
    for name, ax in axes.items():
        if name in [row[0] for row in layout]:
            ax.set_ylabel(unit, fontsize=8)
    heading = title or ("Average heartbeat by predicted risk" + (f": {task}" if task else ""))
    fig.text(LEFT_IN / w, 1 - 0.15 / h, heading, ha="left", va="top", fontsize=13, fontweight="bold")
    if handles:
        fig.legend(handles=handles, labels=labels, loc="upper left",
                   bbox_to_anchor=(LEFT_IN / w - 0.01, 1 - 0.42 / h), ncol=1 if stacked else len(handles),
                   borderaxespad=0.0, labelspacing=0.3, fontsize=9, frameon=False, handlelength=2.5,
                   handler_map={tuple: HandlerTuple(ndivide=None)})
    band = "mean ± 1 SD" if sd else "mean"
    note = (f"{band} across records of each record's {gb.record_average} beat; R peaks on lead {gb.rpeak_lead}"
            f" (0 ms)" + ("; dropped (no beats): " + ", ".join(f"{g} {gb.dropped[g]}" for g in chosen)
                          if any(gb.dropped[g] for g in chosen) else ""))
    fig.text(LEFT_IN / w, 0.1 / h, note, ha="left", va="bottom", fontsize=8.5, color="0.35", wrap=True)
    return _save(fig, out, dpi)


def _as_2d(a: Any, name: str) -> np.ndarray:
    try:
        v = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a numeric (leads, samples) array, got {type(a).__name__}") from None
    if v.ndim == 1:
        v = v[None]
    if v.ndim != 2 or v.shape[-1] < 2:
        raise ConfigError(f"{name} must be one record (leads, samples), got shape {v.shape}")
    return v


def plot_attribution(x: Any, attr: Any, fs: float, leads: Sequence[str], out: str | Path | None = None, *,
                     title: str | None = None, smoothing_s: float = 0.04, signed: bool = False,
                     max_seconds: float = 10.0, dpi: float = 150) -> Figure:
    """One ECG with its attribution: a heat band behind each lead's trace and each lead's share as a bar.

    Args:
        x: the record ``(leads, samples)`` (as given to the model, or the raw ECG it came from).
        attr: attributions of the same shape (e.g. from :func:`cardiofm.explain.integrated_gradients`).
        fs: sampling rate (Hz).
        leads: lead names; the standard 12 are drawn in the canonical order, others as given.
        out: save the figure there (``.png``, ``.pdf`` or ``.svg``).
        title: figure title.
        smoothing_s: moving average applied to the attribution band (s).
        signed: colour signed attributions (red positive, blue negative) instead of ``|attr|``.
        max_seconds: draw at most this many seconds.
        dpi: resolution.

    The band colour is scaled to the largest smoothed attribution of the record over all leads, so
    leads can be compared; the bar is :func:`cardiofm.explain.lead_importance` (over the whole record).
    """
    from scipy.ndimage import uniform_filter1d

    from cardiofm.explain.attribution import lead_importance

    _check_out(out, dpi)
    sig, att = _as_2d(x, "x"), _as_2d(attr, "attr")
    if sig.shape != att.shape:
        raise ConfigError(f"x {sig.shape} and attr {att.shape} must have the same shape")
    if not (np.isfinite(sig).all() and np.isfinite(att).all()):
        raise ConfigError("x and attr must be finite (no NaN/Inf)")
    names = normalise_lead_names(leads, path="<leads>")
    if len(names) != sig.shape[0]:
        raise ConfigError(f"leads names {len(names)} leads but x has {sig.shape[0]}")
    if not isinstance(fs, int | float) or not math.isfinite(fs) or fs <= 0:
        raise ConfigError(f"fs must be a positive sampling rate in Hz, got {fs!r}")
    order = [names.index(n) for n in LEADS_12] if set(LEADS_12) <= set(names) and len(names) == 12 \
        else list(range(len(names)))
    n_show = min(sig.shape[1], max(2, int(round(max_seconds * fs))))
    share = lead_importance(att)
    band = att if signed else np.abs(att)
    width = int(round(smoothing_s * fs))
    if width > 1:
        band = uniform_filter1d(band, size=width, axis=-1, mode="nearest")
    band = band[:, :n_show]
    scale = float(np.abs(band).max()) or 1.0
    cmap, vmin = ("RdBu_r", -scale) if signed else ("Reds", 0.0)
    t = np.arange(n_show) / fs

    n = len(order)
    row_in = 0.62 if n > 1 else 1.6
    fig = Figure(figsize=(14, row_in * n + 1.7), dpi=dpi, facecolor="white")
    h = fig.get_figheight()
    gs = fig.add_gridspec(n, 2, width_ratios=(6.0, 1.0), left=0.05, right=0.98, top=1 - 0.95 / h,
                          bottom=0.75 / h, hspace=0.0, wspace=0.04)
    image = None
    first: Axes | None = None
    for r, k in enumerate(order):
        ax = fig.add_subplot(gs[r, 0], sharex=first)
        first = first or ax
        y = sig[k, :n_show] - np.median(sig[k, :n_show])
        lo, hi = float(y.min()), float(y.max())
        pad = 0.1 * (hi - lo) or 0.5
        image = ax.imshow(band[k][None, :], aspect="auto", cmap=cmap, vmin=vmin, vmax=scale,
                          extent=(t[0], t[-1], lo - pad, hi + pad), interpolation="nearest", zorder=0)
        ax.plot(t, y, color="black", lw=0.7, zorder=2)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_yticks([])
        ax.set_ylabel(names[k], rotation=0, ha="right", va="center", fontsize=9, fontweight="bold")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if r < n - 1:
            ax.tick_params(labelbottom=False, bottom=False)
        else:
            ax.set_xlabel("time (s)", fontsize=9)
            ax.tick_params(labelsize=8)
    bar = fig.add_subplot(gs[:, 1])
    pos = np.arange(n)
    bar.barh(pos, share[order] * 100.0, color="#c0392b", height=0.6)
    bar.set_ylim(n - 0.5, -0.5)
    bar.set_xlim(0.0, max(110.0 * float(share.max()), 1.0))
    bar.set_yticks(pos, [names[k] for k in order], fontsize=8)
    bar.set_xlabel("share of |attribution| (%)", fontsize=8)
    bar.tick_params(labelsize=8)
    bar.grid(True, axis="x", color="0.9")
    bar.set_axisbelow(True)
    for side in ("top", "right"):
        bar.spines[side].set_visible(False)
    if image is not None:
        cax = fig.add_axes((0.62, 1 - 0.56 / h, 0.2, 0.12 / h))
        cb = fig.colorbar(image, cax=cax, orientation="horizontal")
        cb.locator = MaxNLocator(4)
        cb.update_ticks()
        cb.ax.tick_params(labelsize=7)
        cb.set_label(("attribution" if signed else "|attribution|") + f" ({smoothing_s * 1000:g} ms average)",
                     fontsize=8)
        cb.ax.xaxis.set_label_position("top")
    fig.text(0.05, 1 - 0.2 / h, title or "Attribution per lead and time", ha="left", va="top", fontsize=12,
             fontweight="bold")
    return _save(fig, out, dpi)


def plot_beat_attribution(ba: Any, out: str | Path | None = None, *, title: str | None = None,
                          dpi: float = 150) -> Figure:
    """The average beat of :func:`cardiofm.explain.beat_aligned_attribution` with its attribution behind it.

    One panel per lead (the 3x4 grid for 12 leads); the colour band is the mean attribution per window
    sample, on one scale for all leads.
    """
    _check_out(out, dpi)
    layout = _grid(ba.leads)
    fig = Figure(figsize=(3.3 * len(layout[0]) + 0.6, 2.3 * len(layout) + 1.4), dpi=dpi, facecolor="white")
    axes = _panels(fig, ba.leads, 0.85, 0.6, sharey=True)
    t_ms = ba.time_s * 1000.0
    att = np.nan_to_num(np.abs(ba.attribution) if ba.absolute else ba.attribution)
    scale = float(np.abs(att).max()) or 1.0
    cmap, vmin = ("Reds", 0.0) if ba.absolute else ("RdBu_r", -scale)
    finite = ba.beat[np.isfinite(ba.beat)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    pad = 0.1 * (hi - lo) or 0.5
    image = None
    for i, lead in enumerate(ba.leads):
        ax = axes[lead]
        image = ax.imshow(att[i][None, :], aspect="auto", cmap=cmap, vmin=vmin, vmax=scale,
                          extent=(t_ms[0], t_ms[-1], lo - pad, hi + pad), interpolation="nearest", zorder=0)
        ax.plot(t_ms, ba.beat[i], color="black", lw=1.2, zorder=3)
        ax.set_ylim(lo - pad, hi + pad)
        if lead in [row[0] for row in layout]:
            ax.set_ylabel("z-score" if ba.zscore else "input units", fontsize=8)
    h = fig.get_figheight()
    if image is not None:
        cax = fig.add_axes((0.72, 1 - 0.5 / h, 0.2, 0.1 / h))
        cb = fig.colorbar(image, cax=cax, orientation="horizontal", ticks=MaxNLocator(4))
        cb.set_label("mean attribution per sample", fontsize=8)
        cax.xaxis.set_label_position("top")
        cax.tick_params(labelsize=7)
    w = fig.get_figwidth()
    fig.text(LEFT_IN / w, 1 - 0.15 / h, title or "Attribution over the average heartbeat", ha="left", va="top",
             fontsize=13, fontweight="bold")
    fig.text(LEFT_IN / w, 1 - 0.45 / h, f"{ba.n_records:,} records, {ba.n_beats:,} beats", ha="left", va="top",
             fontsize=8.5, color="0.3")
    return _save(fig, out, dpi)


__all__ = ["GROUP_COLORS", "plot_attribution", "plot_beat_attribution", "plot_group_beats"]
