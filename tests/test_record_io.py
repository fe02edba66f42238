from __future__ import annotations

import shutil

import numpy as np
import pytest
import wfdb

from cardiofm.data.io import read_csv_signal, read_numpy, read_record, read_wfdb, write_wfdb
from cardiofm.errors import LeadError, RecordError, SamplingRateError
from cardiofm.signal.record import LEADS_12, ECGRecord, normalise_lead_name, repair_nonfinite

from conftest import RECORD_1


@pytest.mark.parametrize("raw,canon", [("AVR", "aVR"), ("avl", "aVL"), ("aVF", "aVF"), ("v1", "V1"),
                                       (" ii ", "II"), ("Lead III", "III"), ("MLII", "MLII")])
def test_lead_names_normalise(raw, canon):
    assert normalise_lead_name(raw) == canon


def test_unknown_lead_strict_raises():
    with pytest.raises(LeadError):
        normalise_lead_name("MLII", strict=True)


def test_duplicate_leads_rejected_after_normalisation():
    with pytest.raises(LeadError, match="duplicated"):
        ECGRecord(np.zeros((2, 10)), 100, ("aVR", "AVR"), "x")


def test_record_contract_and_select():
    rec = ECGRecord(np.arange(24, dtype=np.float64).reshape(12, 2), 500, LEADS_12, "r")
    assert rec.signal.dtype == np.float32 and rec.n_leads == 12 and rec.duration == pytest.approx(2 / 500)
    sub = rec.select_leads(["v6", "I"])
    assert sub.leads == ("V6", "I") and sub.signal[0, 0] == 22
    with pytest.raises(LeadError, match="missing"):
        ECGRecord(np.zeros((1, 5)), 100, ("I",), "r").select_leads(["II"])
    with pytest.raises(RecordError, match="NaN"):
        ECGRecord(np.array([[0.0, np.nan]]), 100, ("I",), "r")
    with pytest.raises(RecordError, match="sampling rate"):
        ECGRecord(np.zeros((1, 5)), 0, ("I",), "r")


def test_repair_nonfinite_uses_neighbour_mean():
    x = np.array([[1, 2, 3, np.nan, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]], dtype=np.float32)
    y, n = repair_nonfinite(x)
    assert n == 1 and y[0, 3] == pytest.approx(np.mean([1, 2, 3, 5, 6, 7]))
    bad = np.full((1, 10), np.inf, dtype=np.float32)
    with pytest.raises(RecordError, match="NaN/Inf"):
        repair_nonfinite(bad)


def test_fast_path_equals_wfdb():
    fast = read_wfdb(RECORD_1)
    ref = wfdb.rdrecord(str(RECORD_1))
    np.testing.assert_allclose(fast.signal, ref.p_signal.T, atol=1e-6)
    assert fast.leads == LEADS_12 and fast.fs == 100 and fast.signal.shape == (12, 1000)
    slow = read_wfdb(RECORD_1, fast=False)
    np.testing.assert_array_equal(fast.signal, slow.signal)


def test_read_record_by_suffix_and_expected_fs():
    assert read_record(str(RECORD_1) + ".hea").record_id == "00001_lr"
    with pytest.raises(SamplingRateError, match="100 Hz, expected 500"):
        read_wfdb(RECORD_1, expected_fs=500)


def _copy(tmp_path):
    for ext in (".hea", ".dat"):
        shutil.copy(str(RECORD_1) + ext, tmp_path / ("r" + ext))
    shutil.copy(str(RECORD_1) + ".hea", tmp_path / "r.hea")
    (tmp_path / "r.hea").write_text((tmp_path / "r.hea").read_text().replace("00001_lr", "r"))
    return tmp_path / "r"


def test_truncated_and_missing_files(tmp_path):
    base = _copy(tmp_path)
    data = (tmp_path / "r.dat").read_bytes()
    (tmp_path / "r.dat").write_bytes(data[:5000])
    with pytest.raises(RecordError, match="truncated"):
        read_wfdb(base)
    (tmp_path / "r.dat").unlink()
    with pytest.raises(RecordError, match="missing"):
        read_wfdb(base)
    with pytest.raises(RecordError, match="header file is missing"):
        read_wfdb(tmp_path / "nothing")
    (tmp_path / "g.hea").write_text("garbage\n")
    with pytest.raises(RecordError):
        read_wfdb(tmp_path / "g")


def test_invalid_samples_are_repaired_and_counted(tmp_path):
    base = _copy(tmp_path)
    raw = np.fromfile(tmp_path / "r.dat", dtype="<i2").reshape(1000, 12)
    raw[100:103, 4] = -32768  # WFDB invalid marker
    raw.tofile(tmp_path / "r.dat")
    rec = read_wfdb(base)
    assert rec.n_repaired == 3 and np.isfinite(rec.signal).all()


def test_write_then_read_roundtrip(tmp_path):
    rec = read_wfdb(RECORD_1)
    rec.metadata = {"age": 56, "sex": "F"}
    path = write_wfdb(rec, tmp_path, name="copy")
    back = read_wfdb(path)
    np.testing.assert_allclose(back.signal, rec.signal, atol=5e-4)
    assert back.metadata == {"age": "56", "sex": "F"}
    with pytest.raises(RecordError):
        write_wfdb(rec, tmp_path, name="bad name")


def test_numpy_and_csv_readers(tmp_path):
    x = np.random.default_rng(0).normal(size=(12, 300)).astype(np.float32)
    np.save(tmp_path / "a.npy", x.T)  # (samples, leads) is transposed back
    rec = read_numpy(tmp_path / "a.npy", fs=250)
    np.testing.assert_array_equal(rec.signal, x)
    np.savetxt(tmp_path / "b.csv", x[:2].T * 1000, delimiter=",", header="ii,V1", comments="")
    rec = read_csv_signal(tmp_path / "b.csv", fs=250, units="uV")
    assert rec.leads == ("II", "V1")
    np.testing.assert_allclose(rec.signal, x[:2], atol=1e-5)
    (tmp_path / "c.csv").write_text("I,II\n1,abc\n")
    with pytest.raises(RecordError, match="non-numeric"):
        read_csv_signal(tmp_path / "c.csv", fs=250)
    np.save(tmp_path / "d.npy", np.zeros((3, 100)))
    with pytest.raises(RecordError, match="lead names"):
        read_numpy(tmp_path / "d.npy", fs=100)
