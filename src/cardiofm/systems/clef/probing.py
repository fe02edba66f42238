"""CLEF's downstream protocol (section 3, Appendix C.1, Algorithm 1): linear probes and fine-tuning.

A pretrained single-lead encoder is judged on one lead at a time (I, II, ...) by

* a **linear probe** on its frozen embeddings (:func:`extract_embeddings`, cached with
  :func:`cached_embeddings`): :func:`linear_probe` fits logistic regressions (classification) or a
  ridge regression (regression) and picks the regularisation by validation loss;
* **full fine-tuning** of encoder + linear head (:func:`finetune`),

each at a fraction of the training labels, drawn by patient (:func:`subsample_patients`).

The default fractions 1 %, 10 % and 100 % (``ProbeConfig.fractions``) are **not** part of the CLEF paper,
which probes and fine-tunes on each dataset's full training split. They are the label-efficiency protocol of
the ECG self-supervised literature as reported in the SuPreME paper (Cai et al., section 4: "Mainstream eSSLs
are evaluated with linear probing by freezing ECG encoders and fine-tuning a linear layer on 1%, 10%, and 100%
of labeled data", with data splits following Liu et al. 2024); drawing the subsets by patient is this
package's choice.
Regression targets are z-scored with training statistics and the predictions de-normalised, so
:func:`regression_mae` reports the error in the targets' own units.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cardiofm.data.store import Store
from cardiofm.errors import ConfigError

KINDS = ("classification", "regression")
C_GRID = tuple(10.0 ** np.arange(-3, 2))        # logistic regression: C = 1e-3 .. 10
ALPHA_GRID = tuple(10.0 ** np.arange(-2, 5))    # ridge: alpha = 1e-2 .. 1e4
_EPS = float(np.finfo(np.float64).eps)          # probability clip of the validation log-loss (as sklearn)
RUN_FILE = "finetune.json"


# ---- label fractions ---------------------------------------------------------------------------
def subsample_patients(patient_ids: Sequence[Any] | np.ndarray, fraction: float, seed: int = 42) -> np.ndarray:
    """Positions of the records kept when keeping ``fraction`` of the patients.

    One permutation of the (sorted) unique patients is drawn from ``seed`` and its first
    ``max(1, round(fraction * n_patients))`` patients are kept with all their records. The subsets
    of one seed are therefore nested (1 % inside 10 % inside 100 %), and no patient is split
    between kept and dropped records.

    Args:
        patient_ids: one patient id per record (e.g. ``cohort.index["patient_id"]`` of the training rows).
        fraction: share of patients to keep, in ``(0, 1]``.
        seed: seed of the permutation.

    Returns:
        Sorted int64 positions into ``patient_ids``.

    Raises:
        ConfigError: ``fraction`` outside ``(0, 1]``, no records, or a missing patient id.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, int | float | np.floating | np.integer) \
            or not math.isfinite(fraction) or not 0 < fraction <= 1:
        raise ConfigError(f"fraction: must lie in (0, 1] (e.g. 0.01, 0.1, 1.0), got {fraction!r}")
    import pandas as pd

    ids = pd.Series(np.asarray(patient_ids, dtype=object).ravel())
    if ids.empty:
        raise ConfigError("patient_ids: no records to subsample")
    if ids.isna().any():
        raise ConfigError(f"patient_ids: {int(ids.isna().sum())} records have no patient id; every record needs one")
    ids = ids.astype(str)
    unique = np.sort(ids.unique())
    n_keep = max(1, int(round(float(fraction) * len(unique))))
    keep = np.random.default_rng(seed).permutation(len(unique))[:n_keep]
    return np.flatnonzero(ids.isin(unique[keep]).to_numpy()).astype(np.int64)


# ---- embeddings --------------------------------------------------------------------------------
def lead_positions(store: Store, leads: Sequence[str]) -> list[int]:
    """Positions of ``leads`` (any spelling) among the store's leads; :class:`LeadError` if one is missing."""
    if isinstance(leads, str) or not leads:
        raise ConfigError(f"leads: expected a non-empty list of lead names such as ['I'], got {leads!r}")
    return store.lead_index(leads)


@torch.inference_mode()
def extract_embeddings(encoder: torch.nn.Module, store: Store, rows: np.ndarray, leads: Sequence[str], *,
                       batch_size: int = 256, progress: bool = False) -> np.ndarray:
    """Frozen embeddings ``(len(rows), embed_dim)`` float32 of store ``rows`` at ``leads``.

    The encoder runs in eval mode on the device of its parameters; its training flag is restored
    afterwards.

    Raises:
        LeadError: a lead the store does not have.
        ConfigError: a bad ``batch_size`` or rows outside the store.
    """
    idx = lead_positions(store, leads)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size: must be a positive integer, got {batch_size!r}")
    if len(rows) and (rows.min() < 0 or rows.max() >= len(store)):
        raise ConfigError(f"rows: positions must lie in [0, {len(store)}), got {rows.min()}..{rows.max()}")
    param = next(encoder.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    from tqdm.auto import tqdm

    was_training = encoder.training
    encoder.eval()
    out: list[np.ndarray] = []
    try:
        for a in tqdm(range(0, len(rows), batch_size), desc="embeddings", disable=not progress, leave=False):
            x = np.ascontiguousarray(store.batch(rows[a:a + batch_size])[:, idx], dtype=np.float32)
            out.append(encoder(torch.from_numpy(x).to(device)).float().cpu().numpy())
    finally:
        encoder.train(was_training)
    if not out:
        return np.zeros((0, int(getattr(encoder, "embed_dim", 0))), np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)


def cached_embeddings(cache_dir: Path, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``cache_dir/<key>.npy`` if present, else ``compute()`` written there atomically (tmp + rename).

    ``key`` must identify everything the embeddings depend on (encoder, lead, rows), e.g.
    ``"clef_m-leadI-train"``. An unreadable cache file is recomputed and replaced.
    """
    key = str(key)
    if not key or any(c in key for c in "/\\") or key.startswith("."):
        raise ConfigError(f"key: must be a plain file name without slashes, got {key!r}")
    cache_dir = Path(cache_dir)
    path = cache_dir / f"{key}.npy"
    if path.is_file():
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            pass  # a foreign or damaged file: compute again and replace it
    arr = np.asarray(compute())
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        np.save(fh, arr, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return arr


# ---- linear probe ------------------------------------------------------------------------------
@dataclass
class ProbeResult:
    """What :func:`linear_probe` returns.

    Attributes:
        predictions: test predictions: probabilities ``(n, n_labels)`` for classification, values on
            the targets' original scale (``(n,)`` or ``(n, k)``, as ``y_train``) for regression.
        selected: the chosen regularisation (``C`` of the logistic regressions, ``alpha`` of ridge).
        val_loss: validation loss of the chosen model (mean BCE over the fitted label columns, or MAE
            on z-scored targets).
        n_train: number of training samples.
        grid_losses: validation loss of each grid value, in grid order.
    """

    predictions: np.ndarray
    selected: float
    val_loss: float
    n_train: int
    grid_losses: tuple[float, ...] = field(default_factory=tuple)


def _features(z: Any, name: str) -> np.ndarray:
    arr = np.asarray(z, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ConfigError(f"{name}: expected embeddings of shape (n, dim) with n >= 1, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ConfigError(f"{name}: {int((~np.isfinite(arr)).sum())} NaN/inf values; check the encoder's output")
    return arr


def _targets(y: Any, n: int, name: str, kind: str) -> np.ndarray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ConfigError(f"{name}: expected {n} rows (one per embedding) of shape (n,) or (n, k), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ConfigError(f"{name}: {int((~np.isfinite(arr)).sum())} NaN/inf values; drop unlabelled samples first")
    if kind == "classification" and not np.isin(arr, (0.0, 1.0)).all():
        raise ConfigError(f"{name}: classification labels must be 0/1; pass kind='regression' for continuous targets")
    return arr


def _grid(grid: Sequence[float] | None, default: tuple[float, ...], what: str) -> np.ndarray:
    arr = np.asarray(default if grid is None else grid, dtype=np.float64).ravel()
    if arr.size == 0 or not np.isfinite(arr).all() or (arr <= 0).any():
        raise ConfigError(f"grid: {what} values must be a non-empty list of positive numbers, got {grid!r}")
    return arr


def _bce(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def _fit_logistic(x_tr: np.ndarray, y_tr: np.ndarray, xs: list[np.ndarray], c: float,
                  fitted: np.ndarray, seed: int) -> list[np.ndarray]:
    """Probabilities on each of ``xs`` for every label column at regularisation ``c``."""
    from sklearn.linear_model import LogisticRegression

    outs = [np.empty((len(x), y_tr.shape[1])) for x in xs]
    for j in range(y_tr.shape[1]):
        if not fitted[j]:  # one class in the training labels: predict its prevalence
            for o in outs:
                o[:, j] = y_tr[:, j].mean()
            continue
        clf = LogisticRegression(C=c, solver="lbfgs", max_iter=1000, random_state=seed).fit(x_tr, y_tr[:, j])
        for o, x in zip(outs, xs, strict=True):
            o[:, j] = clf.predict_proba(x)[:, 1]
    return outs


def linear_probe(z_train: Any, y_train: Any, z_val: Any, y_val: Any, z_test: Any, *,
                 kind: str = "classification", grid: Sequence[float] | None = None, seed: int = 42) -> ProbeResult:
    """Fit a linear head on frozen embeddings; pick its regularisation by validation loss (CLEF Alg. 1).

    Embeddings are standardised with training statistics (``StandardScaler``).

    * ``kind="classification"``: ``y`` is ``(n, L)`` (or ``(n,)``) in {0, 1}; one ``LogisticRegression``
      (lbfgs) per label column, one ``C`` for all columns chosen from ``grid`` (default ``10**-3..10``) by
      the mean validation log-loss. A column with one class in the training labels predicts its training
      prevalence.
    * ``kind="regression"``: ``y`` is ``(n,)`` or ``(n, k)`` floats, z-scored with training mean / std;
      ``Ridge(alpha)`` with ``alpha`` from ``grid`` (default ``10**-2..10**4``) chosen by validation MAE on
      the z-scored targets; test predictions are de-normalised to the original scale.

    Raises:
        ConfigError: an unknown ``kind``, NaN/inf inputs, mismatched lengths, non-binary class labels
            or a bad grid.
    """
    if kind not in KINDS:
        raise ConfigError(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    from sklearn.preprocessing import StandardScaler

    x_tr, x_va, x_te = _features(z_train, "z_train"), _features(z_val, "z_val"), _features(z_test, "z_test")
    if not x_tr.shape[1] == x_va.shape[1] == x_te.shape[1]:
        raise ConfigError(f"z_train, z_val, z_test: embedding widths differ ({x_tr.shape[1]}, {x_va.shape[1]}, "
                          f"{x_te.shape[1]}); use the same encoder for all three")
    y_tr = _targets(y_train, len(x_tr), "y_train", kind)
    y_va = _targets(y_val, len(x_va), "y_val", kind)
    if y_tr.shape[1] != y_va.shape[1]:
        raise ConfigError(f"y_train has {y_tr.shape[1]} columns but y_val has {y_va.shape[1]}")
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_va, x_te = scaler.transform(x_tr), scaler.transform(x_va), scaler.transform(x_te)
    if kind == "classification":
        return _probe_classification(x_tr, y_tr, x_va, y_va, x_te, _grid(grid, C_GRID, "C"), seed)
    return _probe_regression(x_tr, y_tr, x_va, y_va, x_te, _grid(grid, ALPHA_GRID, "alpha"), seed,
                             one_d=np.ndim(y_train) == 1)


def _probe_classification(x_tr: np.ndarray, y_tr: np.ndarray, x_va: np.ndarray, y_va: np.ndarray,
                          x_te: np.ndarray, grid: np.ndarray, seed: int) -> ProbeResult:
    fitted = (y_tr.min(0) == 0) & (y_tr.max(0) == 1)
    if not fitted.any():  # nothing to regularise: every column is a constant
        p_va, p_te = _fit_logistic(x_tr, y_tr, [x_va, x_te], float(grid[0]), fitted, seed)
        return ProbeResult(p_te, float("nan"), _bce(y_va, p_va), len(x_tr), ())
    losses, tests = [], []
    for c in grid:
        p_va, p_te = _fit_logistic(x_tr, y_tr, [x_va, x_te], float(c), fitted, seed)
        losses.append(_bce(y_va[:, fitted], p_va[:, fitted]))
        tests.append(p_te)
    best = int(np.argmin(losses))
    return ProbeResult(tests[best], float(grid[best]), losses[best], len(x_tr), tuple(losses))


def _probe_regression(x_tr: np.ndarray, y_tr: np.ndarray, x_va: np.ndarray, y_va: np.ndarray, x_te: np.ndarray,
                      grid: np.ndarray, seed: int, one_d: bool) -> ProbeResult:
    from sklearn.linear_model import Ridge

    mean, std = y_tr.mean(0), y_tr.std(0)
    std = np.where(std > 0, std, 1.0)  # a constant target: predict it
    t_tr, t_va = (y_tr - mean) / std, (y_va - mean) / std
    losses, tests = [], []
    for a in grid:
        model = Ridge(alpha=float(a), random_state=seed).fit(x_tr, t_tr)
        # some sklearn versions return (n,) for a one-column target
        losses.append(float(np.mean(np.abs(model.predict(x_va).reshape(t_va.shape) - t_va))))
        tests.append(model.predict(x_te).reshape(len(x_te), -1) * std + mean)
    best = int(np.argmin(losses))
    pred = tests[best][:, 0] if one_d else tests[best]
    return ProbeResult(pred, float(grid[best]), losses[best], len(x_tr), tuple(losses))


def regression_mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error in the targets' own units (CLEF Table 3)."""
    t, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape or t.size == 0:
        raise ConfigError(f"y_true has shape {t.shape}, y_pred {p.shape}; they must match and be non-empty")
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ConfigError("y_true / y_pred: NaN or inf values; drop unlabelled samples first")
    return float(np.mean(np.abs(t - p)))


# ---- fine-tuning -------------------------------------------------------------------------------
def _rows_digest(rows: dict[str, np.ndarray]) -> str:
    h = hashlib.sha1()
    for k in ("train", "val"):
        h.update(k.encode() + np.ascontiguousarray(rows[k], dtype=np.int64).tobytes())
    return h.hexdigest()


def _claim(out_dir: Path, settings: dict[str, Any]) -> bool:
    """Record the run's settings in ``out_dir``; True if a finished run with these settings is there."""
    path = out_dir / RUN_FILE
    trained = any((out_dir / "checkpoints" / f).is_file() for f in ("best.ckpt", "last.ckpt"))
    if path.is_file() and trained:
        from cardiofm.fileio import read_json

        old = read_json(path, "fine-tuning settings file")
        if old.get("settings") != settings:
            raise ConfigError(f"{out_dir}: holds a fine-tuning run with other settings ({path}); "
                              "choose another out_dir or delete it")
        return bool(old.get("finished")) and (out_dir / "checkpoints" / "best.ckpt").is_file()
    if trained:
        raise ConfigError(f"{out_dir}: holds checkpoints but no {RUN_FILE}; choose another out_dir or delete it")
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"settings": settings, "finished": False}, indent=2) + "\n")
    return False


def finetune(encoder_dir: str | Path | None, store: Store, rows: dict[str, np.ndarray], *, task: str,
             leads: Sequence[str], out_dir: Path, encoder: str = "net1d_tiny", max_epochs: int = 10,
             patience: int = 5, lr: float = 1e-3, weight_decay: float = 1e-5, batch_size: int = 64,
             seed: int = 42, max_time_s: float | None = None, progress: bool = False) -> np.ndarray:
    """Fine-tune encoder + one linear head per label on ``rows["train"]``; test probabilities of the best epoch.

    Classification tasks only (binary cross-entropy through
    :class:`cardiofm.methods.supervised.SupervisedModule`, every parameter trained, no augmentation).
    The encoder is the one saved at ``encoder_dir`` (by :func:`cardiofm.models.save_model`), or a
    randomly initialised ``encoder`` when ``encoder_dir`` is ``None`` (``encoder`` is ignored otherwise).

    Early stopping and the best checkpoint follow the validation macro AUROC (the repository's
    convention); the CLEF paper selects by validation loss. The optimiser is the repository's AdamW
    with warm-up + cosine schedule, not the paper's Adam with cosine warm restarts.

    ``out_dir`` gets ``checkpoints/best.ckpt`` / ``last.ckpt``, CSV logs and ``finetune.json`` (the
    settings). A run interrupted there resumes from ``last.ckpt``; a finished one is not trained again.

    Args:
        rows: store row positions for ``"train"``, ``"val"`` and ``"test"``.

    Returns:
        ``(len(rows["test"]), n_labels)`` float32 probabilities.

    Raises:
        ConfigError: missing row sets, no validation label with both classes, an encoder whose lead
            count differs from ``len(leads)``, or an ``out_dir`` holding a run with other settings.
        LeadError: a lead the store does not have.
        LabelError: an unknown task.
    """
    import lightning as L

    from cardiofm.config import TrainerConfig
    from cardiofm.data.torch import StoreDataModule
    from cardiofm.engine.fit import build_trainer, check_val_labels, load_fold_module, predict_rows, resume_fit
    from cardiofm.methods.supervised import SupervisedConfig, SupervisedModule

    missing = [k for k in ("train", "val", "test") if k not in rows]
    if missing:
        raise ConfigError(f"rows: missing {', '.join(missing)}; give store row positions for train, val and test")
    rows = {k: np.asarray(rows[k], dtype=np.int64).ravel() for k in ("train", "val", "test")}
    if len(rows["train"]) == 0:
        raise ConfigError("rows['train']: no training records")
    leads = [store.leads[i] for i in lead_positions(store, leads)]
    labels = store.cohort.labels(task)
    check_val_labels(store, task, rows["val"])
    pretrained = None if encoder_dir is None else str(Path(encoder_dir).resolve())
    out_dir = Path(out_dir)
    settings = {"encoder_dir": pretrained, "encoder": None if pretrained else encoder, "task": task,
                "leads": leads, "max_epochs": max_epochs, "patience": patience, "lr": lr,
                "weight_decay": weight_decay, "batch_size": batch_size, "seed": seed, "rows": _rows_digest(rows)}
    if not _claim(out_dir, settings):
        L.seed_everything(seed, workers=True, verbose=False)
        cfg = SupervisedConfig(encoder=encoder, in_leads=len(leads), n_labels=len(labels.codes),
                               label_names=list(labels.codes), lr=lr, weight_decay=weight_decay,
                               uncertainty_weighting=False, pcgrad=False, both_views=False, freeze_encoder=False,
                               pretrained=pretrained)
        module = SupervisedModule(cfg)
        data = StoreDataModule(store.path, task=task, batch_size=batch_size, leads=leads, seed=seed, augment=None,
                               rows={"train": rows["train"], "val": rows["val"]})
        tc = TrainerConfig(max_epochs=max_epochs, patience=patience, monitor="val_macro_auroc", progress=progress,
                           max_time_s=max_time_s, deterministic=True)
        last = out_dir / "checkpoints" / "last.ckpt"
        resume_fit(build_trainer(tc, out_dir), module, data, last)
        if not (out_dir / "checkpoints" / "best.ckpt").is_file():
            raise ConfigError(f"{out_dir}: training ended without a best checkpoint (was val_macro_auroc finite?)")
        (out_dir / RUN_FILE).write_text(json.dumps({"settings": settings, "finished": True}, indent=2) + "\n")
    best = load_fold_module(out_dir)
    return predict_rows([best], store, rows["test"], leads=leads, batch_size=256).astype(np.float32, copy=False)
