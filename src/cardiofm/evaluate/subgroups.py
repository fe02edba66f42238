"""Subgroup analysis: AUROC with bootstrap CI, n and n_pos per subgroup, for forest plots.

Subgroups are declared per column of a DataFrame (one row per sample)::

    spec = {
        "age": Cut([65]),                          # numeric cut points: "<65", ">=65"
        "ecg_ccta_hours": Cut([3], right=True),    # "<=3", ">3"
        "sex": "category",                         # one subgroup per distinct value
        "hypertension": Categories({0: "no", 1: "yes"}),   # chosen values, named, in this order
        "bmi": [("lean", lambda c: c < 25), ("obese", lambda c: c >= 30)],   # custom masks
    }

Missing values (NaN) fall in no subgroup. A subgroup with fewer than ``min_pos`` positives or
``min_neg`` negatives (default 2 each) is not scored: NaN with the reason in ``note``. Bootstrap CIs
(percentile) use the class rule of :mod:`cardiofm.evaluate.bootstrap` within the subgroup (default
``strodthoff``: a positive in every resample; a resample without a negative is skipped and counted in
``n_skipped``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult
from cardiofm.evaluate._ranking import prepare, transpose, weighted_auc_ap
from cardiofm.evaluate.bootstrap import Resampler, check_rule, nan_percentile
from cardiofm.evaluate.classification import MIN_NEG, MIN_POS, check_minimum


@dataclass(frozen=True)
class Cut:
    """Numeric subgroups from cut points: ``[a, b)`` intervals (``right=True``: ``(a, b]``)."""

    edges: Sequence[float]
    labels: Sequence[str] | None = None
    right: bool = False

    def masks(self, col: pd.Series) -> list[tuple[str, np.ndarray]]:
        """(label, boolean mask) per interval."""
        e = [float(x) for x in self.edges]
        if not e or any(b <= a for a, b in zip(e, e[1:], strict=False)):
            raise ConfigError(f"Cut: edges must be increasing and non-empty, got {list(self.edges)}")
        x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
        bounds = [-np.inf, *e, np.inf]
        if self.labels is not None and len(self.labels) != len(bounds) - 1:
            raise ConfigError(f"Cut: {len(self.labels)} labels for {len(bounds) - 1} intervals")
        out = []
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            mask = (x > a) & (x <= b) if self.right else (x >= a) & (x < b)
            out.append((self.labels[i] if self.labels is not None else _interval_label(a, b, self.right), mask))
        return out


def _interval_label(a: float, b: float, right: bool) -> str:
    if np.isinf(a):
        return f"≤{b:g}" if right else f"<{b:g}"
    if np.isinf(b):
        return f">{a:g}" if right else f"≥{a:g}"
    return f"({a:g}, {b:g}]" if right else f"[{a:g}, {b:g})"


@dataclass(frozen=True)
class Categories:
    """Categorical subgroups: all distinct values (sorted), or the values of ``names`` (a sequence, or a
    mapping value -> label), in that order."""

    names: Sequence[Any] | Mapping[Any, str] | None = None

    def masks(self, col: pd.Series) -> list[tuple[str, np.ndarray]]:
        """(label, boolean mask) per category."""
        if self.names is None:
            values = sorted(col.dropna().unique().tolist(), key=str)
            return [(str(v), (col == v).to_numpy()) for v in values]
        items = self.names.items() if isinstance(self.names, Mapping) else ((v, str(v)) for v in self.names)
        return [(str(label), (col == v).to_numpy()) for v, label in items]


Predicate = Callable[[pd.Series], Any]
Spec = Mapping[str, Any]  # column -> Cut | Categories | "category" | cut points | [(label, predicate), ...]


def subgroup_masks(frame: pd.DataFrame, spec: Spec) -> list[tuple[str, str, np.ndarray]]:
    """Resolve a spec to ``(variable, subgroup label, mask)`` triples (see the module docstring)."""
    out = []
    for column, rule in spec.items():
        if column not in frame.columns:
            raise ConfigError(f"subgroups: no column {column!r} in the frame (columns: {list(frame.columns)})")
        col = frame[column]
        if isinstance(rule, str):
            if rule != "category":
                raise ConfigError(f"subgroups[{column!r}]: unknown rule {rule!r}; use 'category', Cut(...), "
                                  "Categories(...) or a list of (label, predicate)")
            rule = Categories()
        elif isinstance(rule, Sequence) and rule and all(isinstance(x, int | float) for x in rule):
            rule = Cut(rule)
        if isinstance(rule, Cut | Categories):
            pairs = rule.masks(col)
        elif isinstance(rule, Sequence) and all(isinstance(x, tuple) and len(x) == 2 and callable(x[1])
                                                for x in rule):
            pairs = [(str(label), np.asarray(fn(col), dtype=bool)) for label, fn in rule]
        else:
            raise ConfigError(f"subgroups[{column!r}]: cannot read rule {rule!r}")
        for label, mask in pairs:
            if mask.shape != (len(frame),):
                raise ConfigError(f"subgroups[{column!r}][{label!r}]: mask has shape {mask.shape}, "
                                  f"expected ({len(frame)},)")
            out.append((column, label, mask & col.notna().to_numpy()))
    return out


@dataclass(frozen=True)
class SubgroupRow(JsonResult):
    """AUROC of one subgroup; ``auroc`` and the CI are NaN with the reason in ``note`` when not scorable."""

    variable: str
    subgroup: str
    n: int
    n_pos: int
    auroc: float
    lower: float
    upper: float
    note: str = ""
    n_skipped: int = 0



@dataclass(frozen=True)
class SubgroupTable(JsonResult):
    """Rows per subgroup plus the overall row (the forest plot's reference line)."""

    overall: SubgroupRow
    rows: tuple[SubgroupRow, ...]
    level: float
    n_boot: int
    rule: str = "strodthoff"
    ci_method: str = "percentile"

    def to_frame(self) -> pd.DataFrame:
        """The rows (overall first) as a DataFrame."""
        return pd.DataFrame([r.to_dict() for r in (self.overall, *self.rows)])



def _auroc_row(variable: str, label: str, y: np.ndarray, s: np.ndarray, groups: np.ndarray | None,
               n_boot: int, rng: np.random.Generator, level: float, max_draws: int | None,
               rule: str, min_pos: int, min_neg: int) -> SubgroupRow:
    n, n_pos = int(y.size), int(y.sum())
    if n == 0:
        return SubgroupRow(variable, label, 0, 0, np.nan, np.nan, np.nan, "empty subgroup")
    if n_pos in (0, n):
        reason = "no positives" if n_pos == 0 else "no negatives"
        return SubgroupRow(variable, label, n, n_pos, np.nan, np.nan, np.nan, f"{reason}: AUROC undefined")
    if n_pos < min_pos or n - n_pos < min_neg:
        return SubgroupRow(variable, label, n, n_pos, np.nan, np.nan, np.nan,
                           f"not scored: {n_pos} positives, {n - n_pos} negatives (need >= {min_pos} and "
                           f">= {min_neg})")
    auc = float(roc_auc_score(y, s))
    if n_boot == 0:
        return SubgroupRow(variable, label, n, n_pos, auc, np.nan, np.nan)
    sampler = Resampler(n, n_boot, rng, groups=groups, y=y[:, None], max_draws=max_draws, class_names=(label,),
                        rule=rule)
    prep = prepare(y, s)
    dist = np.concatenate([weighted_auc_ap(transpose(c), prep, ap=False)[0] for c in sampler])
    lo, hi = nan_percentile(dist, level)
    return SubgroupRow(variable, label, n, n_pos, auc, float(lo), float(hi), n_skipped=int(np.isnan(dist).sum()))


def subgroup_auroc(y_true: Any, y_score: Any, frame: pd.DataFrame, spec: Spec, *, n_boot: int = 1000,
                   seed: int | np.random.Generator | None = 0, level: float = 0.95, groups: Any = None,
                   max_draws: int | None = None, rule: str = "strodthoff", min_pos: int = MIN_POS,
                   min_neg: int = MIN_NEG) -> SubgroupTable:
    """AUROC with percentile bootstrap CI in each subgroup of ``frame`` for one task.

    Args:
        y_true: ``(n,)`` 0/1 labels.
        y_score: ``(n,)`` scores.
        frame: ``n`` rows of subgroup variables, aligned with ``y_true``.
        spec: column -> rule (``Cut``, ``Categories``, ``"category"``, cut points, or (label, predicate) pairs).
        n_boot: resamples per subgroup (0: no CI).
        seed: seed; subgroups draw from one generator in spec order.
        level: confidence level.
        groups: patient id per row, for a patient-level (cluster) bootstrap.
        max_draws: cap on draws per subgroup.
        rule: bootstrap rule, ``"strodthoff"`` (default) or ``"strict"``.
        min_pos: fewest positives of a scored subgroup (default 2).
        min_neg: fewest negatives of a scored subgroup (default 2).
    """
    y, s = _checks.binary_pair(y_true, y_score)
    if not isinstance(frame, pd.DataFrame) or len(frame) != y.size:
        raise MetricError(f"frame: need a DataFrame with one row per sample ({y.size}), got "
                          f"{type(frame).__name__} of length {len(frame) if hasattr(frame, '__len__') else '?'}")
    level = _checks.level(level)
    n_boot = _checks.positive_int(n_boot, "n_boot", minimum=0)
    rule = check_rule(rule)
    min_pos, min_neg = check_minimum(min_pos, min_neg)
    opts = (rule, min_pos, min_neg)
    codes = None if groups is None else _checks.group_ids(groups, y.size)
    rng = np.random.default_rng(seed)
    frame = frame.reset_index(drop=True)
    overall = _auroc_row("overall", "all", y, s, codes, n_boot, rng, level, max_draws, *opts)
    rows = tuple(_auroc_row(var, label, y[m], s[m], None if codes is None else codes[m], n_boot, rng, level,
                            max_draws, *opts) for var, label, m in subgroup_masks(frame, spec))
    return SubgroupTable(overall, rows, level, n_boot, rule)
