from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import wfdb

from cardiofm.data.io import read_wfdb
from cardiofm.data.sources import open_cohort
from cardiofm.errors import RecordError, SourceError
from cardiofm.signal.record import LEADS_12, ECGRecord
from cardiofm.synth.noise import NoiseConfig, RecordingNoise, leads_from_electrodes
from cardiofm.synth.storage import quantise_consistent, write_consistent


def identity_residuals(x: np.ndarray) -> tuple[float, float]:
    x = x.astype(np.float64)
    einthoven = np.abs(x[0] - x[1] + x[2]).max()
    goldberger = max(np.abs(x[3] + (x[0] + x[1]) / 2).max(), np.abs(x[4] - (x[0] - x[1] / 2)).max(),
                     np.abs(x[5] - (x[1] - x[0] / 2)).max())
    return float(einthoven), float(goldberger)


def electrode_signal(seed: int, n: int = 3000) -> np.ndarray:
    return leads_from_electrodes(np.random.default_rng(seed).normal(size=(9, n)) * 0.4).astype(np.float32)


def test_electrode_noise_keeps_identities_and_reaches_snr():
    sig = electrode_signal(0)
    noise = RecordingNoise(500.0, NoiseConfig(snr_db=(15.0, 15.0), p={"bw": 1.0, "ma": 1.0, "pl": 1.0, "em": 1.0}))
    noisy, info = noise(sig, np.random.default_rng(1))
    assert set(info["noise"].split(";")) == {"bw", "ma", "pl", "em"} and info["snr_db"] == 15.0
    assert max(identity_residuals(noisy)) < 1e-5
    p_sig = np.mean(np.var(sig.astype(np.float64), axis=-1))
    p_noise = np.mean(np.var((noisy - sig).astype(np.float64), axis=-1))
    assert 10 * np.log10(p_sig / p_noise) == pytest.approx(15.0, abs=0.2)
    again, _ = noise(sig, np.random.default_rng(1))
    np.testing.assert_array_equal(noisy, again)


def test_no_powerline_above_nyquist():
    noise = RecordingNoise(100.0, NoiseConfig(p={"pl": 1.0}))
    pl = noise.electrode_noise("pl", 1000, np.random.default_rng(0))
    assert not pl.any()


def test_quantised_identities_are_exact_in_integers(tmp_path):
    sig = electrode_signal(2)
    d = quantise_consistent(sig).astype(np.int64)
    assert (d[0] - d[1] + d[2] == 0).all() and (2 * d[3] + d[0] + d[1] == 0).all()
    assert (2 * d[4] - 2 * d[0] + d[1] == 0).all() and (2 * d[5] - 2 * d[1] + d[0] == 0).all()
    path = write_consistent(ECGRecord(sig, 500, LEADS_12, "r"), tmp_path, "r")
    raw = wfdb.rdrecord(str(path), physical=False).d_signal.T.astype(np.int64)
    np.testing.assert_array_equal(raw, d)
    back = read_wfdb(path)
    assert max(identity_residuals(back.signal)) <= 1e-6
    assert np.abs(back.signal - sig).max() <= 1.5e-3
    with pytest.raises(RecordError):
        quantise_consistent(sig[:3])


def _tiny_cohort(root, n=8):
    vocab = {"NORM": {"en": "normal ECG", "superclass": "NORM"}, "AFIB": {"en": "atrial fibrillation"},
             "IMI": {"en": "inferior myocardial infarction", "superclass": "MI"}}
    rows = []
    for i in range(n):
        rid = f"{i:05d}"
        write_consistent(ECGRecord(electrode_signal(i, 1000), 100, LEADS_12, rid), root / "records", rid)
        rows.append({"record_id": rid, "patient_id": f"p{i // 2}", "path": f"records/{rid}", "fs": 100,
                     "n_samples": 1000, "conditions": ["NORM", "AFIB;IMI", "IMI", ""][i % 4], "age": 50 + i,
                     "fold": 1 + (i // 2) % 4})
    pd.DataFrame(rows).to_csv(root / "index.csv", index=False)
    (root / "cohort.json").write_text(json.dumps({"generator": "test", "seed": 0, "vocabulary": vocab}))


def test_synthetic_source_scans_labels_and_splits(tmp_path):
    _tiny_cohort(tmp_path)
    c = open_cohort("synthetic", tmp_path)
    assert len(c) == 8 and c.labels("conditions").codes == ["NORM", "AFIB", "IMI"]
    assert c.labels("conditions").counts() == {"NORM": 2, "AFIB": 2, "IMI": 4}
    assert c.labels("superdiagnostic").counts()["MI"] == 4 and c.labels("superdiagnostic").counts()["NORM"] == 2
    assert set(c.split("test").index["fold"]) == {4} and set(c.split("val").index["fold"]) == {3}
    assert c.load(3).signal.shape == (12, 1000)
    (tmp_path / "records/00005.dat").unlink()
    c = open_cohort("synthetic", tmp_path)
    assert len(c) == 7 and c.notes["listed_missing"] == 1


def test_synthetic_source_errors(tmp_path):
    with pytest.raises(SourceError, match="data synth"):
        open_cohort("synthetic", tmp_path)
    _tiny_cohort(tmp_path, n=4)
    df = pd.read_csv(tmp_path / "index.csv")
    df.loc[0, "conditions"] = "XYZ"
    df.to_csv(tmp_path / "index.csv", index=False)
    with pytest.raises(SourceError, match="XYZ"):
        open_cohort("synthetic", tmp_path)
