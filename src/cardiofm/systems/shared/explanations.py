"""The explanation part of an evaluation: risk-group average beats (AnyECG-CCTA Figure 8), integrated
gradients of one high-risk record per task, and that record as a clinical 12-lead printout."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from cardiofm.config import RunConfig
from cardiofm.data.store import Store
from cardiofm.engine.rundir import RunDir
from cardiofm.errors import CardiofmError

HIGH, LOW = "high risk", "low risk"


def _tasks(ps: Any, codes: list[str], max_tasks: int) -> list[int]:
    scored = [j for j in range(len(codes)) if 0 < ps.y[:, j].sum() < len(ps.y)]
    return sorted(scored, key=lambda j: -ps.y[:, j].sum())[:max_tasks]


def explain_run(run: RunDir, cfg: RunConfig, store: Store, ps: Any, codes: list[str], figures: Any) -> dict[str, Any]:
    """Average beats by predicted risk group and attributions on ``ps`` (the internal set)."""
    from cardiofm.explain.beats import group_average_beats
    from cardiofm.report.explainplots import plot_group_beats

    ecfg = dataclasses.asdict(cfg.section("evaluate"))
    bcfg = dict(ecfg.get("beats") or {})
    max_records = int(bcfg.get("max_records", 400))
    tasks = _tasks(ps, codes, int(bcfg.get("max_tasks", 4)))
    leads = tuple(cfg.data.leads) if cfg.data.leads else tuple(store.leads)
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(ps.rows), size=min(max_records, len(ps.rows)), replace=False))
    signals = store.batch(ps.rows[pick])
    if cfg.data.leads:
        signals = signals[:, store.lead_index(leads)]
    thresholds = {c: float((ecfg.get("thresholds") or {}).get(c, ecfg.get("default_threshold", 0.5))) for c in codes}
    out: dict[str, Any] = {"records_used": int(len(pick)), "beats": {}, "attribution": {}}
    section = "Explanations"
    for j in tasks:
        c = codes[j]
        p = ps.p[pick, j]
        cut, how = thresholds[c], f"risk threshold {thresholds[c]:g}"
        if (p >= cut).all() or (p < cut).all():  # the threshold puts everyone in one group: split at the median
            cut, how = float(np.median(p)), f"median split at p = {float(np.median(p)):.3g} (the risk threshold " \
                                             f"{thresholds[c]:g} leaves one group empty)"
        groups = np.where(p >= cut, HIGH, LOW)
        if len(set(groups)) < 2:
            out["beats"][c] = f"all {len(groups)} records have the same predicted probability"
            continue
        gb = group_average_beats(signals, store.fs, groups, leads=leads, order=[HIGH, LOW])
        out["beats"][c] = {"grouping": how, **gb.to_dict()}
        figures.add(section, f"{c}: average beats (mean ± SD) of high- vs low-risk records ({how})",
                    plot_group_beats, gb, out=run.plots / f"beats_{c}.png", task=c)
    out["attribution"] = _attributions(run, cfg, store, ps, codes, tasks, leads, figures)
    return out


def _attributions(run: RunDir, cfg: RunConfig, store: Store, ps: Any, codes: list[str], tasks: list[int],
                  leads: tuple[str, ...], figures: Any) -> dict[str, Any]:
    """Integrated gradients of the fold model that predicted it, on the highest-risk true positive per task."""
    from cardiofm.engine.fit import load_fold_module
    from cardiofm.explain.attribution import integrated_gradients, lead_importance
    from cardiofm.fileio import load_arrays
    from cardiofm.report.explainplots import plot_attribution
    from cardiofm.report.plots import plot_ecg

    f = load_arrays(run.path / "predictions.npz", "predictions file", ("oof_rows", "oof_fold"))
    fold_of = dict(zip(f["oof_rows"].tolist(), f["oof_fold"].tolist(), strict=True))
    steps = int(cfg.section("evaluate").attribution.get("steps", 32))
    out: dict[str, Any] = {}
    models: dict[int, Any] = {}
    for j in tasks:
        c = codes[j]
        pos = np.flatnonzero(ps.y[:, j] == 1)
        if not len(pos):
            continue
        i = int(pos[np.argmax(ps.p[pos, j])])
        row = int(ps.rows[i])
        fold = int(fold_of.get(row, 1))
        if fold not in models:
            models[fold] = load_fold_module(run.path / f"fold{fold}")
        x = store.batch(np.array([row]))
        if cfg.data.leads:
            x = x[:, store.lead_index(leads)]
        attr = integrated_gradients(models[fold], x, target=j, steps=steps)
        share = lead_importance(attr)[0]
        rid = str(store.cohort.index["record_id"].iloc[row])
        out[c] = {"record_id": rid, "probability": float(ps.p[i, j]), "fold": fold,
                  "lead_importance": {n: round(float(v), 4) for n, v in zip(leads, share, strict=True)}}
        figures.add("Explanations", f"{c}: integrated gradients on record {rid} (p = {ps.p[i, j]:.2f}, fold {fold})",
                    plot_attribution, x[0], attr[0], store.fs, leads, out=run.plots / f"attribution_{c}.png",
                    title=f"{c}: record {rid}")
        try:
            rec = store.cohort.load(row)
        except CardiofmError:  # the source files may have moved since training: the printout is optional
            continue
        rec.record_id = f"record {rid}: {c} p = {ps.p[i, j]:.2f}"
        figures.add("Explanations", f"{c}: record {rid} as recorded (clinical 12-lead layout)", plot_ecg, rec,
                    out=run.plots / f"ecg_{c}.png")
    return out
