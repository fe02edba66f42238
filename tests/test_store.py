from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardiofm.data.cohort import Cohort, LabelSet
from cardiofm.data.sources import open_cohort
from cardiofm.data.store import Store, build_store
from cardiofm.errors import StoreError
from cardiofm.signal.transforms import Preprocess

from conftest import PTBXL

PREP = Preprocess(fs=100.0, length=1000)


def npy_cohort(root: Path, n: int, length: int = 2000, fs: float = 250.0) -> Cohort:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        t = np.arange(length) / fs
        x = np.sin(2 * np.pi * 1.2 * t)[None] * rng.uniform(0.5, 2, (12, 1)) + 0.05 * rng.normal(size=(12, length))
        np.save(root / f"r{i:04d}.npy", x.astype(np.float32))
    index = pd.DataFrame({"record_id": [f"r{i:04d}" for i in range(n)], "patient_id": [f"p{i // 2}" for i in range(n)],
                          "path": [f"r{i:04d}.npy" for i in range(n)], "reader": "numpy", "fs": fs,
                          "n_samples": length, "split": ["train"] * (n - 4) + ["test"] * 4})
    y = (np.arange(n)[:, None] % np.array([[2, 3]]) == 0).astype(np.uint8)
    return Cohort(index, {"t": LabelSet("t", ["a", "b"], ["A", "B"], y)}, "test", str(root))


def _files(store: Path) -> dict[str, bytes]:
    out = {p.relative_to(store).as_posix(): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}
    out["manifest.json"] = json.dumps({k: v for k, v in json.loads(out["manifest.json"]).items()
                                       if k != "versions"}).encode()
    return out


def test_build_reads_back_what_preprocess_gives(tmp_path):
    cohort = open_cohort("ptbxl", PTBXL)
    rep = build_store(cohort, tmp_path / "s", PREP, chunk_size=6, progress=False)
    assert (rep.n_records, rep.n_ok, rep.chunks_built, rep.chunks_reused) == (20, 20, 4, 0)
    store = Store(tmp_path / "s")
    assert len(store) == 20 and store.fs == 100 and store.leads[3] == "aVR" and store.length == 1000
    for i in (0, 7, 19):
        np.testing.assert_array_equal(store[i], PREP(cohort.load(i)))
    assert store.batch(np.array([1, 2])).shape == (2, 12, 1000)
    np.testing.assert_array_equal(store.cohort.labels("superdiagnostic").matrix,
                                  cohort.labels("superdiagnostic").matrix)
    man = json.loads((tmp_path / "s/manifest.json").read_text())
    assert man["status"] == "complete" and man["key"]["preprocess"]["fs"] == 100 and len(man["source_sha1"]) == 40
    assert {"numpy", "scipy", "wfdb", "cardiofm"} <= set(man["versions"])


def test_reuse_rebuild_and_refuse(tmp_path):
    cohort = open_cohort("ptbxl", PTBXL)
    build_store(cohort, tmp_path / "s", PREP, chunk_size=8, progress=False)
    again = build_store(cohort, tmp_path / "s", PREP, chunk_size=8, progress=False)
    assert again.chunks_built == 0 and again.chunks_reused == 3
    other = build_store(cohort, tmp_path / "s", Preprocess(fs=100.0, length=500), chunk_size=8, progress=False)
    assert other.chunks_built == 3 and Store(tmp_path / "s").length == 500
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/thesis.tex").write_text("precious")
    with pytest.raises(StoreError, match="not a cardiofm store"):
        build_store(cohort, tmp_path / "mine", PREP, progress=False)
    assert (tmp_path / "mine/thesis.tex").read_text() == "precious"
    with pytest.raises(StoreError):
        Store(tmp_path / "mine")


def test_bad_records_are_skipped_with_reasons(tmp_path):
    cohort = npy_cohort(tmp_path / "data", 10)
    np.save(tmp_path / "data/r0003.npy", np.full((12, 2000), np.nan, dtype=np.float32))
    (tmp_path / "data/r0005.npy").write_bytes(b"not an array")
    rep = build_store(cohort, tmp_path / "s", PREP, chunk_size=4, progress=False)
    assert rep.n_ok == 8 and {r for r, _ in rep.failures} == {"r0003", "r0005"}
    store = Store(tmp_path / "s")
    assert len(store) == 8 and "r0003" not in set(store.cohort.index["record_id"])
    reasons = {Path(s.path).name: s.reason for s in store.cohort.skipped}
    assert "NaN" in reasons["r0003.npy"] and "unreadable" in reasons["r0005.npy"]
    np.testing.assert_array_equal(store[3], PREP(cohort.load(4)))  # rows after a failure stay aligned


def test_incomplete_store_is_refused(tmp_path):
    cohort = npy_cohort(tmp_path / "data", 4)
    build_store(cohort, tmp_path / "s", PREP, chunk_size=2, progress=False)
    man = json.loads((tmp_path / "s/manifest.json").read_text())
    man["status"] = "building"
    (tmp_path / "s/manifest.json").write_text(json.dumps(man))
    with pytest.raises(StoreError, match="did not finish"):
        Store(tmp_path / "s")


_KILL_SCRIPT = """
import sys
from cardiofm.data.cohort import Cohort
from cardiofm.data.store import build_store
from cardiofm.signal.transforms import Preprocess
build_store(Cohort.read(sys.argv[1]), sys.argv[2], Preprocess(fs=500.0, length=5000), chunk_size=2,
            workers=int(sys.argv[3]), progress=False)
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_then_resume_equals_uninterrupted(tmp_path, workers):
    cohort = npy_cohort(tmp_path / "data", 120, length=5000)
    cdir = cohort.save(tmp_path / "cohort")
    prep = Preprocess(fs=500.0, length=5000)
    build_store(cohort, tmp_path / "ref", prep, chunk_size=2, progress=False)

    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(cdir), str(out), str(workers)])
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "chunks").glob("*.npy"))) < 10:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list((out / "chunks").glob("*.npy")))
    assert 10 <= done_before < 60, "the build was not interrupted mid-way"
    with pytest.raises(StoreError):
        Store(out)
    rep = build_store(Cohort.read(cdir), out, prep, chunk_size=2, progress=False)
    assert rep.chunks_reused >= done_before - 2 and rep.chunks_built + rep.chunks_reused == 60
    assert _files(out) == _files(tmp_path / "ref")


def test_record_missing_a_lead_is_a_counted_skip(tmp_path):
    cohort = npy_cohort(tmp_path / "data", 6)
    np.save(tmp_path / "data/r0002.npy", np.zeros((3, 2000), dtype=np.float32))
    cohort.index.loc[2, "leads"] = "I,II,V1"
    rep = build_store(cohort, tmp_path / "s", PREP, chunk_size=4, progress=False)
    assert rep.n_ok == 5 and rep.failures[0][0] == "r0002"
    assert "lead(s) III, aVR" in rep.failures[0][1] and "r0002.npy" in rep.failures[0][1]
