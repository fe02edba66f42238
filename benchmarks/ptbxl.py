"""PTB-XL subset benchmark (issues 4 and 17): cardiofm recipes vs torch-ecg models vs a random-encoder floor.

On the PTB-XL subset in ``../shared/data/ptbxl`` (1,987 records, 100 Hz), for each of the six
benchmark tasks of Strodthoff et al. (2021) (``all``, ``diagnostic``, ``subdiagnostic``,
``superdiagnostic``, ``form``, ``rhythm``) with ``strat_fold`` 1-8 / 9 / 10 as train / val / test:

1. one shared cardiofm store is built (100 Hz, 1000 samples, 0.67-40 Hz band-pass, per-lead z-score)
   and, per task, its train/val/test arrays are exported to ``<work>/data/<task>.npz`` for the
   torch-ecg runner: the same preprocessed signals, the same rows, the same labels;
2. every model trains per task, in one of two columns: ``budget`` (a wall-time budget ``--budget-s``,
   the schedule sized to fit it) or ``converged`` (``--max-epochs``: a fixed long schedule that early
   stopping ends, ``--budget-s`` only a wall cap). cardiofm recipes run through
   ``cardiofm.engine.cv.train`` with ``cv.folds=0``, torch-ecg models through
   ``benchmarks/tecg_runner.py`` in torch-ecg's own virtualenv, and the floor is a random-init, frozen
   ``net1d_s`` with a linear probe. Augmentation is part of a model's name (``_aug``: AnyECG-CCTA's
   pipeline, the same code on both stacks; none otherwise), early-stopping patience is shared;
3. each is scored on the test fold: macro AUROC with a 95 % percentile bootstrap CI (Strodthoff rule,
   ``cardiofm.evaluate.classification_metrics``), plus validation macro AUROC, train seconds, epochs
   and parameter counts; the test and validation predictions are kept beside each result;
4. the report (``ptbxl_report.py``) picks each side's model on validation macro AUROC and compares
   them on the test fold with ``cardiofm.evaluate.compare`` (paired bootstrap ΔAUROC, CI, p-value);
   ``--write-results`` replaces this benchmark's section of ``benchmarks/RESULTS.md``.

Resumable: a finished (column, task, model) result in ``<work>/results/`` is reused, cardiofm run
folders resume by themselves, torch-ecg outputs are cached in ``<work>/tecg/``. Runs for different
tasks may go in parallel processes on the same ``--work``; ``--report-only`` then reports them all.

    python benchmarks/ptbxl.py --budget-s 90
    python benchmarks/ptbxl.py --budget-s 1200 --max-epochs 60
    python benchmarks/ptbxl.py --report-only --write-results
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
#  * augmentation is part of the recipe name: no suffix = none (torch-ecg as shipped), `_aug` = the
#    AnyECG-CCTA pipeline, the same NumPy code for both stacks (the torch-ecg runner imports
#    cardiofm.data.augment for it), so every paired comparison is between equally augmented models.
TECG_ABOUT = {"crnn_resnet_nc_bn_se": "torch-ecg ECG_CRNN, resnet_nature_comm_bottle_neck_se backbone (its CinC2021 "
                                      "12-lead benchmark model), torch-ecg BaseTrainer",
              "crnn_multi_scopic": "torch-ecg ECG_CRNN, multi_scopic backbone (CPSC2019 winner), torch-ecg BaseTrainer",
              "crnn_regnet_16_8": "torch-ecg ECG_CRNN, regnet_16_8 backbone, torch-ecg BaseTrainer"}
AUG_ABOUT = {"none": "no augmentation", "anyecg": "AnyECG augmentation"}
RECIPES: dict[str, dict[str, Any]] = {
    "floor": {"kind": "cardiofm", "encoder": "net1d_s", "augment": "none", "lr": 1e-2, "freeze": True,
              "about": "floor: random-init net1d_s, frozen (eval-mode BN), linear probe only"},
}
for _aug, _suffix in (("none", ""), ("anyecg", "_aug")):
    for _enc, _lr, _what in (("net1d_s", 1e-3, "cardiofm Net1D small (CLEF Table S7)"),
                             ("resnet1d_wang", 1e-3, "cardiofm resnet1d_wang (Strodthoff et al.'s PTB-XL baseline)"),
                             ("net1d_tiny", 3e-3, "cardiofm Net1D tiny (9k parameters)")):
        RECIPES[_enc + _suffix] = {"kind": "cardiofm", "encoder": _enc, "augment": _aug, "lr": _lr, "freeze": False,
                                   "about": f"{_what}, random init, full fine-tuning, {AUG_ABOUT[_aug]}"}
    for _model, _what in TECG_ABOUT.items():
        RECIPES[f"tecg_{_model}{_suffix}"] = {"kind": "tecg", "model": _model, "epoch_key": _model, "augment": _aug,
                                              "about": f"{_what}, {AUG_ABOUT[_aug]}"}
DEFAULT_MODELS = ("net1d_s", "net1d_s_aug", "resnet1d_wang", "floor", "tecg_crnn_resnet_nc_bn_se",
                  "tecg_crnn_resnet_nc_bn_se_aug", "tecg_crnn_multi_scopic", "tecg_crnn_multi_scopic_aug")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "ptbxl"), help="PTB-XL folder")
    p.add_argument("--work", default=str(REPO / "benchmarks" / "_work" / "ptbxl"), help="work/cache folder")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=sorted(RECIPES))
    p.add_argument("--budget-s", type=float, default=90.0, help="wall-time training budget per model per task")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="fixed schedule length (the 'converged' column: train until early stopping, the budget "
                        "only a wall cap); default: a schedule sized to fit --budget-s")
    p.add_argument("--tecg-python", default=str(REPO / "benchmarks" / "_work" / "tecg" / "bin" / "python"))
    p.add_argument("--seed", type=int, default=0)
    # one thread: on these 2 shared cores two OpenMP threads spin at barriers whenever other jobs run,
    # measured at 12.6 s vs 0.58 s per net1d_s step under load (2 threads win only on an idle machine)
    p.add_argument("--threads", type=int, default=1, help="torch threads of every training")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs (both stacks)")
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


def planned_epochs(key: str, budget_s: float, n_train: int, fixed: int | None = None) -> int:
    """Schedule length that roughly fits the budget (>= 2, so the warm-up/anneal is not degenerate), or
    ``fixed`` when the run is meant to converge (early stopping ends it, the budget is only a cap)."""
    if fixed is not None:
        return int(fixed)
    per_epoch = EPOCH_S.get(key, 45.0) * n_train / 1490
    return int(min(50, max(2, math.ceil(budget_s / per_epoch))))


def run_cardiofm(args: argparse.Namespace, task: str, name: str, n_train: int) -> dict[str, Any]:
    import cardiofm.systems  # noqa: F401  (registers the systems)
    from cardiofm.config import config_from_dict
    from cardiofm.engine.cv import train
    from cardiofm.engine.fit import load_fold_module

    r = RECIPES[name]
    key = "floor" if r["freeze"] else r["encoder"]
    epochs = planned_epochs(key, args.budget_s, n_train, args.max_epochs)
    run_dir = Path(args.work) / "runs" / task / f"{name}-b{args.budget_s:g}-s{args.seed}-e{epochs}-p{args.patience}"
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
    epochs = planned_epochs(r["epoch_key"], args.budget_s, n_train, args.max_epochs)
    out = Path(args.work) / "tecg" / task / f"{name}-b{args.budget_s:g}-s{args.seed}-e{epochs}-p{args.patience}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [args.tecg_python, str(REPO / "benchmarks" / "tecg_runner.py"), "--data", str(data_npz),
           "--model", r["model"], "--budget-s", f"{args.budget_s:g}", "--max-epochs", str(epochs),
           "--batch-size", str(args.batch_size), "--seed", str(args.seed), "--threads", str(args.threads),
           "--patience", str(args.patience), "--augment", r["augment"], "--out", str(out)]
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


def column(args: argparse.Namespace) -> str:
    """'budget' (schedule sized to the wall budget) or 'converged' (fixed long schedule, early stopping)."""
    return "budget" if args.max_epochs is None else "converged"


def result_path(args: argparse.Namespace, task: str, name: str) -> Path:
    """The result JSON; the test/validation predictions sit beside it (same stem, ``.npz``)."""
    return (Path(args.work) / "results" / column(args) / task /
            f"{name}-b{args.budget_s:g}-s{args.seed}-p{args.patience}.json")


def collect(work: Path) -> list[dict[str, Any]]:
    """Every finished result under ``<work>/results`` (all columns, all tasks), with its predictions."""
    out = []
    for path in sorted((work / "results").glob("*/*/*.json")):
        r = json.loads(path.read_text())
        pred = path.with_suffix(".npz")
        if pred.exists():
            with np.load(pred) as z:
                r["pred"] = {k: z[k] for k in z.files}
        out.append(r)
    return out


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
           "column": column(args), "augment": RECIPES[name]["augment"], "patience": args.patience, "seed": args.seed,
           "n_train": len(rows["train"]), "n_val": len(rows["val"]), "n_test": len(rows["test"]),
           "n_labels": len(codes), **score(out, codes, args.n_boot, args.seed),
           **{k: v for k, v in out.items() if not k.startswith(("p_", "y_", "rows_"))},
           "seconds_total": round(time.perf_counter() - t0, 1),
           "finished": datetime.datetime.now().isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_npz = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp_npz, p_val=out["p_val"], y_val=out["y_val"], p_test=out["p_test"], y_test=out["y_test"],
             rows_test=out["rows_test"], codes=np.asarray(codes, dtype=str))
    os.replace(tmp_npz, path.with_suffix(".npz"))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1, default=_json_default))
    os.replace(tmp, path)
    return res


def train_all(args: argparse.Namespace, command: str) -> int:
    """Train and score every (task, model) of ``args`` not already done; failures go to ``<work>/failures``."""
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    store = build_shared_store(args)
    n_failed = 0
    for task in args.tasks:
        data_npz = export_task(store, task, work)
        for name in args.models:
            done = result_path(args, task, name).exists()
            print(f"== {column(args)} / {task} / {name}{' (cached)' if done else ''}", flush=True)
            fail = work / "failures" / f"{column(args)}-{task}-{name}.json"
            try:
                r = run_one(args, store, task, name, data_npz)
            except Exception as exc:  # one failed model must not end the benchmark
                traceback.print_exc()
                fail.parent.mkdir(parents=True, exist_ok=True)
                fail.write_text(json.dumps({"column": column(args), "task": task, "model": name,
                                            "error": f"{type(exc).__name__}: {exc}"[:300]}))
                n_failed += 1
                continue
            fail.unlink(missing_ok=True)
            if "command" not in r:
                r["command"] = command
                result_path(args, task, name).write_text(json.dumps(r, indent=1, default=_json_default))
            ci = r["test_macro_auroc_ci"]
            print(f"   test {fmt(r['test_macro_auroc'])} [{fmt(ci[0])}, {fmt(ci[1])}]  val "
                  f"{fmt(r['val_macro_auroc'])}  {r['train_seconds']:.0f} s  {r['epochs']} epochs", flush=True)
    return n_failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work).resolve()
    args.work = str(work)
    work.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/ptbxl.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    n_failed = 0 if args.report_only else train_all(args, command)
    results = collect(work)
    failures = [json.loads(f.read_text()) for f in sorted((work / "failures").glob("*.json"))]
    meta = {"hardware": hardware(), "seed": args.seed, "preprocess": PREPROCESS, "n_boot": args.n_boot,
            "written": datetime.datetime.now().isoformat(timespec="seconds")}
    slim = [{k: v for k, v in r.items() if k != "pred"} for r in results]
    (work / "results.json").write_text(json.dumps({"meta": meta, "results": slim, "failures": failures},
                                                  indent=1, default=_json_default))
    md = markdown(results, failures, args, meta)
    (work / "results.md").write_text(md)
    print(md)
    if args.write_results:
        path = Path(args.results)
        write_section(path, md)
        print(f"wrote the section to {path}")
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
