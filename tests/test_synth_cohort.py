from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cardiofm.data.sources import open_cohort
from cardiofm.synth.cohort import generate_cohort, render_record
from cardiofm.synth.conditions import check_conditions


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn") / "c"
    generate_cohort(60, out, seed=3, fs=100.0, workers=2, progress=False)
    return out


def _residuals(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    return float(max(np.abs(x[0] - x[1] + x[2]).max(), np.abs(x[3] + (x[0] + x[1]) / 2).max(),
                     np.abs(x[4] - (x[0] - x[1] / 2)).max(), np.abs(x[5] - (x[1] - x[0] / 2)).max()))


def test_cohort_scans_with_labels_truth_and_identities(cohort_dir):
    c = open_cohort("synthetic", cohort_dir)
    assert len(c) == 60 and c.notes["listed_missing"] == 0
    idx = c.index
    conds = [s.split(";") for s in idx["conditions"]]
    assert all(not check_conditions(cs) for cs in conds)
    counts = c.labels("conditions").counts()
    assert counts["NORM"] == sum("NORM" in cs for cs in conds) and sum(counts.values()) >= 60
    for col in ("true_hr", "true_qrs_ms", "true_qt_ms", "report", "stenosis_lad", "mi_time_days", "ehr_diagnoses",
                "dexa_fat_pct", "snr_db", "fold"):
        assert col in idx, col
    assert set(idx["split"]) == {"train", "val", "test"}
    for i in range(len(c)):
        rec = c.load(i)
        assert rec.signal.shape == (12, 1000) and _residuals(rec.signal) <= 1e-6


def test_same_seed_same_cohort_whatever_the_workers(cohort_dir, tmp_path):
    generate_cohort(60, tmp_path / "again", seed=3, fs=100.0, workers=1, progress=False)
    a = pd.read_csv(cohort_dir / "index.csv")
    b = pd.read_csv(tmp_path / "again" / "index.csv")
    pd.testing.assert_frame_equal(a, b)
    for rid in ("000001", "000030", "000060"):
        assert (cohort_dir / f"records/{rid}.dat").read_bytes() == (tmp_path / f"again/records/{rid}.dat").read_bytes()


def test_refuses_foreign_folder(tmp_path):
    from cardiofm.errors import ConfigError

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError):
        generate_cohort(5, tmp_path, progress=False)


@pytest.mark.parametrize("conds,check", [
    (["SBRAD"], lambda t: t["true_hr"] < 60),
    (["STACH"], lambda t: t["true_hr"] > 100),
    (["SR", "1AVB"], lambda t: t["true_pr_ms"] > 200),
    (["SR", "CLBBB"], lambda t: t["true_qrs_ms"] >= 120),
    (["SR", "CRBBB"], lambda t: t["true_qrs_ms"] >= 120),
    (["SR", "LNGQT"], lambda t: t["true_qtc_ms"] > 460),
    (["AFIB"], lambda t: np.isnan(t["true_pr_ms"]) and t["true_rr_std_ms"] > 60),
    (["NORM", "SR"], lambda t: 60 <= t["true_hr"] <= 100 and t["true_qrs_ms"] < 110 and 120 <= t["true_pr_ms"] <= 200),
])
def test_conditions_move_true_intervals(conds, check):
    for seed in range(4):
        _, truth = render_record(conds, 500.0, 10.0, np.random.default_rng(seed))
        assert check(truth), (conds, seed, truth)


def test_lvh_raises_voltage_and_mi_adds_q_waves():
    def rec(conds, seed=0):
        return render_record(conds, 500.0, 10.0, np.random.default_rng(seed))[0]

    normal, lvh = rec(["SR"]), rec(["SR", "LVH"])
    sokolow = [abs(r.lead("V1").min()) + r.lead("V5").max() for r in (normal, lvh)]
    assert sokolow[1] > 3.5 > sokolow[0]
    imi = rec(["SR", "IMI"])
    assert imi.lead("aVF").min() < normal.lead("aVF").min() - 0.2  # deep Q in the inferior leads


def test_delineation_error_on_simulated_records_within_stated_bounds():
    """Bounds from benchmarks/physio.py (200 records): bias HR ~0, PR ~-20, QRS ~+8, QT ~-21 ms."""
    from cardiofm.physio.delineate import features

    errs = {"hr": [], "pr": [], "qrs": [], "qt": []}
    for seed in range(8):
        rec, truth = render_record(["SR", "NORM"], 500.0, 10.0, np.random.default_rng(100 + seed))
        f = features(rec)
        assert f["complete"]
        for k in errs:
            errs[k].append(f[k] - truth[{"hr": "true_hr"}.get(k, f"true_{k}_ms")])
    assert abs(np.mean(errs["hr"])) < 1.0
    assert -35 <= np.mean(errs["pr"]) <= 0
    assert 0 <= np.mean(errs["qrs"]) <= 15
    assert -35 <= np.mean(errs["qt"]) <= -5
    assert max(np.std(errs[k]) for k in ("pr", "qrs", "qt")) < 15


def test_every_record_has_its_parameters_and_truth(cohort_dir):
    import json

    idx = pd.read_csv(cohort_dir / "index.csv", dtype={"record_id": str})
    row = idx.iloc[5]
    t = json.loads((cohort_dir / row["truth_file"]).read_text())
    assert t["record_id"] == row["record_id"] and ";".join(t["conditions"]) == row["conditions"]
    assert np.array(t["parameters"]["dipole"]["a_mv"]).shape == (3, 6)
    assert t["truth"]["true_qrs_ms"] == pytest.approx(row["true_qrs_ms"])
    assert len(t["rr_s"]) >= 5
    header = (cohort_dir / f"records/{row['record_id']}.hea").read_text()
    assert "# age:" in header and "intervals" not in header


@pytest.mark.parametrize("conds,check", [
    (["SR", "1AVB"], lambda f: f["pr"] > 200),
    (["SR", "CLBBB"], lambda f: f["qrs"] >= 120),
    (["SR", "CRBBB"], lambda f: f["qrs"] >= 120),
    (["SBRAD"], lambda f: f["hr"] < 60),
    (["STACH"], lambda f: f["hr"] > 100),
    (["NORM", "SR"], lambda f: f["qrs"] < 110 and 110 <= f["pr"] <= 200),
])
def test_conditions_move_measured_intervals(conds, check):
    from cardiofm.physio.delineate import features

    for seed in range(3):
        rec, _ = render_record(conds, 500.0, 10.0, np.random.default_rng(seed))
        f = features(rec)
        assert check(f), (conds, seed, {k: f[k] for k in ("hr", "pr", "qrs", "qt")})
