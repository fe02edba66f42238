"""The CardioPRIME with each phenotype modality against its baseline step of ``cardiofm demo``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cardiofm.systems.base import DemoContext


def demo_step(ctx: DemoContext) -> None:
    """CardioPRIME with each phenotype modality against its baseline."""
    from cardiofm.config import load_config
    from cardiofm.systems.cardioprime.run import compare_runs, run_cardioprime

    # The shipped CardioPRIME recipe on the demo cohort, shrunk to seconds (LSTMs of width 32, two epochs):
    # the ECG-only baseline (alpha1 = 0) and one integrated run per phenotype modality, compared by the
    # integrated / baseline ratio of the clustering metrics (the paper's Figure 3).
    base = [*ctx.shared_data(), "trainer.max_epochs=2", "method.hidden=32", "method.jac_points=4",
            "evaluate.n_boot=100"]
    root = ctx.out / "cardioprime"
    baseline = run_cardioprime(load_config("cardioprime", "synthetic",
                                           [f"out={root / 'baseline'}", "method.alpha1=0", *base]))
    summary: dict[str, Any] = {"baseline": baseline.metrics()["cardioprime"]["clustering_mean"]}
    for modality in ("dexa", "cgm", "retina", "liver", "anthro"):
        run = run_cardioprime(load_config("cardioprime", "synthetic",
                                   [f"out={root / modality}", f"data.tabular={modality}", *base]))
        ratios = compare_runs(run.path, baseline.path, root / "compare" / modality,
                              title=f"{modality}: integrated / baseline")
        mean = ratios.iloc[-1]
        summary[modality] = {m: None if pd.isna(mean[m]) else round(float(mean[m]), 3)
                             for m in ("nmi", "ami", "homogeneity", "completeness")}
    ctx.metrics["cardioprime"] = {"mean_ratio_integrated_over_baseline": summary,
                                  "test_mse_baseline": baseline.metrics()["cardioprime"]["test_mse"]}
    ctx.config["cardioprime"] = {"recipe": "cardioprime (synthetic)", "overrides": base}
    ctx.images += [root / "compare" / "dexa" / "ratios.png", baseline.plots / "correlations.png"]
