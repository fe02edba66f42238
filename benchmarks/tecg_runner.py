#!/usr/bin/env python3
"""Train a torch-ecg baseline through torch-ecg's own classes, under a wall-time budget.

This script runs INSIDE the isolated torch-ecg virtualenv created by
``benchmarks/tecg_setup.sh`` (``benchmarks/_work/tecg``) and imports nothing
of cardiofm's models, trainers or metrics (only, with ``--augment anyecg``, the NumPy module
``cardiofm.data.augment``, so both stacks see the same augmentation code).
``benchmarks/ptbxl.py`` calls it as a subprocess::

    benchmarks/_work/tecg/bin/python benchmarks/tecg_runner.py \
        --data IN.npz --model crnn_resnet_nc_bn_se --budget-s 600 --max-epochs 30 \
        --batch-size 64 --seed 0 --threads 2 --out OUT.npz

Input  (IN.npz):  x_train (n,12,L) float32, y_train (n,k) {0,1}, x_val, y_val,
                  x_test, y_test, fs (scalar); optional ``classes`` (k,) str.
Output (OUT.npz): p_val, p_test (sigmoid probabilities of the best-val-AUROC
                  checkpoint), train_seconds, epochs, n_params, model,
                  config_json, torch_ecg_version, plus a few diagnostics
                  (best_epoch, best_val_auroc, epoch_seconds, ...).
stdout:           exactly one JSON summary line (torch-ecg's own console logging
                  is redirected to stderr).

What is torch-ecg's and what is adapted, the wall-time budget and determinism:
``benchmarks/TECG_RUNNER.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from collections import OrderedDict
from copy import deepcopy
from pathlib import Path

import numpy as np

# Registered model names -> ECG_CRNN cnn backbone (config key in ECG_CRNN_CONFIG.cnn).
# Any other backbone shipped in ECG_CRNN_CONFIG.cnn can be used as "crnn:<cnn_name>".
MODELS: dict[str, str] = {
    # the 12-lead multi-label backbone of torch-ecg's CinC2021 benchmark (TrainCfg.cnn_name)
    "crnn_resnet_nc_bn_se": "resnet_nature_comm_bottle_neck_se",
    # torch-ecg's multi-scopic CNN (CPSC2019 winner; one of the CinC2021 benchmark runs)
    "crnn_multi_scopic": "multi_scopic",
    # RegNet backbone shipped in ECG_CRNN_CONFIG
    "crnn_regnet_16_8": "regnet_16_8",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="input .npz (x_/y_ train/val/test, fs)")
    p.add_argument("--model", required=True, help=f"one of {sorted(MODELS)} or crnn:<cnn_name>")
    p.add_argument("--budget-s", type=float, required=True, help="wall-time budget in seconds")
    p.add_argument("--max-epochs", type=int, default=30, help="n_epochs given to torch-ecg (OneCycle length)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help="peak learning rate (OneCycle max_lr); default torch-ecg CinC2021's 2e-3",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--budget-mode", choices=["epoch", "hard"], default="epoch")
    p.add_argument(
        "--kernel-fs",
        choices=["data", "native"],
        default="data",
        help="data: rescale CNN kernel lengths from 500 Hz to the data fs (torch-ecg convention); "
        "native: keep the configs' 500-Hz kernel lengths",
    )
    p.add_argument("--loss", choices=["bce", "asymmetric"], default="bce")
    p.add_argument("--log-dir", default=None, help="keep torch-ecg's logs/best model here (default: temp, removed)")
    p.add_argument("--patience", type=int, default=10,
                   help="early-stopping patience in epochs (torch-ecg's CinC2021 default: 10)")
    p.add_argument("--augment", choices=["none", "anyecg"], default="none",
                   help="none: torch-ecg as shipped; anyecg: the AnyECG-CCTA augmentation, the very code cardiofm "
                        "trains with (read from --cardiofm-src), so that both stacks see the same augmentation")
    p.add_argument("--cardiofm-src", default=str(Path(__file__).resolve().parents[1] / "src"),
                   help="cardiofm's src folder; only its NumPy augmentation module is imported, and only with "
                        "--augment anyecg")
    return p.parse_args(argv)


def training_augmentation(args: argparse.Namespace, fs: float):
    """(augment, strength_at_epoch) for ``--augment anyecg``, or (None, None).

    This is the one place the runner touches cardiofm: ``cardiofm.data.augment`` is a NumPy module
    (no torch, no Lightning) and is used here exactly as cardiofm's data loader uses it: the AnyECG
    recipe, one random stream per (seed, epoch, sample), the strength annealed 1.0 -> 0.5 by cosine.
    """
    if args.augment == "none":
        return None, None
    sys.path.insert(0, str(Path(args.cardiofm_src).resolve()))
    from cardiofm.data.augment import AUGMENT_RECIPES, build_augmentation, cosine_strength

    aug = build_augmentation(list(AUGMENT_RECIPES[args.augment]), fs=fs)
    return aug, (lambda epoch: cosine_strength(epoch, int(args.max_epochs), low=0.5, high=1.0))


def macro_auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Macro AUROC over the classes that have both labels present (nan if none)."""
    from sklearn.metrics import roc_auc_score

    scores = []
    for j in range(y.shape[1]):
        col = y[:, j]
        if col.min() != col.max():
            scores.append(roc_auc_score(col, p[:, j]))
    return float(np.mean(scores)) if scores else float("nan")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, int, str)) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return str(obj)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    real_stdout = sys.stdout
    t_script = time.perf_counter()

    # threads must be fixed before torch does any work
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(args.threads))
    os.environ.setdefault("TQDM_DISABLE", "1")  # torch-ecg's per-epoch progress bars
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    import torch
    import torch_ecg
    from torch.utils.data import DataLoader, Dataset
    from torch_ecg.cfg import CFG, set_seed
    from torch_ecg.components.trainer import BaseTrainer
    from torch_ecg.model_configs import ECG_CRNN_CONFIG
    from torch_ecg.models import ECG_CRNN
    from torch_ecg.utils.utils_nn import adjust_cnn_filter_lengths

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    # ------------------------------------------------------------------ data
    with np.load(args.data, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    for key in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test", "fs"):
        if key not in arrays:
            raise SystemExit(f"{args.data}: missing array {key!r}")
    x_tr = np.ascontiguousarray(arrays["x_train"], dtype=np.float32)
    y_tr = np.ascontiguousarray(arrays["y_train"], dtype=np.float32)
    x_va = np.ascontiguousarray(arrays["x_val"], dtype=np.float32)
    y_va = np.ascontiguousarray(arrays["y_val"], dtype=np.float32)
    x_te = np.ascontiguousarray(arrays["x_test"], dtype=np.float32)
    fs = int(round(float(np.asarray(arrays["fs"]).reshape(-1)[0])))
    n_leads, k = x_tr.shape[1], y_tr.shape[1]
    if "classes" in arrays:
        classes = [str(c) for c in arrays["classes"].tolist()]
    else:
        classes = [f"class_{j}" for j in range(k)]

    # ---------------------------------------------------------------- seeding
    set_seed(args.seed)  # torch-ecg's own: DEFAULTS.RNG, random, numpy, torch
    random.seed(args.seed)
    np.random.seed(args.seed % 2**32)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    # ------------------------------------------------------------------ model
    if args.model in MODELS:
        cnn_name = MODELS[args.model]
    elif args.model.startswith("crnn:"):
        cnn_name = args.model.split(":", 1)[1]
    else:
        raise SystemExit(f"unknown --model {args.model!r}; use one of {sorted(MODELS)} or crnn:<cnn_name>")
    if cnn_name not in ECG_CRNN_CONFIG.cnn:
        raise SystemExit(f"cnn {cnn_name!r} not in ECG_CRNN_CONFIG.cnn")

    model_config = deepcopy(ECG_CRNN_CONFIG)
    model_config.cnn.name = cnn_name
    if args.kernel_fs == "data" and fs != model_config.fs:
        model_config = adjust_cnn_filter_lengths(model_config, fs)
    model = ECG_CRNN(classes=classes, n_leads=n_leads, config=model_config)
    # the resolved config the model was built with; keep only the chosen backbone in the record
    model_config = deepcopy(model.config)
    model_config.cnn = CFG({"name": cnn_name, cnn_name: model_config.cnn[cnn_name]})
    model = model.to(device=torch.device("cpu"), dtype=torch.float32)
    n_params = int(sum(p.numel() for p in model.parameters() if p.requires_grad))

    # ----------------------------------------------------------- train config
    work_dir = Path(args.log_dir) if args.log_dir else Path(tempfile.mkdtemp(prefix="tecg_run_"))
    work_dir.mkdir(parents=True, exist_ok=True)
    max_lr = 2e-3 if args.lr is None else float(args.lr)
    train_config = CFG(
        # bookkeeping
        classes=classes,
        n_leads=n_leads,
        fs=fs,
        log_dir=str(work_dir / "log"),
        checkpoints=str(work_dir / "checkpoints"),
        model_dir=str(work_dir / "saved_models"),
        final_model_name=None,
        keep_checkpoint_max=0,  # no per-epoch checkpoints; the best model is still saved
        tensorboardx_logger=False,
        debug=False,  # no extra evaluation on the training set each epoch
        log_step=20,
        # epochs / batches
        n_epochs=int(args.max_epochs),
        batch_size=int(args.batch_size),
        # optimiser + scheduler: torch-ecg CinC2021 benchmark TrainCfg
        optimizer="adamw_amsgrad",
        momentum=0.949,
        betas=(0.9, 0.999),
        decay=1e-2,
        learning_rate=max_lr / 20.0,  # CinC2021: 1e-4 with max_lr 2e-3 (OneCycle sets its own start lr)
        lr_scheduler="one_cycle",
        lr_step_size=50,
        lr_gamma=0.1,
        max_lr=max_lr,
        early_stopping=CFG(min_delta=0.001, patience=int(args.patience)),
        flooding_level=0.0,
        # loss
        loss="BCEWithLogitsLoss" if args.loss == "bce" else "AsymmetricLoss",
        loss_kw=CFG() if args.loss == "bce" else CFG(gamma_pos=0, gamma_neg=0.2, implementation="deep-psp"),
        # model selection
        monitor="auroc",
        # torch-ecg's own augmenters: none (keys absent -> AugmenterManager is empty); with --augment
        # anyecg the training dataset applies cardiofm's AnyECG pipeline instead (ArrayDataset below)
    )
    augment, strength_at = training_augmentation(args, fs)

    budget_s = float(args.budget_s)
    hard = args.budget_mode == "hard"

    class ArrayDataset(Dataset):
        """(signal, label) pairs from in-memory arrays, for torch-ecg's default collate fn."""

        def __init__(self, config=None, training: bool = True, x=None, y=None):
            self.config, self.training, self.x, self.y = config, training, x, y
            self.epoch, self.strength = 0, 1.0

        def __len__(self) -> int:
            return len(self.x)

        def __getitem__(self, i):
            if self.training and augment is not None:
                rng = np.random.default_rng((args.seed, self.epoch, i))
                return np.ascontiguousarray(augment(self.x[i], rng, self.strength), dtype=np.float32), self.y[i]
            return self.x[i], self.y[i]

    class BudgetExhausted(Exception):
        pass

    class BudgetedLoader(DataLoader):
        """Train loader that ends an epoch early (after >= 1 batch) when the trainer says so."""

        trainer = None

        def __iter__(self):
            for i, batch in enumerate(super().__iter__()):
                if i > 0 and self.trainer is not None and self.trainer._cut_epoch_now():
                    self.trainer.cut_mid_epoch = True
                    return
                yield batch

    class ArrayTrainer(BaseTrainer):
        """Minimal concrete BaseTrainer over in-memory arrays, with a wall-time budget."""

        __name__ = "ArrayTrainer"

        def __init__(self, model, model_config, train_config, train_ds, val_ds, seed):
            self._train_ds, self._val_ds, self._seed = train_ds, val_ds, seed
            self.t_start = None
            self.epoch_t0 = None
            self.epoch_seconds: list[float] = []
            self.step_seconds: list[float] = []
            self._last_step_t = None
            self.stop_reason = "max_epochs"
            self.cut_mid_epoch = False
            super().__init__(
                model=model,
                dataset_cls=ArrayDataset,
                model_config=model_config,
                train_config=train_config,
                device=torch.device("cpu"),
                lazy=True,
            )
            self._setup_dataloaders(train_ds, val_ds)

        # --- required hooks -------------------------------------------------
        def _setup_dataloaders(self, train_dataset=None, val_dataset=None) -> None:
            train_dataset = train_dataset if train_dataset is not None else self._train_ds
            val_dataset = val_dataset if val_dataset is not None else self._val_ds
            gen = torch.Generator()
            gen.manual_seed(self._seed)
            common = {"batch_size": self.batch_size, "num_workers": 0, "drop_last": False,
                      "collate_fn": self.collate_fn}
            self.train_loader = BudgetedLoader(dataset=train_dataset, shuffle=True, generator=gen, **common)
            self.train_loader.trainer = self
            self.val_train_loader = None
            self.val_loader = DataLoader(dataset=val_dataset, shuffle=False, **common)

        def run_one_step(self, *data):
            # time between consecutive step starts (= one full optimisation step incl. data loading)
            now = time.perf_counter()
            if self._last_step_t is not None:
                self.step_seconds.append(now - self._last_step_t)
            self._last_step_t = now
            signals, labels = data[0], data[1]
            signals = signals.to(device=self.device, dtype=self.dtype)
            labels = labels.to(device=self.device, dtype=self.dtype)
            return self.model(signals), labels

        @torch.no_grad()
        def evaluate(self, data_loader) -> dict[str, float]:
            self.model.eval()
            probs, labels = [], []
            for signals, lab in data_loader:
                probs.append(torch.sigmoid(self.model(signals.to(device=self.device, dtype=self.dtype))).cpu().numpy())
                labels.append(lab.numpy())
            self.model.train()
            auc = macro_auroc(np.concatenate(labels), np.concatenate(probs))
            # BaseTrainer compares with `>`; a nan would never be selected
            return {"auroc": auc if math.isfinite(auc) else 0.0}

        @property
        def batch_dim(self) -> int:
            return 0

        @property
        def extra_required_train_config_fields(self) -> list[str]:
            return ["loss", "monitor", "max_lr"]

        # --- wall-time budget, through hooks ----------------------------------
        def elapsed(self) -> float:
            return time.perf_counter() - self.t_start

        def _cut_epoch_now(self) -> bool:
            if hard:
                return self.elapsed() >= budget_s
            return (time.perf_counter() - self.epoch_t0) > budget_s

        def train_one_epoch(self, pbar) -> None:
            if self.epoch > 0 and (self.cut_mid_epoch or self.elapsed() >= budget_s):
                self.stop_reason = "budget_cut_mid_epoch" if self.cut_mid_epoch else "budget"
                raise BudgetExhausted()
            self.epoch_t0 = time.perf_counter()
            self._last_step_t = None
            if strength_at is not None:  # cardiofm's AugmentationSchedule, epoch by epoch
                self.train_loader.dataset.epoch = len(self.epoch_seconds)
                self.train_loader.dataset.strength = strength_at(len(self.epoch_seconds))
            super().train_one_epoch(pbar)
            self.epoch_seconds.append(time.perf_counter() - self.epoch_t0)

        def train(self) -> OrderedDict:
            self.t_start = time.perf_counter()
            try:
                best = super().train()
                if self.cut_mid_epoch:  # the last epoch was cut by the budget
                    self.stop_reason = "budget_cut_mid_epoch"
                elif len(self.epoch_seconds) < self.n_epochs:
                    self.stop_reason = "early_stopping"
                return best
            except BudgetExhausted:
                # what BaseTrainer.train() does after its loop (monitor is set)
                if self.best_metric == -np.inf:
                    raise ValueError("No best model found!") from None
                if self._best_model_path is None:
                    self._save_best_model(self.best_eval_res)
                self.log_manager.close()
                if not self.best_state_dict:
                    self.best_state_dict = self._snapshot_state_dict()
                return self.best_state_dict

    def predict(net, loader) -> np.ndarray:
        net.eval()
        out = []
        with torch.no_grad():
            for batch in loader:
                out.append(torch.sigmoid(net(batch[0].to(torch.float32))).numpy())
        return np.concatenate(out).astype(np.float32)

    train_ds = ArrayDataset(train_config, True, x_tr, y_tr)
    val_ds = ArrayDataset(train_config, False, x_va, y_va)

    # torch-ecg logs to stdout; keep our stdout for the single JSON summary line
    with contextlib.redirect_stdout(sys.stderr):
        trainer = ArrayTrainer(model, model_config, train_config, train_ds, val_ds, args.seed)
        t0 = time.perf_counter()
        best_state = trainer.train()
        train_seconds = time.perf_counter() - t0
        logging.shutdown()

    model.load_state_dict(best_state)
    model.eval()

    def plain_loader(x):
        ds = ArrayDataset(None, False, x, np.zeros((len(x), k), np.float32))
        return DataLoader(ds, batch_size=args.batch_size, shuffle=False, collate_fn=trainer.collate_fn)

    p_val = predict(model, plain_loader(x_va))
    p_test = predict(model, plain_loader(x_te))
    best_val_auroc = macro_auroc(y_va, p_val)

    config_json = json.dumps(
        {
            "model_class": "torch_ecg.models.ECG_CRNN",
            "trainer_class": "torch_ecg.components.trainer.BaseTrainer (subclass ArrayTrainer)",
            "model_config": _jsonable(model_config),
            "train_config": _jsonable(trainer.train_config),
            "runner": {
                "budget_s": budget_s,
                "budget_mode": args.budget_mode,
                "kernel_fs": args.kernel_fs,
                "patience": args.patience,
                "augment": args.augment,
                "threads": args.threads,
                "seed": args.seed,
            },
        },
        sort_keys=True,
    )
    # epochs trained (the last possibly cut short); BaseTrainer's own `epoch` counter is not
    # advanced for the epoch on which early stopping breaks its loop
    epochs = len(trainer.epoch_seconds)
    summary = {
        "model": args.model,
        "cnn": cnn_name,
        "n_params": n_params,
        "epochs": epochs,
        "best_epoch": int(trainer.best_epoch),
        "best_val_auroc": round(best_val_auroc, 6) if math.isfinite(best_val_auroc) else None,
        "train_seconds": round(train_seconds, 3),
        "mean_epoch_seconds": round(float(np.mean(trainer.epoch_seconds)), 3) if trainer.epoch_seconds else None,
        "median_step_seconds": round(float(np.median(trainer.step_seconds)), 4) if trainer.step_seconds else None,
        "steps_per_epoch": len(trainer.train_loader),
        "stop_reason": trainer.stop_reason,
        "schedule_completed": epochs >= args.max_epochs and not trainer.cut_mid_epoch,
        "loss": train_config.loss,
        "torch_ecg_version": torch_ecg.__version__,
        "torch_version": torch.__version__,
        "total_seconds": round(time.perf_counter() - t_script, 3),
        "out": args.out,
    }

    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out_path.with_name(out_path.name + ".tmp.npz")
    np.savez(
        tmp_out,
        p_val=p_val,
        p_test=p_test,
        train_seconds=np.float64(train_seconds),
        epochs=np.int64(epochs),
        n_params=np.int64(n_params),
        model=np.str_(args.model),
        config_json=np.str_(config_json),
        torch_ecg_version=np.str_(torch_ecg.__version__),
        best_epoch=np.int64(trainer.best_epoch),
        best_val_auroc=np.float64(best_val_auroc),
        epoch_seconds=np.asarray(trainer.epoch_seconds, dtype=np.float64),
        step_seconds=np.asarray(trainer.step_seconds, dtype=np.float64),
        stop_reason=np.str_(trainer.stop_reason),
        summary_json=np.str_(json.dumps(summary)),
    )
    os.replace(tmp_out, out_path)

    if not args.log_dir:
        shutil.rmtree(work_dir, ignore_errors=True)

    print(json.dumps(summary), file=real_stdout, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
