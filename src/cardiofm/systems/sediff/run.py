"""SE-Diff runs (``cardiofm pretrain configs/sediff.yaml``): conditions, eta, two training stages, a test evaluation.

A run folder holds ``conditions.npz``/``conditions.csv`` (texts, retrieved reports, classes per store record),
``eta.npz`` and ``eta_fit.csv`` (McSharry parameters per class and lead, with their fit errors), ``vae/`` and
``diffusion/`` (Lightning checkpoints and logs of the two stages, ``done.json`` each), ``generated_test.npz``
(one generated ECG per evaluated test record, from that record's condition), ``plots/``, ``metrics.json`` and
``report.html``.
Rerunning the same config resumes: finished stages are kept, an interrupted one continues from ``last.ckpt``.
``generation.autoencoder`` points at another SE-Diff run whose trained VAE (same data and VAE settings) is
reused, so ablations of the diffusion stage share one autoencoder.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from cardiofm.config import RunConfig
from cardiofm.data.store import Store
from cardiofm.engine.data import split_rows, start_run
from cardiofm.engine.rundir import RunDir, done_info, is_done, mark_done
from cardiofm.errors import ConfigError, FileFormatError
from cardiofm.fileio import load_arrays, read_table
from cardiofm.systems.sediff.conditions import (
    Conditions,
    average_cycles,
    fit_class_eta,
    label_codes,
    record_classes,
    record_meta,
    record_texts,
    record_views,
    retrieve,
    summaries,
)
from cardiofm.systems.shared.summary import write_summary_report

STAGE_DIRS = {"vae": "vae", "diffusion": "diffusion"}


class ConditionedECGs(Dataset):
    """In-memory rows: signal, average cycle, condition inputs and class of each record."""

    def __init__(self, x: np.ndarray, cycles: np.ndarray, ok: np.ndarray, cond: Conditions, rows: np.ndarray) -> None:
        from cardiofm.systems.sediff.module import meta_features

        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        self.cycles, self.ok = torch.from_numpy(cycles[rows]), torch.from_numpy(ok[rows])
        self.text = torch.from_numpy(cond.text[rows].astype(np.float32))
        self.retrieved = torch.from_numpy(cond.retrieved[rows].astype(np.float32))
        m = torch.from_numpy(cond.meta[rows].astype(np.float32))
        self.meta = meta_features(m[:, 0], m[:, 1])
        self.cls = torch.from_numpy(cond.cls[rows])

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "beat": self.cycles[i], "beat_ok": self.ok[i], "text": self.text[i],
                "retrieved": self.retrieved[i], "meta": self.meta[i], "cls": self.cls[i]}


class ConditionedData(L.LightningDataModule):
    def __init__(self, train: ConditionedECGs, val: ConditionedECGs, batch_size: int, seed: int) -> None:
        super().__init__()
        self.train, self.val, self.batch_size, self.seed = train, val, batch_size, seed

    def train_dataloader(self) -> DataLoader:
        gen = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train, batch_size=self.batch_size, shuffle=True, drop_last=len(self.train) >
                          self.batch_size, generator=gen)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val, batch_size=self.batch_size)


def build_conditions(store: Store, cfg: RunConfig, train_rows: np.ndarray) -> Conditions:
    """Texts, metadata, retrieved reports and classes of every store record (module docstring of sediff_data)."""
    from cardiofm.text.encoders import create_text_encoder
    from cardiofm.text.summary import create_summariser

    g = cfg.section("generation")
    index = store.cohort.index.reset_index(drop=True)
    labels = store.cohort.labels(cfg.data.task)
    found = label_codes(labels.matrix, labels.codes)
    describe = dict(zip(labels.codes, labels.descriptions, strict=True))
    texts = record_texts(index, found, describe)
    patients = index["patient_id"].astype(str).tolist()
    print(f"== SE-Diff conditions: retrieving {g.k} similar training patients for {len(index)} records")
    nbrs, sims = retrieve(record_views(index, found), train_rows, patients, g.k)
    reports = summaries(index, nbrs, sims, found, create_summariser(g.summariser))
    encoder = create_text_encoder(g.text_encoder)
    cls, classes = record_classes(found, train_rows, g.min_class_records)
    table = pd.DataFrame({"record_id": index["record_id"].astype(str), "class": [classes[c] for c in cls],
                          "labels": [";".join(f) for f in found], "text": texts, "retrieved_report": reports,
                          "neighbours": [";".join(str(index["record_id"].iloc[j]) for j in n) for n in nbrs]})
    return Conditions(encoder.encode(texts), encoder.encode(reports), record_meta(index), cls, classes, table)


def method_values(cfg: RunConfig, store: Store, cond: Conditions, stage: str) -> dict[str, Any]:
    """The SE-Diff method's config for one stage: the recipe's ``method`` section and what the store and the
    text conditions decide (a recipe value that contradicts them is a ConfigError, never overridden)."""
    from cardiofm.engine.fit import with_derived
    from cardiofm.methods.registry import get_method

    values = {k: v for k, v in cfg.method.items() if k != "name"}
    derived = {"in_leads": store.n_leads, "leads": list(store.leads), "fs": float(store.fs),
               "length": int(store.batch(np.arange(1)).shape[-1]), "text_dim": int(cond.text.shape[1]),
               "classes": list(cond.classes)}
    fields = get_method("sediff").config.__dataclass_fields__
    return with_derived(values, derived, fields, "sediff") | {"stage": stage}


def _fit(module: L.LightningModule, cfg: RunConfig, data: ConditionedData, fold_dir: Path,
         stage: str) -> dict[str, Any]:
    from cardiofm.engine.fit import fit_resumable

    tc = cfg.trainer if stage == "diffusion" else dataclasses.replace(
        cfg.trainer, max_epochs=cfg.section("generation").vae_epochs, patience=cfg.section("generation").vae_patience)
    info = fit_resumable(dataclasses.replace(tc, monitor="val_loss", mode="min"), module, data, fold_dir,
                         f"the {stage} stage")
    return {"stage": stage, "best_val_loss": info["best_score"], "epochs": info["epochs"],
            "global_steps": info["global_steps"], "train_seconds": info["train_seconds"], "resumed": info["resumed"],
            "train_records": len(data.train), "val_records": len(data.val)}


def load_stage(fold_dir: Path) -> Any:
    """The best module of a stage folder, in eval mode."""
    from cardiofm.engine.fit import module_from_checkpoint
    from cardiofm.systems.sediff.module import SEDiffModule

    ckpt = fold_dir / "checkpoints" / "best.ckpt"
    if not ckpt.exists():
        raise ConfigError(f"{ckpt}: missing; has this SE-Diff stage been trained?")
    return module_from_checkpoint(SEDiffModule, ckpt)


@torch.inference_mode()
def latent_stats(module: Any, x: np.ndarray, batch_size: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    mus = [module.vae.encode(torch.from_numpy(np.ascontiguousarray(x[a:a + batch_size], np.float32)))[0]
           for a in range(0, len(x), batch_size)]
    mu = torch.cat(mus)
    return mu.mean(dim=(0, 2)), mu.std(dim=(0, 2)).clamp_min(1e-4)


def _vae_stage(cfg: RunConfig, run: RunDir, store: Store, cond: Conditions, data: ConditionedData) -> Path:
    """Train stage 1 in ``run/vae`` (or take the trained VAE of ``generation.autoencoder``); its folder."""
    from cardiofm.methods.registry import create_method

    fold = run.path / STAGE_DIRS["vae"]
    src = cfg.section("generation").autoencoder
    if src and not is_done(fold):
        other = Path(src) / STAGE_DIRS["vae"]
        if not is_done(other):
            raise ConfigError(f"generation.autoencoder={src}: no finished VAE stage in {other}")
        shutil.copytree(other, fold, dirs_exist_ok=True)
    if not is_done(fold):
        L.seed_everything(cfg.seed, workers=True, verbose=False)
        module = create_method("sediff", method_values(cfg, store, cond, "vae"))
        print(f"== SE-Diff stage 1 (VAE + beat decoder): {len(data.train)} train, {len(data.val)} val records")
        mark_done(fold, _fit(module, cfg, data, fold, "vae"))
    return fold


def _diffusion_stage(cfg: RunConfig, run: RunDir, store: Store, cond: Conditions, data: ConditionedData,
                     vae_dir: Path, eta: np.ndarray) -> Path:
    from cardiofm.methods.registry import create_method

    fold = run.path / STAGE_DIRS["diffusion"]
    if is_done(fold):
        return fold
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = create_method("sediff", method_values(cfg, store, cond, "diffusion"))
    vae = load_stage(vae_dir)
    if vae.config.latent_channels != module.config.latent_channels or vae.config.stride != module.config.stride:
        raise ConfigError(f"{vae_dir}: its VAE has other latent settings than method.latent_channels/stride")
    module.vae.load_state_dict(vae.vae.state_dict())
    module.beat.load_state_dict(vae.beat.state_dict())
    mean, std = latent_stats(module, data.train.x.numpy())
    module.latent_mean.copy_(mean)
    module.latent_std.copy_(std)
    module.eta.copy_(torch.from_numpy(eta))
    c = module.config
    print(f"== SE-Diff stage 2 (diffusion; w_euler={c.w_euler}, w_inter={c.w_inter}, w_spec={c.w_spec}, "
          f"retrieval={'on' if c.use_retrieval else 'off'}): {len(data.train)} train records")
    mark_done(fold, _fit(module, cfg, data, fold, "diffusion"))
    return fold


def run_sediff(cfg: RunConfig) -> RunDir:
    """Prepare the conditions and eta, train both stages (resuming), then evaluate on the test split."""
    if cfg.data.augment not in (None, "none"):
        raise ConfigError("SE-Diff learns the distribution of real ECGs: set data.augment=none")
    run, store = start_run(cfg)
    rows = split_rows(store)
    if len(rows["train"]) < 2 or len(rows["val"]) < 1:
        raise ConfigError(f"SE-Diff needs training and validation records; the store has {len(rows['train'])} "
                          f"train and {len(rows['val'])} val")
    if not (run.path / "conditions.npz").exists():
        build_conditions(store, cfg, rows["train"]).save(run.path)
    cond = Conditions.load(run.path)
    n_phase = int(cfg.method.get("n_phase", 64))
    cycles, ok = average_cycles(store, n_phase)
    if not (run.path / "eta.npz").exists():
        eta, errors = fit_class_eta(cycles, ok, cond.cls, rows["train"], len(cond.classes))
        errors.insert(1, "class_name", [cond.classes[c] for c in errors["class"]])
        errors.to_csv(run.path / "eta_fit.csv", index=False)
        np.savez(run.path / "eta.npz", eta=eta, classes=np.asarray(cond.classes))
    eta = load_arrays(run.path / "eta.npz", "simulator parameter file").get("eta")
    if eta is None or eta.dtype.kind != "f":
        raise FileFormatError(run.path / "eta.npz", "holds no float array 'eta'; delete it to refit")
    x = store.batch(np.arange(len(store)))
    sets = {k: ConditionedECGs(x[rows[k]], cycles, ok, cond, rows[k]) for k in ("train", "val")}
    data = ConditionedData(sets["train"], sets["val"], cfg.data.batch_size, cfg.seed)
    vae_dir = _vae_stage(cfg, run, store, cond, data)
    run.update_metrics("vae", done_info(vae_dir, "stage summary"))
    diff_dir = _diffusion_stage(cfg, run, store, cond, data, vae_dir, eta)
    run.update_metrics("diffusion", done_info(diff_dir, "stage summary"))
    fit = read_table(run.path / "eta_fit.csv", "simulator fit table")
    run.update_metrics("eta_fit", {"classes": cond.classes,
                                   "median_relative_rmse": float(fit["relative_rmse"].median())})
    if cfg.section("generation").eval_records > 0 and len(rows["test"]):
        from cardiofm.systems.sediff.evaluation import evaluate_test

        run.update_metrics("generation", evaluate_test(run, cfg, store, cond, rows["test"]))
    write_summary_report(run, cfg, "SE-Diff run")
    return run
