"""The SuPreME entity pretraining and zero-shot of a held-out condition step of ``cardiofm demo``."""

from __future__ import annotations

import json

from cardiofm.systems.base import DemoContext


def demo_step(ctx: DemoContext) -> None:
    """SuPreME entity pretraining and zero-shot of a held-out condition."""
    from cardiofm.config import load_config
    from cardiofm.data.store import Store
    from cardiofm.engine.cv import train
    from cardiofm.evaluate.classification import classification_metrics
    from cardiofm.systems.supreme.zeroshot import zero_shot

    # The shipped SuPreME recipe on the demo cohort's reports, shrunk to seconds (a micro ViT, three
    # epochs), with atrial fibrillation held out of the entity labels; then zero-shot AF from its
    # description alone on the records the model never trained on (val and test splits).
    held = "AFIB"
    labellers = {"entities": {"min_count": 3, "exclude": [held]}}
    overrides = [f"out={ctx.out / 'supreme'}", *ctx.shared_data(), "model.name=vit_micro", "trainer.max_epochs=3",
                 "data.batch_size=32", f"data.labellers={json.dumps(labellers)}"]
    run = train(load_config("supreme", "synthetic", overrides))
    table = zero_shot(run.path, [held], "synthetic", ctx.out / "synthetic", run.path / "zeroshot.csv",
                      workers=ctx.workers)
    index = ctx.state["synthetic"].index
    unseen = index["split"].isin(["val", "test"]).to_numpy()
    truth = index["conditions"].fillna("").str.split(";").apply(lambda c: held in c).to_numpy()
    p = table.set_index("record_id").loc[index["record_id"], f"p_{held}"].to_numpy()
    m = classification_metrics(truth[unseen, None].astype(int), p[unseen, None], n_boot=200, micro=False)
    entities = Store(ctx.out / "store").cohort.labels("entities").codes
    ctx.metrics["supreme"] = {
        "held_out": held, "held_out_in_training": held in entities, "entities_trained": len(entities),
        "zero_shot_records": int(unseen.sum()),
        "zero_shot_positives": int(truth[unseen].sum()), "zero_shot_auroc": m.macro_auroc,
        "zero_shot_auroc_ci": list(m.macro_auroc_ci) if m.macro_auroc_ci is not None else None,
        "table": str(run.path / "zeroshot.csv")}
    ctx.config["supreme"] = {"recipe": "supreme (synthetic)", "overrides": overrides}
