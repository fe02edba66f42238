"""``cardiofm demo``: the end-to-end path on data generated or embedded in the package.

The demo is a list of steps (:data:`DEMO_STEPS`), each a function of a shared :class:`DemoContext`;
later parts of cardiofm add their own step with :func:`demo_step`. Everything lands in one run
directory with ``config.yaml``, ``metrics.json``, the plots and ``report.html``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cardiofm.paths import check_output_dir

DEMO_AUGMENT: list[dict[str, Any]] = [
    {"name": "scale"}, {"name": "shift"}, {"name": "gaussian_noise", "sigma": 0.05},
    {"name": "mask", "p": 0.5}, {"name": "nstdb_noise", "kind": "ma", "snr_db": 12.0, "p": 0.5},
]
PLOTTED_CONDITIONS = ("NORM", "AFIB", "1AVB", "CLBBB", "CRBBB", "LVH", "IMI", "ASMI", "STD_", "LNGQT", "PVC")


@dataclass
class DemoContext:
    """What the steps share: the run folder, settings, and what they add to the report."""

    out: Path
    workers: int = 1
    n_synthetic: int = 200
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    images: list[Path] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


DemoStep = Callable[[DemoContext], None]
DEMO_STEPS: list[tuple[str, DemoStep]] = []


def demo_step(name: str) -> Callable[[DemoStep], DemoStep]:
    """Register a step; steps run in registration order."""

    def wrap(fn: DemoStep) -> DemoStep:
        DEMO_STEPS.append((name, fn))
        return fn

    return wrap


def sample_root() -> Any:
    """Context manager yielding the folder of the embedded PTB-XL sample (20 real records)."""
    return as_file(files("cardiofm") / "resources" / "ptbxl_sample")


@demo_step("synthetic cohort")
def _synthetic(ctx: DemoContext) -> None:
    from cardiofm.data.sources import open_cohort
    from cardiofm.report.tables import print_summary
    from cardiofm.synth.cohort import generate_cohort

    root = ctx.out / "synthetic"
    t0 = time.perf_counter()
    generate_cohort(ctx.n_synthetic, root, seed=ctx.seed, fs=100.0, workers=ctx.workers)
    ctx.metrics["synthetic_generation_s"] = round(time.perf_counter() - t0, 2)
    cohort = open_cohort("synthetic", root).validate()
    print_summary(cohort.summary(), max_skipped=5)
    ctx.state["synthetic"] = cohort
    ctx.metrics["synthetic_records"] = len(cohort)
    ctx.metrics["synthetic_condition_counts"] = cohort.labels("conditions").counts()
    ctx.metrics["synthetic_max_lead_identity_residual_mv"] = float(cohort.index["lead_identity_mv"].max())
    ctx.config["synthetic"] = {"n": ctx.n_synthetic, "seed": ctx.seed, "fs": 100.0, "seconds": 10.0}


@demo_step("store and loader")
def _store(ctx: DemoContext) -> None:
    from torch.utils.data import DataLoader

    from cardiofm.data.store import build_store
    from cardiofm.data.torch import StoreDataset
    from cardiofm.signal.transforms import Preprocess

    prep = Preprocess(fs=100.0, length=1000)
    t0 = time.perf_counter()
    rep = build_store(ctx.state["synthetic"], ctx.out / "store", prep, chunk_size=64, workers=ctx.workers)
    ctx.metrics["store_build_s"] = round(time.perf_counter() - t0, 2)
    ctx.metrics["store_records_ok"] = rep.n_ok
    ds = StoreDataset(ctx.out / "store", split="train", task="superdiagnostic", augment=DEMO_AUGMENT, seed=ctx.seed)
    t0 = time.perf_counter()
    n = sum(len(b["x"]) for b in DataLoader(ds, batch_size=64))
    ctx.metrics["loader_samples_per_s"] = round(n / max(time.perf_counter() - t0, 1e-9), 1)
    ctx.config["store"] = {"preprocess": prep.to_dict(), "augment": DEMO_AUGMENT}


@demo_step("one record per condition")
def _condition_plots(ctx: DemoContext) -> None:
    from cardiofm.report.plots import plot_ecg

    cohort = ctx.state["synthetic"]
    conds = cohort.index["conditions"].fillna("").str.split(";")
    folder = ctx.out / "conditions"
    for code in PLOTTED_CONDITIONS:
        hits = [i for i, c in enumerate(conds) if code in c and (code == "NORM" or len(c) <= 3)]
        if not hits:
            continue
        i = hits[0]
        rec = cohort.load(i)
        rec.record_id = f"synthetic {rec.record_id}: {cohort.index.at[i, 'conditions']}"
        rec.metadata.update(age=cohort.index.at[i, "age"], sex=cohort.index.at[i, "sex"])
        path = folder / f"{code}.png"
        plot_ecg(rec, path)
        ctx.images.append(path)


@demo_step("real PTB-XL sample")
def _real_sample(ctx: DemoContext) -> None:
    from cardiofm.data.augment import build_augmentation
    from cardiofm.data.sources import open_cohort
    from cardiofm.report.plots import plot_ecg
    from cardiofm.signal.record import ECGRecord
    from cardiofm.signal.transforms import Preprocess

    with sample_root() as root:
        cohort = open_cohort("ptbxl", root).validate()
        first = cohort.load(0)
    first.metadata.update(age=cohort.index.at[0, "age"], sex=cohort.index.at[0, "sex"])
    ctx.metrics["ptbxl_sample_records"] = len(cohort)
    real = ctx.out / f"ptbxl_{first.record_id}.png"
    plot_ecg(first, real)
    # The augmentations on a filtered (not z-scored) copy, so the plot stays in mV on the paper grid.
    in_mv = Preprocess(fs=500.0, length=5000, normalise=None)
    x = build_augmentation(DEMO_AUGMENT, fs=500.0)(in_mv(first), np.random.default_rng(ctx.seed), 1.0)
    augmented = ctx.out / f"ptbxl_{first.record_id}_augmented.png"
    plot_ecg(ECGRecord(signal=x, fs=500.0, leads=in_mv.leads, record_id=f"{first.record_id} augmented",
                       metadata=first.metadata), augmented)
    ctx.images += [real, augmented]


@demo_step("AnyECG-CCTA fine-tuning and clinical evaluation")
def _anyecg(ctx: DemoContext) -> None:
    from cardiofm.config import load_config
    from cardiofm.engine.cv import train
    from cardiofm.engine.evaluation import evaluate_run

    # The shipped recipe on the demo's cohort and store, shrunk to a minute of CPU: a tiny Net1D,
    # three folds of three epochs. `cardiofm train anyecg` runs the full recipe.
    overrides = [f"out={ctx.out / 'anyecg'}", f"data.root={ctx.out / 'synthetic'}", f"data.store={ctx.out / 'store'}",
                 "model.name=net1d_tiny", "trainer.max_epochs=3", "cv.folds=3", "trainer.progress=false",
                 f"seed={ctx.seed}", f"data.build_workers={ctx.workers}", "evaluate.n_boot=200",
                 "evaluate.beats.max_records=150"]
    cfg = load_config("anyecg", "synthetic", overrides)
    run = train(cfg)
    ev = evaluate_run(run.path)
    ctx.metrics["anyecg"] = {"summary": ev["summary_line"], "report": str(run.path / "report.html"),
                             "folds": run.metrics().get("training", {})}
    ctx.config["anyecg"] = {"recipe": "anyecg (synthetic)", "overrides": overrides}
    for name in ("internal/roc.png", "internal/kaplan_meier.png", "learning_curves.png"):
        if (run.plots / name).exists():
            ctx.images.append(run.plots / name)


@demo_step("CLEF pretraining and linear probe")
def _clef(ctx: DemoContext) -> None:
    from cardiofm.config import load_config
    from cardiofm.engine.pretrain import pretrain

    # The shipped CLEF recipe on the demo cohort (all seven SCORE2 inputs, some missing), shrunk to
    # seconds: a tiny Net1D, three epochs, then a linear probe of lead I and lead II.
    overrides = [f"out={ctx.out / 'clef'}", f"data.root={ctx.out / 'synthetic'}", f"data.store={ctx.out / 'store'}",
                 "model.name=net1d_tiny", "trainer.max_epochs=3", "trainer.progress=false", "data.batch_size=32",
                 f"seed={ctx.seed}", f"data.build_workers={ctx.workers}", "probe.fractions=[0.1,1.0]",
                 "probe.bootstrap=200"]
    run = pretrain(load_config("clef", "synthetic", overrides))
    m = run.metrics()
    ctx.metrics["clef"] = {"pretraining": m["pretraining"],
                           "probe_100pct": {f"{r['task']} lead {r['lead']}": round(r["value"], 3)
                                            for r in m["probe"] if r["fraction"] == 1.0}}
    ctx.config["clef"] = {"recipe": "clef (synthetic)", "overrides": overrides}
    if (run.plots / "probe.png").exists():
        ctx.images.append(run.plots / "probe.png")


@demo_step("SuPreME entity pretraining and zero-shot of a held-out condition")
def _supreme(ctx: DemoContext) -> None:
    from cardiofm.config import load_config
    from cardiofm.data.store import Store
    from cardiofm.engine.cv import train
    from cardiofm.engine.zeroshot import zero_shot
    from cardiofm.evaluate.classification import classification_metrics

    # The shipped SuPreME recipe on the demo cohort's reports, shrunk to seconds (a micro ViT, three
    # epochs), with atrial fibrillation held out of the entity labels; then zero-shot AF from its
    # description alone on the records the model never trained on (val and test splits).
    held = "AFIB"
    options = {"entities": {"min_count": 3, "exclude": [held]}}
    overrides = [f"out={ctx.out / 'supreme'}", f"data.root={ctx.out / 'synthetic'}", f"data.store={ctx.out / 'store'}",
                 "model.name=vit_micro", "trainer.max_epochs=3", "trainer.progress=false", "data.batch_size=32",
                 f"seed={ctx.seed}", f"data.build_workers={ctx.workers}", f"data.options={json.dumps(options)}"]
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


@demo_step("CardioPRIME with each phenotype modality against its baseline")
def _cardioprime(ctx: DemoContext) -> None:
    from cardiofm.config import load_config
    from cardiofm.engine.cardioprime import compare_runs
    from cardiofm.engine.pretrain import pretrain

    # The shipped CardioPRIME recipe on the demo cohort, shrunk to seconds (LSTMs of width 32, two epochs):
    # the ECG-only baseline (alpha1 = 0) and one integrated run per phenotype modality, compared by the
    # integrated / baseline ratio of the clustering metrics (the paper's Figure 3).
    base = [f"data.root={ctx.out / 'synthetic'}", f"data.store={ctx.out / 'store'}", "trainer.max_epochs=2",
            "trainer.progress=false", "method.hidden=32", "method.jac_points=4", "evaluate.n_boot=100",
            f"seed={ctx.seed}", f"data.build_workers={ctx.workers}"]
    root = ctx.out / "cardioprime"
    baseline = pretrain(load_config("cardioprime", "synthetic", [f"out={root / 'baseline'}", "method.alpha1=0", *base]))
    summary: dict[str, Any] = {"baseline": baseline.metrics()["cardioprime"]["clustering_mean"]}
    for modality in ("dexa", "cgm", "retina", "liver", "anthro"):
        run = pretrain(load_config("cardioprime", "synthetic",
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


@demo_step("SE-Diff text-to-ECG generation")
def _sediff(ctx: DemoContext) -> None:
    from cardiofm.config import load_config
    from cardiofm.engine.generate import generate
    from cardiofm.engine.pretrain import pretrain

    # The shipped SE-Diff recipe on the demo cohort (its own store in mV: the inter-lead identities need
    # unnormalised leads), shrunk to a minute (narrow VAE and U-Net, a few epochs, 100 diffusion steps); then
    # ECGs generated from two clinical texts with retrieval-augmented conditioning.
    overrides = [f"out={ctx.out / 'sediff'}", f"data.root={ctx.out / 'synthetic'}",
                 f"data.store={ctx.out / 'store_mv'}",
                 "generation.vae_epochs=4", "trainer.max_epochs=4", "trainer.progress=false", "method.vae_width=16",
                 "method.unet_base=32", "method.unet_mults=[1,2]", "method.diffusion_steps=100",
                 "method.sample_steps=20", "generation.eval_records=16", f"seed={ctx.seed}",
                 f"data.build_workers={ctx.workers}"]
    run = pretrain(load_config("sediff", "synthetic", overrides))
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


def run_demo(out: str | Path = "runs/demo", workers: int = 1, n_synthetic: int = 200, seed: int = 0) -> dict[str, Any]:
    """Run every registered step; returns the metrics written to ``out/metrics.json``."""
    from cardiofm.report.html import write_report

    check_output_dir(out)
    ctx = DemoContext(Path(out), workers=workers, n_synthetic=n_synthetic, seed=seed)
    ctx.out.mkdir(parents=True, exist_ok=True)
    timings = {}
    for name, step in DEMO_STEPS:
        print(f"== demo: {name}")
        t0 = time.perf_counter()
        step(ctx)
        timings[name] = round(time.perf_counter() - t0, 2)
    ctx.metrics["step_seconds"] = timings
    (ctx.out / "config.yaml").write_text(yaml.safe_dump(ctx.config, sort_keys=False))
    (ctx.out / "metrics.json").write_text(json.dumps(ctx.metrics, indent=1, default=float))
    write_report(ctx.out / "report.html", "cardiofm demo", ctx.config, ctx.metrics, ctx.images)
    print(json.dumps(ctx.metrics, indent=1, default=float))
    print(f"demo outputs in {ctx.out.resolve()} (report.html, metrics.json, config.yaml, plots, store/)")
    return ctx.metrics
