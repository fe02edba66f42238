"""Similar patients by their EHR codes: SE-Diff's tri-view Jaccard similarity (eqs. 21-22) and top-k retrieval.

Each patient has three code sets (views): diagnoses, medications and procedures. Per view X the similarity of
patients i and j is the Jaccard index ``tau_X(i, j) = |X_i & X_j| / |X_i | X_j|``; the aggregate is the weighted
mean over the views, ``tau(i, j) = sum_X w_X tau_X(i, j) / sum_X w_X`` (equal weights by default). A view in
which both patients have no code says nothing about them and is left out of that pair's mean (a pair with no
code in any view has similarity 0). Retrieval returns, for each query, the ``k`` most similar other records
(never the query itself, optionally never the same patient), ties broken by record order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cardiofm.errors import ConfigError

VIEWS = ("diagnoses", "medications", "procedures")


def parse_codes(value: object, sep: str = ";") -> frozenset[str]:
    """``"I48;I10"`` -> ``{"I48", "I10"}``; NaN, None or empty -> the empty set."""
    if not isinstance(value, str):
        return frozenset()
    return frozenset(c.strip() for c in value.split(sep) if c.strip())


def _incidence(sets: Sequence[frozenset[str]]) -> np.ndarray:
    vocab = {c: j for j, c in enumerate(sorted({c for s in sets for c in s}))}
    m = np.zeros((len(sets), len(vocab)), dtype=np.float64)
    for i, s in enumerate(sets):
        m[i, [vocab[c] for c in s]] = 1.0
    return m


def jaccard_matrix(sets: Sequence[frozenset[str]], others: Sequence[frozenset[str]] | None = None) -> np.ndarray:
    """Jaccard index of every pair ``(sets[i], others[j])``; NaN where both sets are empty."""
    others = sets if others is None else others
    m = _incidence(list(sets) + list(others))
    a, b = m[: len(sets)], m[len(sets):]
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), np.nan)


def tri_view_similarity(views: dict[str, Sequence[frozenset[str]]], *, weights: dict[str, float] | None = None,
                        queries: dict[str, Sequence[frozenset[str]]] | None = None) -> np.ndarray:
    """Aggregate similarity ``(n_queries, n_records)`` of eq. 22 over the given views (module docstring).

    Args:
        views: view name -> the records' code sets (every view the same length).
        weights: view name -> weight (default 1 each); views absent from ``weights`` get 1.
        queries: the query patients' code sets per view (default: the records themselves).
    """
    if not views:
        raise ConfigError("tri_view_similarity: no views given")
    n = {len(v) for v in views.values()}
    if len(n) != 1:
        raise ConfigError(f"tri_view_similarity: the views hold different numbers of records: {sorted(n)}")
    queries = views if queries is None else queries
    if set(queries) != set(views):
        raise ConfigError(f"tri_view_similarity: queries have views {sorted(queries)}, records {sorted(views)}")
    w = {k: float((weights or {}).get(k, 1.0)) for k in views}
    if any(v < 0 for v in w.values()) or not sum(w.values()) > 0:
        raise ConfigError(f"tri_view_similarity: weights must be >= 0 with a positive sum, got {w}")
    num, den = None, None
    for name, records in views.items():
        tau = jaccard_matrix(queries[name], records)
        known = ~np.isnan(tau)
        part, wt = np.where(known, tau, 0.0) * w[name], known * w[name]
        num, den = (part, wt) if num is None else (num + part, den + wt)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def top_k_similar(similarity: np.ndarray, k: int, *, patients: Sequence[str] | None = None,
                  exclude_self: bool = True, min_similarity: float = 0.0) -> list[list[int]]:
    """For each row of a square ``similarity`` matrix, the ``k`` most similar other records (best first).

    ``patients`` (one id per record) also excludes the query patient's other records; candidates below
    ``min_similarity`` are dropped, so a query may get fewer than ``k``.
    """
    s = np.asarray(similarity, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ConfigError(f"top_k_similar: need a square similarity matrix, got shape {s.shape}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"top_k_similar: k must be a positive integer, got {k!r}")
    pid = None if patients is None else np.asarray([str(p) for p in patients])
    if pid is not None and len(pid) != len(s):
        raise ConfigError(f"top_k_similar: {len(pid)} patient ids for {len(s)} records")
    out = []
    for i in range(len(s)):
        keep = s[i] >= min_similarity
        if exclude_self:
            keep[i] = False
        if pid is not None:
            keep &= pid != pid[i]
        cand = np.flatnonzero(keep)
        order = cand[np.lexsort((cand, -s[i, cand]))]  # similarity descending, then record order
        out.append([int(j) for j in order[:k]])
    return out
