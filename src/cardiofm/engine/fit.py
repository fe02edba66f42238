"""One Lightning fit: trainer with early stopping, best/last checkpoints, CSV logs; resume; prediction."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from cardiofm.config import RunConfig, TrainerConfig
from cardiofm.data.augment import augment_recipe
from cardiofm.data.store import Store
from cardiofm.data.torch import AugmentationSchedule, StoreDataModule
from cardiofm.engine.rundir import done_info, is_done
from cardiofm.errors import CardiofmError, ConfigError, FileFormatError
from cardiofm.fileio import load_checkpoint, one_line, read_table
from cardiofm.methods.registry import create_method, get_method

# Lightning's start-up chatter (hardware lines, tips, "limit_train_batches=1.0 was configured") is noise
# in a run log; its warnings about real problems still show.
_QUIET = ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "lightning.fabric")


def quiet_lightning() -> None:
    import logging
    import warnings

    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*is smaller than the logging interval.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")


def build_trainer(tc: TrainerConfig, fold_dir: Path) -> L.Trainer:
    """A ``lightning.Trainer`` writing checkpoints and CSV (optionally TensorBoard) logs to ``fold_dir``."""
    quiet_lightning()
    if tc.mode not in ("max", "min"):
        raise ConfigError(f"trainer.mode: {tc.mode!r}; use max (a score such as AUROC) or min (a loss)")
    callbacks: list[L.Callback] = [
        ModelCheckpoint(dirpath=fold_dir / "checkpoints", filename="best", monitor=tc.monitor, mode=tc.mode,
                        save_top_k=1, auto_insert_metric_name=False, enable_version_counter=False),
        # a second checkpoint of the latest epoch, for resuming (Lightning's save_last only follows the best)
        ModelCheckpoint(dirpath=fold_dir / "checkpoints", filename="last", monitor=None, save_top_k=1,
                        every_n_epochs=1, auto_insert_metric_name=False, enable_version_counter=False),
        EarlyStopping(monitor=tc.monitor, mode=tc.mode, patience=tc.patience, check_finite=False),
        AugmentationSchedule(),
    ]
    if tc.progress:
        callbacks.append(TQDMProgressBar(refresh_rate=5))
    # one log folder per attempt: a resumed fit appends logs/attempt<k>/ and never overwrites earlier ones
    attempt = f"attempt{len(list((fold_dir / 'logs').glob('attempt*')))}"
    loggers: list[Any] = [CSVLogger(save_dir=fold_dir, name="logs", version=attempt)]
    if tc.tensorboard:
        import importlib.util

        from lightning.pytorch.loggers import TensorBoardLogger

        if not any(importlib.util.find_spec(m) for m in ("tensorboard", "tensorboardX")):
            raise ConfigError("trainer.tensorboard=true needs the tensorboard package: pip install tensorboard")

        loggers.append(TensorBoardLogger(save_dir=fold_dir, name="tensorboard", version=attempt))
    import datetime

    max_time = None if tc.max_time_s is None else datetime.timedelta(seconds=float(tc.max_time_s))
    return L.Trainer(max_epochs=tc.max_epochs, max_time=max_time, accelerator=tc.accelerator, devices=tc.devices,
                     strategy=tc.strategy, num_nodes=tc.num_nodes, precision=tc.precision, callbacks=callbacks,
                     logger=loggers,
                     log_every_n_steps=tc.log_every_n_steps, deterministic="warn" if tc.deterministic else False,
                     enable_progress_bar=tc.progress, enable_model_summary=False,
                     limit_train_batches=tc.limit_train_batches, default_root_dir=fold_dir)


def method_values(cfg: RunConfig, store: Store) -> dict[str, Any]:
    """The method's config: the recipe's ``method`` section plus encoder, and what the store decides (lead
    count, sampling rate, label names, clinical-vector width). A recipe value that contradicts the store is a
    :class:`ConfigError`, never a silent override."""
    values = {k: v for k, v in cfg.method.items() if k != "name"}
    config_cls = get_method(cfg.method["name"]).config
    fields = config_cls.__dataclass_fields__
    model = dict(cfg.model)
    if "encoder" in fields:
        values.setdefault("encoder", model.pop("name"))
        values.setdefault("encoder_cfg", model)
    labels = store.cohort.labels(cfg.data.task)
    derived: dict[str, Any] = {"in_leads": store.n_leads_for(cfg.data.leads),
                               "n_labels": len(labels.codes), "label_names": list(labels.codes), "fs": store.fs}
    if cfg.data.tabular is not None:
        from cardiofm.data.tabular import modality_columns

        derived["tab_dim"] = len(modality_columns(store.cohort.index, cfg.data.tabular))
    return config_cls.prepare_values(with_derived(values, derived, fields, cfg.method["name"]), list(labels.codes),
                                     list(labels.descriptions))


def with_derived(values: dict[str, Any], derived: dict[str, Any], fields: Any, method: str) -> dict[str, Any]:
    """``values`` completed by the ``derived`` ones the method has a field for; a recipe value that differs
    from the derived one (``method.fs: 500`` on a 100 Hz store) is a :class:`ConfigError`."""
    out = dict(values)
    for key, value in derived.items():
        if key not in fields:
            continue
        if key in out and out[key] != value:
            raise ConfigError(f"method.{key}={out[key]!r} contradicts the data ({key} = {value!r}); it is "
                              f"derived from the store: remove method.{key} from the recipe ({method})")
        out[key] = value
    return out


def datamodule(cfg: RunConfig, store: Store, rows: dict[str, np.ndarray]) -> StoreDataModule:
    """Loaders of the run's rows; a method whose config says ``uses_labels = False`` gets no labels (and
    keeps the records the task does not label), and its ``data_options`` add loader options (e.g. R-aligned
    windows)."""
    d = cfg.data
    both = bool(cfg.method.get("both_views", True))
    config_cls = get_method(cfg.method["name"]).config
    return StoreDataModule(store.path, task=d.task if config_cls.uses_labels else None, batch_size=d.batch_size,
                           num_workers=d.num_workers, augment=augment_recipe(d.augment), leads=d.leads,
                           seed=cfg.seed, return_original=both and d.augment not in (None, "none"), rows=rows,
                           tabular=d.tabular, **config_cls.data_options(cfg.method))


def check_val_labels(store: Store, task: str, val_rows: np.ndarray) -> None:
    y = store.cohort.labels(task).matrix[val_rows]
    if len(val_rows) == 0 or not ((y.sum(0) > 0) & (y.sum(0) < len(y))).any():
        raise ConfigError(f"the validation rows ({len(val_rows)}) hold no label of task {task!r} with both positive "
                          "and negative records, so val_macro_auroc cannot be computed; use more data or fewer folds")


def resume_fit(trainer: L.Trainer, module: L.LightningModule, data: L.LightningDataModule, last: Path) -> None:
    """``trainer.fit``, continuing from ``last`` when it exists. The checkpoint is checked first and loaded
    with ``weights_only=True``: a checkpoint that holds code is refused, never run."""
    if last.exists():
        load_checkpoint(last)  # a clear one-line refusal before Lightning's own load
    trainer.fit(module, datamodule=data, ckpt_path=str(last) if last.exists() else None, weights_only=True)


def fit_resumable(tc: TrainerConfig, module: L.LightningModule, data: L.LightningDataModule, fold_dir: Path,
                  what: str = "training") -> dict[str, Any]:
    """``trainer.fit`` into ``fold_dir``, resuming from its ``last.ckpt``; the summary of the fit.

    The best score is read from the checkpoint, not the trainer: under ddp_spawn the fit ran in other processes.
    """
    trainer = build_trainer(tc, fold_dir)
    last = fold_dir / "checkpoints" / "last.ckpt"
    resumed = last.exists()
    t0 = time.perf_counter()
    resume_fit(trainer, module, data, last)
    best = fold_dir / "checkpoints" / "best.ckpt"
    if not best.exists():
        raise ConfigError(f"{fold_dir}: {what} ended without a best checkpoint (was {tc.monitor} ever finite?)")
    state = load_checkpoint(last)
    ckpt_state = next((v for k, v in state.get("callbacks", {}).items()
                       if "ModelCheckpoint" in k and repr(tc.monitor) in k), {})
    score = ckpt_state.get("best_model_score")
    return {"best_checkpoint": str(best), "best_score": None if score is None else float(score),
            "epochs": int(state["epoch"]) + 1, "global_steps": int(state["global_step"]),
            "train_seconds": round(time.perf_counter() - t0, 2), "resumed": resumed}


def fit_fold(cfg: RunConfig, store: Store, rows: dict[str, np.ndarray], fold_dir: Path, seed: int) -> dict[str, Any]:
    """Train on ``rows["train"]``, early-stop on ``rows["val"]``; resumes from ``last.ckpt`` if present."""
    check_val_labels(store, cfg.data.task, rows["val"])
    L.seed_everything(seed, workers=True, verbose=False)
    module = create_method(cfg.method["name"], method_values(cfg, store))
    data = datamodule(cfg, store, {k: rows[k] for k in ("train", "val")})
    return fit_resumable(cfg.trainer, module, data, fold_dir)


def load_fold_module(fold_dir: Path, method: str | None = None) -> L.LightningModule:
    """The fold's best model in eval mode (its config is read back from the checkpoint).

    ``method`` names the method; by default it is read from the fold's ``done.json`` (``supervised``
    for folds written before methods were recorded there).
    """
    ckpt = fold_dir / "checkpoints" / "best.ckpt"
    if not ckpt.exists():
        raise ConfigError(f"{ckpt}: missing; has this fold been trained?")
    name = method or (done_info(fold_dir, "fold summary").get("method", "supervised") if is_done(fold_dir)
                      else "supervised")
    return module_from_checkpoint(get_method(name).module, ckpt)


def module_from_checkpoint(module_cls: Any, ckpt: Path) -> Any:
    """Re-create a LightningModule from its config (``hyper_parameters.config``) and load its weights, in eval
    mode; the checkpoint is read with ``weights_only=True``, and a mismatch is a one-line error naming it."""
    state = load_checkpoint(ckpt)
    config = (state.get("hyper_parameters") or {}).get("config")
    if not isinstance(config, dict):
        raise FileFormatError(ckpt, "checkpoint carries no model config (hyper_parameters.config)")
    try:
        module = module_cls(config)
        module.load_state_dict(state["state_dict"])
    except (TypeError, ValueError, KeyError, RuntimeError, CardiofmError) as exc:
        raise FileFormatError(ckpt, f"checkpoint does not match its model ({one_line(exc)})") from None
    return module.eval()


def training_log(fold_dir: Path) -> Any:
    """The fold's logged metrics over all attempts (a resumed fit continues the table), one row per step."""
    import pandas as pd

    parts = [read_table(f, "training log") for f in sorted((fold_dir / "logs").glob("attempt*/metrics.csv"))]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


@torch.inference_mode()
def predict_rows(modules: Sequence[torch.nn.Module], store: Store, rows: np.ndarray, *,
                 leads: Sequence[str] | None = None, batch_size: int = 256) -> np.ndarray:
    """Mean sigmoid output of ``modules`` (a fold ensemble, or one model) over store ``rows``."""
    lead_idx = store.lead_index(leads) if leads else None
    out = []
    for a in range(0, len(rows), batch_size):
        x = store.batch(rows[a:a + batch_size])
        if lead_idx is not None:
            x = x[:, lead_idx]
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        out.append(np.mean([torch.sigmoid(m(xt)).float().numpy() for m in modules], axis=0))
    n_out = getattr(modules[0], "config", None)
    width = out[0].shape[1] if out else int(getattr(n_out, "n_labels", 0))
    return np.concatenate(out) if out else np.zeros((0, width), np.float32)
