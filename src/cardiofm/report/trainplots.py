"""Training curves of a run: validation macro AUROC and training loss per epoch, one line per fold."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure


def plot_learning_curves(logs: Mapping[str, pd.DataFrame], out: str | Path | None = None, *,
                         dpi: float = 130) -> Figure:
    """``logs`` maps a fold name to its logged table (columns ``epoch``, ``val_macro_auroc``, ``train_loss``)."""
    fig = Figure(figsize=(10, 3.6), dpi=dpi)
    ax_auc, ax_loss = fig.subplots(1, 2)
    for name, log in logs.items():
        val = log.dropna(subset=["val_macro_auroc"]).groupby("epoch")["val_macro_auroc"].last()
        line = ax_auc.plot(val.index + 1, val.to_numpy(), marker="o", ms=3, label=name)[0]
        if len(val):
            best = val.idxmax()
            ax_auc.plot([best + 1], [val[best]], marker="*", ms=11, color=line.get_color())
        if "train_loss" in log:
            loss = log.dropna(subset=["train_loss"]).groupby("epoch")["train_loss"].mean()
            ax_loss.plot(loss.index + 1, loss.to_numpy(), marker="o", ms=3, color=line.get_color(), label=name)
    ax_auc.set(xlabel="epoch", ylabel="validation macro AUROC", title="Validation (star: best checkpoint)")
    ax_loss.set(xlabel="epoch", ylabel="training loss (weighted sum)", title="Training loss (epoch mean)")
    for ax in (ax_auc, ax_loss):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=dpi)
    return fig
