"""SE-Diff benchmark (issue 8): text-conditioned 12-lead generation with and without its simulator terms and retrieval.

For the synthetic cohort and the PTB-XL subset (text = the SCP descriptions and the report), ``configs/sediff.yaml``
is trained as SE-Diff and as two ablations sharing its VAE: without the simulator terms (w_euler = w_inter =
w_spec = 0) and without retrieval (no retrieved-report token); on the synthetic cohort also without each term
alone. Every model generates one ECG per test record from that record's condition (DDIM 50 steps, guidance 2,
seed 0), and is scored on it:

* MAE / NRMSE against the matched real record; Einthoven / Goldberger residuals; interval plausibility by
  delineation and the gap of the median intervals to the real test records (:mod:`cardiofm.evaluate.generation`);
* Fréchet distance in the embedding space of a frozen cardiofm encoder: a Net1D classifier trained on the real
  training records of the source's task (the same model is the imbalance experiment's baseline);
* text->ECG recall@k with a SuPreME model (Net1D + CFN, trained on the real training records' report entities):
  queries are the descriptions of the records' classes, an ECG is relevant to its own class's query;
* imbalance: the rarest class with enough test positives; the classifier retrained with three generated ECGs
  per real training positive of that class (from those records' conditions) added; the change in that class's
  test AUROC with a paired bootstrap CI;
* training seconds of each stage and sampling samples/s.

Runs and stages resume; a rerun only reports.

    python benchmarks/sediff.py --ptbxl-root ../shared/data/ptbxl --write benchmarks/RESULTS.md
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
from bench_io import load_json, save_json, synthetic_cohort  # noqa: E402
from ptbxl_report import REPO  # noqa: E402

from cardiofm.systems import load_config  # noqa: E402

ABLATIONS = {"no_simulator": ["method.w_euler=0", "method.w_inter=0", "method.w_spec=0"],
             "no_retrieval": ["method.use_retrieval=false"]}
TERM_ABLATIONS = {"no_euler": ["method.w_euler=0"], "no_inter_lead": ["method.w_inter=0"],
                  "no_spectral": ["method.w_spec=0"]}
AUG_VARIANTS = ("sediff", "no_simulator")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ptbxl-root", default=str(REPO.parent / "shared" / "data" / "ptbxl"))
    p.add_argument("--work", default=str(REPO / "benchmarks" / "_work" / "sediff"))
    p.add_argument("--n-synthetic", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=40, help="diffusion epochs")
    p.add_argument("--vae-epochs", type=int, default=20)
    p.add_argument("--ptbxl-epochs", type=int, default=None, help="diffusion epochs on PTB-XL (default --epochs)")
    p.add_argument("--ptbxl-vae-epochs", type=int, default=None, help="VAE epochs on PTB-XL (default --vae-epochs)")
    p.add_argument("--classifier-epochs", type=int, default=12)
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-ptbxl", action="store_true")
    p.add_argument("--no-term-ablations", action="store_true")
    p.add_argument("--write", default=None, help="RESULTS.md to write the section into")
    return p.parse_args()


def data_overrides(args: argparse.Namespace, dataset: str) -> list[str]:
    w = Path(args.work)
    if dataset == "synthetic":
        return [f"data.root={synthetic_cohort(w, args.n_synthetic)}", f"data.store={w / 'stores' / 'synthetic'}"]
    return [f"data.root={args.ptbxl_root}", f"data.store={w / 'stores' / 'ptbxl'}"]


def epochs_of(args: argparse.Namespace, dataset: str) -> tuple[int, int]:
    """(diffusion, VAE) epochs of ``dataset``."""
    if dataset == "ptbxl":
        return args.ptbxl_epochs or args.epochs, args.ptbxl_vae_epochs or args.vae_epochs
    return args.epochs, args.vae_epochs


def train_variant(args: argparse.Namespace, dataset: str, name: str, extra: list[str]) -> dict[str, Any]:
    from cardiofm.systems import run_system

    w = Path(args.work)
    reuse = [] if name == "sediff" else [f"generation.autoencoder={w / 'runs' / f'{dataset}_sediff'}"]
    epochs, vae_epochs = epochs_of(args, dataset)
    settings = [f"trainer.max_epochs={epochs}", f"generation.vae_epochs={vae_epochs}",
                f"trainer.threads={args.threads}", "trainer.progress=false", "generation.eval_records=0",
                "data.build_workers=2"]
    cfg = load_config("sediff", dataset, [f"out={w / 'runs' / f'{dataset}_{name}'}", *data_overrides(args, dataset),
                                          *settings, *reuse, *extra])
    t0 = time.perf_counter()
    run = run_system(cfg)
    print(f"== {dataset}/{name}: {time.perf_counter() - t0:.0f} s this call", flush=True)
    return {"run": str(run.path), **run.metrics()}


def _rows(run: str) -> tuple[Any, dict[str, np.ndarray]]:
    from cardiofm.engine.data import prepare_store, split_rows
    from cardiofm.engine.rundir import RunDir

    r = RunDir.open(run)
    store = prepare_store(r.config().data, r.path)
    return store, split_rows(store)


def generated(run: str, rows: np.ndarray, tag: str, work: Path, seed: int = 0,
              repeat: int = 1) -> tuple[np.ndarray, float]:
    """Generated ECGs for ``rows`` (``repeat`` per row, seeds differ), cached; and samples/s of the first make."""
    from cardiofm.systems.sediff.conditions import Conditions
    from cardiofm.systems.sediff.evaluation import generate_rows
    from cardiofm.systems.sediff.run import STAGE_DIRS, load_stage

    path = work / "generated" / f"{tag}.npz"
    if path.exists():
        with np.load(path) as z:
            return z["x"], float(z["sps"])
    module = load_stage(Path(run) / STAGE_DIRS["diffusion"])
    cond = Conditions.load(Path(run))
    t0 = time.perf_counter()
    parts = [generate_rows(module, cond, rows, seed=seed + 10_000 * k) for k in range(repeat)]
    x = np.concatenate(parts)
    sps = len(x) / (time.perf_counter() - t0)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x=x, sps=sps)
    return x, sps


def train_supreme(args: argparse.Namespace, dataset: str) -> str:
    from cardiofm.engine.cv import train

    w = Path(args.work)
    src = ["data.source=ptbxl", "data.options={fs: 100}"] if dataset == "ptbxl" else []
    cfg = load_config("supreme", "synthetic", [f"out={w / 'runs' / f'{dataset}_supreme'}", *src,
                                               *data_overrides(args, dataset)[:1],
                                               f"data.store={w / 'stores' / f'{dataset}_z'}", "model.name=net1d_s",
                                               "trainer.max_epochs=8", f"trainer.threads={args.threads}",
                                               "trainer.progress=false"])
    return str(train(cfg).path)


def recall_scores(supreme_run: str, x: np.ndarray, queries: list[str]) -> np.ndarray:
    """``(n_queries, n_ecgs)`` SuPreME scores of z-scored ``x`` for the query texts."""
    from cardiofm.engine.cv import ensemble
    from cardiofm.signal.transforms import zscore
    from cardiofm.systems.supreme.zeroshot import zero_shot_scores
    from cardiofm.text.encoders import create_text_encoder

    models = ensemble(supreme_run)
    q = create_text_encoder(models[0].config.text_encoder).encode(queries)
    xz = np.stack([zscore(s) for s in x]).astype(np.float32)
    return zero_shot_scores(models, xz, q).T


def evaluate_dataset(args: argparse.Namespace, dataset: str, runs: dict[str, Any]) -> dict[str, Any]:
    from cardiofm.evaluate import generation as gm
    from cardiofm.systems.sediff.augmentation import train_classifier
    from cardiofm.systems.sediff.conditions import Conditions
    from cardiofm.systems.sediff.evaluation import signal_metrics
    from cardiofm.systems.supreme.zeroshot import query_for

    w = Path(args.work)
    cache = w / f"eval_{dataset}.json"
    state: dict[str, Any] = load_json(cache) or {"variants": {}}
    store, rows = _rows(runs["sediff"]["run"])
    y = store.cohort.labels(runs_task(runs)).matrix.astype(np.float32)
    real = {k: store.batch(rows[k]).astype(np.float32) for k in ("train", "val", "test")}
    p_base, clf = train_classifier(real["train"], y[rows["train"]], real["val"], y[rows["val"]], real["test"],
                                   w / "classifiers" / dataset / "real", max_epochs=args.classifier_epochs, seed=0)
    encoder = clf.encoder  # the frozen encoder of the Frechet distance
    emb_real_test = gm.embed(encoder, real["test"])
    cond = Conditions.load(Path(runs["sediff"]["run"]))
    classes = cond.cls[rows["test"]]
    present = sorted(set(classes.tolist()))
    queries = [query_for(cond.classes[c]) if cond.classes[c] != "_other" else "other ECG findings" for c in present]
    relevant = np.stack([classes == c for c in present])
    state["supreme_run"] = state.get("supreme_run") or train_supreme(args, dataset)
    save_json(cache, state)
    pids = store.cohort.index["patient_id"].astype(str).to_numpy()
    if state.get("reference") is None:
        s_real = recall_scores(state["supreme_run"], real["test"], queries)
        state["reference"] = {
            "frechet_train_vs_test": gm.frechet_ci(gm.embed(encoder, real["train"]), emb_real_test, seed=0),
            "recall_real_test": gm.recall_at_k(s_real, relevant, ks=(1, 5, 10)),
            "classifier_macro_auroc_test": _macro_auroc(y[rows["test"]], p_base), "queries": queries,
            "test_records": len(rows["test"])}
        save_json(cache, state)
    for name, r in runs.items():
        if name in state["variants"]:
            continue
        gen, sps = generated(r["run"], rows["test"], f"{dataset}_{name}_test", w)
        m = signal_metrics(gen, real["test"], store.fs, tuple(store.leads), seed=0)
        m["frechet"] = gm.frechet_ci(gm.embed(encoder, gen), emb_real_test, seed=0)
        s = recall_scores(state["supreme_run"], gen, queries)
        m["recall"] = gm.recall_at_k(s, relevant, ks=(1, 5, 10))
        m["recall_at_5_ci"] = gm.recall_ci(s, relevant, 5, n_boot=args.bootstrap).to_dict()
        m["samples_per_s"] = sps
        m["train_seconds"] = {"vae": r["vae"]["train_seconds"], "diffusion": r["diffusion"]["train_seconds"],
                              "diffusion_epochs": r["diffusion"]["epochs"], "vae_epochs": r["vae"]["epochs"]}
        state["variants"][name] = m
        save_json(cache, state)
    if state.get("augmentation") is None:
        state["augmentation"] = augmentation(args, dataset, runs, store, rows, y, real, p_base, pids)
        save_json(cache, state)
    return state


def runs_task(runs: dict[str, Any]) -> str:
    from cardiofm.engine.rundir import RunDir

    return RunDir.open(runs["sediff"]["run"]).config().data.task


def _macro_auroc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    cols = [j for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    return float(np.mean([roc_auc_score(y[:, j], p[:, j]) for j in cols]))


def rare_class(y_train: np.ndarray, y_test: np.ndarray, codes: list[str], min_test: int = 8,
               min_train: int = 10) -> int:
    ok = [j for j in range(y_train.shape[1]) if y_test[:, j].sum() >= min_test and y_train[:, j].sum() >= min_train]
    if not ok:
        raise SystemExit("no class has enough positives for the imbalance experiment")
    return min(ok, key=lambda j: (y_train[:, j].mean(), codes[j]))


def augmentation(args: argparse.Namespace, dataset: str, runs: dict[str, Any], store: Any, rows: dict[str, np.ndarray],
                 y: np.ndarray, real: dict[str, np.ndarray], p_base: np.ndarray, pids: np.ndarray) -> dict[str, Any]:
    from cardiofm.evaluate.generation import paired_auroc_delta
    from cardiofm.systems.sediff.augmentation import train_classifier

    w = Path(args.work)
    codes = list(store.cohort.labels(runs_task(runs)).codes)
    j = rare_class(y[rows["train"]], y[rows["test"]], codes)
    pos = rows["train"][y[rows["train"], j] > 0]
    out: dict[str, Any] = {"class": codes[j], "train_positives": len(pos), "train_records": len(rows["train"]),
                           "test_positives": int(y[rows["test"], j].sum()), "test_records": len(rows["test"]),
                           "baseline_auroc": None, "variants": {}}
    for name in AUG_VARIANTS:
        gen, _ = generated(runs[name]["run"], pos, f"{dataset}_{name}_rare", w, seed=1, repeat=3)
        p_aug, _ = train_classifier(np.concatenate([real["train"], gen]),
                                    np.concatenate([y[rows["train"]], np.tile(y[pos], (3, 1))]), real["val"],
                                    y[rows["val"]], real["test"], w / "classifiers" / dataset / f"aug_{name}",
                                    max_epochs=args.classifier_epochs, seed=0)
        d = paired_auroc_delta(y[rows["test"], j], p_base[:, j], p_aug[:, j], n_boot=args.bootstrap, seed=0,
                               groups=pids[rows["test"]])
        out["baseline_auroc"] = d["auroc_base"]
        out["variants"][name] = {**d, "generated": len(gen)}
    return out


def main() -> None:
    args = parse()
    torch.set_num_threads(args.threads)
    w = Path(args.work)
    w.mkdir(parents=True, exist_ok=True)
    datasets = ["synthetic"] + ([] if args.skip_ptbxl else ["ptbxl"])
    results: dict[str, Any] = {}
    for dataset in datasets:
        variants = {**ABLATIONS, **({} if args.no_term_ablations or dataset != "synthetic" else TERM_ABLATIONS)}
        runs = {"sediff": train_variant(args, dataset, "sediff", [])}
        for name, extra in variants.items():
            runs[name] = train_variant(args, dataset, name, extra)
        save_json(w / f"runs_{dataset}.json", runs)
        results[dataset] = {"runs": runs, "eval": evaluate_dataset(args, dataset, runs)}
        save_json(w / "results.json", results)
    if args.write:
        from sediff_report import write_report

        write_report(args, results, Path(args.write))
    print(json.dumps({d: r["eval"]["variants"]["sediff"]["frechet"] for d, r in results.items()}, default=str))


if __name__ == "__main__":
    main()
