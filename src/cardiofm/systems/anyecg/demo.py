"""The AnyECG-CCTA fine-tuning and clinical evaluation step of ``cardiofm demo``."""

from __future__ import annotations

from cardiofm.systems.base import DemoContext


def demo_step(ctx: DemoContext) -> None:
    """AnyECG-CCTA fine-tuning and clinical evaluation."""
    from cardiofm.config import load_config
    from cardiofm.engine.cv import train
    from cardiofm.systems.shared.evaluation import evaluate_run

    # The shipped recipe on the demo's cohort and store, shrunk to a minute of CPU: a tiny Net1D,
    # three folds of three epochs. `cardiofm train anyecg` runs the full recipe.
    overrides = [f"out={ctx.out / 'anyecg'}", *ctx.shared_data(), "model.name=net1d_tiny", "trainer.max_epochs=3",
                 "cv.folds=3", "evaluate.n_boot=200", "evaluate.beats.max_records=150"]
    cfg = load_config("anyecg", "synthetic", overrides)
    run = train(cfg)
    ev = evaluate_run(run.path)
    ctx.metrics["anyecg"] = {"summary": ev["summary_line"], "report": str(run.path / "report.html"),
                             "folds": run.metrics().get("training", {})}
    ctx.config["anyecg"] = {"recipe": "anyecg (synthetic)", "overrides": overrides}
    for name in ("internal/roc.png", "internal/kaplan_meier.png", "learning_curves.png"):
        if (run.plots / name).exists():
            ctx.images.append(run.plots / name)
