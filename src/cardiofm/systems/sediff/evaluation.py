"""The test evaluation of an SE-Diff run: one generated ECG per test record, from that record's own condition.

Against the matched real record: MAE and NRMSE (:mod:`cardiofm.evaluate.generation`); of the generated and of
the real ECGs alike: Einthoven/Goldberger residuals and interval plausibility by delineation, so the two can
be compared; of the VAE alone: the reconstruction MSE (the floor any generated ECG is decoded through). The
benchmark adds the metrics that need other models (Fréchet distance, text->ECG recall, augmentation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cardiofm.config import RunConfig
from cardiofm.data.store import Store
from cardiofm.engine.rundir import RunDir
from cardiofm.systems.sediff.conditions import Conditions


def condition_tensors(cond: Conditions, rows: np.ndarray) -> dict[str, torch.Tensor]:
    """The sampling inputs (text, meta, retrieved) of store ``rows``."""
    from cardiofm.systems.sediff.module import meta_features

    m = torch.from_numpy(cond.meta[rows].astype(np.float32))
    return {"text": torch.from_numpy(cond.text[rows].astype(np.float32)), "meta": meta_features(m[:, 0], m[:, 1]),
            "retrieved": torch.from_numpy(cond.retrieved[rows].astype(np.float32))}


def generate_rows(module: Any, cond: Conditions, rows: np.ndarray, *, seed: int = 0, guidance: float | None = None,
                  batch_size: int = 64, progress: bool = True) -> np.ndarray:
    """One generated ECG ``(len(rows), leads, length)`` per store row, from that row's condition."""
    out = []
    batches = range(0, len(rows), batch_size)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="generating", unit="batch")
    for a in batches:
        c = condition_tensors(cond, rows[a:a + batch_size])
        out.append(module.sample(c["text"], c["meta"], c["retrieved"], seed=seed + a, guidance=guidance)["signal"]
                   .numpy())
    return np.concatenate(out) if out else np.zeros((0, module.config.in_leads, module.config.length), np.float32)


def _ci(values: np.ndarray, seed: int) -> dict[str, float]:
    from cardiofm.evaluate.generation import mean_ci

    ci = mean_ci(values, n_boot=500, seed=seed)
    return {"mean": float(ci.estimate), "lower": float(ci.lower), "upper": float(ci.upper)}


def signal_metrics(generated: np.ndarray, real: np.ndarray, fs: float, leads: tuple[str, ...],
                   seed: int = 0) -> dict[str, Any]:
    """MAE, NRMSE (generated vs real), inter-lead residuals and interval plausibility of both."""
    from cardiofm.evaluate import generation as gm

    out: dict[str, Any] = {"mae_mv": _ci(gm.mae(generated, real), seed), "nrmse": _ci(gm.nrmse(generated, real), seed)}
    feats = {}
    for name, sig in (("generated", generated), ("real", real)):
        res = gm.lead_residuals(sig, leads)
        out[f"{name}_einthoven_mv"] = _ci(res["einthoven_mv"].to_numpy(), seed)
        out[f"{name}_goldberger_mv"] = _ci(res["goldberger_mv"].to_numpy(), seed)
        out[f"{name}_inter_lead_relative"] = _ci(res["relative"].to_numpy(), seed)
        feats[name] = gm.interval_features(sig, fs, leads)
        out[f"{name}_intervals"] = gm.interval_plausibility(feats[name])
    out["interval_gap"] = gm.interval_gap(feats["generated"], feats["real"])
    return out


def evaluate_test(run: RunDir, cfg: RunConfig, store: Store, cond: Conditions, test_rows: np.ndarray) -> dict[str, Any]:
    """Generate for up to ``generation.eval_records`` test records; writes ``generated_test.npz`` and plots."""
    from cardiofm.systems.sediff.run import STAGE_DIRS, load_stage

    module = load_stage(run.path / STAGE_DIRS["diffusion"])
    rows = np.sort(np.random.default_rng(cfg.seed).permutation(test_rows)[: cfg.section("generation").eval_records])
    real = store.batch(rows).astype(np.float32)
    gen = generate_rows(module, cond, rows, seed=cfg.seed, guidance=cfg.section("generation").guidance)
    np.savez_compressed(run.path / "generated_test.npz", generated=gen, rows=rows)
    with torch.inference_mode():
        recon = module.reconstruct(torch.from_numpy(real)).numpy()
    out = signal_metrics(gen, real, store.fs, tuple(store.leads), cfg.seed)
    out.update(records=len(rows), vae_recon_mse=float(((recon - real) ** 2).mean()))
    plot_examples(gen, real, rows, cond, store, run)
    return out


def plot_examples(gen: np.ndarray, real: np.ndarray, rows: np.ndarray, cond: Conditions, store: Store, run: RunDir,
                  n: int = 3) -> None:
    """Clinical-layout plots of the first ``n`` generated test ECGs and their real counterparts."""
    from cardiofm.report.plots import plot_ecg
    from cardiofm.signal.record import ECGRecord

    for i in range(min(n, len(rows))):
        rid = str(cond.table["record_id"].iloc[rows[i]])
        text = str(cond.table["text"].iloc[rows[i]])[:90]
        for tag, sig in (("generated", gen[i]), ("real", real[i])):
            rec = ECGRecord(signal=sig, fs=store.fs, leads=tuple(store.leads), record_id=f"{tag}_{rid}")
            plot_ecg(rec, run.plots / f"{tag}_{i}_{rid}.png", title=f"{tag}: {text}")
