"""Clinical table columns of a cohort as model inputs (CardioPRIME's phenotype modalities).

A modality is either a prefix (``"dexa"``: every numeric column named ``dexa_*``, as the synthetic cohort's
five phenotype blocks ``dexa_``, ``cgm_``, ``retina_``, ``liver_``, ``anthro_``) or an explicit list of
columns (PTB-XL's anthropometrics: ``[age, sex, height, weight, bmi]``). Two-valued text columns (sex
``M``/``F``) become 0/1 in sorted order. Values are standardised with the training rows' mean and standard
deviation; a missing value becomes 0 after standardising (the training mean), and a column that is
constant in training is left centred only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cardiofm.errors import ConfigError


def modality_columns(index: pd.DataFrame, modality: str | Sequence[str]) -> list[str]:
    """The columns of a modality: ``prefix_*`` columns for a string, the given list otherwise (checked)."""
    if isinstance(modality, str):
        cols = [c for c in index.columns if c.startswith(f"{modality}_")]
        if not cols:
            prefixes = sorted({c.split("_")[0] for c in index.columns if "_" in c})
            raise ConfigError(f"no columns named {modality}_* in this cohort; column prefixes: {', '.join(prefixes)}")
        return cols
    cols = [str(c) for c in modality]
    missing = [c for c in cols if c not in index.columns]
    if not cols or missing:
        raise ConfigError(f"tabular columns {', '.join(missing) or '(none given)'} are not in this cohort")
    return cols


def numeric_table(index: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """``(rows, columns)`` float64; two-valued text columns as 0/1 (sorted), anything else unreadable as NaN."""
    out = np.empty((len(index), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        s = index[col]
        num = pd.to_numeric(s, errors="coerce")
        if num.isna().all() and s.notna().any():
            levels = sorted(s.dropna().astype(str).unique())
            if len(levels) != 2:
                raise ConfigError(f"tabular column {col!r} is neither numeric nor two-valued (levels: "
                                  f"{', '.join(levels[:5])})")
            num = s.astype(str).map({levels[0]: 0.0, levels[1]: 1.0}).where(s.notna())
        out[:, j] = num.to_numpy(dtype=np.float64, na_value=np.nan)
    out[~np.isfinite(out)] = np.nan
    return out


@dataclass(frozen=True)
class Standardiser:
    """Per-column mean and scale fitted on training rows; ``apply`` maps NaN to 0 (the training mean)."""

    columns: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray, columns: Sequence[str]) -> Standardiser:
        if values.ndim != 2 or values.shape[1] != len(columns) or len(values) == 0:
            raise ConfigError(f"Standardiser: need (rows > 0, {len(columns)}) values, got {values.shape}")
        empty = [c for c, ok in zip(columns, np.isfinite(values).any(0), strict=True) if not ok]
        if empty:
            raise ConfigError(f"tabular column(s) {', '.join(empty)} have no value in the training rows")
        mean = np.nanmean(values, axis=0)
        sd = np.nanstd(values, axis=0)
        return cls(tuple(columns), mean, np.where(sd > 0, sd, 1.0))

    def apply(self, values: np.ndarray) -> np.ndarray:
        z = (values - self.mean) / self.scale
        return np.nan_to_num(z, nan=0.0).astype(np.float32)
