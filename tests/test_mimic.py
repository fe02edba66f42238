from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardiofm.data.sources import open_cohort
from cardiofm.data.sources.mimic_ecg import MIMIC_LEADS, join_reports
from cardiofm.errors import SourceError
from cardiofm.signal.record import LEADS_12

from mimic_layout import expected_report, make_mimic_fixture, study_signal


@pytest.fixture(scope="module")
def mimic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mimic")
    return make_mimic_fixture(root, n_patients=4, studies_per_patient=2, missing=1)


def test_scan_counts_records_patients_and_missing(mimic_root: Path):
    c = open_cohort("mimic", mimic_root, folds=4)
    listed = pd.read_csv(mimic_root / "record_list.csv")
    assert len(listed) == 9
    assert len(c) == 8 and c.index["patient_id"].nunique() == 4
    assert c.notes["listed_missing"] == 1 and c.notes["table_rows"] == 9
    absent = listed.iloc[-1]
    assert str(absent["study_id"]) not in set(c.index["record_id"])
    assert c.notes["listed_missing_examples"] == [absent["path"]]
    assert c.skipped == []
    assert set(c.index["fs"]) == {500.0} and set(c.index["n_samples"]) == {5000}
    assert c.index["path"].str.match(r"^files/p\d{4}/p\d{8}/s\d{8}/\d{8}$").all()
    assert not c.tasks  # MIMIC-IV-ECG carries report text only, no label table


def test_reports_are_joined_in_order_and_stripped(mimic_root: Path):
    c = open_cohort("mimic", mimic_root, folds=4)
    listed = pd.read_csv(mimic_root / "record_list.csv", dtype=str)
    row_of = {s: k for k, s in enumerate(listed["study_id"])}
    for rid, report in zip(c.index["record_id"], c.index["report"], strict=True):
        assert report == expected_report(row_of[rid])
    af = c.index[c.index["report"].str.startswith("Atrial fibrillation")]
    assert af["report"].iloc[0].endswith("; Left ventricular hypertrophy; Abnormal ECG")


def test_join_reports_skips_gaps_and_gives_nan_when_empty():
    t = pd.DataFrame({"report_10": ["late", None], "report_0": [" first ", ""], "report_2": [None, "  "],
                      "report_1": ["", None]})
    out = join_reports(t)
    assert out.iloc[0] == "first; late"  # numeric order: report_0 before report_10
    assert pd.isna(out.iloc[1])


def test_sentinels_become_nan_and_intervals_are_numeric(mimic_root: Path):
    c = open_cohort("mimic", mimic_root, folds=4)
    idx = c.index
    af = idx["report"].str.startswith("Atrial fibrillation")
    assert af.sum() == 2
    assert idx.loc[af, ["p_onset", "p_end", "p_axis"]].isna().all().all()
    assert (idx.loc[af, "qrs_axis"] == -18).all() and (idx.loc[af, "t_axis"] == -67).all()
    assert idx.loc[~af, ["p_onset", "p_end", "p_axis"]].notna().all().all()
    for col in ("rr_interval", "qrs_onset", "qrs_end", "t_end", "p_axis", "qrs_axis", "t_axis"):
        assert idx[col].dtype == float and (idx[col].abs() < 29999).sum() == idx[col].notna().sum()
    assert c.notes["sentinel_values_to_nan"] == 6
    assert set(idx["cart_id"].astype(int)) <= {6848296, 6848297, 6848298}


def test_folds_group_patients(mimic_root: Path):
    c = open_cohort("mimic", mimic_root, folds=4, seed=3)
    assert c.index.groupby("patient_id")["split"].nunique().max() == 1
    assert c.index.groupby("patient_id")["fold"].nunique().max() == 1
    assert set(c.index["split"]) == {"train", "val", "test"}
    again = open_cohort("mimic", mimic_root, folds=4, seed=3)
    assert (again.index["fold"] == c.index["fold"]).all()
    small = open_cohort("mimic", mimic_root)  # 10 folds asked, 4 patients: one fold per patient
    assert sorted(small.index["fold"].unique()) == [1, 2, 3, 4] and "only 4 patients" in small.notes["splits"]
    assert "fold" not in open_cohort("mimic", mimic_root, folds=0).index.columns


def test_records_load_as_written(mimic_root: Path):
    c = open_cohort("mimic", mimic_root, folds=4)
    for i in range(len(c)):
        rec = c.load(i)
        assert rec.signal.shape == (12, 5000) and rec.signal.dtype == np.float32 and rec.fs == 500.0
        assert rec.leads == MIMIC_LEADS  # file order; the store reorders
        assert rec.record_id == c.index.at[i, "record_id"] and rec.patient_id == c.index.at[i, "patient_id"]
        expected = study_signal(int(rec.record_id))
        assert np.abs(rec.signal - expected).max() < 1e-3
        assert 0.05 < np.abs(expected).max() < 20  # a real ECG in mV, not counts or volts
    canon = c.load(0).select_leads(LEADS_12)
    assert np.array_equal(canon.lead("aVL"), c.load(0).signal[MIMIC_LEADS.index("aVL")])


def test_unparseable_header_is_skipped(tmp_path: Path):
    root = make_mimic_fixture(tmp_path / "m", n_patients=4, studies_per_patient=1, missing=0)
    rel = pd.read_csv(root / "record_list.csv")["path"].iloc[1]
    (root / f"{rel}.hea").write_text("garbage that is not a header\n")
    c = open_cohort("mimic", root, folds=3)
    assert len(c) == 3 and c.notes["listed_missing"] == 0
    assert len(c.skipped) == 1 and c.skipped[0].path.endswith(f"{rel}.hea")
    assert "malformed" in c.skipped[0].reason


def test_missing_dat_counts_as_listed_missing(tmp_path: Path):
    root = make_mimic_fixture(tmp_path / "m", n_patients=3, studies_per_patient=1, missing=0)
    rel = pd.read_csv(root / "record_list.csv")["path"].iloc[0]
    (root / f"{rel}.dat").unlink()
    c = open_cohort("mimic", root, folds=2)
    assert len(c) == 2 and c.notes["listed_missing"] == 1


def test_missing_machine_measurements_keeps_records(tmp_path: Path):
    root = make_mimic_fixture(tmp_path / "m", n_patients=3, studies_per_patient=1, missing=0)
    (root / "machine_measurements.csv").unlink()
    c = open_cohort("mimic", root, folds=3)
    assert len(c) == 3 and c.index["report"].isna().all() and c.index["rr_interval"].isna().all()


def test_missing_record_list_is_a_source_error(tmp_path: Path):
    (tmp_path / "files").mkdir()
    with pytest.raises(SourceError, match="record_list.csv"):
        open_cohort("mimic", tmp_path)
