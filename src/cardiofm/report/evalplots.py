"""Plots of the clinical evaluation results of :mod:`cardiofm.evaluate` (matplotlib, built without pyplot).

Every function takes one result (one panel) or a mapping ``{task name: result}`` (a grid of panels,
one per task, e.g. the four coronary arteries), returns the ``Figure`` and, given ``out``, saves it
(``.png``, ``.pdf`` or ``.svg``). The figures hold no GUI state and need no ``plt.close``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from cardiofm.errors import ConfigError
from cardiofm.evaluate.calibration import Calibration
from cardiofm.evaluate.classification import RocCurve
from cardiofm.evaluate.decision import DecisionCurve
from cardiofm.evaluate.subgroups import SubgroupRow, SubgroupTable
from cardiofm.evaluate.survival import SurvivalResult
from cardiofm.evaluate.trend import TrendResult
from cardiofm.report.plots import SAVE_FORMATS

RISK_COLORS = {"high": "#d62728", "low": "#1f77b4"}
RATE_STYLE = {"sensitivity": "#d62728", "specificity": "#1f77b4", "ppv": "#2ca02c", "npv": "#9467bd"}


def _panels(results: Any) -> list[tuple[str | None, Any]]:
    if isinstance(results, Mapping):
        if not results:
            raise ConfigError("nothing to plot: the mapping of tasks is empty")
        return [(str(k), v) for k, v in results.items()]
    return [(None, results)]


def _grid_shape(n: int) -> tuple[int, int]:
    ncols = n if n <= 3 else math.ceil(math.sqrt(n))
    return math.ceil(n / ncols), ncols


def _figure(n: int, panel: tuple[float, float]) -> tuple[Figure, int, int]:
    rows, cols = _grid_shape(n)
    fig = Figure(figsize=(panel[0] * cols, panel[1] * rows), layout="constrained", facecolor="white")
    return fig, rows, cols


def _axes_grid(n: int, panel: tuple[float, float]) -> tuple[Figure, list[Axes]]:
    fig, rows, cols = _figure(n, panel)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _finish(fig: Figure, out: str | Path | None, title: str | None, dpi: float) -> Figure:
    if title:
        fig.suptitle(title, fontweight="bold")
    if out is not None:
        path = Path(out)
        if path.suffix.lower() not in SAVE_FORMATS:
            raise ConfigError(f"out: cannot save {str(out)!r}; use a file name ending in {', '.join(SAVE_FORMATS)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, facecolor=fig.get_facecolor())
    return fig


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _ci(lo: float | None, hi: float | None) -> str:
    return "" if lo is None or hi is None or not np.isfinite(lo) else f" ({lo:.3f}–{hi:.3f})"


# --- ROC -------------------------------------------------------------------------------------------

def plot_roc(curves: RocCurve | Sequence[RocCurve] | Mapping[str, RocCurve | Sequence[RocCurve]],
             out: str | Path | None = None, *, title: str | None = None, dpi: float = 150) -> Figure:
    """ROC curves (one line per class) with their bootstrap TPR bands and "AUC (CI)" in the legend.

    A mapping gives one panel per key (e.g. internal / external / normal-ECG validation).
    """
    panels = [(name, [g] if isinstance(g, RocCurve) else list(g)) for name, g in _panels(curves)]
    colors: dict[str, str] = {}  # one colour per class name across panels
    for _, group in panels:
        for c in group:
            colors.setdefault(c.name, f"C{len(colors) % 10}")
    fig, axes = _axes_grid(len(panels), (4.2, 4.2))
    for ax, (name, group) in zip(axes, panels, strict=True):
        for c in group:
            if not c.fpr.size:
                continue
            color = colors[c.name]
            if c.tpr_lower is not None:
                ax.fill_between(c.fpr_grid, c.tpr_lower, c.tpr_upper, color=color, alpha=0.15, lw=0)
            lo, hi = c.auc_ci if c.auc_ci else (None, None)
            ax.plot(c.fpr, c.tpr, color=color, lw=1.6, label=f"{c.name}: AUC {c.auc:.3f}{_ci(lo, hi)}")
        ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=0.8)
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="1 − specificity (FPR)", ylabel="sensitivity (TPR)", aspect="equal")
        ax.legend(loc="lower right", fontsize=7.5, frameon=False)
        if name:
            ax.set_title(name)
    return _finish(fig, out, title, dpi)


# --- calibration -----------------------------------------------------------------------------------

def plot_calibration(results: Calibration | Mapping[str, Calibration], out: str | Path | None = None, *,
                     zoom: bool = True, title: str | None = None, dpi: float = 150) -> Figure:
    """Reliability curve (observed fraction with Wilson CI vs mean predicted, per bin) over a histogram of
    the predictions; Brier score, ECE and calibration slope in the legend.

    With ``zoom`` the axes end just above the largest prediction when all predictions are below 0.5
    (low-prevalence tasks such as the left main artery).
    """
    panels = _panels(results)
    fig, rows, cols = _figure(len(panels), (4.0, 4.6))
    outer = fig.add_gridspec(rows, cols)
    for i, (name, cal) in enumerate(panels):
        inner = outer[i // cols, i % cols].subgridspec(2, 1, height_ratios=[4, 1])
        ax = fig.add_subplot(inner[0])
        hist = fig.add_subplot(inner[1], sharex=ax)
        c = cal.curve
        used = cal.histogram_edges[1:][cal.histogram > 0]
        top = float(used.max()) if used.size else 1.0
        lim = min(1.0, math.ceil(top * 10 - 1e-9) / 10 + 0.05) if zoom and top < 0.5 else 1.0
        ylim = max(lim, min(1.0, float(np.max(c.observed, initial=0)) * 1.08 + 0.01))
        ax.plot([0, lim], [0, lim], ls="--", color="0.6", lw=0.8, label="perfect calibration")
        yerr = np.clip(np.vstack([c.observed - c.observed_lower, c.observed_upper - c.observed]), 0, None)
        label = f"model: Brier {cal.brier:.3f}, ECE {cal.ece:.3f}"
        if cal.fit is not None:
            label += f"\nslope {cal.fit.slope:.2f}, intercept {cal.fit.intercept:.2f}"
        ax.errorbar(c.mean_predicted, c.observed, yerr=yerr, fmt="o-", ms=4, lw=1.2, capsize=2, color="C0",
                    label=label)
        ax.set(xlim=(0, lim), ylim=(0, ylim), ylabel="observed fraction")
        ax.tick_params(labelbottom=False)
        ax.legend(loc="upper left", fontsize=7.5, frameon=False)
        if name:
            ax.set_title(name)
        widths = np.diff(cal.histogram_edges)
        hist.bar(cal.histogram_edges[:-1], cal.histogram, width=widths, align="edge", color="0.55")
        hist.set(xlabel="predicted probability", ylabel="count")
        hist.set_xlim(0, lim)
    return _finish(fig, out, title, dpi)


# --- trend -----------------------------------------------------------------------------------------

def plot_trend(results: TrendResult | Mapping[str, TrendResult], out: str | Path | None = None, *,
               ylabel: str = "predicted probability", title: str | None = None, dpi: float = 150) -> Figure:
    """Box plot of the predictions per ordinal grade (n under each box) with Spearman rho and p."""
    panels = _panels(results)
    fig, axes = _axes_grid(len(panels), (4.2, 3.8))
    for ax, (name, tr) in zip(axes, panels, strict=True):
        stats = [{"med": g.med, "q1": g.q1, "q3": g.q3, "whislo": g.whislo, "whishi": g.whishi,
                  "fliers": g.fliers, "mean": g.mean, "label": f"{g.label}\n(n={g.n})"} for g in tr.grades]
        ax.bxp(stats, showfliers=True, patch_artist=True, widths=0.6,
               boxprops={"facecolor": "#c6dbef", "edgecolor": "#08519c"}, medianprops={"color": "#08519c"},
               flierprops={"marker": ".", "markersize": 2, "alpha": 0.4, "markeredgecolor": "0.4"})
        ax.text(0.03, 0.97, f"Spearman ρ = {tr.rho:.3f}, {_fmt_p(tr.p_value)}", transform=ax.transAxes,
                ha="left", va="top", fontsize=8.5, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        ax.set_ylabel(ylabel)
        ax.tick_params(axis="x", labelsize=8)
        if name:
            ax.set_title(name)
    return _finish(fig, out, title, dpi)


# --- decision curves -------------------------------------------------------------------------------

def plot_decision_curve(curves: DecisionCurve | Mapping[str, DecisionCurve], out: str | Path | None = None, *,
                        xlim: tuple[float, float] | None = None, title: str | None = None,
                        dpi: float = 150) -> Figure:
    """Net benefit of the model, treat-all and treat-none over the threshold probability."""
    panels = _panels(curves)
    fig, axes = _axes_grid(len(panels), (4.2, 3.6))
    for ax, (name, dc) in zip(axes, panels, strict=True):
        ax.plot(dc.thresholds, dc.net_benefit, color="C3", lw=1.8, label="model")
        ax.plot(dc.thresholds, dc.treat_all, color="0.35", lw=1.0, label="treat all")
        ax.plot(dc.thresholds, dc.treat_none, color="0.0", lw=1.0, ls="--", label="treat none")
        top = max(dc.prevalence, float(np.nanmax(dc.net_benefit, initial=0)))
        ax.set_ylim(-max(0.2 * top, 0.005), top * 1.15 + 1e-3)
        ax.set_xlim(*(xlim or (float(dc.thresholds.min()), float(dc.thresholds.max()))))
        ax.set(xlabel="threshold probability", ylabel="net benefit")
        ax.legend(fontsize=8, frameon=False, loc="upper right")
        ax.set_title(f"{name}  (prevalence {dc.prevalence:.1%})" if name else f"prevalence {dc.prevalence:.1%}",
                     fontsize=10)
    return _finish(fig, out, title, dpi)


# --- Kaplan-Meier ----------------------------------------------------------------------------------

def plot_kaplan_meier(results: SurvivalResult | Mapping[str, SurvivalResult], out: str | Path | None = None, *,
                      time_label: str = "days since ECG", ylabel: str = "cumulative incidence",
                      title: str | None = None, dpi: float = 150) -> Figure:
    """Cumulative incidence (1 − KM survival) per group with CI bands, log-rank p, and a number-at-risk
    table under each panel. Groups named ``high`` / ``low`` are drawn red / blue."""
    panels = _panels(results)
    fig, rows, cols = _figure(len(panels), (4.6, 4.4))
    outer = fig.add_gridspec(rows, cols)
    for i, (name, res) in enumerate(panels):
        n_groups = len(res.groups)
        inner = outer[i // cols, i % cols].subgridspec(2, 1, height_ratios=[4, 0.55 + 0.3 * n_groups])
        ax = fig.add_subplot(inner[0])
        table = fig.add_subplot(inner[1], sharex=ax)
        top = 0.0
        for j, g in enumerate(res.groups):
            color = RISK_COLORS.get(g.label.lower(), f"C{j}")
            ax.fill_between(g.timeline, g.ci_lower, g.ci_upper, step="post", color=color, alpha=0.15, lw=0)
            ax.step(g.timeline, g.cumulative_incidence, where="post", color=color, lw=1.6,
                    label=f"{g.label} (n={g.n}, events={g.n_events})")
            top = max(top, float(np.max(g.ci_upper, initial=0)))
        end = float(res.horizon) if res.horizon is not None else float(max(g.timeline.max() for g in res.groups))
        ax.set(xlim=(-0.04 * end, 1.04 * end), ylim=(0, min(1.0, top * 1.1 + 1e-3)), ylabel=ylabel)
        ax.tick_params(labelbottom=False)
        ax.legend(loc="upper left", fontsize=7.5, frameon=False)
        ax.text(0.97, 0.03, f"log-rank {_fmt_p(res.logrank_p)}", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=8.5)
        if name:
            ax.set_title(name)
        _at_risk_table(table, res, time_label)
    return _finish(fig, out, title, dpi)


def _at_risk_table(ax: Axes, res: SurvivalResult, time_label: str) -> None:
    n = len(res.groups)
    for j, g in enumerate(res.groups):
        color = RISK_COLORS.get(g.label.lower(), f"C{j}")
        for t, count in zip(res.at_risk_times, g.at_risk, strict=True):
            ax.text(t, n - 1 - j, str(int(count)), ha="center", va="center", fontsize=7.5, color=color)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(range(n), [g.label for g in reversed(res.groups)], fontsize=7.5)
    ax.set_xticks(res.at_risk_times)
    ax.tick_params(axis="y", length=0, pad=12)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(time_label)
    ax.set_title("number at risk", fontsize=7.5, loc="left", pad=2)


# --- forest ----------------------------------------------------------------------------------------

def plot_forest(tables: SubgroupTable | Mapping[str, SubgroupTable], out: str | Path | None = None, *,
                title: str | None = None, dpi: float = 150) -> Figure:
    """Forest plot: AUROC and CI per subgroup grouped by variable, with n (positives) and "AUC (CI)" in
    columns on the right and a dashed line at the overall AUROC (dotted: chance, 0.5)."""
    panels = _panels(tables)
    n_lines = max(len(t.rows) + len({r.variable for r in t.rows}) + 2 for _, t in panels)
    fig, rows, cols = _figure(len(panels), (7.5, 0.6 + 0.24 * n_lines))
    subfigs = fig.subfigures(rows, cols, squeeze=False).ravel()
    for sub, (name, table) in zip(subfigs, panels, strict=False):
        labels, ax, numbers = sub.subplots(1, 3, sharey=True, gridspec_kw={"width_ratios": [1.3, 2.6, 1.9]})
        _forest_panel(labels, ax, numbers, table)
        if name:
            sub.suptitle(name, x=0.02, ha="left", fontweight="bold")
    for sub in subfigs[len(panels):]:
        sub.set_visible(False)
    return _finish(fig, out, title, dpi)


def _forest_panel(labels: Axes, ax: Axes, numbers: Axes, table: SubgroupTable) -> None:
    lines: list[tuple[str, SubgroupRow | None]] = [("Overall", table.overall)]
    last = None
    for row in table.rows:
        if row.variable != last:
            lines.append((row.variable, None))
            last = row.variable
        lines.append((row.subgroup, row))
    ys = np.arange(len(lines))[::-1].astype(float)
    head = ys[0] + 1
    numbers.text(0.0, head, "n (pos)", fontsize=8, fontweight="bold", va="center")
    numbers.text(0.38, head, "AUC (95% CI)", fontsize=8, fontweight="bold", va="center")
    for y, (label, row) in zip(ys, lines, strict=True):
        header = row is None or row is table.overall
        labels.text(0.0 if header else 0.1, y, label, fontsize=8, va="center",
                    fontweight="bold" if header else "normal")
        if row is None:
            continue
        if np.isfinite(row.auroc):
            color = "black" if row is table.overall else "#08519c"
            if np.isfinite(row.lower):
                ax.plot([row.lower, row.upper], [y, y], color=color, lw=1.3)
            ax.plot(row.auroc, y, marker="D" if row is table.overall else "s", color=color, ms=5)
            text = f"{row.auroc:.3f}{_ci(row.lower, row.upper)}"
        else:
            text = f"n/a: {row.note.split(':')[0]}"
        numbers.text(0.0, y, f"{row.n} ({row.n_pos})", fontsize=8, va="center")
        numbers.text(0.38, y, text, fontsize=8, va="center")
    if np.isfinite(table.overall.auroc):
        ax.axvline(table.overall.auroc, ls="--", color="0.4", lw=0.9)
    ax.axvline(0.5, ls=":", color="0.7", lw=0.8)
    finite = [v for r in (table.overall, *table.rows) for v in (r.lower, r.upper, r.auroc) if np.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.4, 1.0)
    ax.set_xlim(max(0.0, min(lo, 0.5) - 0.03), min(1.0, hi + 0.03))
    ax.set_ylim(-0.7, head + 0.6)
    ax.set_xlabel("AUROC")
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    for side_ax in (labels, numbers):
        side_ax.set_xlim(0, 1)
        side_ax.set_axis_off()


# --- threshold sweep -------------------------------------------------------------------------------

def plot_threshold_sweep(sweeps: pd.DataFrame | Mapping[str, pd.DataFrame], out: str | Path | None = None, *,
                         marked: float | Sequence[float] | Mapping[str, float | Sequence[float]] | None = None,
                         log_x: bool = False, title: str | None = None, dpi: float = 150) -> Figure:
    """Sensitivity, specificity, PPV and NPV (with Wilson bands) against the threshold, from
    :func:`cardiofm.evaluate.thresholds.threshold_sweep`; ``marked`` thresholds (one value or list, or a
    mapping task -> value(s)) are drawn as vertical lines."""
    panels = _panels(sweeps)
    fig, axes = _axes_grid(len(panels), (4.4, 3.6))
    for ax, (name, df) in zip(axes, panels, strict=True):
        missing = [c for c in ("threshold", *RATE_STYLE) if c not in df.columns]
        if missing:
            raise ConfigError(f"plot_threshold_sweep: table lacks columns {missing}; pass threshold_sweep(...)")
        t = df["threshold"].to_numpy()
        for rate, color in RATE_STYLE.items():
            lo_col, hi_col = f"{rate}_lower", f"{rate}_upper"
            if lo_col in df.columns:
                ax.fill_between(t, df[lo_col], df[hi_col], color=color, alpha=0.12, lw=0)
            ax.plot(t, df[rate], color=color, lw=1.5, label=rate.upper() if len(rate) == 3 else rate)
        marks = marked.get(name, ()) if isinstance(marked, Mapping) else marked
        for m in np.atleast_1d(np.asarray(marks if marks is not None else [], dtype=float)):
            ax.axvline(m, color="0.2", ls="--", lw=0.9)
            ax.text(m, 1.01, f"{m:g}", transform=blended_transform_factory(ax.transData, ax.transAxes),
                    ha="center", va="bottom", fontsize=8)
        if log_x:
            ax.set_xscale("log")
        ax.set(ylim=(0, 1.02), xlabel="threshold", ylabel="value")
        ax.legend(fontsize=7.5, frameon=False, loc="center right")
        if name:
            ax.set_title(name, pad=14)
    return _finish(fig, out, title, dpi)
