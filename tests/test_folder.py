from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardiofm.data.io import write_wfdb
from cardiofm.data.sources import open_cohort
from cardiofm.data.sources.folder import NO_FS, csv_shape
from cardiofm.errors import LabelError, LeakageError, SourceError
from cardiofm.signal.record import LEADS_12, ECGRecord

FS = 500


def ecg(n_leads: int = 12, seconds: float = 4.0, fs: int = FS, seed: int = 0) -> np.ndarray:
    """A plausible multi-lead ECG in mV: Gaussian P, QRS and T waves at ~70 bpm, lead-specific gains."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    beat = np.zeros_like(t)
    for r in np.arange(0.3, seconds, 60 / 70):
        for offset, width, height in ((-0.16, 0.02, 0.15), (0.0, 0.01, 1.0), (0.25, 0.04, 0.3)):
            beat += height * np.exp(-0.5 * ((t - r - offset) / width) ** 2)
    gains = rng.uniform(-1.2, 1.5, size=(n_leads, 1))
    return (gains * beat + 0.01 * rng.standard_normal((n_leads, t.size))).astype(np.float32)


def wfdb_record(folder: Path, name: str, *, fs: int = FS, seed: int = 0) -> Path:
    rec = ECGRecord(ecg(fs=fs, seed=seed), float(fs), LEADS_12, name)
    return write_wfdb(rec, folder, name=name)


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    return make_messy(tmp_path / "own")


def make_messy(d: Path) -> Path:
    """Good WFDB/.npy/.csv recordings mixed with one broken file of each kind."""
    (d / "site_a").mkdir(parents=True)
    wfdb_record(d / "site_a", "good_wfdb", seed=1)
    np.save(d / "good_12.npy", ecg(seed=2))
    np.save(d / "good_3.npy", ecg(n_leads=3, seed=3).T)  # (samples, leads) with names in labels.csv
    pd.DataFrame(ecg(n_leads=2, seed=4).T, columns=["II", "V5"]).to_csv(d / "good.csv", index=False)

    base = wfdb_record(d, "truncated", seed=5)
    dat = base.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[: dat.stat().st_size // 3])
    (d / "garbage.hea").write_text("this is not\na WFDB header\n")
    (d / "garbage.dat").write_bytes(b"\0" * 100)
    nan = ecg(seed=6)
    nan[4, : nan.shape[1] // 2] = np.nan
    np.save(d / "nans.npy", nan)
    pd.DataFrame({"I": ["0.1", "0.2", "oops", "0.3"], "II": ["0.0"] * 4}).to_csv(d / "text.csv", index=False)
    pd.DataFrame(ecg(n_leads=3, seed=7).T).to_csv(d / "dup.csv", index=False, header=["I", "II", "II"])
    wfdb_record(d, "slow", fs=250, seed=8)
    np.save(d / "no_fs.npy", ecg(seed=9))

    rows = [
        ("site_a/good_wfdb.hea", "p1", "", "", "NORM", 61, "F", ""),
        ("good_12.npy", "p2", FS, "", "AF;LBBB", 70, "M", ""),
        ("good_3.npy", "p3", FS, "I,II,V1", "AF", 55, "F", "uV"),
        ("good.csv", "p4", FS, "", "", 48, "M", ""),
        ("truncated", "p5", "", "", "NORM", 80, "F", ""),
        ("garbage.hea", "p6", "", "", "", 33, "M", ""),
        ("nans.npy", "p7", FS, "", "AF", 44, "F", ""),
        ("text.csv", "p8", FS, "", "", 50, "M", ""),
        ("absent.npy", "p9", FS, "", "", 60, "F", ""),
        ("dup.csv", "p10", FS, "", "", 62, "M", ""),
        ("slow.hea", "p11", "", "", "NORM", 71, "F", ""),
        ("no_fs.npy", "p12", "", "", "", 39, "M", ""),
    ]
    cols = ["file", "patient_id", "fs", "leads", "labels", "age", "sex", "units"]
    pd.DataFrame(rows, columns=cols).to_csv(d / "labels.csv", index=False)
    return d


GOOD = {"site_a/good_wfdb", "good_12.npy", "good_3.npy", "good.csv"}
# file name -> words the skip reason must contain
BAD = {"truncated.dat": "truncated", "garbage.hea": "header", "nans.npy": "NaN", "text.csv": "non-numeric",
       "absent.npy": "missing", "dup.csv": "duplicated", "slow.hea": "sampling rate",
       "no_fs.npy": "no sampling rate"}


def test_scan_and_validate_keep_exactly_the_good_records(messy: Path):
    scanned = open_cohort("folder", messy, fs=FS, folds=0)
    # a WFDB signal file shorter than its header says is caught by its size, without reading it
    at_scan = {"garbage.hea", "absent.npy", "dup.csv", "slow.hea", "no_fs.npy", "truncated.dat"}
    assert {Path(s.path).name for s in scanned.skipped} == at_scan
    c = scanned.validate()
    assert set(c.index["record_id"]) == GOOD
    assert len(c.skipped) == len(BAD)
    by_name = {Path(s.path).name: s.reason for s in c.skipped}
    for name, word in BAD.items():
        assert word.lower() in by_name[name].lower(), (name, by_name[name])
    assert by_name["no_fs.npy"] == NO_FS
    assert "II" in by_name["dup.csv"]
    # scan with validate=True gives the same records, and assigns folds after dropping the bad ones
    direct = open_cohort("folder", messy, fs=FS, validate=True, folds=3)
    assert set(direct.index["record_id"]) == GOOD and len(direct.skipped) == len(BAD)


def test_index_columns_and_loaded_signals(messy: Path):
    c = open_cohort("folder", messy, fs=FS, folds=0).validate()
    idx = c.index.set_index("record_id")
    assert idx.loc["site_a/good_wfdb", "reader"] == "wfdb"
    assert idx.loc["site_a/good_wfdb", "path"] == "site_a/good_wfdb"
    assert idx.loc["good_12.npy", "reader"] == "numpy" and idx.loc["good.csv", "reader"] == "csv"
    assert idx.loc["good_3.npy", "n_leads"] == 3 and idx.loc["good_3.npy", "n_samples"] == 4 * FS
    assert idx.loc["good.csv", "n_leads"] == 2 and idx.loc["good.csv", "n_samples"] == 4 * FS
    assert (idx["fs"] == FS).all() and idx["age"].dtype.kind in "if" and idx.loc["good_3.npy", "sex"] == "F"
    i = {r: k for k, r in enumerate(c.index["record_id"])}
    three = c.load(i["good_3.npy"])
    assert three.leads == ("I", "II", "V1") and three.signal.shape == (3, 4 * FS)
    np.testing.assert_allclose(three.signal, ecg(n_leads=3, seed=3) * 1e-3, atol=1e-6)  # units uV -> mV
    csv = c.load(i["good.csv"])
    assert csv.leads == ("II", "V5")
    np.testing.assert_allclose(csv.signal, ecg(n_leads=2, seed=4), atol=1e-5)
    wf = c.load(i["site_a/good_wfdb"])
    assert wf.leads == LEADS_12 and np.abs(wf.signal - ecg(seed=1)).max() < 1e-3
    assert c.load(i["good_12.npy"]).leads == LEADS_12


def test_labels_from_the_labels_column(messy: Path):
    c = open_cohort("folder", messy, fs=FS, folds=0).validate()
    ls = c.labels("labels")
    assert ls.codes == ["AF", "LBBB", "NORM"]
    got = {rid: {code for code, v in zip(ls.codes, row, strict=True) if v}
           for rid, row in zip(c.index["record_id"], ls.matrix, strict=True)}
    assert got == {"site_a/good_wfdb": {"NORM"}, "good_12.npy": {"AF", "LBBB"}, "good_3.npy": {"AF"},
                   "good.csv": set()}
    assert "labels" not in c.index.columns


def test_labels_from_binary_columns(tmp_path: Path):
    for k in range(6):
        np.save(tmp_path / f"r{k}.npy", ecg(seed=k, seconds=1))
    table = pd.DataFrame({"file": [f"r{k}.npy" for k in range(6)], "fs": FS,
                          "patient_id": ["a", "a", "b", "c", "d", "e"],
                          "af": [1, 0, 1, 0, None, 1], "lbbb": [0, 0, 1, 1, 0, 0], "age": [50] * 6})
    table.to_csv(tmp_path / "meta.csv", index=False)
    c = open_cohort("folder", tmp_path, labels="meta.csv", label_columns=["af", "lbbb"], folds=3, seed=1)
    ls = c.labels("labels")
    assert ls.codes == ["af", "lbbb"]
    assert ls.matrix.tolist() == [[1, 0], [0, 0], [1, 1], [0, 1], [0, 0], [1, 0]]
    assert "af" not in c.index.columns and "age" in c.index.columns
    assert c.index.groupby("patient_id")["split"].nunique().max() == 1
    assert set(c.index["fold"]) == {1, 2, 3}
    table.loc[1, "lbbb"] = 2
    table.to_csv(tmp_path / "meta.csv", index=False)
    with pytest.raises(LabelError, match="lbbb"):
        open_cohort("folder", tmp_path, labels="meta.csv", label_columns=["af", "lbbb"])
    with pytest.raises(LabelError, match="not found"):
        open_cohort("folder", tmp_path, labels="meta.csv", label_columns=["rbbb"])


def _split_folder(tmp_path: Path, splits: list[str | None], patients: list[str],
                  folds: list[int] | None = None) -> Path:
    for k in range(len(splits)):
        np.save(tmp_path / f"r{k}.npy", ecg(seed=k, seconds=1))
    table = pd.DataFrame({"file": [f"r{k}.npy" for k in range(len(splits))], "fs": FS,
                          "patient_id": patients, "split": splits})
    if folds is not None:
        table["fold"] = folds
    table.to_csv(tmp_path / "labels.csv", index=False)
    return tmp_path


def test_given_split_is_kept(tmp_path: Path):
    root = _split_folder(tmp_path, ["train", "train", "valid", "test"], ["a", "a", "b", "c"])
    c = open_cohort("folder", root)
    assert c.index["split"].tolist() == ["train", "train", "val", "test"]
    assert "fold" not in c.index.columns and c.notes["splits"] == "given in the labels file"


def test_leakage_in_given_split_fails_loudly(tmp_path: Path):
    root = _split_folder(tmp_path, ["train", "test", "val", "test"], ["a", "a", "b", "c"])
    with pytest.raises(LeakageError, match="a"):
        open_cohort("folder", root)


def test_leakage_in_given_folds_fails_loudly(tmp_path: Path):
    root = _split_folder(tmp_path, [None] * 4, ["a", "a", "b", "c"], folds=[1, 2, 2, 3])
    with pytest.raises(LeakageError):
        open_cohort("folder", root)


def test_given_folds_name_the_splits(tmp_path: Path):
    root = _split_folder(tmp_path, [None] * 4, ["a", "a", "b", "c"], folds=[1, 1, 2, 3])
    c = open_cohort("folder", root)
    assert c.index["split"].tolist() == ["train", "train", "val", "test"]
    with pytest.raises(SourceError, match="unknown split"):
        root = _split_folder(tmp_path, ["train", "holdout", "val", "test"], ["a", "a", "b", "c"])
        open_cohort("folder", root)


def test_without_labels_csv_every_wfdb_record_counts(tmp_path: Path):
    (tmp_path / "x" / "y").mkdir(parents=True)
    wfdb_record(tmp_path, "r1", seed=1)
    wfdb_record(tmp_path / "x", "r2", seed=2)
    wfdb_record(tmp_path / "x" / "y", "r1", seed=3)  # same name, other folder: another patient
    np.save(tmp_path / "x" / "array.npy", ecg())
    (tmp_path / "x" / "orphan.dat").write_bytes(b"\0" * 48)
    c = open_cohort("folder", tmp_path, folds=3)
    assert sorted(c.index["record_id"]) == ["r1", "x/r2", "x/y/r1"]
    assert c.index["patient_id"].nunique() == 3 and set(c.index["split"]) == {"train", "val", "test"}
    reasons = {Path(s.path).name: s.reason for s in c.skipped}
    assert reasons == {"array.npy": NO_FS, "orphan.dat": "signal file without a .hea header next to it"}
    assert len(c.validate()) == 3


def test_few_patients_get_fewer_folds_or_none(tmp_path: Path):
    for k in range(4):
        np.save(tmp_path / f"r{k}.npy", ecg(seed=k, seconds=1))
    pd.DataFrame({"file": [f"r{k}.npy" for k in range(4)], "fs": FS, "patient_id": ["a", "b", "c", "c"]}
                 ).to_csv(tmp_path / "labels.csv", index=False)
    c = open_cohort("folder", tmp_path)  # 5 folds asked, 3 patients
    assert sorted(c.index["fold"].unique()) == [1, 2, 3] and "3 folds instead of 5" in c.notes["splits"]
    pd.DataFrame({"file": ["r0.npy", "r1.npy"], "fs": FS, "patient_id": ["a", "b"]}
                 ).to_csv(tmp_path / "labels.csv", index=False)
    c = open_cohort("folder", tmp_path)
    assert "split" not in c.index.columns and "too few" in c.notes["splits"]


def test_layout_errors_are_source_errors(tmp_path: Path):
    with pytest.raises(SourceError, match="no recordings"):
        open_cohort("folder", tmp_path)
    with pytest.raises(SourceError, match="labels file not found"):
        open_cohort("folder", tmp_path, labels="nope.csv")
    pd.DataFrame({"path": ["a.npy"]}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(SourceError, match="'file' column"):
        open_cohort("folder", tmp_path)


def test_duplicate_rows_and_mismatched_fs(tmp_path: Path):
    wfdb_record(tmp_path, "r", seed=1)
    np.save(tmp_path / "a.npy", ecg())
    pd.DataFrame({"file": ["r.hea", "r", "a.npy"], "fs": [250, "", "fast"]}).to_csv(tmp_path / "labels.csv",
                                                                                    index=False)
    c = open_cohort("folder", tmp_path, folds=0)
    assert len(c) == 0
    reasons = sorted(s.reason for s in c.skipped)
    assert any("fs=250" in r and "500 Hz" in r for r in reasons)
    assert "listed more than once" in reasons
    assert any("'fast'" in r for r in reasons)


def test_csv_shape_counts_rows_without_trailing_newline(tmp_path: Path):
    p = tmp_path / "s.csv"
    p.write_text('"I",II\n1,2\n3,4')
    assert csv_shape(p) == (["I", "II"], 2)
    p.write_text("I,II\n1,2\n3,4\n")
    assert csv_shape(p) == (["I", "II"], 2)
