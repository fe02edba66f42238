"""SuPreME benchmark (issue 6): entity-supervised pretraining, zero-shot on PTB-XL fold 10, ablations.

1. Entity extraction: the rule extractor against the synthetic cohort's ground truth (the entities each
   generated report states present) and against the cardiologists' SCP codes of every PTB-XL report in
   ``ptbxl_database.csv`` (only codes that are SCP statements are compared).
2. Pretraining (``configs/supreme.yaml``, variant ``ptbxl``): the entities extracted from the reports of
   PTB-XL folds 1-8 plus the synthetic cohort's training reports; validation on PTB-XL fold 9 and the
   synthetic val split. Variants: ``vit_cfn`` (ViT-tiny + Cardiac Fusion Network, the paper's model),
   ``vit_linear`` (w/o CFN: linear query head), ``net1d_cfn`` (Net1D backbone + CFN), ``net1d_linear``
   and ``net1d_nodedup`` (labels are the reports' raw wordings, task ``entities_raw``). Same epochs,
   batch and schedule for all.
3. Zero-shot on PTB-XL fold 10 for the superdiagnostic, subdiagnostic, form and rhythm label sets, from
   their descriptions only (statements: the lexicon's clinical description; aggregated classes: their
   names in the PTB-XL paper), scored as one query set per task; macro AUROC with a 95 % patient
   bootstrap CI. The overlap of each test query with the training queries (cosine > 0.95 between
   their text embeddings) is counted, and the macro AUROC over the queries without such a twin is
   reported too.
4. Linear probe of the pretrained encoders (all 12 leads) at 1 % and 10 % of the PTB-XL training
   patients, regularisation chosen on fold 9, scored on fold 10.

Every stage caches under ``--work``; a rerun continues where it stopped.

    python benchmarks/supreme.py --ptbxl-root ../shared/data/ptbxl --write benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_io import save_json, synthetic_cohort  # noqa: E402
from ptbxl_report import REPO  # noqa: E402

from cardiofm.systems import load_config  # noqa: E402

RECIPE = REPO / "configs" / "supreme.yaml"
VARIANTS: dict[str, list[str]] = {  # Net1D first: at this data size it is the backbone that learns in budget
    "net1d_cfn": ["model.name=net1d_s"],
    "net1d_linear": ["model.name=net1d_s", "method.fusion=linear"],
    "net1d_nodedup": ["model.name=net1d_s", "data.task=entities_raw"],
    "vit_cfn": [],
    "vit_linear": ["method.fusion=linear"],
}
ZS_TASKS = ["superdiagnostic", "subdiagnostic", "form", "rhythm"]
OVERLAP = 0.95


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ptbxl-root", default=str(REPO.parent / "shared" / "data" / "ptbxl"))
    p.add_argument("--work", default=str(REPO / "benchmarks" / "_work" / "supreme"))
    p.add_argument("--n-synthetic", type=int, default=1000)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--max-time-s", type=float, default=1500.0, help="wall-time cap of one pretraining")
    p.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1])
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--stage", choices=["all", "train", "evaluate"], default="all")
    p.add_argument("--write", default=None, help="RESULTS.md to write the section into")
    return p.parse_args()


def synthetic_root(args: argparse.Namespace) -> Path:
    return synthetic_cohort(args.work, args.n_synthetic)


def overrides(args: argparse.Namespace, name: str, steps_per_epoch: int | None = None) -> list[str]:
    w = Path(args.work)
    parts = [{"source": "ptbxl", "root": str(Path(args.ptbxl_root).resolve()), "options": {"fs": 100}},
             {"source": "synthetic", "root": str(synthetic_root(args))}]
    out = [f"out={w / 'runs' / name}", f"data.store={w / 'stores' / 'union'}",
           f"data.options={json.dumps({'parts': parts})}", f"trainer.max_epochs={args.epochs}",
           f"trainer.patience={args.epochs}", f"trainer.max_time_s={args.max_time_s}",
           f"trainer.threads={args.threads}", "trainer.progress=false", *VARIANTS[name]]
    if steps_per_epoch:  # one cosine cycle over the whole run (the paper's 5000-step cycle is for 800k ECGs)
        out.append(f"method.restart_steps={max(1, steps_per_epoch * args.epochs)}")
    return out


def steps_per_epoch(args: argparse.Namespace) -> int:
    from cardiofm.engine.data import dev_and_test_rows, prepare_store

    cfg = load_config(RECIPE, "ptbxl", overrides(args, "vit_cfn"))
    store = prepare_store(cfg.data, Path(args.work) / "runs")
    dev, _ = dev_and_test_rows(store, cfg.data.task)
    train = int((store.cohort.index["split"].to_numpy()[dev] == "train").sum())
    return -(-train // cfg.data.batch_size)


def train_all(args: argparse.Namespace) -> dict[str, Any]:
    from cardiofm.engine.cv import train

    spe = steps_per_epoch(args)
    out = {}
    for name in args.variants:
        cfg = load_config(RECIPE, "ptbxl", overrides(args, name, spe))
        t0 = time.perf_counter()
        run = train(cfg)
        info = run.metrics()["training"]["fold1"]
        print(f"== {name}: {time.perf_counter() - t0:.0f} s this call; {json.dumps(info)[:300]}", flush=True)
        out[name] = {"run": str(run.path), "steps_per_epoch": spe, **info}
    return out


def main() -> None:
    args = parse()
    torch.set_num_threads(args.threads)
    w = Path(args.work)
    w.mkdir(parents=True, exist_ok=True)
    if args.stage in ("all", "train"):
        save_json(w / "training.json", train_all(args))
    if args.stage in ("all", "evaluate"):
        from supreme_eval import evaluate_all

        results = evaluate_all(args)
        if args.write:
            from supreme_report import write_report

            write_report(args, results, Path(args.write))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
