"""Data-input hardening, sources: files kept inside a source's root (symbolic links only with follow_links),
unique record ids; every rejection is a counted skip or a one-line error. Header rules: test_input_safety.py."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat

from cardiofm.data.containment import ESCAPES, RootGuard, inside_root
from cardiofm.data.sources import open_cohort
from cardiofm.data.sources.cinc import read_cinc
from cardiofm.errors import ConfigError, RecordError, SourceError
from test_input_safety import CINC_A0001, LINKS, copy_record, edit_header, reference, set_field

from conftest import PTBXL, RECORD_1
from mimic_layout import make_mimic_fixture


def linked_record(root: Path, elsewhere: Path, name: str) -> None:
    """A WFDB record ``name`` written in ``elsewhere`` and reached from ``root`` through links to its two files."""
    copy_record(elsewhere, name)
    for suffix in (".hea", ".dat"):
        os.symlink(elsewhere / f"{name}{suffix}", root / f"{name}{suffix}")


# ---- containment helper ------------------------------------------------------------------------------
@LINKS
def test_inside_root_rules(tmp_path):
    root, out = tmp_path / "root", tmp_path / "out"
    (root / "a").mkdir(parents=True)
    out.mkdir()
    (root / "a" / "f").write_text("x")
    (out / "g").write_text("y")
    os.symlink(out / "g", root / "to_out")
    os.symlink(root / "a" / "f", root / "to_in")
    os.symlink(out, root / "dir_out")
    assert inside_root(root / "a" / "f", root) == root / "a" / "f"
    assert inside_root(root / "to_in", root) == root / "to_in"  # a link that stays inside is fine
    assert inside_root(root / "a" / ".." / "a" / "f", root)
    for bad in (root / ".." / "out" / "g", out / "g", "/etc/passwd", f"{root}/a/\x00"):
        with pytest.raises(RecordError, match=ESCAPES):
            inside_root(bad, root)
        with pytest.raises(RecordError, match=ESCAPES):
            inside_root(bad, root, follow_links=True)  # '..' and absolute paths never pass
    for linked in (root / "to_out", root / "dir_out" / "g"):
        with pytest.raises(RecordError, match="symbolic link"):
            inside_root(linked, root)
        assert inside_root(linked, root, follow_links=True) == linked
    with pytest.raises(SourceError, match=ESCAPES):
        RootGuard(root).table(root / "to_out")


# ---- folder source ------------------------------------------------------------------------------------
def _npy(path: Path, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(12, 500)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


def test_folder_labels_rows_outside_the_root_are_skips(tmp_path):
    root = tmp_path / "root"
    good = _npy(root / "good.npy")
    (root / "sub").mkdir()
    _npy(tmp_path / "secret.npy", seed=1)
    rows = ["good.npy", "../secret.npy", str(tmp_path / "secret.npy"), str(root / "good.npy"),
            "sub/../good.npy"]
    pd.DataFrame({"file": rows, "fs": 100, "record_id": ["g", "up", "abs", "abs_in", "norm"]}).to_csv(
        root / "labels.csv", index=False)
    c = open_cohort("folder", root, folds=0)
    assert sorted(c.index["record_id"]) == ["abs_in", "g", "norm"]  # inside the root, however written
    assert len(c.skipped) == 2 and all(ESCAPES in s.reason for s in c.skipped)
    assert {Path(s.path).resolve() for s in c.skipped} == {(tmp_path / "secret.npy").resolve()}
    np.testing.assert_array_equal(c.load(int(np.flatnonzero(c.index["record_id"] == "g")[0])).signal, good)


@LINKS
def test_folder_symlinks_outside_need_follow_links(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    x = _npy(tmp_path / "elsewhere" / "x.npy")
    os.symlink(tmp_path / "elsewhere" / "x.npy", root / "x.npy")
    (root / "labels.csv").write_text("file,fs\nx.npy,100\n")
    c = open_cohort("folder", root, folds=0)
    assert len(c) == 0 and "symbolic link" in c.skipped[0].reason and c.skipped[0].path == str(root / "x.npy")
    for value in (True, "true", "yes", 1):
        c = open_cohort("folder", root, folds=0, follow_links=value)
        assert len(c) == 1 and not c.skipped
    np.testing.assert_array_equal(c.load(0).signal, x)
    with pytest.raises(ConfigError, match="follow_links"):
        open_cohort("folder", root, folds=0, follow_links="maybe")


@LINKS
def test_folder_walk_checks_linked_files_and_follows_linked_folders_only_on_request(tmp_path):
    root = tmp_path / "root"
    copy_record(root, "own")
    copy_record(tmp_path / "far" / "deep", "indir")
    linked_record(root, tmp_path / "elsewhere", "linked")
    os.symlink(tmp_path / "far", root / "far")
    os.symlink(root, root / "loop")  # would walk forever if followed blindly
    c = open_cohort("folder", root, folds=0)
    assert list(c.index["record_id"]) == ["own"]
    assert [Path(s.path).name for s in c.skipped] == ["linked.hea"]
    assert "symbolic link" in c.skipped[0].reason
    c = open_cohort("folder", root, folds=0, follow_links=True)
    assert sorted(c.index["record_id"]) == ["far/deep/indir", "linked", "own"] and not c.skipped
    np.testing.assert_array_equal(c.load(int(np.flatnonzero(c.index["record_id"] == "linked")[0])).signal,
                                  reference())


def test_valid_wfdb_folder_reads_identically(tmp_path):
    copy_record(tmp_path / "site", "a")
    c = open_cohort("folder", tmp_path, folds=0)
    assert list(c.index["record_id"]) == ["site/a"] and not c.skipped
    assert int(c.index.at[0, "n_samples"]) == 1000 and float(c.index.at[0, "fs"]) == 100.0
    np.testing.assert_array_equal(c.load(0).signal, reference())


def test_duplicate_record_ids_are_a_source_error(tmp_path):
    for i in range(3):
        _npy(tmp_path / f"{i}.npy", seed=i)
    (tmp_path / "labels.csv").write_text("file,fs,record_id\n0.npy,100,same\n1.npy,100,same\n2.npy,100,other\n")
    with pytest.raises(SourceError, match="'same'.*several rows") as err:
        open_cohort("folder", tmp_path, folds=0)
    assert "other" not in str(err.value) and "\n" not in str(err.value)


# ---- PTB-XL ---------------------------------------------------------------------------------------------
@pytest.fixture
def ptbxl_copy(tmp_path: Path) -> Path:
    root = tmp_path / "ptbxl"
    shutil.copytree(PTBXL, root)
    return root


def _rewrite_db(root: Path, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    db = pd.read_csv(root / "ptbxl_database.csv", dtype=str, keep_default_na=False)
    fn(db).to_csv(root / "ptbxl_database.csv", index=False)


def test_ptbxl_filenames_outside_the_root_are_skips(ptbxl_copy):
    root, outside = ptbxl_copy, ptbxl_copy.parent / "outside"
    copy_record(outside, "00001_lr", RECORD_1)
    copy_record(outside, "00002_lr", RECORD_1.parent / "00002_lr")

    def point_out(db: pd.DataFrame) -> pd.DataFrame:
        db.loc[0, "filename_lr"] = "../outside/00001_lr"
        db.loc[1, "filename_lr"] = str(outside / "00002_lr")
        return db

    _rewrite_db(root, point_out)
    c = open_cohort("ptbxl", root)
    assert len(c) == 18 and c.notes["listed_missing"] == 3
    assert not {"1", "2"} & set(c.index["record_id"])
    assert len(c.skipped) == 2 and all(ESCAPES in s.reason for s in c.skipped)
    assert {Path(s.path).resolve() for s in c.skipped} == {(outside / f"0000{i}_lr.hea").resolve() for i in (1, 2)}


@LINKS
def test_ptbxl_linked_signal_file_needs_follow_links(ptbxl_copy):
    dat = ptbxl_copy / "records100" / "00000" / "00003_lr.dat"
    moved = ptbxl_copy.parent / "moved.dat"
    shutil.move(dat, moved)
    os.symlink(moved, dat)
    c = open_cohort("ptbxl", ptbxl_copy)
    assert len(c) == 19 and [s.path for s in c.skipped] == [str(dat)] and "symbolic link" in c.skipped[0].reason
    c = open_cohort("ptbxl", ptbxl_copy, follow_links=True)
    assert len(c) == 20 and not c.skipped


def test_ptbxl_bad_header_is_a_skip_not_a_crash(ptbxl_copy):
    hea = edit_header(ptbxl_copy / "records100" / "00000" / "00004_lr", set_field(0, 1, "11"))
    c = open_cohort("ptbxl", ptbxl_copy)
    assert len(c) == 19 and [s.path for s in c.skipped] == [str(hea)]


def test_ptbxl_duplicate_ecg_id_is_a_source_error(ptbxl_copy):
    _rewrite_db(ptbxl_copy, lambda db: pd.concat([db, db.iloc[[0, 1]]], ignore_index=True))
    with pytest.raises(SourceError, match=r"'1', '2' occur on several rows"):
        open_cohort("ptbxl", ptbxl_copy)


def test_ptbxl_valid_copy_reads_identically(ptbxl_copy):
    c = open_cohort("ptbxl", ptbxl_copy)
    assert len(c) == 20 and not c.skipped
    np.testing.assert_array_equal(c.load(0).signal, reference())


# ---- MIMIC-IV-ECG, CinC, synthetic, union ----------------------------------------------------------
def test_mimic_paths_outside_the_root_are_skips(tmp_path):
    root = make_mimic_fixture(tmp_path / "m", n_patients=3, studies_per_patient=1, missing=0)
    listed = pd.read_csv(root / "record_list.csv", dtype=str)
    victim = listed.loc[0, "path"]
    shutil.copytree(root / Path(victim).parent, tmp_path / "outside")
    listed.loc[0, "path"] = f"files/../../outside/{Path(victim).name}"
    listed.to_csv(root / "record_list.csv", index=False)
    c = open_cohort("mimic", root, folds=0)
    assert len(c) == 2 and c.notes["outside_root"] == 1 and c.notes["listed_missing"] == 0
    assert len(c.skipped) == 1 and ESCAPES in c.skipped[0].reason
    assert Path(c.skipped[0].path).name == f"{Path(victim).name}.hea"


def test_mimic_truncated_signal_is_skipped_at_scan(tmp_path):
    root = make_mimic_fixture(tmp_path / "m", n_patients=3, studies_per_patient=1, missing=0)
    rel = pd.read_csv(root / "record_list.csv")["path"].iloc[2]
    dat = root / f"{rel}.dat"
    dat.write_bytes(dat.read_bytes()[:-24])
    c = open_cohort("mimic", root, folds=0)
    assert len(c) == 2 and [s.path for s in c.skipped] == [str(dat)] and "truncated" in c.skipped[0].reason


def _cinc_copy(folder: Path, name: str = "A0001") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".hea", ".mat"):
        shutil.copy(CINC_A0001.with_suffix(suffix), folder / f"{name}{suffix}")
    if name != "A0001":
        hea = folder / f"{name}.hea"
        hea.write_text(hea.read_text().replace("A0001", name))
    return folder / name


@LINKS
def test_cinc_linked_files_outside_need_follow_links(tmp_path):
    root = tmp_path / "root"
    _cinc_copy(root / "db", "A0001")
    far = _cinc_copy(tmp_path / "far", "A0002")
    os.symlink(f"{far}.mat", root / "db" / "A0002.mat")
    shutil.copy(f"{far}.hea", root / "db" / "A0002.hea")
    c = open_cohort("cinc", root, folds=0)
    assert list(c.index["record_id"]) == ["A0001"]
    assert [s.path for s in c.skipped] == [str(root / "db" / "A0002.mat")] and "symbolic link" in c.skipped[0].reason
    c = open_cohort("cinc", root, folds=0, follow_links=True)
    assert sorted(c.index["record_id"]) == ["A0001", "A0002"]
    np.testing.assert_array_equal(c.load(1).signal, c.load(0).signal)


def test_cinc_duplicate_record_names_are_a_source_error(tmp_path):
    _cinc_copy(tmp_path / "WFDB_CPSC2018")
    _cinc_copy(tmp_path / "training" / "cpsc_2018" / "g1")
    with pytest.raises(SourceError, match="'A0001'"):
        open_cohort("cinc", tmp_path, folds=0)


def test_cinc_bad_gain_is_a_skip(tmp_path):
    hea = _cinc_copy(tmp_path / "db").with_suffix(".hea")
    _cinc_copy(tmp_path / "db", "A0002")
    lines = hea.read_text().splitlines()
    lines[1] = lines[1].replace("1000/mV", "1e400/mV")
    hea.write_text("\n".join(lines) + "\n")
    c = open_cohort("cinc", tmp_path, folds=0)
    assert list(c.index["record_id"]) == ["A0002"] and [s.path for s in c.skipped] == [str(hea)]
    savemat(tmp_path / "db" / "A0002.mat", {"val": np.zeros((11, 5000), np.int16)}, format="4")
    with pytest.raises(RecordError, match="shape"):
        read_cinc(tmp_path / "db" / "A0002")


def test_synthetic_index_paths_outside_the_root_are_skips(tmp_path):
    root = tmp_path / "synth"
    copy_record(root / "records", "s0")
    copy_record(tmp_path / "outside", "s1")
    (root / "cohort.json").write_text(json.dumps({"vocabulary": {}}))
    pd.DataFrame({"record_id": ["s0", "s1"], "patient_id": ["p0", "p1"], "path": ["records/s0", "../outside/s1"],
                  "fs": 100.0, "n_samples": 1000, "conditions": ""}).to_csv(root / "index.csv", index=False)
    c = open_cohort("synthetic", root, folds=0)
    assert list(c.index["record_id"]) == ["s0"] and c.notes["listed_missing"] == 0
    assert len(c.skipped) == 1 and ESCAPES in c.skipped[0].reason


@LINKS
def test_union_passes_follow_links_to_its_parts(tmp_path):
    root = tmp_path / "own"
    copy_record(root, "a")
    linked_record(root, tmp_path / "far", "b")
    parts = [{"source": "folder", "root": str(root), "options": {"folds": 0}}]
    assert len(open_cohort("union", None, parts=parts)) == 1
    assert len(open_cohort("union", None, parts=parts, follow_links=True)) == 2


# ---- rejections downstream: validate, store build, CLI ---------------------------------------------
def test_record_errors_after_the_scan_become_skips_and_failed_rows(tmp_path):
    from cardiofm.data.store import build_store
    from cardiofm.signal.transforms import Preprocess

    root = tmp_path / "root"
    for name in ("a", "b", "c"):
        copy_record(root, name)
    c = open_cohort("folder", root, folds=0)
    assert len(c) == 3
    dat = root / "b.dat"
    dat.write_bytes(dat.read_bytes() + b"\0\0")  # changed after the scan: no longer fits its header
    checked = c.validate(workers=1)
    assert list(checked.index["record_id"]) == ["a", "c"]
    assert checked.skipped[-1].path == str(root / "b") and "longer than" in checked.skipped[-1].reason
    rep = build_store(c, tmp_path / "store", Preprocess(fs=100.0, length=1000, band=None), progress=False)
    assert rep.n_ok == 2 and [rid for rid, _ in rep.failures] == ["b"]
    assert str(dat) in rep.failures[0][1] and "longer than" in rep.failures[0][1]


@LINKS
def test_cli_counts_escapes_as_skips_and_follow_links_flag(tmp_path):
    from typer.testing import CliRunner

    from cardiofm.cli import app

    root = tmp_path / "root"
    copy_record(root, "own")
    linked_record(root, tmp_path / "far", "linked")
    runner = CliRunner()
    base = ["data", "info", "--source", "folder", "--root", str(root), "--opt", "folds=0", "--json"]
    r = runner.invoke(app, base)
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["records"] == 1 and s["skipped"]["count"] == 1
    assert ESCAPES in s["skipped"]["files"][0]["reason"]
    for extra in (["--follow-links"], ["--opt", "follow_links=true"]):
        r = runner.invoke(app, [*base, *extra])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["records"] == 2
    r = runner.invoke(app, ["data", "build", "--source", "folder", "--root", str(root), "--out",
                            str(tmp_path / "store"), "--fs", "100", "--seconds", "10", "--band", "none",
                            "--opt", "folds=0", "--no-progress", "--follow-links"])
    assert r.exit_code == 0, r.output
    assert "2/2 records ok" in r.output
