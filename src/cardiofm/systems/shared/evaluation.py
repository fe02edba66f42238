"""``cardiofm evaluate RUN``: the clinical evaluation of a trained run (AnyECG-CCTA's full suite).

For each prediction set of the run — *internal* (the out-of-fold predictions of the development
records) and *test* (the fold ensemble on the held-out records) — and for each task it computes:
discrimination (per-class / macro / micro AUROC with PTB-XL-protocol bootstrap CI, AUPRC, Fmax;
exam- and patient-level), calibration (reliability curve, Brier, ECE, slope), the Spearman trend over
an ordinal grade, sensitivity / specificity / PPV / NPV at the task's risk threshold and across
thresholds, decision curves, Kaplan-Meier of the outcome by predicted risk group with the log-rank
test, subgroup AUROC (forest plot) and the normal-ECG subgroup; on the internal set also the
average beats of high- vs low-risk records and integrated-gradient attributions. Everything lands
in the run folder: ``metrics.json["evaluation"]``, ``plots/`` and ``report.html``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.data.store import Store
from cardiofm.engine.cv import PREDICTIONS
from cardiofm.engine.rundir import RunDir
from cardiofm.errors import ConfigError, FileFormatError
from cardiofm.fileio import load_arrays
from cardiofm.paths import check_output_dir


@dataclass
class PredictionSet:
    """One set of predictions with what evaluation needs about its records."""

    name: str
    title: str
    y: np.ndarray
    p: np.ndarray
    rows: np.ndarray
    patient_ids: np.ndarray
    meta: pd.DataFrame


@dataclass
class Figures:
    """The plots of one evaluation, in report order: (section, caption, path)."""

    items: list[tuple[str, str, Path]] = field(default_factory=list)

    def add(self, section: str, caption: str, plot: Any, *args: Any, out: Path, **kwargs: Any) -> Path:
        """Draw ``plot(*args, out=out, **kwargs)`` (a Figure-returning function) and list it."""
        plot(*args, out=out, **kwargs)
        self.items.append((section, caption, out))
        return out


def _sets(run: RunDir, store: Store, wanted: list[str], normal: dict[str, Any] | None) -> list[PredictionSet]:
    f = load_arrays(run.path / PREDICTIONS, "predictions file")
    idx = store.cohort.index
    out = []
    spec = {"internal": ("oof", "Internal validation (out-of-fold predictions)"),
            "test": ("test", "Held-out test set (fold-ensemble mean)")}
    for name in wanted:
        if name not in spec:
            raise ConfigError(f"evaluate.sets: unknown set {name!r}; use internal and/or test")
        key, title = spec[name]
        missing = [f"{key}_{k}" for k in ("rows", "y", "p", "patient_id") if f"{key}_{k}" not in f]
        if missing:
            raise FileFormatError(run.path / PREDICTIONS, f"not a valid predictions file: {', '.join(missing)} missing")
        rows = f[f"{key}_rows"]
        if len(rows) == 0:
            continue
        meta = idx.iloc[rows].reset_index(drop=True)
        if normal:
            meta["normal_ecg"] = normal_mask(store, normal)[rows]
        out.append(PredictionSet(name, title, f[f"{key}_y"].astype(int), f[f"{key}_p"], rows,
                                 f[f"{key}_patient_id"], meta))
    return out


def normal_mask(store: Store, spec: dict[str, Any]) -> np.ndarray:
    """Records carrying the normal-ECG label: ``{task: conditions, code: NORM}`` (a task of the cohort)."""
    if not isinstance(spec, dict) or "task" not in spec or "code" not in spec:
        raise ConfigError(f"evaluate.normal_ecg: expected {{task: ..., code: ...}}, got {spec!r}")
    labels = store.cohort.labels(spec["task"])
    if spec["code"] not in labels.codes:
        raise ConfigError(f"evaluate.normal_ecg: task {spec['task']} has no label {spec['code']!r}")
    return labels.matrix[:, labels.codes.index(spec["code"])].astype(bool)


def _subgroup_spec(spec: dict[str, Any], meta: pd.DataFrame) -> dict[str, Any]:
    from cardiofm.evaluate.subgroups import Cut

    out: dict[str, Any] = {}
    for col, s in (spec or {}).items():
        if col not in meta:
            continue
        out[col] = Cut(list(s["cuts"])) if isinstance(s, dict) and "cuts" in s else "category"
    return out


def _or_note(compute: Any) -> Any:
    """``compute()``, or ``{"note": why}`` when the data cannot support that metric (e.g. no positives)."""
    from cardiofm.errors import MetricError

    try:
        return compute()
    except MetricError as exc:
        return {"note": str(exc)}


def bootstrap_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """The bootstrap rule and the scorable-class minimum of the ``evaluate`` section, as keyword arguments."""
    return {"rule": str(cfg.get("bootstrap_rule", "strodthoff")), "min_pos": int(cfg.get("min_positives", 2)),
            "min_neg": int(cfg.get("min_negatives", 2))}


def discrimination(ps: PredictionSet, codes: list[str], n_boot: int, cfg: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """AUROC/AUPRC (CI), Fmax, at exam level and at patient level (mean of a patient's exams)."""
    from cardiofm.evaluate.classification import classification_metrics, fmax_score
    from cardiofm.evaluate.patients import aggregate_by_patient

    opts = bootstrap_options(cfg or {})
    res: dict[str, Any] = {"n_records": len(ps.y), "n_patients": int(len(set(ps.patient_ids)))}
    res["classification"] = classification_metrics(ps.y, ps.p, class_names=codes, n_boot=n_boot, seed=0,
                                                   **opts).to_dict()
    res["fmax"] = _or_note(lambda: fmax_score(ps.y, ps.p).to_dict())
    if len(set(ps.patient_ids)) < len(ps.patient_ids):
        pl = aggregate_by_patient(ps.y, ps.p, ps.patient_ids, how="mean")
        res["patient_level"] = classification_metrics(pl.y_true, pl.y_score, class_names=codes, n_boot=n_boot,
                                                      seed=0, **opts).to_dict()
        res["exam_level_patient_bootstrap"] = classification_metrics(
            ps.y, ps.p, class_names=codes, n_boot=n_boot, seed=0, groups=ps.patient_ids, **opts).to_dict()
    else:
        res["patient_level"] = "one exam per patient: patient level equals exam level"
    return res


def task_analyses(ps: PredictionSet, j: int, code: str, threshold: float, cfg: dict[str, Any],
                  n_boot: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Calibration, threshold metrics, DCA, trend, survival and subgroups of one task: (metrics, objects)."""
    from cardiofm.evaluate.calibration import calibration_metrics
    from cardiofm.evaluate.decision import decision_curve, net_benefit
    from cardiofm.evaluate.subgroups import subgroup_auroc
    from cardiofm.evaluate.survival import kaplan_meier
    from cardiofm.evaluate.thresholds import risk_groups, threshold_metrics, threshold_sweep
    from cardiofm.evaluate.trend import spearman_trend

    y, p = ps.y[:, j], ps.p[:, j]
    obj: dict[str, Any] = {"calibration": calibration_metrics(y, p, n_bins=10, strategy="quantile"),
                           "sweep": threshold_sweep(y, p), "dca": decision_curve(y, p)}
    task: dict[str, Any] = {"calibration": obj["calibration"].to_dict(),
                            "threshold": threshold_metrics(y, p, threshold).to_dict(),
                            "net_benefit_at_threshold": float(net_benefit(y, p, [threshold])[0])}
    grade_col = (cfg.get("trend") or {}).get(code)
    if grade_col and grade_col in ps.meta:
        grade = pd.to_numeric(ps.meta[grade_col], errors="coerce").to_numpy()
        ok = np.isfinite(grade)
        obj["trend"] = spearman_trend(p[ok], grade[ok])
        task["trend"] = {"column": grade_col, **obj["trend"].to_dict()}
    surv = cfg.get("survival")
    if surv and surv.get("time") in ps.meta and surv.get("event") in ps.meta:
        cut, grouping = threshold, f"risk threshold {threshold:g}"
        if (p >= cut).all() or (p < cut).all():  # the threshold leaves a group empty: compare the halves
            cut = float(np.median(p))
            grouping = f"median split at p = {cut:.3g} (the risk threshold {threshold:g} leaves one group empty)"
        groups = risk_groups(p, cut)
        if len(set(groups)) < 2:
            task["survival"] = {"note": "every record has the same predicted probability: no comparison"}
        else:
            obj["km"] = kaplan_meier(ps.meta[surv["time"]].to_numpy(float), ps.meta[surv["event"]].to_numpy(float),
                                     groups, horizon=surv.get("horizon_days"), order=["low", "high"])
            task["survival"] = {"grouping": grouping, **obj["km"].to_dict()}
    spec = _subgroup_spec(cfg.get("subgroups") or {}, ps.meta)
    missing = sorted(set(cfg.get("subgroups") or {}) - set(spec))
    if missing:
        task["subgroups_missing_columns"] = missing
    frame = ps.meta.copy()
    if "normal_ecg" in frame:  # AnyECG's occult-disease analysis: the records read as normal ECGs
        frame["ecg"] = np.where(frame["normal_ecg"], "normal ECG", "abnormal ECG")
        spec["ecg"] = "category"
    if spec:
        obj["forest"] = subgroup_auroc(y, p, frame, spec, n_boot=min(n_boot, 500), seed=0, **bootstrap_options(cfg))
        task["subgroups"] = obj["forest"].to_dict()
    return task, obj


def evaluate_set(ps: PredictionSet, codes: list[str], cfg: dict[str, Any], plots_dir: Path,
                 figures: Figures) -> dict[str, Any]:
    """Every metric of one prediction set; plots go to ``plots_dir``."""
    from cardiofm.evaluate.bootstrap import scored_classes
    from cardiofm.evaluate.classification import roc_curves
    from cardiofm.report import evalplots as ep

    n_boot = int(cfg.get("n_boot", 1000))
    opts = bootstrap_options(cfg)
    sec = ps.title
    scored = [int(j) for j in np.flatnonzero(scored_classes(ps.y, opts["min_pos"], opts["min_neg"]))]
    if not scored:
        res = {"n_records": len(ps.y), "n_patients": int(len(set(ps.patient_ids)))}
        res["note"] = (f"no task has >= {opts['min_pos']} positive and >= {opts['min_neg']} negative records "
                       "in this set")
        return res
    res = discrimination(ps, codes, n_boot, cfg)
    names = [codes[j] for j in scored]
    roc = roc_curves(ps.y[:, scored], ps.p[:, scored], class_names=names, n_boot=n_boot, **opts)
    figures.add(sec, "ROC curves with 95 % bootstrap bands", ep.plot_roc, roc, out=plots_dir / "roc.png")
    if isinstance(res.get("patient_level"), dict):  # several exams per patient: the patient-level view too
        from cardiofm.evaluate.patients import aggregate_by_patient

        pl = aggregate_by_patient(ps.y, ps.p, ps.patient_ids, how="mean")
        pl_ok = scored_classes(pl.y_true, opts["min_pos"], opts["min_neg"])
        ok = [j for j in scored if pl_ok[j]]
        if ok:
            both = {"exam level": roc, "patient level (mean over exams)": roc_curves(
                pl.y_true[:, ok], pl.y_score[:, ok], class_names=[codes[j] for j in ok], n_boot=n_boot, **opts)}
            figures.add(sec, "ROC at exam level vs patient level", ep.plot_roc, both,
                        out=plots_dir / "roc_patient_level.png")
    thresholds = {c: float((cfg.get("thresholds") or {}).get(c, cfg.get("default_threshold", 0.5))) for c in codes}
    res["thresholds"] = thresholds
    res["per_task"], objs = {}, {}
    for j in scored:
        res["per_task"][codes[j]], objs[codes[j]] = task_analyses(ps, j, codes[j], thresholds[codes[j]], cfg, n_boot)

    def pick(key: str) -> dict[str, Any]:
        return {c: o[key] for c, o in objs.items() if key in o}

    figures.add(sec, "Calibration (quantile bins, Wilson 95 % CI) and prediction histogram", ep.plot_calibration,
                pick("calibration"), out=plots_dir / "calibration.png")
    figures.add(sec, "Sensitivity, specificity, PPV and NPV across thresholds (risk thresholds marked)",
                ep.plot_threshold_sweep, pick("sweep"), out=plots_dir / "thresholds.png", marked=thresholds)
    figures.add(sec, "Decision-curve analysis: net benefit against treat-all and treat-none",
                ep.plot_decision_curve, pick("dca"), out=plots_dir / "decision_curves.png")
    for key, caption, fn, fname in (
            ("trend", "Predicted probability by ordinal grade (Spearman trend)", ep.plot_trend, "trend.png"),
            ("km", "Kaplan-Meier cumulative incidence by predicted risk group (log-rank test)",
             ep.plot_kaplan_meier, "kaplan_meier.png"),
            ("forest", "Subgroup AUROC with 95 % CI", ep.plot_forest, "subgroups.png")):
        if pick(key):
            figures.add(sec, caption, fn, pick(key), out=plots_dir / fname)
    return res


def evaluate_run(run_dir: str | Path) -> dict[str, Any]:
    """Evaluate a trained run; returns the ``evaluation`` section written to ``metrics.json``."""
    from cardiofm.report.run_report import write_run_report
    from cardiofm.systems.shared.explanations import explain_run

    t0 = time.perf_counter()
    run = RunDir.open(run_dir)
    check_output_dir(run.path, "run folder")  # metrics.json, plots/ and report.html are written into it
    if not (run.path / PREDICTIONS).exists():
        raise ConfigError(f"{run.path}: no {PREDICTIONS}; train the run first (`cardiofm train`)")
    cfg = run.config()
    ecfg = dataclasses.asdict(cfg.section("evaluate"))
    store = Store(Path(cfg.data.store) if cfg.data.store else run.path / "store")
    labels = store.cohort.labels(cfg.data.task)
    codes = list(labels.codes)
    figures = Figures()
    out: dict[str, Any] = {"task": cfg.data.task, "codes": codes, "descriptions": list(labels.descriptions)}
    sets = _sets(run, store, list(ecfg["sets"]), ecfg["normal_ecg"])
    for ps in sets:
        plots_dir = run.plots / ps.name
        plots_dir.mkdir(exist_ok=True)
        out[ps.name] = evaluate_set(ps, codes, ecfg, plots_dir, figures)
    if sets:
        out["explanations"] = explain_run(run, cfg, store, sets[0], codes, figures)
    out["learning_curves"] = _learning_curves(run, figures)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["summary_line"] = summary_line(out)
    run.update_metrics("evaluation", out)
    write_run_report(run, cfg, out, figures)
    return out


def _learning_curves(run: RunDir, figures: Figures) -> dict[str, Any]:
    from cardiofm.engine.fit import training_log
    from cardiofm.report.trainplots import plot_learning_curves

    logs = {d.name: training_log(d) for d in sorted(run.path.glob("fold*")) if d.is_dir()}
    logs = {k: v for k, v in logs.items() if len(v) and "val_macro_auroc" in v}
    if not logs:
        return {}
    figures.add("Training", "Validation macro AUROC and training loss per epoch, per fold", plot_learning_curves,
                logs, out=run.plots / "learning_curves.png")
    return {k: {"epochs": int(v["epoch"].max()) + 1,
                "best_val_macro_auroc": float(v["val_macro_auroc"].max())} for k, v in logs.items()}


def summary_line(out: dict[str, Any]) -> str:
    parts = []
    for name in ("internal", "test"):
        s = out.get(name) or {}
        c = s.get("classification")
        if c and c.get("macro_auroc") is not None:
            lo, hi = (c.get("macro_auroc_ci") or [None, None])[:2]
            ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
            parts.append(f"{name} macro AUROC {c['macro_auroc']:.3f}{ci} (n={s['n_records']})")
        elif s:
            parts.append(f"{name}: {s.get('note', 'not scored')} (n={s.get('n_records')})")
    return "; ".join(parts)
