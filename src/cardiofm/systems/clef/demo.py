"""The CLEF pretraining and linear probe step of ``cardiofm demo``."""

from __future__ import annotations

from cardiofm.systems.base import DemoContext


def demo_step(ctx: DemoContext) -> None:
    """CLEF pretraining and linear probe."""
    from cardiofm.config import load_config
    from cardiofm.systems.clef.pretrain import pretrain_contrastive

    # The shipped CLEF recipe on the demo cohort (all seven SCORE2 inputs, some missing), shrunk to
    # seconds: a tiny Net1D, three epochs, then a linear probe of lead I and lead II.
    overrides = [f"out={ctx.out / 'clef'}", *ctx.shared_data(), "model.name=net1d_tiny", "trainer.max_epochs=3",
                 "data.batch_size=32", "probe.fractions=[0.1,1.0]", "probe.bootstrap=200"]
    run = pretrain_contrastive(load_config("clef", "synthetic", overrides))
    m = run.metrics()
    ctx.metrics["clef"] = {"pretraining": m["pretraining"],
                           "probe_100pct": {f"{r['task']} lead {r['lead']}": round(r["value"], 3)
                                            for r in m["probe"] if r["fraction"] == 1.0}}
    ctx.config["clef"] = {"recipe": "clef (synthetic)", "overrides": overrides}
    if (run.plots / "probe.png").exists():
        ctx.images.append(run.plots / "probe.png")
