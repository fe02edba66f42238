"""PTB-XL subset benchmark (issue 4): cardiofm recipes vs torch-ecg models vs a random-encoder floor.

On the PTB-XL subset in ``../shared/data/ptbxl`` (1,987 records, 100 Hz), for each of the six
benchmark tasks of Strodthoff et al. (2021) (``all``, ``diagnostic``, ``subdiagnostic``,
``superdiagnostic``, ``form``, ``rhythm``) with ``strat_fold`` 1-8 / 9 / 10 as train / val / test:

1. one shared cardiofm store is built (100 Hz, 1000 samples, 0.67-40 Hz band-pass, per-lead z-score)
   and, per task, its train/val/test arrays are exported to ``<work>/data/<task>.npz`` for the
   torch-ecg runner: the same preprocessed signals, the same rows, the same labels;
2. every model trains under the same wall-time budget (``--budget-s``) per task:
   cardiofm recipes through ``cardiofm.engine.cv.train`` with ``cv.folds=0`` (``net1d_s``,
   ``resnet1d_wang``, optionally ``net1d_tiny``), torch-ecg models through
   ``benchmarks/tecg_runner.py`` in torch-ecg's own virtualenv, and the floor: a random-init,
   frozen ``net1d_s`` with a linear probe;
3. each is scored on the test fold: macro AUROC with a 95 % percentile bootstrap CI under the
   rule of Strodthoff et al. 2021 (``cardiofm.evaluate.classification_metrics``: 1000 resamples of
   test records, a resample is kept if every scored class has a positive; classes with fewer than 2
   positives or 2 negatives in the test fold are not scored), plus validation macro AUROC, train
   seconds, epochs and parameter counts;
4. all results go to ``<work>/results.json``; ``--write-results`` appends a markdown section to
   ``benchmarks/RESULTS.md``.

Resumable: a finished (task, model) result in ``<work>/results/`` is reused, cardiofm run folders
resume by themselves, torch-ecg outputs are cached in ``<work>/tecg/``.

    python benchmarks/ptbxl.py --budget-s 90 --write-results
    python benchmarks/ptbxl.py --tasks superdiagnostic --budget-s 15 --work benchmarks/_work/ptbxl-smoke

Make the torch-ecg venv first with ``bash benchmarks/tecg_setup.sh``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import resource
import shlex
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptbxl_report import REPO, TASKS, _json_default, fmt, hardware, markdown, write_section  # noqa: E402

PREPROCESS = {"fs": 100.0, "length": 1000, "band": [0.67, 40.0], "normalise": "zscore"}

# Seconds per epoch (1,490 training records of `all`, batch 64, 1 thread, validation included) on this
# machine when idle: measured with 2 threads in a first pass (CPU time = 2 x wall time) and scaled by
# 1.7 for one thread. They only size each model's LR schedule (max_epochs) so that it would end at the
# budget on an idle machine: under load the budget cuts the schedule, instead of a short schedule
# ending early and leaving budget unused. Smaller tasks (form: 526 records) get proportionally more
# epochs.
EPOCH_S = {"net1d_s": 6.6, "resnet1d_wang": 27.0, "net1d_tiny": 1.7, "floor": 2.9,
           "crnn_resnet_nc_bn_se": 34.0, "crnn_multi_scopic": 48.0, "crnn_regnet_16_8": 20.0}

# The recipes. cardiofm ones are engine overrides; torch-ecg ones name a runner model.
#  * PCGrad is off: with one binary task per label it takes one backward pass per label (71 for
#    `all`), measured at ~22x the step time of plain BCE at 71 labels and ~3x at 5, i.e. a 3-22x
#    smaller number of steps inside a fixed budget.
#  * uncertainty weighting is off: one learned log-variance per label adds nothing the plain
#    multi-label BCE of the PTB-XL benchmark lacks, and a budget of one or two epochs is too short
#    for the weights to move; both_views is off because the second view doubles the step cost.
#  * AnyECG augmentation (shift, scale, noise, occlusion) is on for the fine-tuned encoders, off
#    for the linear probe (its frozen random features gain nothing from it).
RECIPES: dict[str, dict[str, Any]] = {
    "net1d_s": {"kind": "cardiofm", "encoder": "net1d_s", "augment": "anyecg", "lr": 1e-3, "freeze": False,
                "about": "cardiofm Net1D small (CLEF Table S7), random init, full fine-tuning, AnyECG augmentation"},
    "resnet1d_wang": {"kind": "cardiofm", "encoder": "resnet1d_wang", "augment": "anyecg", "lr": 1e-3,
                      "freeze": False,
                      "about": "cardiofm resnet1d_wang (Strodthoff et al.'s PTB-XL baseline), random init, "
                               "AnyECG augmentation"},
    "net1d_tiny": {"kind": "cardiofm", "encoder": "net1d_tiny", "augment": "anyecg", "lr": 3e-3, "freeze": False,
                   "about": "cardiofm Net1D tiny (9k parameters), random init, AnyECG augmentation"},
    "floor": {"kind": "cardiofm", "encoder": "net1d_s", "augment": "none", "lr": 1e-2, "freeze": True,
              "about": "floor: random-init net1d_s, frozen (eval-mode BN), linear probe only"},
    "tecg_crnn_resnet_nc_bn_se": {"kind": "tecg", "model": "crnn_resnet_nc_bn_se", "epoch_key": "crnn_resnet_nc_bn_se",
                                  "about": "torch-ecg ECG_CRNN, resnet_nature_comm_bottle_neck_se backbone "
                                           "(its CinC2021 12-lead benchmark model), torch-ecg BaseTrainer"},
    "tecg_crnn_multi_scopic": {"kind": "tecg", "model": "crnn_multi_scopic", "epoch_key": "crnn_multi_scopic",
                               "about": "torch-ecg ECG_CRNN, multi_scopic backbone (CPSC2019 winner), "
                                        "torch-ecg BaseTrainer"},
    "tecg_crnn_regnet_16_8": {"kind": "tecg", "model": "crnn_regnet_16_8", "epoch_key": "crnn_regnet_16_8",
                              "about": "torch-ecg ECG_CRNN, regnet_16_8 backbone, torch-ecg BaseTrainer"},
}
DEFAULT_MODELS = ("net1d_s", "resnet1d_wang", "floor", "tecg_crnn_resnet_nc_bn_se", "tecg_crnn_multi_scopic")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "ptbxl"), help="PTB-XL folder")
    p.add_argument("--work", default=str(REPO / "benchmarks" / "_work" / "ptbxl"), help="work/cache folder")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=sorted(RECIPES))
    p.add_argument("--budget-s", type=float, default=120.0, help="wall-time training budget per model per task")
    p.add_argument("--tecg-python", default=str(REPO / "benchmarks" / "_work" / "tecg" / "bin" / "python"))
    p.add_argument("--seed", type=int, default=0)
    # one thread: on these 2 shared cores two OpenMP threads spin at barriers whenever other jobs run,
    # measured at 12.6 s vs 0.58 s per net1d_s step under load (2 threads win only on an idle machine)
    p.add_argument("--threads", type=int, default=1, help="torch threads of every training")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--patience", type=int, default=5, help="cardiofm early-stopping patience (epochs)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--results", default=str(REPO / "benchmarks" / "RESULTS.md"))
    p.add_argument("--write-results", action="store_true", help="append the markdown section to --results")
    p.add_argument("--report-only", action="store_true", help="train nothing; report what is in --work")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------- data
def data_config(args: argparse.Namespace, task: str) -> dict[str, Any]:
    return {"source": "ptbxl", "root": str(Path(args.root).resolve()), "options": {"fs": 100},
            "store": str(Path(args.work).resolve() / "store"), "preprocess": dict(PREPROCESS), "task": task,
            "batch_size": args.batch_size, "num_workers": 0, "build_workers": 2}


def build_shared_store(args: argparse.Namespace) -> Any:
    """The one store every run shares (built once; prepare_store reuses it while its manifest fits)."""
    from cardiofm.config import DataConfig, build_section
    from cardiofm.engine.data import prepare_store

    t0 = time.perf_counter()
    store = prepare_store(build_section(DataConfig, data_config(args, "superdiagnostic"), "data"), Path(args.work))
    print(f"store {store.path}: {len(store)} records, fs {store.fs}, length {store.length} "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    return store


def task_rows(store: Any, task: str) -> dict[str, np.ndarray]:
    """Store rows of train / val / test exactly as the engine picks them with ``cv.folds=0``."""
    from cardiofm.engine.cv import assign_cv_folds
    from cardiofm.engine.data import dev_and_test_rows

    dev, test = dev_and_test_rows(store, task)
    folds = assign_cv_folds(store, dev, task, 0, 0)
    return {"train": dev[folds == 0], "val": dev[folds == 1], "test": test}


def export_task(store: Any, task: str, work: Path) -> Path:
    """``<work>/data/<task>.npz`` in the runner's format (same signals, rows and labels as cardiofm)."""
    out = work / "data" / f"{task}.npz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = task_rows(store, task)
    labels = store.cohort.labels(task)
    ids = np.asarray(store.cohort.index["record_id"].astype(str).tolist(), dtype=str)
    arrays: dict[str, Any] = {"fs": np.float64(store.fs), "classes": np.asarray(list(labels.codes), dtype=str)}
    for split, r in rows.items():
        arrays[f"x_{split}"] = store.batch(r).astype(np.float32)
        arrays[f"y_{split}"] = labels.matrix[r].astype(np.float32)
        arrays[f"rows_{split}"] = r
        arrays[f"record_id_{split}"] = ids[r]
    tmp = out.with_name(out.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, out)
    return out


# ------------------------------------------------------------------------------------------ training
def cpu_seconds(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def planned_epochs(key: str, budget_s: float, n_train: int) -> int:
    """Schedule length that roughly fits the budget (>= 2, so the warm-up/anneal is not degenerate)."""
    per_epoch = EPOCH_S.get(key, 45.0) * n_train / 1490
    return int(min(50, max(2, math.ceil(budget_s / per_epoch))))


def run_cardiofm(args: argparse.Namespace, task: str, name: str, n_train: int) -> dict[str, Any]:
    import cardiofm.systems  # noqa: F401  (registers the systems)
    from cardiofm.config import config_from_dict
    from cardiofm.engine.cv import train
    from cardiofm.engine.fit import load_fold_module

    r = RECIPES[name]
    key = "floor" if r["freeze"] else r["encoder"]
    epochs = planned_epochs(key, args.budget_s, n_train)
    run_dir = Path(args.work) / "runs" / task / f"{name}-b{args.budget_s:g}-s{args.seed}-e{epochs}"
    cfg = config_from_dict({
        "name": f"ptbxl-{task}-{name}", "seed": args.seed, "out": str(run_dir),
        "data": {**data_config(args, task), "augment": r["augment"]},
        "model": {"name": r["encoder"]},
        "method": {"name": "supervised", "lr": r["lr"], "weight_decay": 1e-2, "warmup_frac": 0.05,
                   "uncertainty_weighting": False, "pcgrad": False, "both_views": False,
                   "freeze_encoder": r["freeze"]},
        "trainer": {"max_epochs": epochs, "max_time_s": args.budget_s, "patience": args.patience,
                    "progress": False, "threads": args.threads, "log_every_n_steps": 5},
        "cv": {"folds": 0, "seed": args.seed},
    })
    t0, c0 = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    run = train(cfg)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(resource.RUSAGE_SELF) - c0
    pred = np.load(run.path / "predictions.npz")
    info = run.metrics()["training"]["fold1"]
    module = load_fold_module(run.path / "fold1")
    n_params = sum(p.numel() for p in module.parameters())
    n_trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return {"p_val": pred["oof_p"], "y_val": pred["oof_y"], "rows_val": pred["oof_rows"],
            "p_test": pred["test_p"], "y_test": pred["test_y"], "rows_test": pred["test_rows"],
            "train_seconds": float(info["train_seconds"]), "epochs": int(info["epochs"]),
            "max_epochs": epochs, "global_steps": int(info["global_steps"]), "resumed": bool(info["resumed"]),
            "n_params": int(n_params), "n_trainable": int(n_trainable), "run_dir": str(run.path),
            "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "stop_reason": ("schedule" if int(info["epochs"]) >= epochs else
                            "budget" if float(info["train_seconds"]) >= args.budget_s else "early_stopping"),
            "recipe": {k: cfg.to_dict()[k] for k in ("model", "method", "trainer")} | {"augment": r["augment"]}}


def run_tecg(args: argparse.Namespace, task: str, name: str, data_npz: Path, n_train: int) -> dict[str, Any]:
    r = RECIPES[name]
    epochs = planned_epochs(r["epoch_key"], args.budget_s, n_train)
    out = Path(args.work) / "tecg" / task / f"{name}-b{args.budget_s:g}-s{args.seed}-e{epochs}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [args.tecg_python, str(REPO / "benchmarks" / "tecg_runner.py"), "--data", str(data_npz),
           "--model", r["model"], "--budget-s", f"{args.budget_s:g}", "--max-epochs", str(epochs),
           "--batch-size", str(args.batch_size), "--seed", str(args.seed), "--threads", str(args.threads),
           "--out", str(out)]
    wall = cpu = None
    if not out.exists():
        print("   $", shlex.join(cmd), flush=True)
        t0, c0 = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
        log = out.with_suffix(".log")
        with open(log, "w") as err:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - c0
        out.with_suffix(".cpu.json").write_text(json.dumps({"wall_seconds": wall, "cpu_seconds": cpu}))
        if proc.returncode != 0 or not out.exists():
            tail = log.read_text(errors="replace").splitlines()[-15:]
            raise RuntimeError(f"tecg_runner exited {proc.returncode}; {log}:\n" + "\n".join(tail))
        print("  ", proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "(no summary)", flush=True)
    if wall is None and out.with_suffix(".cpu.json").exists():
        wall, cpu = json.loads(out.with_suffix(".cpu.json").read_text()).values()
    f = np.load(out)
    d = np.load(data_npz)
    summary = json.loads(str(f["summary_json"])) if "summary_json" in f else {}
    return {"p_val": f["p_val"], "y_val": d["y_val"], "rows_val": d["rows_val"],
            "p_test": f["p_test"], "y_test": d["y_test"], "rows_test": d["rows_test"],
            "train_seconds": float(f["train_seconds"]), "epochs": int(f["epochs"]), "max_epochs": epochs,
            "n_params": int(f["n_params"]), "n_trainable": int(f["n_params"]),
            "torch_ecg_version": str(f["torch_ecg_version"]), "stop_reason": summary.get("stop_reason"),
            "tecg_out": str(out), "wall_seconds": None if wall is None else round(wall, 1),
            "cpu_seconds": None if cpu is None else round(cpu, 1),
            "recipe": {"runner_cmd": cmd, "config_json": json.loads(str(f["config_json"]))}}


# ---------------------------------------------------------------------------------------------- scoring
def val_macro_auroc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    cols = [j for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    return float(np.mean([roc_auc_score(y[:, j], p[:, j]) for j in cols])) if cols else float("nan")


def score(out: dict[str, Any], codes: list[str], n_boot: int, seed: int) -> dict[str, Any]:
    from cardiofm.evaluate.classification import classification_metrics

    # the Strodthoff rule rejects many resamples of the 255-record test fold for the 71-label task (many
    # classes have 2-3 positives there), so allow enough draws for 1000 valid ones
    m = classification_metrics(out["y_test"], out["p_test"], class_names=codes, n_boot=n_boot, seed=seed,
                               micro=False, max_draws=20_000 * n_boot)
    return {"test_macro_auroc": m.macro_auroc, "test_macro_auroc_ci": list(m.macro_auroc_ci or (None, None)),
            "test_macro_auprc": m.macro_auprc, "test_classes_scored": m.n_classes_scored,
            "test_n": m.n, "boot_rejected": m.n_rejected, "boot_accept_rate": n_boot / (n_boot + m.n_rejected),
            "test_note": m.note, "boot_rule": m.rule, "test_not_scored": m.not_scored,
            "val_macro_auroc": val_macro_auroc(out["y_val"], out["p_val"]),
            "val_classes_scored": int(((out["y_val"].sum(0) > 0) & (out["y_val"].sum(0) < len(out["y_val"]))).sum())}


def result_path(args: argparse.Namespace, task: str, name: str) -> Path:
    return Path(args.work) / "results" / task / f"{name}-b{args.budget_s:g}-s{args.seed}.json"


def run_one(args: argparse.Namespace, store: Any, task: str, name: str, data_npz: Path) -> dict[str, Any]:
    path = result_path(args, task, name)
    if path.exists():
        return json.loads(path.read_text())
    rows = task_rows(store, task)
    codes = list(store.cohort.labels(task).codes)
    kind = RECIPES[name]["kind"]
    t0 = time.perf_counter()
    out = (run_cardiofm(args, task, name, len(rows["train"])) if kind == "cardiofm"
           else run_tecg(args, task, name, data_npz, len(rows["train"])))
    # both sides must have scored the very same records
    for split in ("val", "test"):
        if not np.array_equal(np.sort(out[f"rows_{split}"]), np.sort(rows[split])):
            raise RuntimeError(f"{task}/{name}: {split} rows differ from the exported split")
    res = {"task": task, "model": name, "kind": kind, "about": RECIPES[name]["about"], "budget_s": args.budget_s,
           "seed": args.seed, "n_train": len(rows["train"]), "n_val": len(rows["val"]), "n_test": len(rows["test"]),
           "n_labels": len(codes), **score(out, codes, args.n_boot, args.seed),
           **{k: v for k, v in out.items() if not k.startswith(("p_", "y_", "rows_"))},
           "seconds_total": round(time.perf_counter() - t0, 1),
           "finished": datetime.datetime.now().isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1, default=_json_default))
    os.replace(tmp, path)
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work).resolve()
    args.work = str(work)
    work.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/ptbxl.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    import torch

    torch.set_num_threads(args.threads)
    store = build_shared_store(args)
    results, failures = [], []
    for task in args.tasks:
        data_npz = export_task(store, task, work)
        for name in args.models:
            done = result_path(args, task, name).exists()
            if args.report_only and not done:
                continue
            print(f"== {task} / {name}{' (cached)' if done else ''}", flush=True)
            try:
                r = run_one(args, store, task, name, data_npz)
            except Exception as exc:  # one failed model must not end the benchmark
                traceback.print_exc()
                failures.append({"task": task, "model": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
                continue
            ci = r["test_macro_auroc_ci"]
            print(f"   test {fmt(r['test_macro_auroc'])} [{fmt(ci[0])}, {fmt(ci[1])}]  val "
                  f"{fmt(r['val_macro_auroc'])}  {r['train_seconds']:.0f} s  {r['epochs']} epochs", flush=True)
            results.append(r)
    meta = {"command": command, "hardware": hardware(), "budget_s": args.budget_s, "seed": args.seed,
            "tasks": args.tasks, "models": args.models, "preprocess": PREPROCESS, "n_boot": args.n_boot,
            "written": datetime.datetime.now().isoformat(timespec="seconds")}
    (work / "results.json").write_text(json.dumps({"meta": meta, "results": results, "failures": failures},
                                                  indent=1, default=_json_default))
    md = markdown(results, failures, args, command, meta)
    (work / "results.md").write_text(md)
    print(md)
    if args.write_results:
        path = Path(args.results)
        write_section(path, md)
        print(f"wrote the section to {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
