"""A store build never touches what is not a store, never serves stale records, and leaves no process behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cardiofm.data.cohort import Cohort
from cardiofm.data.sources import open_cohort
from cardiofm.data.store import LOCK, Store, _clean_stale, build_store, is_store
from cardiofm.errors import StoreError
from cardiofm.signal.transforms import Preprocess
from test_store import npy_cohort

from conftest import PTBXL

PREP = Preprocess(fs=100.0, length=1000)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _web_app(root: Path, manifest: str) -> Path:
    for rel, text in {"manifest.json": manifest, "cohort/members.csv": "id,name\n1,ada\n",
                      "chunks/part1.bin": "\x00\x01binary", "index.html": "<h1>app</h1>"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("manifest", ['{"name": "my web app"}', "[1, 2]", '"text"', "{not json",
                                      '{"key": {"format": 1}, "status": "complete"}'])
def test_a_folder_with_a_foreign_manifest_is_refused_and_untouched(tmp_path: Path, manifest: str):
    app = _web_app(tmp_path / "app", manifest)
    before = _tree(app)
    cohort = npy_cohort(tmp_path / "data", 4)
    with pytest.raises(StoreError, match="not a cardiofm store"):
        build_store(cohort, app, PREP, progress=False)
    assert _tree(app) == before and not is_store(app)
    with pytest.raises(StoreError, match="not a cardiofm store"):
        Store(app)


def test_out_that_is_a_file_is_refused(tmp_path: Path):
    f = tmp_path / "f.txt"
    f.write_text("keep")
    with pytest.raises(StoreError, match="is a file"):
        build_store(npy_cohort(tmp_path / "data", 4), f, PREP, progress=False)
    assert f.read_text() == "keep"


def test_rebuild_removes_only_the_store_files(tmp_path: Path):
    cohort = npy_cohort(tmp_path / "data", 6)
    out = tmp_path / "s"
    build_store(cohort, out, PREP, chunk_size=2, progress=False)
    mine = {"notes.txt": "my notes", "chunks/README": "mine too", "figures/a.png": "png"}
    for rel, text in mine.items():
        (out / rel).parent.mkdir(exist_ok=True)
        (out / rel).write_text(text)
    rep = build_store(cohort, out, Preprocess(fs=100.0, length=500), chunk_size=3, progress=False)
    assert rep.chunks_built == 2 and Store(out).length == 500
    assert sorted(p.name for p in (out / "chunks").iterdir()) == ["000000.json", "000000.npy", "000001.json",
                                                                  "000001.npy", "README"]
    assert all((out / rel).read_text() == text for rel, text in mine.items())
    man = json.loads((out / "manifest.json").read_text())
    assert man["format"] == "cardiofm-store" and man["status"] == "complete"


def test_a_replaced_file_of_the_same_size_and_mtime_is_rebuilt(tmp_path: Path):
    root = tmp_path / "ptbxl"
    shutil.copytree(PTBXL, root)
    cohort = open_cohort("ptbxl", root)
    out = tmp_path / "s"
    build_store(cohort, out, PREP, chunk_size=8, progress=False)
    first = Store(out)[0].copy()
    a, b = cohort.path_of(0), cohort.path_of(1)
    dat_a, dat_b = a.with_suffix(".dat"), b.with_suffix(".dat")
    assert dat_a.stat().st_size == dat_b.stat().st_size
    st = dat_a.stat()
    time.sleep(0.01)
    dat_a.write_bytes(dat_b.read_bytes())  # another record, same size, same mtime
    os.utime(dat_a, ns=(st.st_atime_ns, st.st_mtime_ns))
    rep = build_store(open_cohort("ptbxl", root), out, PREP, chunk_size=8, progress=False)
    assert rep.chunks_built == 3 and rep.chunks_reused == 0
    now = Store(out)
    assert not np.array_equal(now[0], first)
    np.testing.assert_array_equal(now[0], now[1])
    # unchanged files are not hashed again: the digest cache holds every source file
    digests = json.loads((out / "source_digests.json").read_text())
    assert len(digests) == 40 and all(len(v[4]) == 40 for v in digests.values())
    assert build_store(open_cohort("ptbxl", root), out, PREP, chunk_size=8,
                       progress=False).chunks_reused == 3


_HOLD_LOCK = """
import fcntl, sys, time
fh = open(sys.argv[1], "a+")
fcntl.lockf(fh.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def test_a_second_build_is_refused_while_one_holds_the_lock(tmp_path: Path):
    cohort = npy_cohort(tmp_path / "data", 4)
    out = tmp_path / "s"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(out / LOCK)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match="another cardiofm build is writing"):
            build_store(cohort, out, PREP, progress=False)
        assert sorted(p.name for p in out.iterdir()) == [LOCK]
    finally:
        holder.kill()
        holder.wait()
    assert build_store(cohort, out, PREP, progress=False).n_ok == 4  # the lock died with its holder


_BUILD = """
import sys
from cardiofm.data.cohort import Cohort
from cardiofm.data.store import build_store
from cardiofm.signal.transforms import Preprocess
from cardiofm.errors import CardiofmError
try:
    build_store(Cohort.read(sys.argv[1]), sys.argv[2], Preprocess(fs=100.0, length=1000), chunk_size=2,
                workers=1, progress=False)
except CardiofmError as exc:
    print("refused:", exc)
    sys.exit(2)
"""


def test_concurrent_builds_into_one_folder_end_in_one_valid_store(tmp_path: Path):
    cohort = npy_cohort(tmp_path / "data", 40)
    cdir = cohort.save(tmp_path / "cohort")
    build_store(cohort, tmp_path / "ref", PREP, chunk_size=2, progress=False)
    out = tmp_path / "s"
    procs = [subprocess.Popen([sys.executable, "-c", _BUILD, str(cdir), str(out)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    for code, stdout, stderr in results:
        assert "Traceback" not in stderr, stderr
        assert code == 0 or (code == 2 and "another cardiofm build is writing" in stdout), (code, stdout, stderr)
    assert any(code == 0 for code, _, _ in results)
    assert build_store(Cohort.read(cdir), out, PREP, chunk_size=2, progress=False).chunks_built == 0
    store, ref = Store(out), Store(tmp_path / "ref")
    np.testing.assert_array_equal(store.batch(np.arange(len(store))), ref.batch(np.arange(len(ref))))
    assert not list((out / "chunks").glob("*.tmp*")) and not list(out.glob("cohort.tmp*"))


def test_stale_temporaries_of_dead_writers_go_and_live_ones_stay(tmp_path: Path):
    (tmp_path / "chunks").mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        live_tmp = tmp_path / "chunks" / f"000001.npy.tmp{sleeper.pid}"
        dead_tmp = tmp_path / "chunks" / f"000002.json.tmp{dead.pid}"
        other = tmp_path / "chunks" / "notes.tmp1"
        for f in (live_tmp, dead_tmp, other):
            f.write_text("x")
        _clean_stale(tmp_path, wait_s=0.2)
        assert live_tmp.exists() and not dead_tmp.exists() and other.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


_KILL_BUILD = """
import sys
from cardiofm.data.cohort import Cohort
from cardiofm.data.store import build_store
from cardiofm.signal.transforms import Preprocess
build_store(Cohort.read(sys.argv[1]), sys.argv[2], Preprocess(fs=500.0, length=5000), chunk_size=2, workers=2,
            progress=False)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_killing_a_build_leaves_no_worker_behind(tmp_path: Path):
    cohort = npy_cohort(tmp_path / "data", 120, length=5000)
    cdir = cohort.save(tmp_path / "cohort")
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_BUILD, str(cdir), str(out)])
    deadline = time.time() + 120
    workers: set[int] = set()
    while time.time() < deadline and (len(workers) < 2 or len(list((out / "chunks").glob("*.npy"))) < 6):
        workers |= _children(proc.pid)
        time.sleep(0.01)
    assert len(workers) >= 2, "the pool did not start"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    end = time.time() + 10
    while time.time() < end and any(_running(w) for w in workers):
        time.sleep(0.05)
    assert not [w for w in workers if _running(w)], "pool workers outlived their killed parent"
    rep = build_store(Cohort.read(cdir), out, Preprocess(fs=500.0, length=5000), chunk_size=2, progress=False)
    assert rep.chunks_reused >= 4 and rep.chunks_built + rep.chunks_reused == 60
