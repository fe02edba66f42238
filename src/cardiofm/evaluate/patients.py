"""Exam-level to patient-level: one row per patient, so every metric runs at both granularities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.errors import ConfigError
from cardiofm.evaluate import _checks
from cardiofm.evaluate._checks import JsonResult

AGGREGATIONS: tuple[str, ...] = ("mean", "max", "median")


@dataclass(frozen=True)
class PatientLevel(JsonResult):
    """Patient-level arrays: ``y_true`` / ``y_score`` with one row per patient (order of first appearance).

    1-D inputs give 1-D outputs. ``n_exams`` is how many exams each patient had.
    """

    y_true: np.ndarray
    y_score: np.ndarray
    patient_ids: np.ndarray
    n_exams: np.ndarray
    how: str



def aggregate_by_patient(y_true: Any, y_score: Any, patient_ids: Any, how: str = "mean") -> PatientLevel:
    """Collapse exams to patients: the label is the max over a patient's exams (positive if any exam is),
    the score the ``how`` (``"mean"``, ``"max"`` or ``"median"``) of the exam scores.

    Args:
        y_true: ``(n,)`` or ``(n, k)`` 0/1 exam labels.
        y_score: scores of the same shape.
        patient_ids: ``(n,)`` patient id per exam.
        how: aggregation of the scores.

    Raises:
        ConfigError: unknown ``how``. MetricError: shapes, NaN, non-binary labels, missing ids.
    """
    if how not in AGGREGATIONS:
        raise ConfigError(f"how: unknown aggregation {how!r}; choose one of {', '.join(AGGREGATIONS)}")
    one_d = np.ndim(y_true) == 1 and np.ndim(y_score) == 1
    y, s = _checks.pair(y_true, y_score)
    codes = _checks.group_ids(patient_ids, y.shape[0], "patient_ids")
    ids = pd.unique(np.asarray(patient_ids))
    y_pat = pd.DataFrame(y).groupby(codes, sort=True).max().to_numpy().astype(np.int8)
    s_pat = pd.DataFrame(s).groupby(codes, sort=True).agg(how).to_numpy(dtype=np.float64)
    n_exams = np.bincount(codes)
    if one_d:
        y_pat, s_pat = y_pat[:, 0], s_pat[:, 0]
    return PatientLevel(y_pat, s_pat, np.asarray(ids), n_exams, how)
