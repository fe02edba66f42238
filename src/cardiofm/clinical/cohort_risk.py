"""SCORE2 for every record of a cohort table, with the column names sources actually use.

Sources name the SCORE2 inputs differently (the synthetic cohort writes ``cholesterol``, others
``tchol`` or ``total_cholesterol``); a column that is absent counts as missing for every record, which is
how PTB-XL (age and sex only) reaches CLEF's missing-metadata weight with five of seven inputs missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cardiofm.clinical.score2 import INPUT_NAMES, Score2Result, score2
from cardiofm.errors import ConfigError

#: Column names tried, in order, for each SCORE2 input.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "age": ("age",), "sex": ("sex",), "smoking": ("smoking", "smoker"), "sbp": ("sbp", "systolic_bp"),
    "diabetes": ("diabetes",), "tchol": ("tchol", "cholesterol", "total_cholesterol"),
    "hdl": ("hdl", "hdl_cholesterol"),
}


def _column(table: pd.DataFrame, name: str, chosen: str | None) -> pd.Series | None:
    if chosen is not None:
        if chosen not in table.columns:
            raise ConfigError(f"pretrain.risk_columns: {name} -> {chosen!r}, but the cohort has no such column "
                              f"(it has {', '.join(map(str, table.columns[:30]))})")
        return table[chosen]
    return next((table[c] for c in DEFAULT_COLUMNS[name] if c in table.columns), None)


def cohort_score2(table: pd.DataFrame, columns: Mapping[str, str] | None = None, *, seed: int = 0) -> Score2Result:
    """SCORE2 of each row of ``table`` (a Cohort index); absent columns are missing inputs.

    ``columns`` maps a SCORE2 input (``age``, ``sex``, ``smoking``, ``sbp``, ``diabetes``, ``tchol``,
    ``hdl``) to the table's column; unmapped inputs use :data:`DEFAULT_COLUMNS`. Booleans and "yes"/"no"
    strings are read as 1/0. ``seed`` drives the cholesterol imputation noise.
    """
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(INPUT_NAMES))
    if unknown:
        raise ConfigError(f"pretrain.risk_columns: unknown SCORE2 input(s) {', '.join(unknown)}; "
                          f"known: {', '.join(INPUT_NAMES)}")
    n = len(table)
    values: dict[str, object] = {}
    for name in INPUT_NAMES:
        col = _column(table, name, columns.get(name))
        if col is None:
            values[name] = np.full(n, np.nan) if name != "sex" else np.full(n, None, dtype=object)
        elif name == "sex":
            values[name] = col.astype(object).where(col.notna(), None).to_numpy()
        else:
            values[name] = _numeric(col, name)
    return score2(**values, rng=seed)  # type: ignore[arg-type]


def _numeric(col: pd.Series, name: str) -> np.ndarray:
    if col.dtype == bool:
        return col.astype(float).to_numpy()
    if col.dtype == object:
        mapped = col.map(lambda v: {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}.get(str(v).strip().lower(), v)
                         if isinstance(v, str) else v)
        out = pd.to_numeric(mapped, errors="coerce")
        bad = mapped.notna() & out.isna()
        if bad.any():
            raise ConfigError(f"SCORE2 input {name}: cannot read {mapped[bad].iloc[0]!r} as a number")
        return out.to_numpy(dtype=float)
    return col.to_numpy(dtype=float)
