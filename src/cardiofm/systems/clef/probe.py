"""The probing protocol on a store's train/val/test splits (CLEF, section 3 and Algorithm 1).

For each lead, the frozen encoder's embeddings of every record are computed once and cached; then for
each label task and each fraction of the training patients a linear probe is fitted (regularisation
chosen on the validation split) and scored on the test split: macro AUROC with a 95 % bootstrap CI
(PTB-XL redraw rule) for label tasks, MAE on the original scale with a bootstrap CI for numeric
columns. ``finetune`` adds full fine-tuning of the encoder for the label tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from cardiofm.config import RunConfig
from cardiofm.data.store import Store
from cardiofm.engine.data import split_rows
from cardiofm.engine.rundir import RunDir
from cardiofm.errors import ConfigError
from cardiofm.systems.clef.config import ProbeConfig

ALL_LEADS = "all"  # a probe "lead" meaning every lead of the store at once (a multi-lead encoder)


def score_classification(y: np.ndarray, p: np.ndarray, groups: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    from cardiofm.evaluate.classification import classification_metrics

    m = classification_metrics(y, p, n_boot=n_boot, seed=seed, micro=False, groups=groups,
                               max_draws=20_000 * max(n_boot, 1))
    ci = list(m.macro_auroc_ci) if m.macro_auroc_ci is not None else [None, None]
    return {"metric": "macro_auroc", "value": m.macro_auroc, "ci": ci, "classes_scored": m.n_classes_scored}


def _score_regression(y: np.ndarray, p: np.ndarray, groups: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    from cardiofm.evaluate.bootstrap import bootstrap_ci
    from cardiofm.systems.clef.probing import regression_mae

    ci = bootstrap_ci(regression_mae, y, p, n_boot=max(n_boot, 1), seed=seed, groups=groups,
                      require_both_classes=False)
    return {"metric": "mae", "value": float(ci.estimate), "ci": [float(ci.lower), float(ci.upper)]}


def probe_encoder(encoder: torch.nn.Module, store: Store, probe: ProbeConfig, out_dir: Path, *, tag: str = "encoder",
                  encoder_dir: Path | None = None, progress: bool = False,
                  predictions: dict[tuple[str, str, float, str], dict[str, np.ndarray]] | None = None,
                  ) -> list[dict[str, Any]]:
    """Linear probe (and fine-tuning when ``probe.finetune`` and ``encoder_dir``) of one encoder.

    Returns one row per (lead, task, fraction, mode) with the test metric and its CI; embeddings are
    cached in ``out_dir/embeddings``. A lead of ``"all"`` feeds every store lead at once. A
    ``predictions`` dict receives, per ``(lead, task, fraction, mode)``, the test rows' targets ``y``,
    predictions ``p``, store ``rows`` and patient ids ``groups`` (for paired comparisons of encoders).
    """
    from cardiofm.systems.clef.probing import cached_embeddings, extract_embeddings, linear_probe, subsample_patients

    out_dir.mkdir(parents=True, exist_ok=True)
    idx = store.cohort.index
    pids = idx["patient_id"].astype(str).to_numpy()
    results: list[dict[str, Any]] = []
    targets = [(t, "classification") for t in probe.tasks] + [(c, "regression") for c in probe.regression]
    for lead in probe.leads:
        chosen = list(store.leads) if lead == ALL_LEADS else [lead]
        z_all = cached_embeddings(out_dir / "embeddings", f"{tag}_{lead}",
                                  lambda chosen=chosen: extract_embeddings(encoder, store, np.arange(len(store)),
                                                                           chosen, progress=progress))
        for target, kind in targets:
            y_all, mask = _target(store, target, kind)
            rows = split_rows(store, mask)
            for frac in probe.fractions:
                keep = rows["train"][subsample_patients(pids[rows["train"]], frac, seed=probe.seed)]
                base = {"encoder": tag, "lead": lead, "task": target, "fraction": frac, "n_train": len(keep),
                        "n_test": len(rows["test"])}
                res = linear_probe(z_all[keep], y_all[keep], z_all[rows["val"]], y_all[rows["val"]],
                                   z_all[rows["test"]], kind=kind, seed=probe.seed)
                score = score_classification if kind == "classification" else _score_regression
                test = rows["test"]
                keep_predictions(predictions, (lead, target, frac, "linear"), y_all, res.predictions, test, pids)
                results.append({**base, "mode": "linear", "selected": res.selected,
                                **score(y_all[test], res.predictions, pids[test], probe.bootstrap, probe.seed)})
                if probe.finetune and kind == "classification":
                    p = _finetune(encoder_dir, store, {"train": keep, "val": rows["val"], "test": test}, target, lead,
                                  out_dir / "finetune" / f"{tag}_{lead}_{target}_{frac:g}", probe)
                    keep_predictions(predictions, (lead, target, frac, "finetune"), y_all, p, test, pids)
                    results.append({**base, "mode": "finetune", **score_classification(
                        y_all[test], p, pids[test], probe.bootstrap, probe.seed)})
    return results


def keep_predictions(into: dict[tuple[str, str, float, str], dict[str, np.ndarray]] | None,
                     key: tuple[str, str, float, str], y_all: np.ndarray, p: np.ndarray, test: np.ndarray,
                     pids: np.ndarray) -> None:
    """Record one cell's test targets, predictions, store rows and patient ids (when asked to)."""
    if into is not None:
        into[key] = {"y": y_all[test], "p": np.asarray(p), "rows": test, "groups": np.asarray(pids[test], dtype=str)}


def _finetune(encoder_dir: Path | None, store: Store, rows: dict[str, np.ndarray], task: str, lead: str,
              out: Path, probe: ProbeConfig) -> np.ndarray:
    from cardiofm.systems.clef.probing import finetune

    leads = list(store.leads) if lead == ALL_LEADS else [lead]
    return finetune(encoder_dir, store, rows, task=task, leads=leads, out_dir=out, max_epochs=probe.finetune_epochs,
                    seed=probe.seed)


def _target(store: Store, target: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels (or values) of every store row and the rows where the target is defined."""
    if kind == "classification":
        ls = store.cohort.labels(target)
        return ls.matrix.astype(np.float32), ls.labelled()
    idx = store.cohort.index
    if target not in idx:
        raise ConfigError(f"probe.regression: column {target!r} is not in the cohort")
    values = pd.to_numeric(idx[target], errors="coerce").to_numpy(dtype=float)
    return values, np.isfinite(values)


def probe_run(run: RunDir, cfg: RunConfig, store: Store) -> list[dict[str, Any]]:
    """Probe a pretraining run's saved encoder on its primary store; writes ``probe.csv`` and metrics."""
    from cardiofm.models import load_model

    encoder_dir = run.path / "encoder"
    encoder = load_model(encoder_dir)
    rows = probe_encoder(encoder, store, cfg.section("probe"), run.path / "probe",
                         tag=cfg.method.get("objective", "encoder"),
                         encoder_dir=encoder_dir, progress=cfg.trainer.progress)
    pd.DataFrame(rows).to_csv(run.path / "probe.csv", index=False)
    from cardiofm.report.probeplots import plot_probe

    plot_probe(rows, run.plots / "probe.png")
    run.update_metrics("probe", rows)
    for r in rows:
        lo, hi = r["ci"]
        print(f"   probe {r['mode']:8s} lead {r['lead']:3s} {r['task']:16s} {r['fraction']:>5g}: "
              f"{r['metric']} {r['value']:.3f} [{_fmt(lo)}, {_fmt(hi)}]  (n_train {r['n_train']})")
    return rows


def _fmt(v: float | None) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"

