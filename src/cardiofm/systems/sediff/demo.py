"""The SE-Diff text-to-ECG generation step of ``cardiofm demo``."""

from __future__ import annotations

from cardiofm.systems.base import DemoContext


def demo_step(ctx: DemoContext) -> None:
    """SE-Diff text-to-ECG generation."""
    from cardiofm.config import load_config
    from cardiofm.systems.sediff.generate import generate
    from cardiofm.systems.sediff.run import run_sediff

    # The shipped SE-Diff recipe on the demo cohort (its own store in mV: the inter-lead identities need
    # unnormalised leads), shrunk to a minute (narrow VAE and U-Net, a few epochs, 100 diffusion steps); then
    # ECGs generated from two clinical texts with retrieval-augmented conditioning.
    overrides = [f"out={ctx.out / 'sediff'}", f"data.root={ctx.out / 'synthetic'}",
                 f"data.store={ctx.out / 'store_mv'}",
                 "generation.vae_epochs=4", "trainer.max_epochs=4", "trainer.progress=false", "method.vae_width=16",
                 "method.unet_base=32", "method.unet_mults=[1,2]", "method.diffusion_steps=100",
                 "method.sample_steps=20", "generation.eval_records=16", f"seed={ctx.seed}",
                 f"data.build_workers={ctx.workers}"]
    run = run_sediff(load_config("sediff", "synthetic", overrides))
    gen = run.metrics()["generation"]
    texts = {"brady_avb": ("sinus bradycardia, first degree AV block", 70.0, "F"),
             "afib": ("atrial fibrillation", 65.0, "M")}
    made = {}
    for tag, (text, age, sex) in texts.items():
        info = generate(run.path, text, ctx.out / "sediff" / "generated" / tag, n=2, age=age, sex=sex, seed=ctx.seed)
        made[tag] = {"text": text, "query_codes": info["query_codes"], "records": [r["name"] for r in info["records"]]}
    ctx.metrics["sediff"] = {
        "test_records": gen["records"], "mae_mv": gen["mae_mv"]["mean"],
        "einthoven_mv_generated": gen["generated_einthoven_mv"]["mean"],
        "einthoven_mv_real": gen["real_einthoven_mv"]["mean"],
        "intervals_plausible_generated": gen["generated_intervals"]["all"], "generated": made}
    ctx.config["sediff"] = {"recipe": "sediff (synthetic)", "overrides": overrides}
    ctx.images.append(ctx.out / "sediff" / "generated" / "brady_avb" / "gen_0.png")
