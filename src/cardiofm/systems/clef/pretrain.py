"""CLEF pretraining runs (``cardiofm pretrain clef``): sources -> two-view data -> encoder -> probe.

A run folder holds ``config.yaml``, ``pretrain/`` (checkpoints, CSV logs per attempt, ``done.json``),
``encoder/`` (the best encoder as safetensors + JSON, loadable by ``cardiofm.models.load_model`` and by
``method.pretrained`` of a supervised recipe), ``sources.json`` (records, risk and missingness per
source) and ``metrics.json``. Rerunning the same config resumes from the last checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np

from cardiofm.config import DataConfig, RunConfig, build_section
from cardiofm.data.augment import augment_recipe
from cardiofm.data.store import Store
from cardiofm.data.views import TwoViewDataModule, ViewSource
from cardiofm.engine.data import prepare_store
from cardiofm.engine.fit import fit_resumable
from cardiofm.engine.rundir import RunDir, atomic_write_text, run_once, start_run_folder
from cardiofm.errors import ConfigError
from cardiofm.fileio import load_checkpoint
from cardiofm.methods.registry import create_method
from cardiofm.systems.clef.config import PretrainConfig
from cardiofm.systems.shared.summary import write_summary_report


def pretraining(cfg: RunConfig) -> PretrainConfig:
    """The run's typed ``pretrain`` section."""
    return cfg.section("pretrain")


def first_per_patient(store: Store, rows: np.ndarray) -> np.ndarray:
    """The first of each patient's records among ``rows`` (store order), as CLEF pretrains on."""
    pids = store.cohort.index["patient_id"].astype(str).to_numpy()[rows]
    _, first = np.unique(pids, return_index=True)
    return np.sort(rows[first])


def _source(store: Store, rows: np.ndarray, cfg: RunConfig, name: str) -> ViewSource:
    from cardiofm.clinical.cohort_risk import cohort_score2

    if pretraining(cfg).one_per_patient:
        rows = first_per_patient(store, rows)
    r = cohort_score2(store.cohort.index.iloc[rows], pretraining(cfg).risk_columns, seed=cfg.seed)
    return ViewSource(store.path, rows, r.risk, r.n_missing, name=name)


def data_configs(cfg: RunConfig) -> list[DataConfig]:
    """The primary ``data`` section plus each of ``pretrain.extra_data`` (merged over it)."""
    import dataclasses

    out = [cfg.data]
    for k, extra in enumerate(pretraining(cfg).extra_data, start=1):
        base = {**dataclasses.asdict(cfg.data), "root": None, "store": None, "options": {}}
        out.append(build_section(DataConfig, {**base, **dict(extra)}, f"pretrain.extra_data[{k}]"))
    return out


def pretrain_sources(cfg: RunConfig, run_path: Path) -> tuple[list[ViewSource], list[ViewSource], list[Store]]:
    """Training and validation sources of every configured data set (stores built as needed)."""
    train, val, stores = [], [], []
    for k, dc in enumerate(data_configs(cfg)):
        where = run_path if k == 0 else run_path / f"extra{k}"
        store = prepare_store(dc, where, require_task=k == 0)
        name = f"{dc.source}" + (f" ({dc.root})" if dc.root else "")
        train.append(_source(store, store.rows(pretraining(cfg).splits), cfg, name))
        val.append(_source(store, store.rows(pretraining(cfg).val_splits), cfg, name))
        stores.append(store)
    if sum(len(s.rows) for s in val) < 2:
        raise ConfigError(f"pretraining needs validation records (splits {pretraining(cfg).val_splits}) for its "
                          "val_loss; set pretrain.val_splits to splits the stores have")
    return train, val, stores


def describe_sources(train: list[ViewSource], val: list[ViewSource]) -> list[dict[str, Any]]:
    out = []
    for t, v in zip(train, val, strict=True):
        hist = np.bincount(t.n_missing, minlength=8)[:8]
        out.append({"source": t.name, "store": str(t.store), "train_records": len(t.rows), "val_records": len(v.rows),
                    "risk_median": float(np.median(t.risk)) if len(t.risk) else None,
                    "risk_p10_p90": np.percentile(t.risk, [10, 90]).round(4).tolist() if len(t.risk) else None,
                    "n_missing_histogram": hist.tolist()})
    return out


def method_values(cfg: RunConfig, n_leads: int) -> dict[str, Any]:
    """The contrastive method's config: the recipe's ``method`` section, the encoder, and the lead count the
    pretraining data decide (a recipe ``method.in_leads`` that contradicts them is a ConfigError)."""
    from cardiofm.engine.fit import with_derived
    from cardiofm.methods.registry import get_method

    values = {k: v for k, v in cfg.method.items() if k != "name"}
    model = dict(cfg.model)
    values.setdefault("encoder", model.pop("name"))
    values.setdefault("encoder_cfg", model)
    return with_derived(values, {"in_leads": n_leads}, get_method("contrastive").config.__dataclass_fields__,
                        "contrastive")


def pretrain_contrastive(cfg: RunConfig) -> RunDir:
    """Pretrain ``cfg``'s encoder (resuming the run folder of the same config), save it, then probe it."""
    if cfg.trainer.mode != "min" or not cfg.trainer.monitor.endswith("loss"):
        raise ConfigError("pretraining selects the checkpoint with the lowest validation loss: set "
                          "trainer.monitor=val_loss and trainer.mode=min")
    run = start_run_folder(cfg)
    train, val, stores = pretrain_sources(cfg, run.path)
    atomic_write_text(run.path / "sources.json", json.dumps(describe_sources(train, val), indent=1))
    fold_dir = run.path / "pretrain"
    run.update_metrics("pretraining", run_once(fold_dir, lambda: fit_pretraining(cfg, train, val, fold_dir),
                                               "pretraining summary"))
    if cfg.section("probe").tasks or cfg.section("probe").regression:
        from cardiofm.systems.clef.probe import probe_run

        probe_run(run, cfg, stores[0])
    write_summary_report(run, cfg, "CLEF pretraining run")
    return run


def fit_pretraining(cfg: RunConfig, train: list[ViewSource], val: list[ViewSource], fold_dir: Path) -> dict[str, Any]:
    from cardiofm.models import save_model

    d = cfg.data
    dm = TwoViewDataModule(train, val, leads=d.leads, lead_sampling=pretraining(cfg).lead_sampling,
                           augment=augment_recipe(d.augment), batch_size=d.batch_size, num_workers=d.num_workers,
                           seed=cfg.seed)
    n_leads = 1 if pretraining(cfg).lead_sampling == "random" else Store(train[0].store).n_leads_for(d.leads)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = create_method("contrastive", method_values(cfg, n_leads))
    n_train = sum(len(s.rows) for s in train)
    print(f"== pretraining {cfg.method.get('objective', 'clef')}: {n_train} train, "
          f"{sum(len(s.rows) for s in val)} val records, {n_leads} lead(s) per sample")
    info = fit_resumable(cfg.trainer, module, dm, fold_dir, "pretraining")
    module.load_state_dict(load_checkpoint(info["best_checkpoint"])["state_dict"])
    save_model(module.encoder, fold_dir.parent / "encoder")
    return {"objective": module.config.objective, "best_val_loss": info["best_score"], "epochs": info["epochs"],
            "global_steps": info["global_steps"], "train_seconds": info["train_seconds"], "resumed": info["resumed"],
            "train_records": n_train, "encoder": str(fold_dir.parent / "encoder")}

