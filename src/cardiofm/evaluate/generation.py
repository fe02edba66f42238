"""Metrics for generated 12-lead ECGs (SE-Diff: text-conditioned ECG diffusion).

Signals are arrays ``(N, leads, samples)`` in mV; lead names are given explicitly (canonical order
``LEADS_12``). Bad data (shape, NaN) raises :class:`MetricError`, bad options :class:`ConfigError`
(``MetricError`` is a ``ConfigError``).

* Fidelity to a matched real record (generated record i is compared with real record i, same shape):
  :func:`mae` is the mean absolute difference over leads and samples (mV). :func:`nrmse` is, per
  lead, the RMSE divided by the range (max - min) of the *real* lead, averaged over the leads; a real
  lead with zero range (flat, e.g. a disconnected electrode) would divide by 0 and is skipped, and a
  record whose real leads are all flat gets NaN. :func:`mean_ci` gives a percentile bootstrap CI of
  the mean of such per-record values (NaNs dropped first; ``groups`` resamples whole patients).
* Distribution distance: :func:`frechet_distance` fits a Gaussian (mean, unbiased covariance) to each
  set of embeddings and returns ``||mu_a - mu_b||^2 + Tr(Ca + Cb - 2 (Ca Cb)^(1/2))`` (the FID
  formula). The matrix square root is scipy's ``sqrtm``; its real part is kept (rounding leaves tiny
  imaginary parts) and, when the product is singular (non-finite root), ``eps * I`` is added to both
  covariances, as the reference FID code does. A tiny negative result from rounding is clipped to 0.
  The estimate is biased upwards for small sets; compare sets of equal size. :func:`frechet_ci`
  resamples the rows of each set independently (with replacement). :func:`embed` produces the
  embeddings with a frozen torch encoder.
* Retrieval (text -> ECG): ``scores[i, j]`` rates item j for query i (higher = better). Items are
  ranked by descending score, ties broken by item order (a stable sort: the lower index ranks first,
  so a tie never favours a relevant item by accident). Recall@k of a query is 1 when any relevant
  item is in its top k (k larger than the number of items means all items); the mean is over queries
  with at least one relevant item only (the others cannot be scored). :func:`recall_ci` bootstraps
  over those queries.
* Physiological consistency: the six limb leads derive from two, so a real ECG obeys Einthoven's law
  III = II - I and Goldberger's aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2. :func:`lead_residuals`
  reports the RMS over time of each residual (mV), the three Goldberger residuals pooled, and the
  RMS of all four pooled relative to the RMS of leads I and II pooled (scale-free). It is 0 on
  lead-consistent input.
* Intervals: :func:`interval_features` delineates lead II of each record with
  :func:`cardiofm.physio.delineate.features`; a record that cannot be delineated (flat, noisy, NaN) is
  a NaN row, never an exception. :func:`interval_plausibility` reports the fraction delineated (HR
  finite) and, among those, the fraction inside :data:`PLAUSIBLE_RANGES`: wide physiological limits
  that flag impossible values, *not* clinical normal limits (a PR of 250 ms is abnormal but
  plausible). :func:`interval_gap` is ``|median(generated) - median(real)|`` per interval.
* Downstream utility: :func:`paired_auroc_delta` is AUROC(augmented) - AUROC(baseline) of one class on
  the same test records, with a paired bootstrap (each resample is applied to both models) that
  redraws resamples lacking a positive or a negative (PTB-XL rule).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate.bootstrap import BootstrapCI, bootstrap_ci
from cardiofm.evaluate.intervals import percentile_interval
from cardiofm.signal.record import LEADS_12, ECGRecord, normalise_lead_name

PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "hr": (30.0, 220.0),  # bpm
    "pr": (80.0, 320.0),  # ms
    "qrs": (40.0, 200.0),  # ms
    "qtc_bazett": (300.0, 560.0),  # ms
}
INTERVAL_COLUMNS = ("hr", "pr", "qrs", "qt", "qtc_bazett", "n_beats")
_GAP_COLUMNS = ("hr", "pr", "qrs", "qt", "qtc_bazett")


def _signals(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{name}: signals must be numbers ({exc})") from None
    if arr.ndim != 3 or 0 in arr.shape:
        raise MetricError(f"{name}: expected a non-empty array (N, leads, samples), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise MetricError(f"{name}: {int((~np.isfinite(arr)).sum())} NaN/inf samples; repair or drop those records")
    return arr


def _matched(generated: Any, real: Any) -> tuple[np.ndarray, np.ndarray]:
    g, r = _signals(generated, "generated"), _signals(real, "real")
    if g.shape != r.shape:
        raise MetricError(f"generated has shape {g.shape} but real has shape {r.shape}; record i of each is "
                          "compared, so they must match (N, leads, samples)")
    return g, r


def mae(generated: Any, real: Any) -> np.ndarray:
    """Per-record mean absolute error (mV) over leads and samples, ``(N,)``."""
    g, r = _matched(generated, real)
    return np.abs(g - r).mean(axis=(1, 2))


def nrmse(generated: Any, real: Any) -> np.ndarray:
    """Per-record RMSE / range of the real lead, averaged over non-flat leads, ``(N,)`` (NaN: all flat)."""
    g, r = _matched(generated, real)
    rmse = np.sqrt(((g - r) ** 2).mean(axis=2))
    span = r.max(axis=2) - r.min(axis=2)
    ok = span > 0
    ratio = np.where(ok, rmse / np.where(ok, span, 1.0), 0.0)
    n_ok = ok.sum(axis=1)
    return np.where(n_ok > 0, ratio.sum(axis=1) / np.maximum(n_ok, 1), np.nan)


def _mean(_: np.ndarray, v: np.ndarray) -> float:
    return float(v.mean())


def mean_ci(values: Any, n_boot: int = 1000, seed: int = 0, level: float = 0.95,
            groups: Any = None) -> BootstrapCI:
    """Percentile bootstrap CI of the mean of per-record ``values`` (NaNs dropped; ``groups``: patient ids)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise MetricError(f"values: expected one value per record, shape (N,), got {v.shape}")
    keep = ~np.isnan(v)
    if groups is not None:
        g = np.asarray(groups)
        if g.shape != v.shape:
            raise MetricError(f"groups: expected one id per value, shape {v.shape}, got {g.shape}")
        groups = g[keep]
    v = v[keep]
    if v.size == 0:
        raise MetricError("values: no finite values left after dropping NaN")
    if not np.isfinite(v).all():
        raise MetricError("values: holds inf; a mean of it has no CI")
    return bootstrap_ci(_mean, v, v, n_boot=n_boot, seed=seed, level=level, groups=groups,
                        require_both_classes=False)


def _embeddings(x: Any, name: str) -> np.ndarray:
    """Numeric, 2-D, finite embeddings (:func:`~cardiofm.evaluate.correlation.check_embeddings`), at least two
    rows to fit a covariance."""
    from cardiofm.evaluate.correlation import check_embeddings

    arr = check_embeddings(x, name)
    if arr.shape[0] < 2:
        raise MetricError(f"{name}: need at least 2 embeddings to fit a covariance, got {arr.shape[0]}")
    return arr


def _frechet(a: np.ndarray, b: np.ndarray, eps: float) -> float:
    from scipy.linalg import sqrtm

    diff = a.mean(axis=0) - b.mean(axis=0)
    ca, cb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        root = sqrtm(ca @ cb)
        if not np.isfinite(root).all():
            offset = eps * np.eye(ca.shape[0])
            root = sqrtm((ca + offset) @ (cb + offset))
    root = np.real(root)
    if not np.isfinite(root).all():
        raise MetricError("frechet_distance: the covariance product has no finite square root; raise eps")
    value = float(diff @ diff + np.trace(ca) + np.trace(cb) - 2.0 * np.trace(root))
    return max(value, 0.0)


def _frechet_pair(a: Any, b: Any, eps: float) -> tuple[np.ndarray, np.ndarray, float]:
    x, y = _embeddings(a, "a"), _embeddings(b, "b")
    if x.shape[1] != y.shape[1]:
        raise MetricError(f"a has {x.shape[1]} dimensions but b has {y.shape[1]}; embed both with one encoder")
    if not (isinstance(eps, int | float) and math.isfinite(eps) and eps >= 0):
        raise ConfigError(f"eps: must be a finite number >= 0, got {eps!r}")
    return x, y, float(eps)


def frechet_distance(a: Any, b: Any, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to embeddings ``a (n, d)`` and ``b (m, d)``."""
    x, y, eps = _frechet_pair(a, b, eps)
    return _frechet(x, y, eps)


def frechet_ci(a: Any, b: Any, n_boot: int = 200, seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """Fréchet distance with a percentile CI from resampling rows of ``a`` and ``b`` independently."""
    x, y, eps = _frechet_pair(a, b, 1e-6)
    n_boot = _checks.positive_int(n_boot, "n_boot")
    level = _checks.level(level)
    rng = np.random.default_rng(seed)
    dist = np.array([_frechet(x[rng.integers(0, len(x), len(x))], y[rng.integers(0, len(y), len(y))], eps)
                     for _ in range(n_boot)])
    lo, hi = percentile_interval(dist, level)
    return {"estimate": _frechet(x, y, eps), "lower": float(lo), "upper": float(hi), "level": level,
            "n_boot": n_boot}


def embed(encoder: Any, x: Any, batch_size: int = 64) -> np.ndarray:
    """Embeddings ``(N, embed_dim)`` float32 of signals ``x (N, leads, samples)`` by a frozen torch encoder.

    The encoder is put in eval mode (and left there); batches go to the device of its first parameter.
    """
    import torch

    sig = _signals(x, "x").astype(np.float32)
    batch_size = _checks.positive_int(batch_size, "batch_size")
    encoder.eval()
    param = next(iter(encoder.parameters()), None) if hasattr(encoder, "parameters") else None
    device = param.device if param is not None else torch.device("cpu")
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, len(sig), batch_size):
            batch = torch.from_numpy(sig[start:start + batch_size]).to(device)
            z = encoder(batch)
            if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[0] != batch.shape[0]:
                shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
                raise ConfigError(f"embed: encoder must return a tensor (batch, embed_dim), got {shape} "
                                  f"for a batch of {batch.shape[0]}")
            out.append(z.detach().float().cpu().numpy())
    return np.concatenate(out)


def relevance_from_groups(query_groups: Any, item_groups: Any) -> np.ndarray:
    """Boolean ``(n_queries, n_items)``: item j is relevant to query i when their groups are equal."""
    q, it = np.asarray(query_groups), np.asarray(item_groups)
    if q.ndim != 1 or it.ndim != 1:
        raise MetricError(f"groups must be 1-D, got shapes {q.shape} and {it.shape}")
    return q[:, None] == it[None, :]


def _hit_ranks(scores: Any, relevant: Any) -> np.ndarray:
    """Best (0-based) rank of a relevant item for each query that has one."""
    s = np.asarray(scores, dtype=np.float64)
    r = np.asarray(relevant)
    if s.ndim != 2 or 0 in s.shape:
        raise MetricError(f"scores: expected (n_queries, n_items), got shape {s.shape}")
    if r.shape != s.shape:
        raise MetricError(f"relevant has shape {r.shape} but scores has shape {s.shape}; they must match")
    if r.dtype != bool:
        if not np.isin(r, (0, 1)).all():
            raise MetricError("relevant: must be boolean (or 0/1)")
        r = r.astype(bool)
    if not np.isfinite(s).all():
        raise MetricError(f"scores: {int((~np.isfinite(s)).sum())} NaN/inf scores")
    keep = r.any(axis=1)
    if not keep.any():
        raise MetricError("relevant: no query has a relevant item; recall is undefined")
    order = np.argsort(-s[keep], axis=1, kind="stable")
    ranked = np.take_along_axis(r[keep], order, axis=1)
    return ranked.argmax(axis=1)


def _k(k: Any) -> int:
    return _checks.positive_int(k, "k")


def recall_at_k(scores: Any, relevant: Any, ks: Sequence[int] = (1, 5, 10)) -> dict[int, float]:
    """Recall@k for each k, averaged over queries with at least one relevant item."""
    ranks = _hit_ranks(scores, relevant)
    return {_k(k): float((ranks < k).mean()) for k in ks}


def recall_ci(scores: Any, relevant: Any, k: int, n_boot: int = 1000, seed: int = 0,
              level: float = 0.95) -> BootstrapCI:
    """Recall@k with a percentile bootstrap CI over queries (those with a relevant item)."""
    hits = (_hit_ranks(scores, relevant) < _k(k)).astype(np.float64)
    return bootstrap_ci(_mean, hits, hits, n_boot=n_boot, seed=seed, level=level, require_both_classes=False)


def _lead_index(leads: Sequence[str], n_leads: int) -> dict[str, int]:
    names = [normalise_lead_name(n) for n in leads]
    if len(names) != n_leads:
        raise ConfigError(f"leads: {len(names)} names for {n_leads} signal rows")
    return {n: i for i, n in enumerate(names)}


def lead_residuals(signals: Any, leads: Sequence[str] = LEADS_12) -> pd.DataFrame:
    """Per record: ``einthoven_mv``, ``goldberger_mv`` (RMS residuals, mV) and ``relative`` (see module)."""
    x = _signals(signals, "signals")
    idx = _lead_index(leads, x.shape[1])
    missing = [n for n in LEADS_12[:6] if n not in idx]
    if missing:
        raise ConfigError(f"lead_residuals needs the six limb leads; missing {', '.join(missing)}")
    i, ii, iii, avr, avl, avf = (x[:, idx[n]] for n in LEADS_12[:6])
    ms = [np.mean(e ** 2, axis=1) for e in
          (iii - (ii - i), avr + (i + ii) / 2, avl - (i - ii / 2), avf - (ii - i / 2))]
    ref = np.sqrt((np.mean(i ** 2, axis=1) + np.mean(ii ** 2, axis=1)) / 2)
    pooled = np.sqrt(sum(ms) / 4)
    with np.errstate(all="ignore"):
        relative = np.where(ref > 0, pooled / np.where(ref > 0, ref, 1.0), np.nan)
    return pd.DataFrame({"einthoven_mv": np.sqrt(ms[0]), "goldberger_mv": np.sqrt((ms[1] + ms[2] + ms[3]) / 3),
                         "relative": relative})


def _nan_row() -> dict[str, float]:
    return {c: math.nan for c in INTERVAL_COLUMNS}


def _interval_row(args: tuple[np.ndarray, float, tuple[str, ...], str]) -> dict[str, float]:
    signal, fs, leads, rid = args
    from cardiofm.physio.delineate import features

    try:
        f = features(ECGRecord(signal=signal, fs=fs, leads=leads, record_id=rid), lead="II")
    except Exception:  # a record that cannot be delineated is a NaN row (one bad record must not stop a table)
        return _nan_row()
    if not np.isfinite(f.get("hr", math.nan)):
        return _nan_row()
    return {c: float(f[c]) for c in INTERVAL_COLUMNS}


def interval_features(signals: Any, fs: float, leads: Sequence[str] = LEADS_12, workers: int = 1) -> pd.DataFrame:
    """Per record ``hr`` (bpm), ``pr``, ``qrs``, ``qt``, ``qtc_bazett`` (ms) and ``n_beats`` from lead II.

    A record that cannot be delineated (or holds NaN) gives a NaN row. ``workers > 1`` uses processes.
    """
    x = np.asarray(signals, dtype=np.float32)
    if x.ndim != 3 or 0 in x.shape:
        raise MetricError(f"signals: expected a non-empty array (N, leads, samples), got shape {x.shape}")
    if not (isinstance(fs, int | float) and math.isfinite(fs) and fs > 0):
        raise ConfigError(f"fs: sampling rate must be a positive number, got {fs!r}")
    names = tuple(_lead_index(leads, x.shape[1]))
    if "II" not in names:
        raise ConfigError(f"interval_features delineates lead II, which is missing (leads: {', '.join(names)})")
    workers = _checks.positive_int(workers, "workers")
    jobs = [(x[k], float(fs), names, f"generated_{k}") for k in range(len(x))]
    if workers == 1 or len(jobs) == 1:
        rows = [_interval_row(j) for j in jobs]
    else:
        from cardiofm.pool import worker_pool

        with worker_pool(min(workers, len(jobs))) as pool:
            rows = list(pool.map(_interval_row, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
    return pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS))


def _columns(df: Any, cols: Sequence[str], name: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ConfigError(f"{name}: expected a DataFrame from interval_features, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ConfigError(f"{name}: missing column(s) {', '.join(missing)}; pass the output of interval_features")
    return df


def interval_plausibility(features_df: pd.DataFrame) -> dict[str, float]:
    """``delineated`` (fraction with finite HR) and, among delineated records, the fraction inside
    :data:`PLAUSIBLE_RANGES` per interval (``hr``, ``pr``, ``qrs``, ``qtc_bazett``) and for ``all`` four."""
    df = _columns(features_df, tuple(PLAUSIBLE_RANGES), "features_df")
    hr = df["hr"].to_numpy(dtype=np.float64)
    done = np.isfinite(hr)
    out: dict[str, float] = {"n_records": len(df), "n_delineated": int(done.sum()),
                             "delineated": float(done.mean()) if len(df) else math.nan}
    inside_all = np.ones(int(done.sum()), dtype=bool)
    for col, (lo, hi) in PLAUSIBLE_RANGES.items():
        v = df[col].to_numpy(dtype=np.float64)[done]
        with np.errstate(invalid="ignore"):
            inside = np.isfinite(v) & (v >= lo) & (v <= hi)
        inside_all &= inside
        out[col] = float(inside.mean()) if inside.size else math.nan
    out["all"] = float(inside_all.mean()) if inside_all.size else math.nan
    return out


def _nanmedian(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else math.nan


def interval_gap(gen_df: pd.DataFrame, real_df: pd.DataFrame) -> dict[str, float]:
    """Per interval, ``|median(generated) - median(real)|`` (bpm / ms), NaNs ignored (NaN if none finite)."""
    g, r = _columns(gen_df, _GAP_COLUMNS, "gen_df"), _columns(real_df, _GAP_COLUMNS, "real_df")
    return {c: abs(_nanmedian(g[c].to_numpy(dtype=np.float64)) - _nanmedian(r[c].to_numpy(dtype=np.float64)))
            for c in _GAP_COLUMNS}


def _auroc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def _auroc_delta(y: np.ndarray, s: np.ndarray) -> float:
    yy = y.ravel()
    return _auroc(yy, s[:, 1]) - _auroc(yy, s[:, 0])


def paired_auroc_delta(y_true: Any, p_base: Any, p_aug: Any, n_boot: int = 1000, seed: int = 0,
                       groups: Any = None, level: float = 0.95) -> dict[str, float]:
    """AUROC(p_aug) - AUROC(p_base) on the same records, with a paired percentile bootstrap CI.

    Returns ``delta``, ``lower``, ``upper``, ``auroc_base``, ``auroc_aug``, ``level``, ``n_boot`` and
    ``n_rejected`` (resamples redrawn for lacking a positive or a negative).
    """
    y, base = _checks.binary_pair(y_true, p_base)
    _, aug = _checks.binary_pair(y_true, p_aug)
    if y.min() == y.max():
        raise MetricError(f"y_true: all labels are {int(y[0])}; AUROC needs positives and negatives")
    ci = bootstrap_ci(_auroc_delta, y, np.column_stack([base, aug]), n_boot=n_boot, seed=seed, level=level,
                      groups=groups, require_both_classes=True)
    return {"delta": float(ci.estimate), "lower": float(ci.lower), "upper": float(ci.upper),
            "auroc_base": _auroc(y, base), "auroc_aug": _auroc(y, aug), "level": ci.level,
            "n_boot": ci.n_boot, "n_rejected": ci.n_rejected}
