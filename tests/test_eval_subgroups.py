from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cardiofm.errors import ConfigError, MetricError
from cardiofm.evaluate.subgroups import Categories, Cut, subgroup_auroc, subgroup_masks


def _cohort(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(30, 90, n).astype(float),
        "sex": rng.choice(["F", "M"], n),
        "hypertension": rng.integers(0, 2, n),
        "hours": rng.exponential(4, n),
        "prior_mi": np.zeros(n, dtype=int),
    })
    frame.loc[:3, "prior_mi"] = 1
    y = (rng.random(n) < 0.25).astype(int)
    y[:4] = 0  # the prior-MI subgroup has no positives
    s = rng.random(n) + 0.8 * y
    frame.loc[10:14, "age"] = np.nan
    return y, s, frame


SPEC = {
    "age": Cut([65]),
    "sex": "category",
    "hours": Cut([3], right=True, labels=["≤3 h", ">3 h"]),
    "hypertension": Categories({0: "no", 1: "yes"}),
    "prior_mi": Categories({0: "no", 1: "yes"}),
}


def test_subgroup_auroc_per_declared_subgroup() -> None:
    y, s, frame = _cohort()
    table = subgroup_auroc(y, s, frame, SPEC, n_boot=150, seed=0)
    labels = [(r.variable, r.subgroup) for r in table.rows]
    assert labels == [("age", "<65"), ("age", "≥65"), ("sex", "F"), ("sex", "M"), ("hours", "≤3 h"),
                      ("hours", ">3 h"), ("hypertension", "no"), ("hypertension", "yes"), ("prior_mi", "no"),
                      ("prior_mi", "yes")]
    young = table.rows[0]
    mask = (frame["age"] < 65).to_numpy()
    assert (young.n, young.n_pos) == (mask.sum(), y[mask].sum())
    assert young.auroc == pytest.approx(roc_auc_score(y[mask], s[mask]))
    assert young.lower < young.auroc < young.upper
    assert table.rows[0].n + table.rows[1].n == 400 - 5  # NaN ages are in no subgroup
    short = (frame["hours"] <= 3).to_numpy()
    assert table.rows[4].n == short.sum()
    assert table.overall.auroc == pytest.approx(roc_auc_score(y, s)) and table.overall.n == 400
    df = table.to_frame()
    assert list(df.columns[:4]) == ["variable", "subgroup", "n", "n_pos"] and len(df) == 11
    json.dumps(table.to_dict(), allow_nan=False)


def test_single_class_subgroup_is_nan_with_reason() -> None:
    y, s, frame = _cohort()
    table = subgroup_auroc(y, s, frame, {"prior_mi": Categories({1: "yes"})}, n_boot=50)
    row = table.rows[0]
    assert row.n == 4 and row.n_pos == 0
    assert np.isnan(row.auroc) and np.isnan(row.lower) and "no positives" in row.note
    assert table.to_dict()["rows"][0]["auroc"] is None


def test_other_spec_forms_and_patient_bootstrap() -> None:
    y, s, frame = _cohort()
    masks = subgroup_masks(frame, {"age": [50, 70]})  # plain cut points
    assert [lab for _, lab, _ in masks] == ["<50", "[50, 70)", "≥70"]
    custom = subgroup_masks(frame, {"age": [("older", lambda c: c >= 80), ("younger", lambda c: c < 40)]})
    assert [lab for _, lab, _ in custom] == ["older", "younger"]
    assert custom[0][2].sum() == (frame["age"] >= 80).sum()
    pid = np.arange(400) // 2
    table = subgroup_auroc(y, s, frame, {"sex": "category"}, n_boot=60, groups=pid)
    assert all(r.lower < r.auroc < r.upper for r in table.rows)
    no_ci = subgroup_auroc(y, s, frame, {"sex": "category"}, n_boot=0)
    assert np.isnan(no_ci.rows[0].lower) and np.isfinite(no_ci.rows[0].auroc)


def test_bad_specs() -> None:
    y, s, frame = _cohort()
    with pytest.raises(ConfigError, match="no column"):
        subgroup_auroc(y, s, frame, {"weight": "category"}, n_boot=0)
    with pytest.raises(ConfigError, match="unknown rule"):
        subgroup_auroc(y, s, frame, {"sex": "categorical"}, n_boot=0)
    with pytest.raises(ConfigError, match="increasing"):
        subgroup_auroc(y, s, frame, {"age": Cut([70, 50])}, n_boot=0)
    with pytest.raises(ConfigError, match="labels"):
        subgroup_auroc(y, s, frame, {"age": Cut([65], labels=["young"])}, n_boot=0)
    with pytest.raises(MetricError, match="one row per sample"):
        subgroup_auroc(y, s, frame.iloc[:10], SPEC, n_boot=0)
