"""Input checks shared by the evaluation modules, and the JSON helper of their result objects.

Problems with the data (shape, NaN, non-binary labels) raise :class:`MetricError`; problems with an
option (threshold, level, number of resamples) raise :class:`ConfigError`. ``MetricError`` is a
``ConfigError``, so callers can catch either.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from cardiofm.errors import ConfigError, MetricError


def labels(y_true: Any, name: str = "y_true") -> np.ndarray:
    """``y_true`` as an ``(n, k)`` int8 matrix of 0/1 (a 1-D vector becomes one column)."""
    arr = np.asarray(y_true)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise MetricError(f"{name}: expected shape (n,) or (n, k), got {arr.shape}")
    if arr.shape[0] == 0:
        raise MetricError(f"{name}: no samples (shape {arr.shape})")
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if not np.issubdtype(arr.dtype, np.number):
        raise MetricError(f"{name}: labels must be 0/1 numbers or booleans, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise MetricError(f"{name}: {int((~np.isfinite(arr)).sum())} missing (NaN/inf) labels; drop those rows first")
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        values = np.unique(arr[bad])[:5].tolist()
        raise MetricError(f"{name}: labels must be binary 0/1, found {values}; binarise them (e.g. y >= 1) first")
    return arr.astype(np.int8)


def scores(y_score: Any, name: str = "y_score", probability: bool = False) -> np.ndarray:
    """``y_score`` as a float64 array, finite, optionally within [0, 1] (1-D or 2-D as given)."""
    try:
        arr = np.asarray(y_score, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{name}: scores must be numbers ({exc})") from None
    if arr.ndim not in (1, 2):
        raise MetricError(f"{name}: expected shape (n,) or (n, k), got {arr.shape}")
    if arr.shape[0] == 0:
        raise MetricError(f"{name}: no samples (shape {arr.shape})")
    finite = np.isfinite(arr)
    if not finite.all():
        first = np.argwhere(~finite)[0].tolist()
        raise MetricError(f"{name}: {int((~finite).sum())} non-finite (NaN/inf) scores, first at index {first}; "
                          "the model produced NaN or rows were not filled")
    if probability and (arr.min() < 0 or arr.max() > 1):
        raise MetricError(f"{name}: probabilities must lie in [0, 1], got range [{arr.min():.4g}, {arr.max():.4g}]; "
                          "apply a sigmoid/softmax to logits first")
    return arr


def pair(y_true: Any, y_score: Any, probability: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Labels ``(n, k)`` int8 and scores ``(n, k)`` float64 of matching shape."""
    y = labels(y_true)
    s = scores(y_score, probability=probability)
    if s.ndim == 1:
        s = s[:, None]
    if s.shape != y.shape:
        raise MetricError(f"y_true has shape {np.shape(y_true)} but y_score has shape {np.shape(y_score)}; "
                          "they must match (one row per sample, one column per class)")
    return y, s


def binary_pair(y_true: Any, y_score: Any, probability: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One task: labels and scores as 1-D arrays (an ``(n, 1)`` input is accepted)."""
    y, s = pair(y_true, y_score, probability)
    if y.shape[1] != 1:
        raise MetricError(f"expected one task (shape (n,)), got {y.shape[1]} columns; pass one column at a time")
    return y[:, 0], s[:, 0]


def group_ids(groups: Any, n: int, name: str = "groups") -> np.ndarray:
    """Codes 0..g-1 (order of first appearance) for ``n`` group labels such as patient ids."""
    arr = np.asarray(groups)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise MetricError(f"{name}: expected one id per sample, shape ({n},), got {arr.shape}")
    import pandas as pd

    codes, _ = pd.factorize(arr, use_na_sentinel=True)
    if (codes < 0).any():
        raise MetricError(f"{name}: {int((codes < 0).sum())} missing ids; every sample needs one")
    return codes.astype(np.int64)


def threshold(t: Any, name: str = "threshold") -> float:
    """A decision threshold strictly inside (0, 1)."""
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t) or not 0 < t < 1:
        raise ConfigError(f"{name}: must be a probability strictly between 0 and 1, got {t!r}")
    return float(t)


def thresholds(ts: Any, name: str = "thresholds") -> np.ndarray:
    """A non-empty 1-D grid of thresholds strictly inside (0, 1)."""
    arr = np.atleast_1d(np.asarray(ts, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ConfigError(f"{name}: expected a non-empty 1-D sequence, got shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr <= 0) | (arr >= 1)
    if bad.any():
        raise ConfigError(f"{name}: every threshold must lie strictly between 0 and 1, got {arr[bad][:5].tolist()}")
    return arr


def level(value: Any) -> float:
    """A confidence level strictly inside (0, 1)."""
    if not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ConfigError(f"level: confidence level must lie strictly between 0 and 1 (e.g. 0.95), got {value!r}")
    return float(value)


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """An integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name}: must be an integer >= {minimum}, got {value!r}")
    return int(value)


def names(class_names: Sequence[str] | None, k: int) -> tuple[str, ...]:
    """Class names, defaulting to ``"0"``..``"k-1"``."""
    if class_names is None:
        return tuple(str(i) for i in range(k))
    out = tuple(str(c) for c in class_names)
    if len(out) != k:
        raise ConfigError(f"class_names: got {len(out)} names for {k} classes")
    return out


def jsonable(value: Any) -> Any:
    """Plain Python (floats, ints, lists, dicts) with NaN/inf turned into ``None`` (strict JSON)."""
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


def dataclass_dict(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``to_dict`` of a dataclass: every field except ``skip``, made JSON-safe."""
    import dataclasses

    return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in skip}


class JsonResult:
    """Base of the result dataclasses: ``to_dict()`` gives every field, JSON-safe (NaN becomes ``None``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field (NaN becomes ``None``)."""
        return dataclass_dict(self)
