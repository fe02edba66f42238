from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import PTBXL, RECORD_1

CLI = [sys.executable, "-c", "from cardiofm.cli import main; main()"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_info_json_on_fixture():
    r = run("data", "info", "--source", "ptbxl", "--root", str(PTBXL), "--json", "--labeller", "entities")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["records"] == 20 and s["folds"] == {str(f): 2 for f in range(1, 11)}
    assert s["notes"]["listed_missing"] == 3 and s["skipped"]["count"] == 0
    n_labels = {t: v["n_labels"] for t, v in s["tasks"].items()}
    assert {t: n_labels.pop(t) for t in ("all", "diagnostic", "subdiagnostic", "superdiagnostic", "form", "rhythm",
                                         "mi_territory")} == {
        "all": 71, "diagnostic": 44, "subdiagnostic": 23, "superdiagnostic": 5, "form": 19, "rhythm": 12,
        "mi_territory": 4}
    assert set(n_labels) == {"entities", "entities_raw"} and min(n_labels.values()) >= 1  # from the reports


def test_info_human_readable_lists_skips(tmp_path):
    root = tmp_path / "ptbxl"
    shutil.copytree(PTBXL, root)
    (root / "records100/00000/00002_lr.dat").write_bytes(b"\x00" * 100)  # truncated
    r = run("data", "info", "--source", "ptbxl", "--root", str(root))
    assert r.returncode == 0, r.stderr
    assert "19 records" in r.stdout and "1 file(s) skipped" in r.stdout and "truncated" in r.stdout


def test_user_errors_exit_2_without_traceback(tmp_path):
    for args in (["data", "info", "--source", "ptbxl", "--root", str(tmp_path / "nope")],
                 ["data", "info", "--source", "bogus", "--root", str(tmp_path)],
                 ["data", "build", "--source", "ptbxl", "--root", str(PTBXL), "--out", str(tmp_path / "s"),
                  "--band", "1,2,3"],
                 ["data", "plot", str(tmp_path / "missing.hea"), "--out", str(tmp_path / "x.png")]):
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "cardiofm: error:" in r.stderr and "Traceback" not in r.stderr


def test_build_then_plot(tmp_path):
    r = run("data", "build", "--source", "ptbxl", "--root", str(PTBXL), "--out", str(tmp_path / "s"),
            "--fs", "100", "--seconds", "10", "--no-progress", "--chunk-size", "8")
    assert r.returncode == 0, r.stderr
    assert "20/20 records ok, 3 chunk(s) built" in r.stdout
    r = run("data", "plot", str(RECORD_1) + ".hea", "--out", str(tmp_path / "ecg.png"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ecg.png").stat().st_size > 10_000
    r = run("data", "plot", "--source", "ptbxl", "--root", str(PTBXL), "--record", "13",
            "--out", str(tmp_path / "ecg13.pdf"))
    assert r.returncode == 0, r.stderr and (tmp_path / "ecg13.pdf").exists()


def test_parse_source_options():
    import pytest

    from cardiofm.data.options import parse_options
    from cardiofm.errors import ConfigError

    got = parse_options(["labels=meta.csv", "folds=5", "label_columns=AF,LBBB", "val_folds=9", "validate=true",
                         "fs=250.5"])
    assert got == {"labels": "meta.csv", "folds": 5, "label_columns": ["AF", "LBBB"], "val_folds": [9],
                   "validate": True, "fs": 250.5}
    with pytest.raises(ConfigError):
        parse_options(["novalue"])


def test_folder_source_with_options(tmp_path):
    import numpy as np

    for i in range(6):
        np.save(tmp_path / f"r{i}.npy", np.random.default_rng(i).normal(size=(12, 500)).astype(np.float32))
    rows = "\n".join(f"r{i}.npy,p{i},250,{'AF' if i % 2 else 'NORM'}" for i in range(6))
    (tmp_path / "meta.csv").write_text("file,patient_id,fs,labels\n" + rows + "\n")
    r = run("data", "info", "--source", "folder", "--root", str(tmp_path), "--opt", "labels=meta.csv",
            "--opt", "folds=3", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["records"] == 6 and s["tasks"]["labels"]["counts"] == {"AF": 3, "NORM": 3}
    assert sum(s["folds"].values()) == 6 and len(s["folds"]) == 3


def test_folder_mixing_good_and_malformed_reports_skips(tmp_path):
    import numpy as np

    rec = tmp_path / "good"
    for ext in (".hea", ".dat"):
        shutil.copy(str(RECORD_1) + ext, tmp_path / ("good" + ext))
    (tmp_path / "good.hea").write_text((tmp_path / "good.hea").read_text().replace("00001_lr", "good"))
    shutil.copy(tmp_path / "good.hea", tmp_path / "cut.hea")
    (tmp_path / "cut.hea").write_text((tmp_path / "good.hea").read_text().replace("good", "cut"))
    (tmp_path / "cut.dat").write_bytes((tmp_path / "good.dat").read_bytes()[:3000])
    (tmp_path / "junk.hea").write_text("this is not a header\n")
    np.save(tmp_path / "nan.npy", np.full((12, 1000), np.nan, dtype=np.float32))
    (tmp_path / "labels.csv").write_text("file,fs\ngood.hea,\ncut.hea,\njunk.hea,\nnan.npy,100\nghost.hea,\n")
    r = run("data", "info", "--source", "folder", "--root", str(tmp_path), "--opt", "folds=0")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert "1 records" in r.stdout and "4 file(s) skipped" in r.stdout
    for why in ("truncated", "NaN", "missing"):
        assert why in r.stdout, (why, r.stdout)
    assert rec.with_suffix(".hea").exists()


def test_synth_then_info_shows_labels_and_identities(tmp_path):
    out = tmp_path / "synth-check"
    r = run("data", "synth", "--n", "40", "--seed", "0", "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    r = run("data", "info", "--source", "synthetic", "--root", str(out), "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["records"] == 40 and s["tasks"]["conditions"]["n_labels"] == 22
    assert sum(s["tasks"]["superdiagnostic"]["counts"].values()) > 0
    assert s["lead_identities"]["records_checked"] == 40 and s["lead_identities"]["max_residual_mv"] <= 1e-6
    r = run("data", "synth", "--n", "5", "--fs", "250", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "must be 100 or 500" in r.stderr


def test_version_prints_the_package_version():
    import cardiofm

    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"cardiofm {cardiofm.__version__}"
