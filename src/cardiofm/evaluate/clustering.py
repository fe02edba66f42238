"""Disease separation by k-means clusters of embeddings (CardioPRIME, "disease clustering results").

Held-out embeddings are split into ``k`` k-means clusters; for each disease the cluster assignment is
compared with that disease's 0/1 indicator by NMI, AMI, homogeneity and completeness (scikit-learn
definitions: natural log, arithmetic normalisation; ``labels_true`` = indicator, ``labels_pred`` =
clusters). The paper takes the 10 most prevalent diseases, ``k = n_diseases // 2 + 1`` and reports the
ratio integrated / baseline per disease and metric, leaving out ratios below 0 or above 100.

The bootstrap keeps the clusters fixed and resamples records (or whole patients). Its metrics are
computed for all resamples at once from weighted contingency tables, with the same formulas (and
special cases) as scikit-learn, so a resample scores exactly as sklearn would score the repeated rows.
Mutual-information scores are biased upward in resamples (duplicated records look informative), so
for a weak association the interval can lie above the point estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_mutual_info_score,
    completeness_score,
    homogeneity_score,
    normalized_mutual_info_score,
)

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate.bootstrap import Resampler
from cardiofm.evaluate.correlation import check_embeddings

METRICS: tuple[str, ...] = ("nmi", "ami", "homogeneity", "completeness")
_SKLEARN = {"nmi": normalized_mutual_info_score, "ami": adjusted_mutual_info_score,
            "homogeneity": homogeneity_score, "completeness": completeness_score}
MIN_VALID = 10  # fewer valid resamples than this gives a NaN interval
_EPS = np.finfo(np.float64).eps
_MAX_ELEMENTS = 2_000_000  # terms of the expected mutual information evaluated at once


def cardioprime_k(n_diseases: int) -> int:
    """The paper's number of clusters: half as many as diseases plus one "healthy" cluster (10 -> 6).

    Raises:
        ConfigError: ``n_diseases`` is not an integer >= 1.
    """
    return _checks.positive_int(n_diseases, "n_diseases") // 2 + 1


def kmeans_clusters(embeddings: Any, k: int, *, seed: int = 0, n_init: int = 10) -> np.ndarray:
    """k-means cluster label (0..k-1) of each embedding, ``(N,)`` int64 (``sklearn.cluster.KMeans``).

    Raises:
        ConfigError: embeddings not a finite 2-D array, ``k < 2``, ``k > N`` or ``n_init < 1``.
    """
    x = check_embeddings(embeddings)
    k = _checks.positive_int(k, "k", minimum=2)
    if k > x.shape[0]:
        raise ConfigError(f"k: {k} clusters asked for {x.shape[0]} records; k cannot exceed the number of records")
    n_init = _checks.positive_int(n_init, "n_init")
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(x).astype(np.int64)


def top_diseases(labels: Any, names: Sequence[str], n: int = 10) -> list[int]:
    """Column indices of the ``n`` most prevalent diseases (ties by column order), never a column without positives.

    Raises:
        ConfigError: labels not 0/1 ``(N, D)``, ``len(names) != D`` or ``n < 1``.
    """
    y = _checks.labels(labels, "labels")
    _checks.names(names, y.shape[1])
    n = _checks.positive_int(n, "n")
    pos = y.sum(axis=0)
    return [int(j) for j in np.argsort(-pos, kind="stable") if pos[j] > 0][:n]


def _inputs(clusters: Any, labels: Any, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    y = _checks.labels(labels, "labels")
    disease_names = _checks.names(names, y.shape[1])
    if len(set(disease_names)) != len(disease_names):
        raise ConfigError(f"names: disease names must be unique, got {list(disease_names)}")
    c = np.asarray(clusters)
    if c.ndim != 1 or c.shape[0] != y.shape[0]:
        raise MetricError(f"clusters: expected one cluster label per record, shape ({y.shape[0]},), got {c.shape}")
    codes, _ = pd.factorize(c, use_na_sentinel=True)
    if (codes < 0).any():
        raise MetricError(f"clusters: {int((codes < 0).sum())} missing cluster labels")
    return codes.astype(np.int64), y, disease_names


def disease_cluster_scores(clusters: Any, labels: Any, names: Sequence[str]) -> pd.DataFrame:
    """NMI, AMI, homogeneity and completeness of the clusters against each disease indicator.

    Args:
        clusters: ``(N,)`` cluster label per record.
        labels: ``(N, D)`` 0/1 disease labels.
        names: the ``D`` disease names (unique).

    Returns:
        One row per disease: ``disease``, ``positives`` and the four metrics. A disease with no positive
        or no negative record is not scored (NaN metrics) instead of getting sklearn's degenerate values.
    """
    codes, y, disease_names = _inputs(clusters, labels, names)
    rows = []
    for j, name in enumerate(disease_names):
        pos = int(y[:, j].sum())
        scored = 0 < pos < y.shape[0]
        rows.append({"disease": name, "positives": pos,
                     **{m: float(fn(y[:, j], codes)) if scored else np.nan for m, fn in _SKLEARN.items()}})
    return pd.DataFrame(rows, columns=["disease", "positives", *METRICS])


def _entropy(counts: np.ndarray, n: np.ndarray) -> np.ndarray:
    p = counts / n[:, None]
    return -np.where(counts > 0, p * (np.log(counts) - np.log(n)[:, None]), 0.0).sum(axis=1)


def _expected_mi(a: np.ndarray, b: np.ndarray, n: np.ndarray) -> np.ndarray:
    """sklearn's expected mutual information for row sums ``a`` (B, R), column sums ``b`` (B, K), totals ``n``."""
    lf = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, int(n.max()) + 1)))])  # log(k!)
    out = np.zeros(a.shape[0])
    step = max(1, _MAX_ELEMENTS // (a.shape[1] * b.shape[1] * (int(min(a.max(), b.max())) + 1)))
    for s in range(0, a.shape[0], step):
        ai, bj = a[s:s + step, :, None, None], b[s:s + step, None, :, None]
        ni = n[s:s + step, None, None, None]
        start = np.maximum(1, ai + bj - ni)
        width = np.minimum(ai, bj) - start + 1
        t = np.arange(max(int(width.max()), 0))
        ok = t < width
        nij = np.where(ok, start + t, 1)
        log_p = (lf[ai] + lf[bj] + lf[ni - ai] + lf[ni - bj] - lf[ni] - lf[nij] - lf[np.maximum(ai - nij, 0)]
                 - lf[np.maximum(bj - nij, 0)] - lf[np.maximum(ni - ai - bj + nij, 0)])
        term = nij / ni * (np.log(ni * nij) - np.log(np.maximum(ai * bj, 1))) * np.exp(np.where(ok, log_p, -np.inf))
        out[s:s + step] = term.sum(axis=(1, 2, 3))
    return out


def _table_scores(tables: np.ndarray) -> dict[str, np.ndarray]:
    """The four metrics of integer contingency tables ``(B, R, K)`` (R classes x K clusters), as sklearn."""
    t = tables.astype(np.float64)
    a, b = tables.sum(axis=2), tables.sum(axis=1)
    n = tables.sum(axis=(1, 2))
    nf = n.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        outer = a[:, :, None].astype(np.float64) * b[:, None, :]
        terms = np.where(t > 0, t / nf[:, None, None] * (np.log(t) + np.log(nf)[:, None, None] - np.log(outer)), 0.0)
        h_true, h_pred = _entropy(a.astype(np.float64), nf), _entropy(b.astype(np.float64), nf)
    one_class, one_cluster = (a > 0).sum(axis=1) == 1, (b > 0).sum(axis=1) == 1
    mi = np.clip(np.where(np.abs(terms) < _EPS, 0.0, terms).sum(axis=(1, 2)), 0.0, None)
    mi = np.where(one_class | one_cluster, 0.0, mi)
    norm = (h_true + h_pred) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        nmi = np.where(one_class & one_cluster, 1.0, np.where(mi == 0, 0.0, mi / norm))
        emi = _expected_mi(a, b, n)
        den, num = norm - emi, mi - emi
        den = np.where(den < 0, np.minimum(den, -_EPS), np.maximum(den, _EPS))
        num = np.where(num < 0, np.minimum(num, -_EPS), np.maximum(num, _EPS))
        ami = np.where(one_class & one_cluster, 1.0, np.where(one_class | one_cluster, 0.0, num / den))
        homogeneity = np.where(h_true > 0, mi / h_true, 1.0)
        completeness = np.where(h_pred > 0, mi / h_pred, 1.0)
    return {"nmi": nmi, "ami": ami, "homogeneity": homogeneity, "completeness": completeness}


def bootstrap_cluster_scores(clusters: Any, labels: Any, names: Sequence[str], *, n_boot: int = 1000,
                             seed: int | np.random.Generator | None = 0, groups: Any = None,
                             level: float = 0.95) -> pd.DataFrame:
    """:func:`disease_cluster_scores` with percentile bootstrap intervals, clusters held fixed.

    Records (or, with ``groups``, whole patients with all their records) are drawn with replacement
    (:class:`~cardiofm.evaluate.bootstrap.Resampler`, seeded by ``seed``). A resample in which a disease
    has no positive or no negative record is skipped for that disease only (not redrawn).

    Args:
        clusters: ``(N,)`` cluster label per record.
        labels: ``(N, D)`` 0/1 disease labels.
        names: the ``D`` disease names.
        n_boot: number of resamples drawn.
        seed: seed or generator.
        groups: patient id per record, for a patient-level (cluster) bootstrap.
        level: confidence level.

    Returns:
        The point table plus ``<metric>_lo`` / ``<metric>_hi`` and ``n_valid`` (resamples used per
        disease); the interval is NaN when fewer than :data:`MIN_VALID` resamples were valid.
    """
    codes, y, disease_names = _inputs(clusters, labels, names)
    level = _checks.level(level)
    table = disease_cluster_scores(codes, y, disease_names)
    n, d = y.shape
    onehot = np.eye(int(codes.max()) + 1)[codes]
    scored = np.flatnonzero(table[METRICS[0]].notna().to_numpy())
    dists: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    for counts in Resampler(n, n_boot, seed, groups=groups):
        w = counts.astype(np.float64)
        total = np.rint(w @ onehot).astype(np.int64)
        block = {m: np.full((w.shape[0], d), np.nan) for m in METRICS}
        for j in scored:
            pos = np.rint(w @ (onehot * y[:, j:j + 1])).astype(np.int64)
            valid = (pos.sum(axis=1) > 0) & ((total - pos).sum(axis=1) > 0)
            if valid.any():
                scores = _table_scores(np.stack([total[valid] - pos[valid], pos[valid]], axis=1))
                for m in METRICS:
                    block[m][valid, j] = scores[m]
        for m in METRICS:
            dists[m].append(block[m])
    q = [(1 - level) / 2, (1 + level) / 2]
    n_valid = np.isfinite(np.concatenate(dists[METRICS[0]])).sum(axis=0)
    for m in METRICS:
        dist = np.concatenate(dists[m])
        lo, hi = np.full(d, np.nan), np.full(d, np.nan)
        for j in np.flatnonzero(n_valid >= MIN_VALID):
            lo[j], hi[j] = np.quantile(dist[np.isfinite(dist[:, j]), j], q)
        table[f"{m}_lo"], table[f"{m}_hi"] = lo, hi
    table["n_valid"] = n_valid
    return table


def integration_ratio(integrated: pd.DataFrame, baseline: pd.DataFrame, *, low: float = 0.0,
                      high: float = 100.0) -> pd.DataFrame:
    """Per disease and metric, integrated / baseline score; ratios outside ``[low, high]`` are omitted.

    Omitted ratios (also division by zero and NaN) become NaN. A last row ``disease="mean"`` holds each
    metric's mean over the ratios kept (NaN if none). Diseases are matched by name and must be the same
    in both tables; the metrics are those of :data:`METRICS` present in both.

    Raises:
        ConfigError: not DataFrames with a ``disease`` column, duplicated or differing diseases, no
            common metric, or ``low >= high``.
    """
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ConfigError(f"low/high: need finite low < high, got low={low!r}, high={high!r}")
    for what, df in (("integrated", integrated), ("baseline", baseline)):
        if not isinstance(df, pd.DataFrame) or "disease" not in df.columns:
            raise ConfigError(f"{what}: expected a DataFrame with a 'disease' column (disease_cluster_scores)")
        dup = df["disease"][df["disease"].duplicated()].tolist()
        if dup or "mean" in set(df["disease"]):
            raise ConfigError(f"{what}: diseases must be unique and not named 'mean', got duplicates {dup}")
    metrics = [m for m in METRICS if m in integrated.columns and m in baseline.columns]
    if not metrics:
        raise ConfigError(f"integrated and baseline share none of the metric columns {list(METRICS)}")
    left, right = integrated.set_index("disease"), baseline.set_index("disease")
    only_left, only_right = sorted(set(left.index) - set(right.index)), sorted(set(right.index) - set(left.index))
    if only_left or only_right:
        raise ConfigError(f"integrated and baseline must score the same diseases; only in integrated: {only_left}, "
                          f"only in baseline: {only_right}")
    num = left[metrics].to_numpy(dtype=np.float64)
    den = right.loc[left.index, metrics].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
    ratio = np.where(np.isfinite(ratio) & (ratio >= low) & (ratio <= high), ratio, np.nan)
    kept = np.isfinite(ratio).sum(axis=0)
    with np.errstate(invalid="ignore"):
        mean = np.where(kept > 0, np.nansum(ratio, axis=0) / kept, np.nan)
    out = pd.DataFrame(np.vstack([ratio, mean]), columns=metrics)
    out.insert(0, "disease", [*left.index.astype(str), "mean"])
    return out
