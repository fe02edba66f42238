from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from cardiofm.data.sources import open_cohort
from cardiofm.data.sources.ptbxl import TASKS, read_statements, task_vocabulary
from cardiofm.errors import ConfigError, LabelError, LeakageError, SourceError

from conftest import PTBXL


def test_vocabulary_sizes_match_the_benchmark():
    st = read_statements(PTBXL / "scp_statements.csv")
    sizes = {t: len(task_vocabulary(st, t)[0]) for t in TASKS}
    assert sizes == {"all": 71, "diagnostic": 44, "subdiagnostic": 23, "superdiagnostic": 5,
                     "form": 19, "rhythm": 12}
    codes, desc, _ = task_vocabulary(st, "superdiagnostic")
    assert codes == ["CD", "HYP", "MI", "NORM", "STTC"] and desc[2] == "myocardial infarction"
    codes, desc, _ = task_vocabulary(st, "all")
    assert desc[codes.index("AFIB")] == "atrial fibrillation"


def test_scan_fixture_counts_missing_and_splits():
    c = open_cohort("ptbxl", PTBXL)
    assert len(c) == 20 and c.notes["listed_missing"] == 3
    assert c.summary()["folds"] == {f: 2 for f in range(1, 11)}
    assert set(c.split("test").index["fold"]) == {10} and set(c.split("val").index["fold"]) == {9}
    assert len(c.split("train")) == 16
    row = c.index.set_index("record_id").loc["1"]
    assert row["sex"] == "F" and row["age"] == 56 and row["patient_id"] == "15709"
    assert row["report"] == "sinusrhythmus periphere niederspannung"
    assert row["path"] == "records100/00000/00001_lr" and row["n_samples"] == 1000
    both = c.index["height"].notna() & c.index["weight"].notna()  # BMI where height and weight are known
    np.testing.assert_allclose(c.index.loc[both, "bmi"], c.index.loc[both, "weight"] / (c.index.loc[both, "height"]
                                                                                        / 100) ** 2)
    assert c.index.loc[~both, "bmi"].isna().all()


def test_labels_follow_scp_codes_including_zero_likelihood():
    c = open_cohort("ptbxl", PTBXL)
    db = pd.read_csv(PTBXL / "ptbxl_database.csv").set_index("ecg_id")
    i = int(np.flatnonzero(c.index["record_id"] == "1")[0])
    # record 1: {'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}
    assert "LVOLT" in db.loc[1, "scp_codes"]
    lab = {t: {code for code, v in zip(c.labels(t).codes, c.labels(t).matrix[i], strict=True) if v} for t in TASKS}
    assert lab["all"] == {"NORM", "LVOLT", "SR"}
    assert lab["superdiagnostic"] == {"NORM"} and lab["form"] == {"LVOLT"} and lab["rhythm"] == {"SR"}
    with pytest.raises(LabelError):
        c.labels("nonexistent")


def test_subclass_aggregation_by_hand():
    c = open_cohort("ptbxl", PTBXL)
    st = read_statements(PTBXL / "scp_statements.csv")
    import ast

    db = pd.read_csv(PTBXL / "ptbxl_database.csv").set_index("ecg_id")
    sub = c.labels("subdiagnostic")
    for i, rid in enumerate(c.index["record_id"]):
        codes = ast.literal_eval(db.loc[int(rid), "scp_codes"])
        expect = {st.loc[k, "diagnostic_subclass"] for k in codes if st.loc[k, "diagnostic"] == 1}
        got = {code for code, v in zip(sub.codes, sub.matrix[i], strict=True) if v}
        assert got == expect


def test_partial_copy_uses_only_present_records(tmp_path):
    root = tmp_path / "ptbxl"
    shutil.copytree(PTBXL, root, symlinks=False)
    (root / "records100/00000/00001_lr.dat").unlink()
    c = open_cohort("ptbxl", root)
    assert len(c) == 19 and c.notes["listed_missing"] == 4 and "1" not in set(c.index["record_id"])


def test_bad_roots_and_options(tmp_path):
    with pytest.raises(SourceError, match="ptbxl_database.csv"):
        open_cohort("ptbxl", tmp_path)
    with pytest.raises(SourceError, match="does not exist"):
        open_cohort("ptbxl", tmp_path / "nope")
    with pytest.raises(ConfigError):
        open_cohort("ptbxl", PTBXL, fs=250)
    with pytest.raises(SourceError, match="unknown source"):
        open_cohort("nosuch", PTBXL)


def test_leakage_check_fails_loudly():
    c = open_cohort("ptbxl", PTBXL)
    c.index.loc[0, "patient_id"] = c.index.loc[c.index["split"] == "test"].iloc[0]["patient_id"]
    c.index.loc[0, "split"] = "train"
    with pytest.raises(LeakageError, match="more than one split"):
        c.check_leakage()


def test_cohort_save_and_read_roundtrip(tmp_path):
    from cardiofm.data.cohort import Cohort

    c = open_cohort("ptbxl", PTBXL)
    back = Cohort.read(c.save(tmp_path / "c"))
    assert list(back.index["record_id"]) == list(c.index["record_id"])
    np.testing.assert_array_equal(back.labels("form").matrix, c.labels("form").matrix)
    rec = back.load(0)
    assert rec.signal.shape == (12, 1000) and rec.patient_id == c.index.at[0, "patient_id"]
