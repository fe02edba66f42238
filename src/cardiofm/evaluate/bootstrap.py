"""Bootstrap resampling by sample or by patient, with the class rule of the field, and a percentile CI.

Two rules decide which resamples are kept (``rule``):

* ``"strodthoff"`` (default; Strodthoff et al. 2021, PTB-XL benchmark): a resample is kept if every
  *required* class has at least one positive in it. A class that has no negative in a kept resample
  is one-valued there: its AUROC is skipped for that resample (NaN) and the macro average of that
  resample uses the classes that are two-valued in it; the callers count these skips per class. If
  the rule still rejects too many resamples (``max_draws`` reached) the Resampler does **not** raise:
  it keeps the following draws unconditioned and counts them in ``n_relaxed`` (a class without a
  positive in such a draw is skipped in it like one without a negative).
* ``"strict"``: every required class must keep both a positive and a negative; after ``max_draws``
  draws it gives up with a ``MetricError`` (the earlier behaviour of cardiofm).

Required classes are those with both labels in the full data (:func:`scored_classes`); the metrics
of :mod:`cardiofm.evaluate.classification` require only the classes they score (see ``min_pos``).
Resamples are held as integer counts ``(n_boot, n)`` (how often each sample was drawn) so that rank
metrics can be computed for all of them at once (:mod:`cardiofm.evaluate._ranking`). With ``groups``
(patient ids) whole patients are drawn with replacement and each brings all of its exams (cluster
bootstrap). Intervals are percentile intervals (``level`` 0.95 by default).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult
from cardiofm.evaluate.intervals import percentile_interval

_MAX_ELEMENTS = 4_000_000  # counts drawn per chunk (resamples x samples)
RULES = ("strodthoff", "strict")


def check_rule(rule: Any) -> str:
    """``rule`` if it is one of :data:`RULES`, else ``ConfigError``."""
    if rule not in RULES:
        raise ConfigError(f"bootstrap rule: expected one of {', '.join(map(repr, RULES))}, got {rule!r}")
    return str(rule)


def scored_classes(y: np.ndarray, min_pos: int = 1, min_neg: int = 1) -> np.ndarray:
    """Boolean mask of the columns of ``y`` ``(n, k)`` with ``>= min_pos`` ones and ``>= min_neg`` zeros."""
    pos = y.sum(axis=0)
    return (pos >= max(min_pos, 1)) & (y.shape[0] - pos >= max(min_neg, 1))


def not_scored(y: np.ndarray, names: tuple[str, ...], min_pos: int, min_neg: int) -> dict[str, dict[str, Any]]:
    """``{name: {n_pos, n_neg, why}}`` for the columns that :func:`scored_classes` leaves out."""
    out = {}
    for j, name in enumerate(names):
        p = int(y[:, j].sum())
        q = int(y.shape[0] - p)
        why = []
        if p < max(min_pos, 1):
            why.append("no positives" if p == 0 else f"{p} positive{'s' * (p != 1)} (need >= {min_pos})")
        if q < max(min_neg, 1):
            why.append("no negatives" if q == 0 else f"{q} negative{'s' * (q != 1)} (need >= {min_neg})")
        if why:
            out[name] = {"n_pos": p, "n_neg": q, "why": ", ".join(why)}
    return out


def nan_percentile(dist: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 ignoring NaN (skipped resamples); NaN where nothing is left."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(np.asarray(dist, dtype=np.float64), [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


class Resampler:
    """Draws valid bootstrap resamples as count matrices, in chunks.

    Args:
        n: number of samples (rows).
        n_boot: number of valid resamples wanted.
        seed: seed or generator.
        groups: optional cluster id per sample (patient id): clusters are drawn instead of rows.
        y: optional ``(n, k)`` 0/1 labels; the columns in ``required`` are checked by ``rule``.
        required: mask of required columns of ``y`` (default: :func:`scored_classes`); under the
            ``strodthoff`` rule a required column without any positive is dropped from the rule.
        max_draws: under ``strict``, give up (``MetricError``) after drawing this many resamples in
            total; under ``strodthoff``, stop rejecting from then on (default ``50 * n_boot``).
        class_names: for messages.
        rule: ``"strodthoff"`` (default) or ``"strict"``, see the module docstring.

    After iterating, ``n_drawn`` holds how many resamples were drawn, rejected ones included, and
    ``n_relaxed`` how many were kept unconditioned after ``max_draws`` (``strodthoff`` only).
    """

    def __init__(self, n: int, n_boot: int, seed: int | np.random.Generator | None = 0, *,
                 groups: Any = None, y: np.ndarray | None = None, required: np.ndarray | None = None,
                 max_draws: int | None = None, class_names: tuple[str, ...] | None = None,
                 rule: str = "strodthoff") -> None:
        self.n = n
        self.n_boot = _checks.positive_int(n_boot, "n_boot")
        self.max_draws = 50 * self.n_boot if max_draws is None else _checks.positive_int(max_draws, "max_draws")
        self.rule = check_rule(rule)
        self.rng = np.random.default_rng(seed)
        self.codes = None if groups is None else _checks.group_ids(groups, n)
        self.m = n if self.codes is None else int(self.codes.max()) + 1
        if y is not None:
            required = scored_classes(y) if required is None else np.asarray(required, dtype=bool).copy()
            if self.rule == "strodthoff":
                required &= y.sum(axis=0) > 0  # no positive anywhere: never required
            self.y = y[:, required].astype(np.float32)
            self.y_names = np.asarray(class_names or tuple(map(str, range(y.shape[1]))))[required]
        else:
            self.y = None
        self.n_drawn = 0
        self.n_relaxed = 0
        self._failures = None if self.y is None else np.zeros(self.y.shape[1], dtype=np.int64)

    def _draw(self, b: int) -> np.ndarray:
        idx = self.rng.integers(0, self.m, size=(b, self.m))
        idx += (np.arange(b) * self.m)[:, None]
        counts = np.bincount(idx.ravel(), minlength=b * self.m).reshape(b, self.m).astype(np.int32)
        self.n_drawn += b
        return counts if self.codes is None else counts[:, self.codes]

    def _valid(self, counts: np.ndarray) -> np.ndarray:
        if self.y is None or self.y.shape[1] == 0:
            return np.ones(counts.shape[0], dtype=bool)
        c = counts.astype(np.float32)
        pos = c @ self.y
        bad = pos < 0.5
        if self.rule == "strict":
            bad |= c.sum(axis=1, keepdims=True) - pos < 0.5
        self._failures += bad.sum(axis=0)
        return ~bad.any(axis=1)

    def __iter__(self) -> Iterator[np.ndarray]:
        chunk = max(1, min(self.n_boot, _MAX_ELEMENTS // max(self.n, self.m)))
        done = 0
        while done < self.n_boot:
            want = min(chunk, self.n_boot - done)
            kept: list[np.ndarray] = []
            have = 0
            while have < want:
                if self.n_drawn >= self.max_draws:
                    if self.rule == "strict":
                        raise MetricError(self._give_up_message(done + have))
                    counts = self._draw(want - have)  # strodthoff: relax instead of failing
                    self.n_relaxed += counts.shape[0]
                else:
                    counts = self._draw(min(chunk, self.max_draws - self.n_drawn))
                    counts = counts[self._valid(counts)][: want - have]
                kept.append(counts)
                have += counts.shape[0]
            done += want
            yield np.concatenate(kept)

    @property
    def n_rejected(self) -> int:
        """Resamples drawn and thrown away by the rule."""
        return self.n_drawn - self.n_boot

    def _give_up_message(self, kept: int) -> str:
        worst = int(np.argmax(self._failures))
        rate = self._failures[worst] / max(self.n_drawn, 1)
        pos = int(self.y[:, worst].sum())
        unit = "patients" if self.codes is not None else "samples"
        return (f"bootstrap (rule 'strict'): only {kept} of {self.n_boot} resamples had a positive and a negative "
                f"for every scored class after {self.n_drawn} draws (max_draws={self.max_draws}); class "
                f"{self.y_names[worst]!r} ({pos} positive of {self.n} rows, {self.m} {unit}) was one-valued in "
                f"{rate:.0%} of draws. Use rule='strodthoff', raise the minimum positives per scored class, "
                "evaluate on more data, or raise max_draws.")

    def all(self) -> np.ndarray:
        """Every resample at once, ``(n_boot, n)`` int32 counts."""
        return np.concatenate(list(self))


def bootstrap_counts(y_true: Any, n_boot: int = 1000, *, seed: int | np.random.Generator | None = 0,
                     groups: Any = None, require_both_classes: bool = True,
                     max_draws: int | None = None, rule: str = "strodthoff") -> np.ndarray:
    """The valid resamples used by every bootstrap in :mod:`cardiofm.evaluate`, as counts.

    Args:
        y_true: ``(n,)`` or ``(n, k)`` 0/1 labels.
        n_boot: number of resamples.
        seed: seed or ``numpy.random.Generator``.
        groups: patient id per sample for a cluster (patient-level) bootstrap.
        require_both_classes: apply ``rule`` to the classes with both labels (``False``: keep every draw).
        max_draws: cap on the total number of draws (default ``50 * n_boot``).
        rule: ``"strodthoff"`` (a positive of every class) or ``"strict"`` (a positive and a negative).

    Returns:
        ``(n_boot, n)`` int32 array: how often each sample is in each resample.
    """
    y = _checks.labels(y_true)
    sampler = Resampler(y.shape[0], n_boot, seed, groups=groups, y=y if require_both_classes else None,
                        max_draws=max_draws, rule=rule)
    return sampler.all()


@dataclass(frozen=True)
class BootstrapCI:
    """Point estimate and percentile interval of a metric (scalar or vector).

    ``distribution`` holds the metric on each kept resample, ``(n_boot,)`` or ``(n_boot, ...)``;
    it is left out of :meth:`to_dict`. ``n_rejected`` counts resamples redrawn by the class rule
(``rule``), ``n_relaxed`` those kept unconditioned after ``max_draws`` (rule ``strodthoff`` only);
``ci_method`` is always ``"percentile"``.
    """

    estimate: float | np.ndarray
    lower: float | np.ndarray
    upper: float | np.ndarray
    level: float
    n_boot: int
    n_rejected: int
    distribution: np.ndarray = field(repr=False, compare=False)
    rule: str = "strict"
    n_relaxed: int = 0
    ci_method: str = "percentile"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (NaN becomes ``None``), without the distribution."""
        return _checks.dataclass_dict(self, skip=("distribution",))


def bootstrap_ci(metric_fn: Callable[[np.ndarray, np.ndarray], Any], y_true: Any, y_score: Any, *,
                 n_boot: int = 1000, seed: int | np.random.Generator | None = 0, level: float = 0.95,
                 groups: Any = None, require_both_classes: bool = True,
                 max_draws: int | None = None, rule: str = "strict") -> BootstrapCI:
    """Percentile bootstrap CI of any ``metric_fn(y_true, y_score) -> float | array``.

    Rows of ``y_true`` and ``y_score`` are resampled together (whole patients with ``groups``).
    With ``require_both_classes`` (the default, for rank metrics) ``y_true`` must be 0/1 and a
    resample is redrawn unless every class with both labels in the full data keeps both; pass
    ``False`` for metrics that need no such thing (Brier score, Spearman on grades).

    Args:
        metric_fn: called on the full data (the estimate) and on every kept resample.
        y_true: labels, first axis samples.
        y_score: scores, first axis samples.
        n_boot: number of kept resamples.
        seed: seed or generator; the same seed gives the same resamples as every other bootstrap here.
        level: confidence level.
        groups: patient id per sample: resample patients, not rows.
        require_both_classes: apply the class rule ``rule``.
        max_draws: cap on draws before giving up (default ``50 * n_boot``).
        rule: ``"strict"`` (default here: an arbitrary ``metric_fn`` such as sklearn's ``roc_auc_score``
            raises on a class with one label value) or ``"strodthoff"`` (only a positive of every class
            is required; ``metric_fn`` must then return NaN for a class that is one-valued in a
            resample, and the percentiles ignore those NaN).

    Returns:
        A :class:`BootstrapCI`. A metric that is NaN on the full data (e.g. a class with one label
        value) gets a NaN interval.
    """
    level = _checks.level(level)
    yt, ys = np.asarray(y_true), np.asarray(y_score)
    if yt.ndim == 0 or ys.ndim == 0 or yt.shape[0] != ys.shape[0]:
        raise MetricError(f"y_true has shape {yt.shape} but y_score has shape {ys.shape}; "
                          "both need one row per sample")
    try:
        y = _checks.labels(yt) if require_both_classes else None
    except MetricError as exc:
        raise MetricError(f"{exc}; for a metric of a non-binary target pass require_both_classes=False") from None
    sampler = Resampler(yt.shape[0], n_boot, seed, groups=groups, y=y, max_draws=max_draws, rule=rule)
    estimate = np.asarray(metric_fn(yt, ys), dtype=np.float64)
    rows = np.arange(yt.shape[0])
    values = [np.asarray(metric_fn(yt[idx], ys[idx]), dtype=np.float64)
              for counts in sampler for idx in (np.repeat(rows, c) for c in counts)]
    dist = np.stack(values)
    lo, hi = percentile_interval(dist, level) if rule == "strict" else nan_percentile(dist, level)
    nan = ~np.isfinite(estimate)
    lo, hi = np.where(nan, np.nan, lo), np.where(nan, np.nan, hi)

    def scalar(a: np.ndarray) -> float | np.ndarray:
        return float(a) if a.ndim == 0 else a

    return BootstrapCI(scalar(estimate), scalar(lo), scalar(hi), level, sampler.n_boot,
                       sampler.n_rejected, dist, rule=sampler.rule, n_relaxed=sampler.n_relaxed)


@dataclass(frozen=True, kw_only=True)
class BootstrapProvenance(JsonResult):
    """How a result's bootstrap CIs were made; the base of every result that carries such CIs.

    ``level`` and ``ci_method`` name the interval, ``rule`` the resample rule (:data:`RULES`), ``n_boot`` the
    resamples used, ``n_rejected`` those redrawn under the rule, ``n_relaxed`` those kept without it (the
    default rule only, when it could not be met), ``n_skipped`` per class the resamples in which that class
    was single-valued, and ``patient_bootstrap`` whether whole patients were resampled.
    """

    level: float = 0.95
    ci_method: str = "percentile"
    rule: str = "strodthoff"
    n_boot: int = 0
    n_rejected: int = 0
    n_relaxed: int = 0
    n_skipped: tuple[int, ...] | None = None
    patient_bootstrap: bool = False


