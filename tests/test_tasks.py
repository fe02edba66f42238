"""The vessel-level tasks: synthetic severe stenosis and the PTB-XL MI-territory proxy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cardiofm.data.cohort import Cohort
from cardiofm.data.sources import open_cohort
from cardiofm.data.sources.ptbxl import mi_likelihood, mi_territory_labels
from cardiofm.data.sources.synthetic import stenosis_labels

from conftest import PTBXL


def test_mi_territory_maps_combined_statements_to_each_territory():
    ls = mi_territory_labels([{"ILMI": 80.0}, {"NORM": 100.0}, {"IPLMI": 15.0, "ASMI": 100.0}, {"INJAS": 50.0}])
    assert ls.codes == ["INF", "ANT", "LAT", "POST"] and ls.complete
    assert ls.matrix.tolist() == [[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0]]
    assert ls.labelled().all()  # a record without MI is a negative, not unlabelled
    assert mi_likelihood({"IMI": 35.0, "ILMI": 80.0, "NORM": 100.0}, "INF") == 80.0
    assert mi_likelihood({"NORM": 100.0}, "POST") == 0.0


def test_ptbxl_fixture_has_the_task_and_likelihood_columns():
    c = open_cohort("ptbxl", PTBXL)
    ls = c.labels("mi_territory")
    scp = c.index["scp_codes"].map(eval)
    inferior = np.array([bool({"IMI", "ILMI", "IPMI", "IPLMI", "INJIN", "INJIL"} & set(d)) for d in scp])
    assert (ls.matrix[:, 0].astype(bool) == inferior).all()
    assert {"mi_likelihood_inf", "mi_likelihood_post"} <= set(c.index.columns)


def test_stenosis_is_severe_grade_only_and_survives_save_read(tmp_path):
    table = pd.DataFrame({"stenosis_rca": [0, 3, 2, 3], "stenosis_lm": [0, 0, 0, 3], "stenosis_lad": [1, 2, 3, 0],
                          "stenosis_lcx": [np.nan, 0, 0, 3]})
    ls = stenosis_labels(table)
    assert ls.codes == ["RCA", "LM", "LAD", "LCX"] and ls.complete
    assert ls.matrix.tolist() == [[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [1, 1, 0, 1]]
    assert stenosis_labels(table.drop(columns="stenosis_lm")) is None
    index = pd.DataFrame({"record_id": list("abcd"), "patient_id": list("abcd"), "path": list("abcd"),
                          "reader": "wfdb", "fs": 100.0, "n_samples": 1000})
    Cohort(index, {"stenosis": ls}).save(tmp_path / "c")
    back = Cohort.read(tmp_path / "c").labels("stenosis")
    assert back.complete and back.labelled().all() and (back.matrix == ls.matrix).all()
