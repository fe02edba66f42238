"""CardioPRIME runs (``cardiofm pretrain configs/cardioprime.yaml``): fit the ODE-VAE, then analyse held-out ECGs.

The model trains on the train split (early stopping on the validation MSE, three epochs of patience in the
recipe) and is analysed on the test split, as the paper does with its held-out patients:

* ``embeddings.npz``: posterior means (the embeddings) and store rows of the test records;
* ``ode_parameters.csv``: the fitted McSharry parameters of each test record (interpretable features);
* ``correlations.csv`` and ``best_dimensions.csv``: Pearson r between embedding dimensions and ECG features
  measured by :mod:`cardiofm.physio.delineate` (PR, QRS, QTc, heart rate, QRS and T axes, R amplitude per lead);
* ``clusters.csv``: k-means with k = diseases / 2 + 1 on the embeddings against the most prevalent diseases
  of ``data.task``: NMI, AMI, homogeneity, completeness with patient-bootstrap CIs;
* plots: correlation heatmap, reconstructions; ``metrics.json`` gets the test MSE and the tables' summary.

:func:`compare_runs` divides an integrated run's clustering table by its baseline's (same data, alpha1 = 0)
and draws the paper's ratio heatmap.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from cardiofm.config import RunConfig
from cardiofm.data.store import Store
from cardiofm.engine.data import split_rows, start_run
from cardiofm.engine.rundir import RunDir, run_once
from cardiofm.errors import ConfigError
from cardiofm.systems.shared.summary import write_summary_report

FEATURES_FILE = "ecg_features.csv"  # in the store folder: delineated features of its records
ECG_FEATURES = ("pr", "qrs", "qtc_bazett", "hr", "axis_qrs", "axis_t")


def run_cardioprime(cfg: RunConfig) -> RunDir:
    """Fit (or resume) the run of ``cfg``, then write the held-out analysis."""
    from cardiofm.engine.fit import fit_fold, load_fold_module

    if cfg.trainer.mode != "min" or cfg.trainer.monitor != "val_mse":
        raise ConfigError("CardioPRIME stops on the validation reconstruction error: set trainer.monitor=val_mse "
                          "and trainer.mode=min")
    run, store = start_run(cfg)
    rows = split_rows(store)
    fold_dir = run.path / "model"

    def fit() -> dict[str, Any]:
        print(f"== CardioPRIME (alpha1={cfg.method.get('alpha1', 2.0)}, modality {cfg.data.tabular}): "
              f"{len(rows['train'])} train, {len(rows['val'])} val, {len(rows['test'])} test records")
        return fit_fold(cfg, store, {"train": rows["train"], "val": rows["val"]}, fold_dir, seed=cfg.seed)

    run.update_metrics("training", run_once(fold_dir, fit, "fold summary"))
    module = load_fold_module(fold_dir, "cardioprime")
    run.update_metrics("cardioprime", analyse(module, store, rows["test"], run, cfg))
    write_summary_report(run, cfg, "CardioPRIME run")
    return run


def eval_windows(module: Any, store: Store, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The evaluation windows of ``rows`` (the first R-aligned one, or the centre) and their heart rates."""
    from cardiofm.data.anchors import beat_windows

    x = torch.from_numpy(np.ascontiguousarray(store.batch(rows), dtype=np.float32))
    cfg = module.config
    if not cfg.data_options(asdict(cfg)):
        return module.window(x, random=False), None
    starts, hr = beat_windows(store, rows, cfg.window)
    start = torch.from_numpy(starts) if cfg.align == "r_peak" else None
    return module.window(x, random=False, start=start), torch.from_numpy(hr.astype(np.float32))


@torch.inference_mode()
def encode_rows(module: Any, store: Store, rows: np.ndarray, batch_size: int = 64) -> dict[str, np.ndarray]:
    """Embeddings, fitted parameters and reconstruction MSE (evaluation windows) of store ``rows``."""
    mus, params, errs = [], [], []
    for a in range(0, len(rows), batch_size):
        w, hr = eval_windows(module, store, rows[a:a + batch_size])
        out = module(w, sample=False, hr=hr)
        mus.append(out["mu"].numpy())
        params.append(out["params"].numpy())
        errs.append((out["recon"] - w).pow(2).mean(dim=(1, 2)).numpy())
    return {"mu": np.concatenate(mus), "params": np.concatenate(params), "mse": np.concatenate(errs)}


def analyse(module: Any, store: Store, rows: np.ndarray, run: RunDir, cfg: RunConfig) -> dict[str, Any]:
    """The held-out analysis (module docstring) of ``rows``; returns the summary for ``metrics.json``."""
    from cardiofm.evaluate.correlation import best_dimensions, feature_correlations
    from cardiofm.physio.constraints import CONSTRAINED_NAMES
    from cardiofm.report.embeddingplots import plot_correlation_heatmap

    enc = encode_rows(module, store, rows)
    idx = store.cohort.index.iloc[rows]
    np.savez(run.path / "embeddings.npz", mu=enc["mu"], rows=rows)
    ode = pd.DataFrame(enc["params"], columns=list(CONSTRAINED_NAMES))
    ode.insert(0, "record_id", idx["record_id"].to_numpy())
    ode.to_csv(run.path / "ode_parameters.csv", index=False)
    feats = ecg_features(store, rows, workers=max(1, cfg.data.build_workers))
    cols = [c for c in ECG_FEATURES if c in feats] + [c for c in feats.columns if c.startswith("amp_r_")]
    corr = feature_correlations(enc["mu"], feats[cols].reset_index(drop=True))
    corr.to_csv(run.path / "correlations.csv")
    best = best_dimensions(enc["mu"], feats[cols].reset_index(drop=True))
    best.to_csv(run.path / "best_dimensions.csv", index=False)
    plot_correlation_heatmap(corr, run.plots / "correlations.png", title="Embedding dimensions vs ECG features")
    plot_reconstructions(module, store, rows[:3], run.plots / "reconstructions.png")
    clusters = cluster_table(enc["mu"], store, rows, cfg)
    clusters.to_csv(run.path / "clusters.csv", index=False)
    return {"test_records": len(rows), "test_mse": float(enc["mse"].mean()),
            "best_abs_r": {r["feature"]: round(float(r["abs_r"]), 3) for _, r in best.iterrows()
                           if np.isfinite(r["abs_r"])},
            "clustering_mean": {m: float(clusters[m].mean()) for m in ("nmi", "ami", "homogeneity", "completeness")},
            "k": int(clusters.attrs.get("k", 0))}


def ecg_features(store: Store, rows: np.ndarray, workers: int = 1) -> pd.DataFrame:
    """Delineated features (:func:`cardiofm.physio.delineate.features_table`) of store ``rows``, in row order.

    Features are a property of the records, so they are cached next to the store (``ecg_features.csv``, keyed
    by record id and the store's source digest): runs on the same store measure each record once.
    """
    from cardiofm.physio.delineate import features_table

    path, stamp = store.path / FEATURES_FILE, str(store.manifest.get("source_sha1", ""))
    cached = pd.DataFrame()
    if path.exists():
        from cardiofm.errors import FileFormatError
        from cardiofm.fileio import read_table

        try:
            got = read_table(path, "feature cache", dtype={"record_id": str})
        except FileFormatError:
            got = pd.DataFrame()  # a damaged cache is measured again
        if "source_sha1" in got and "record_id" in got and (got["source_sha1"] == stamp).all():
            cached = got
    ids = store.cohort.index["record_id"].astype(str).to_numpy()[rows]
    todo = [r for r, rid in zip(rows, ids, strict=True) if cached.empty or rid not in set(cached["record_id"])]
    if todo:
        new = features_table(store.cohort.subset(np.asarray(todo)), workers=workers, progress=False)
        new["record_id"] = new["record_id"].astype(str)
        new["source_sha1"] = stamp
        cached = pd.concat([cached, new], ignore_index=True) if not cached.empty else new
        tmp = path.with_suffix(".tmp")
        cached.to_csv(tmp, index=False)
        tmp.replace(path)
    return cached.drop_duplicates("record_id").set_index("record_id").loc[ids].reset_index()


def cluster_table(mu: np.ndarray, store: Store, rows: np.ndarray, cfg: RunConfig, *, n_diseases: int = 10,
                  n_boot: int | None = None) -> pd.DataFrame:
    """k-means clusters of the embeddings scored against the ``n_diseases`` most prevalent labels of the task."""
    from cardiofm.evaluate.clustering import bootstrap_cluster_scores, cardioprime_k, kmeans_clusters, top_diseases

    ls = store.cohort.labels(cfg.data.task)
    y = ls.matrix[rows].astype(int)
    top = top_diseases(y, ls.codes, n_diseases)
    if not top:
        raise ConfigError(f"data.task {cfg.data.task!r}: no label has positives among the test records")
    k = cardioprime_k(len(top))
    clusters = kmeans_clusters(mu, k, seed=cfg.seed)
    pids = store.cohort.index["patient_id"].astype(str).to_numpy()[rows]
    boot = int(cfg.section("evaluate").n_boot if n_boot is None else n_boot)
    table = bootstrap_cluster_scores(clusters, y[:, top], [ls.codes[j] for j in top], n_boot=boot, seed=cfg.seed,
                                     groups=pids)
    table.attrs["k"] = k
    return table


def plot_reconstructions(module: Any, store: Store, rows: np.ndarray, path: Path,
                         leads: tuple[str, ...] = ("II", "V2")) -> Path:
    """Input and reconstruction of a few held-out windows, one panel per (record, lead)."""
    from matplotlib.figure import Figure

    with torch.inference_mode():
        w, hr = eval_windows(module, store, rows)
        rec = module(w, sample=False, hr=hr)["recon"].numpy()
    shown = [ld for ld in leads if ld in store.leads] or list(store.leads[:1])
    positions = store.lead_index(shown)
    t = np.arange(w.shape[-1]) / store.fs
    fig = Figure(figsize=(10, 2.2 * len(rows)))
    axes = fig.subplots(len(rows), len(shown), squeeze=False)
    for i in range(len(rows)):
        for j, (lead, k) in enumerate(zip(shown, positions, strict=True)):
            ax = axes[i, j]
            ax.plot(t, w[i, k].numpy(), color="0.2", lw=1.0, label="ECG")
            ax.plot(t, rec[i, k], color="tab:red", lw=1.0, label="reconstruction")
            ax.set_title(f"{store.cohort.index['record_id'].iloc[rows[i]]}, lead {lead}", fontsize=9)
            ax.set_xlabel("s")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def compare_runs(integrated: str | Path, baseline: str | Path, out: str | Path, *, title: str = "") -> pd.DataFrame:
    """Integrated / baseline ratio of each clustering metric per disease (the paper's Figure 3 panel)."""
    from cardiofm.errors import FileFormatError
    from cardiofm.evaluate.clustering import integration_ratio
    from cardiofm.fileio import read_table
    from cardiofm.report.embeddingplots import plot_ratio_heatmap

    a, b = (read_table(Path(p) / "clusters.csv", "clustering table") for p in (integrated, baseline))
    metrics = ["disease", "nmi", "ami", "homogeneity", "completeness"]
    for p, t in ((integrated, a), (baseline, b)):
        if not set(metrics) <= set(t.columns):
            raise FileFormatError(Path(p) / "clusters.csv", f"not a clustering table (needs {', '.join(metrics)})")
    ratios = integration_ratio(a[metrics], b[metrics])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ratios.to_csv(out / "ratios.csv", index=False)
    plot_ratio_heatmap(ratios, out / "ratios.png", title=title or "Clustering metrics, integrated / baseline")
    return ratios
