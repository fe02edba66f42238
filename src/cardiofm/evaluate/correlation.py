"""Pearson correlation of embedding dimensions with measured ECG features (CardioPRIME, Figure 2).

CardioPRIME checks that its latent space is physiologically meaningful by correlating every embedding
dimension with established ECG measurements (lead voltages, PR interval, QRS duration, QTc, T axis)
and reporting, per feature, the dimension that follows it most closely. A feature may be missing for
some records: each correlation uses the records where that feature is finite (pairwise deletion).
Embeddings must be complete. Rows of ``embeddings`` and ``features`` are matched by position.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cardiofm.errors import ConfigError, MetricError

MIN_ROWS = 3  # fewer usable records than this gives r = NaN (two points always lie on a line)


def check_embeddings(embeddings: Any, name: str = "embeddings") -> np.ndarray:
    """``embeddings`` as a finite ``(N, E)`` float64 matrix.

    Raises:
        MetricError: not numeric, not 2-D, empty, or holding NaN/inf.
    """
    try:
        x = np.asarray(embeddings, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{name}: expected a numeric (records, dimensions) array ({exc})") from None
    if x.ndim != 2:
        raise MetricError(f"{name}: expected a 2-D array (records, dimensions), got shape {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise MetricError(f"{name}: empty array of shape {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise MetricError(f"{name}: {int(bad.sum())} NaN/inf values in {int(bad.any(axis=1).sum())} rows "
                          f"(first row {int(np.flatnonzero(bad.any(axis=1))[0])}); drop or impute those rows first")
    return x


def _features(features: Any, n: int) -> tuple[np.ndarray, pd.Index]:
    if not isinstance(features, pd.DataFrame):
        raise ConfigError("features: expected a pandas DataFrame (one row per record, one column per feature), "
                          f"got {type(features).__name__}")
    if features.shape[0] != n:
        raise MetricError(f"features has {features.shape[0]} rows but embeddings has {n}; "
                          "both need one row per record, in the same order")
    if features.shape[1] == 0:
        raise MetricError("features: no columns")
    if not features.columns.is_unique:
        dup = features.columns[features.columns.duplicated()].unique().tolist()
        raise MetricError(f"features: duplicated column names {dup[:5]}")
    bad = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if bad:
        raise MetricError(f"features: non-numeric columns {bad[:5]}; encode or drop them first")
    y = features.to_numpy(dtype=np.float64, na_value=np.nan)
    y[~np.isfinite(y)] = np.nan
    return y, features.columns


def _pearson(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """r of every column of ``x`` with ``v`` over the rows where ``v`` is finite."""
    keep = np.isfinite(v)
    out = np.full(x.shape[1], np.nan)
    if keep.sum() < MIN_ROWS or np.ptp(v[keep]) == 0:
        return out
    xm, vm = x[keep], v[keep]
    xc, vc = xm - xm.mean(axis=0), vm - vm.mean()
    den = np.sqrt((xc * xc).sum(axis=0) * (vc @ vc))
    varying = np.ptp(xm, axis=0) > 0
    out[varying] = np.clip((vc @ xc[:, varying]) / den[varying], -1.0, 1.0)
    return out


def feature_correlations(embeddings: Any, features: pd.DataFrame) -> pd.DataFrame:
    """Pearson r of every embedding dimension with every feature.

    Args:
        embeddings: ``(N, E)`` finite embeddings.
        features: ``N`` rows of numeric features; NaN (or inf) marks a missing value.

    Returns:
        ``(E, F)`` frame, index ``dimension`` 0..E-1, one column per feature. A feature with fewer than
        :data:`MIN_ROWS` finite values, or a feature or dimension constant on the rows used, gives NaN.

    Raises:
        ConfigError: ``features`` is not a DataFrame, rows do not match, or non-numeric columns
            (:class:`MetricError` for the data problems).
    """
    x = check_embeddings(embeddings)
    y, columns = _features(features, x.shape[0])
    r = np.column_stack([_pearson(x, y[:, f]) for f in range(y.shape[1])])
    return pd.DataFrame(r, index=pd.RangeIndex(x.shape[1], name="dimension"),
                        columns=pd.Index(columns, name="feature"))


def best_dimensions(embeddings: Any, features: pd.DataFrame) -> pd.DataFrame:
    """For each feature, the embedding dimension with the largest ``|r|`` and its two-sided p-value.

    Args:
        embeddings: ``(N, E)`` finite embeddings.
        features: ``N`` rows of numeric features (NaN allowed), as in :func:`feature_correlations`.

    Returns:
        One row per feature (input order): ``feature``, ``dimension`` (nullable int; the first one on a
        tie), ``r``, ``abs_r``, ``n`` (records used) and ``p_value`` (``scipy.stats.pearsonr`` on those
        records). A feature without any defined correlation has ``dimension`` NA and NaN values.
    """
    from scipy.stats import pearsonr

    x = check_embeddings(embeddings)
    y, columns = _features(features, x.shape[0])
    rows = []
    for f, name in enumerate(columns):
        r = _pearson(x, y[:, f])
        keep = np.isfinite(y[:, f])
        row: dict[str, Any] = {"feature": name, "dimension": pd.NA, "r": np.nan, "abs_r": np.nan,
                               "n": int(keep.sum()), "p_value": np.nan}
        if np.isfinite(r).any():
            d = int(np.nanargmax(np.abs(r)))
            row.update(dimension=d, r=float(r[d]), abs_r=abs(float(r[d])),
                       p_value=float(pearsonr(x[keep, d], y[keep, f]).pvalue))
        rows.append(row)
    out = pd.DataFrame(rows, columns=["feature", "dimension", "r", "abs_r", "n", "p_value"])
    out["dimension"] = out["dimension"].astype("Int64")
    return out
