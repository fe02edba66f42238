"""CinC 2020/2021 source: reader, Dx mapping, scan, and failures on malformed records."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb
from scipy.io import savemat
from scipy.signal import resample_poly

from cardiofm.data.cohort import Skip
from cardiofm.data.io import _reader_for_suffix, read_record
from cardiofm.data.sources import open_cohort
from cardiofm.data.sources.cinc import database_of, parse_age, parse_sex, read_cinc
from cardiofm.data.sources.cinc_labels import dx_table, normalise_dx, split_dx
from cardiofm.errors import RecordError, SamplingRateError, SourceError
from cardiofm.signal.record import LEADS_12

CINC = Path(__file__).parent / "fixtures" / "cinc"
PTBXL = Path(__file__).parent / "fixtures" / "ptbxl"
MANIFEST = pd.read_csv(CINC / "sources.csv", dtype={"record_id": str})
A0001 = CINC / "WFDB_CPSC2018" / "A0001"
E00001 = CINC / "training" / "georgia" / "g1" / "E00001"


@pytest.fixture(scope="module")
def cohort3():
    return open_cohort("cinc", CINC, folds=3)


# ---- reader ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", MANIFEST.to_dict("records"), ids=list(MANIFEST["record_id"]))
def test_reader_matches_ptbxl_source_within_quantisation(row):
    rec = read_cinc(CINC / f"{row['path']}.hea")
    src = read_record(PTBXL / row["ptbxl_file"])
    expected = resample_poly(src.signal.astype(np.float64), 5, 1, axis=-1)[:, : row["n_samples"]]
    assert rec.fs == 500.0 and src.fs == 100.0
    assert rec.leads == LEADS_12
    assert rec.signal.shape == (12, row["n_samples"])
    assert np.abs(rec.signal - expected).max() <= 0.5e-3 + 1e-6  # rounding to 1/1000 mV
    assert rec.record_id == row["record_id"]


def test_wfdb_decodes_the_fixture_mat_the_same_way():
    """wfdb reads CPSC-style .mat files as format 16 at byte offset 24: an independent decoder."""
    ref = wfdb.rdrecord(str(A0001))
    rec = read_cinc(A0001)
    np.testing.assert_allclose(rec.signal, ref.p_signal.T, atol=1e-6)
    assert list(ref.sig_name) == list(rec.leads)


def test_georgia_header_naming_the_mat_reads_from_any_entry_point():
    with pytest.raises(Exception):  # noqa: B017 - wfdb itself rejects this record line
        wfdb.rdheader(str(E00001))
    recs = [read_record(E00001.with_suffix(".hea")), read_record(E00001.with_suffix(".mat")),
            read_cinc(E00001)]
    for rec in recs:
        assert rec.record_id == "E00001"
        np.testing.assert_array_equal(rec.signal, recs[0].signal)
    meta = recs[0].metadata
    assert math.isnan(meta["age"]) and meta["sex"] == "F" and meta["database"] == "Georgia"
    assert meta["dx"] == "713427006,284470004"  # the repeated PAC code is kept once
    assert meta["report"] == "complete right bundle branch block; premature atrial contraction"


def test_read_record_dispatches_mat_and_mat_headers_to_cinc():
    assert _reader_for_suffix(Path("x/A0001.mat")) == "cinc"
    via_wfdb = read_record(A0001.with_suffix(".hea"), reader="wfdb")  # delegates: signal file is .mat
    assert via_wfdb.metadata["dx_raw"] == "AF,RBBB"
    np.testing.assert_array_equal(via_wfdb.signal, read_cinc(A0001).signal)


def test_expected_fs_is_checked():
    assert read_cinc(A0001, expected_fs=500).fs == 500
    with pytest.raises(SamplingRateError):
        read_cinc(A0001, expected_fs=257)


def test_invalid_samples_are_repaired_or_rejected(tmp_path):
    hea = _copy(E00001, tmp_path)
    val = np.round(read_cinc(hea).signal * 1000).astype(np.int16)
    few = val.copy()
    few[2, 100:103] = -32768
    savemat(hea.with_suffix(".mat"), {"val": few}, format="4")
    rec = read_cinc(hea)
    assert rec.n_repaired == 3 and np.isfinite(rec.signal).all()
    many = val.copy()
    many[2, :2000] = -32768
    savemat(hea.with_suffix(".mat"), {"val": many}, format="4")
    with pytest.raises(RecordError, match="NaN/Inf"):
        read_cinc(hea)


def test_compressed_v5_mat_is_not_mistaken_for_a_truncated_one(tmp_path):
    hea = _copy(E00001, tmp_path / "db")
    val = np.round(read_cinc(hea).signal * 1000).astype(np.int16)
    savemat(hea.with_suffix(".mat"), {"val": val}, do_compression=True)  # MATLAB v5, smaller than v4
    assert hea.with_suffix(".mat").stat().st_size < 24 + val.nbytes
    assert len(open_cohort("cinc", tmp_path, folds=0)) == 1
    np.testing.assert_array_equal(read_cinc(hea).signal, read_cinc(E00001).signal)


# ---- Dx labels -------------------------------------------------------------------------------------
@pytest.mark.parametrize("abbr, code", [("AF", "164889003"), ("rbbb", "59118001"), ("I-AVB", "270492004"),
                                        ("Normal", "426783006"), ("PVC", "164884008"), ("STE", "164931005"),
                                        ("CRBBB", "713427006"), ("nsr", "426783006")])
def test_abbreviation_and_snomed_code_give_the_same_code(abbr, code):
    assert normalise_dx(abbr) == ([code], [])
    assert normalise_dx(code) == ([code], [])


def test_dx_field_quirks():
    assert split_dx(" AF,,RBBB, AF,") == ["AF", "RBBB"]
    codes, unknown = normalise_dx("AF,164889003,XYZ,999999")
    assert codes == ["164889003", "999999"]  # unknown numbers stay codes, unknown words cannot
    assert unknown == ["XYZ", "999999"]
    assert normalise_dx(None) == ([], [])


def test_mapping_table_scored_classes():
    table = dx_table()
    c21 = {c.code: c for c in table.scored_classes(2021)}
    c20 = {c.code for c in table.scored_classes(2020)}
    assert len(c21) == 26 and len(c20) == 24
    assert sum(len(c.members) for c in c21.values()) == 30
    merged = {"713427006|59118001", "284470004|63593006", "427172004|17338001", "733534002|164909002"}
    assert merged <= set(c21)
    assert merged - {"733534002|164909002"} <= c20 and "164909002" in c20
    assert "6374002" in c21 and "6374002" not in c20
    assert c21["713427006|59118001"].description == ("complete right bundle branch block | "
                                                     "right bundle branch block")
    abbrs = [a.lower() for a in table.table["abbreviation"] if a]
    assert len(abbrs) == len(set(abbrs))


# ---- scan ------------------------------------------------------------------------------------------
def test_scan_fixture_root(cohort3):
    idx = cohort3.index
    assert len(cohort3) == 6 and cohort3.skipped == []
    assert list(idx["record_id"]) == list(MANIFEST["record_id"])
    assert (idx["patient_id"] == idx["record_id"]).all()
    assert (idx["reader"] == "cinc").all() and (idx["fs"] == 500.0).all() and (idx["n_leads"] == 12).all()
    assert list(idx["n_samples"]) == list(MANIFEST["n_samples"]) and idx["n_samples"].nunique() > 3
    assert cohort3.notes["databases"] == {"CPSC-2018": 3, "Georgia": 3}
    assert list(idx["path"]) == list(MANIFEST["path"])
    assert list(idx["sex"]) == ["F", "M", "M", "F", "F", "M"]
    assert math.isnan(idx.loc[3, "age"]) and idx.loc[0, "age"] == 56.0
    assert idx.loc[2, "dx"] == "270492004,164884008"
    assert idx.loc[0, "report"] == "atrial fibrillation; right bundle branch block"
    for i in (0, 4):
        assert cohort3.load(i).n_samples == idx.loc[i, "n_samples"]


def test_scan_labels_merge_equivalent_classes(cohort3):
    scored, dx = cohort3.labels("scored"), cohort3.labels("dx")
    counts = scored.counts()
    assert counts["713427006|59118001"] == 2  # A0001 "RBBB" + E00001 CRBBB code
    assert counts["284470004|63593006"] == 2  # E00001 PAC + E00002 SVPB
    assert counts["164889003"] == 2  # "AF" abbreviation + SNOMED code
    assert counts["426783006"] == 2 and counts["270492004"] == 1
    assert sum(counts.values()) == 9  # 164884008 (CPSC "PVC") and 251238007 are not scored
    assert len(scored.codes) == 26
    assert set(dx.codes) == {"59118001", "63593006", "164884008", "164889003", "251238007", "270492004",
                             "284470004", "426783006", "713427006"}
    assert dx.counts()["59118001"] == 1 and dx.counts()["713427006"] == 1
    assert dx.describe("164884008") == "ventricular ectopics"
    assert cohort3.notes["unknown_dx"] == {"251238007": 1}


def test_scan_folds(cohort3):
    assert set(cohort3.index["fold"]) == {1, 2, 3}
    assert set(cohort3.index["split"]) == {"train", "val", "test"}
    default = open_cohort("cinc", CINC)
    assert set(default.index["fold"]) == set(range(1, 7)) and "6 folds instead of 10" in default.notes["splits"]


def test_scan_fs_option_skips_other_rates():
    c = open_cohort("cinc", CINC, fs=257, folds=0)
    assert len(c) == 0 and len(c.skipped) == 6
    assert all("500 Hz, expected 257 Hz" in s.reason for s in c.skipped)
    assert len(open_cohort("cinc", CINC, expected_fs=[257, 500], folds=0)) == 6


def test_scan_unknown_entries_keep_the_record(tmp_path):
    hea = _copy(A0001, tmp_path / "WFDB_CPSC2018")
    hea.write_text(hea.read_text().replace("#Dx: AF,RBBB", "#Dx: AF,XYZ,999999"))
    c = open_cohort("cinc", tmp_path, folds=0)
    assert len(c) == 1 and c.index.loc[0, "dx"] == "164889003,999999"
    assert c.notes["unknown_dx"] == {"XYZ": 1, "999999": 1}


def test_scan_rejects_a_root_without_headers(tmp_path):
    with pytest.raises(SourceError, match="no .hea files"):
        open_cohort("cinc", tmp_path)


def test_scan_skips_wfdb_dat_records():
    c = open_cohort("cinc", PTBXL / "records100", folds=0)
    assert len(c) == 0 and c.skipped and all("not a .mat" in s.reason for s in c.skipped)


@pytest.mark.parametrize("record_id, rel, database", [
    ("A0001", "x/A0001", "CPSC-2018"), ("Q0001", "Q0001", "CPSC-Extra"), ("I0001", "I0001", "INCART"),
    ("S0001", "S0001", "PTB"), ("HR00001", "HR00001", "PTB-XL"), ("E00001", "E00001", "Georgia"),
    ("JS00001", "JS00001", "Chapman-Shaoxing"), ("JS10647", "JS10647", "Ningbo"),
    ("rec1", "WFDB_Ningbo/sub/rec1", "Ningbo"), ("rec1", "mine/rec1", "mine"), ("rec1", "rec1", "unknown"),
    ("rec1", "/data/WFDB_Ga/rec1", "Georgia"), ("rec1", "/data/mine/rec1", "unknown"),
])
def test_database_of(record_id, rel, database):
    assert database_of(record_id, rel) == database


def test_age_and_sex_normalisation():
    assert parse_age("74") == (74.0, False)
    assert parse_age("300") == (90.0, True)
    for bad in ("Unknown", "NaN", "-1", "", None):
        assert math.isnan(parse_age(bad)[0])
    assert [parse_sex(s) for s in ("Male", "M", "female", "F")] == ["M", "M", "F", "F"]
    assert all(pd.isna(parse_sex(s)) for s in ("Unknown", "", None))


# ---- malformed records -----------------------------------------------------------------------------
def _copy(base: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".hea", ".mat"):
        shutil.copy(base.with_suffix(suffix), folder / base.with_suffix(suffix).name)
    return folder / base.with_suffix(".hea").name


def _truncate(hea: Path) -> None:
    mat = hea.with_suffix(".mat")
    mat.write_bytes(mat.read_bytes()[: mat.stat().st_size // 2])


def _no_val(hea: Path) -> None:
    savemat(hea.with_suffix(".mat"), {"data": np.zeros((12, 5000), np.int16)}, format="4")


def _wrong_shape(hea: Path) -> None:
    savemat(hea.with_suffix(".mat"), {"val": np.zeros((11, 5000), np.int16)}, format="4")


BREAKERS = {
    "truncated mat": (_truncate, ".mat"),
    "missing mat": (lambda h: h.with_suffix(".mat").unlink(), ".mat"),
    "garbage header": (lambda h: h.write_bytes(b"\x00\xffnot a header\nat all\n"), ".hea"),
    "mat without val": (_no_val, ".mat"),
    "shape mismatch": (_wrong_shape, ".mat"),
    "empty header": (lambda h: h.write_text("# only a comment\n"), ".hea"),
    "corrupt mat": (lambda h: h.with_suffix(".mat").write_bytes(b"garbage" * 40), ".mat"),
}


@pytest.mark.parametrize("kind", list(BREAKERS))
def test_malformed_record_gives_record_error_and_skip(tmp_path, kind):
    breaker, named = BREAKERS[kind]
    _copy(A0001, tmp_path / "db")
    bad = _copy(E00001, tmp_path / "db")
    breaker(bad)
    for entry in (bad, bad.with_suffix("")):
        with pytest.raises(RecordError) as err:
            read_cinc(entry)
        assert f"E00001{named}" in str(err.value)
    with pytest.raises(RecordError):
        read_record(bad)
    c = open_cohort("cinc", tmp_path, folds=0)
    assert list(c.index["record_id"]) == ["A0001"]
    assert len(c.skipped) == 1 and isinstance(c.skipped[0], Skip)
    assert "E00001" in c.skipped[0].path and c.skipped[0].reason
    no_probe = open_cohort("cinc", tmp_path, folds=0, check_mat=False)
    if kind in ("missing mat", "garbage header", "empty header"):
        assert len(no_probe) == 1  # header-level problems are caught without looking into the .mat
    else:
        assert len(no_probe) == 2 and len(no_probe.validate().skipped) == 1
