"""Store: a directory of preprocessed, fixed-rate, fixed-length signals in chunks, plus the Cohort.

Layout::

    manifest.json        parameters, versions, cohort fingerprint, status ("building"/"complete")
    cohort/              the Cohort (index.csv with ``store_row`` and ``ok``, labels.npz, cohort.json)
    chunks/000012.npy    float32 (n, leads, length), one file per ``chunk_size`` records
    chunks/000012.json   per-record status (ok / error reason) and source SHA-1

A chunk counts as done when both of its files exist; each is written under a temporary name and
renamed into place, so a build killed at any moment (SIGKILL included) resumes without redoing
finished chunks and ends with the same bytes as an uninterrupted build. Workers load and write
their own chunks, so the parent's memory does not grow with the number of records.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import platform
import shutil
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm import __version__
from cardiofm.data.cohort import Cohort, Skip
from cardiofm.data.transforms import Preprocess
from cardiofm.errors import CardiofmError, StoreError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass
class BuildReport:
    """What a build did: chunks built now vs found done, records that failed and why."""

    path: Path
    n_records: int
    n_ok: int
    chunks_built: int
    chunks_reused: int
    failures: list[tuple[str, str]]


def cohort_fingerprint(cohort: Cohort) -> str:
    """SHA-1 over what identifies the input: record ids, paths, readers, rates and file sizes."""
    h = hashlib.sha1()
    idx = cohort.index
    for i, (rid, rel, reader, fs) in enumerate(zip(idx["record_id"], idx["path"], idx["reader"], idx["fs"],
                                                   strict=True)):
        sizes = [os.path.getsize(f) for f in source_files(cohort.path_of(i))]
        h.update(f"{rid}|{rel}|{reader}|{fs}|{sizes}\n".encode())
    return h.hexdigest()


def source_files(path: Path) -> list[Path]:
    """The files a record is made of (header + signal file for WFDB/CinC, the file itself otherwise)."""
    if path.suffix.lower() in {".npy", ".csv"}:
        return [path]
    base = path.with_suffix("") if path.suffix.lower() in {".hea", ".dat", ".mat"} else path
    return [p for p in (base.with_suffix(".hea"), base.with_suffix(".dat"), base.with_suffix(".mat")) if p.exists()]


def _sha1_files(files: list[Path]) -> str:
    h = hashlib.sha1()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def _chunk_paths(out: Path, chunk: int) -> tuple[Path, Path]:
    return out / "chunks" / f"{chunk:06d}.npy", out / "chunks" / f"{chunk:06d}.json"


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _build_chunk(args: tuple[Path, int, Cohort, dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """Worker: read, preprocess and write one chunk. Runs in a child process."""
    out, chunk, part, prep_dict = args
    prep = Preprocess.from_dict(prep_dict)
    arr = np.zeros((len(part), len(prep.leads), prep.length), dtype=np.float32)
    status: list[dict[str, Any]] = []
    for i in range(len(part)):
        entry: dict[str, Any] = {"record_id": str(part.index.at[i, "record_id"])}
        try:
            rec = part.load(i)
            arr[i] = prep(rec)
            entry.update(ok=True, n_repaired=rec.n_repaired, sha1=_sha1_files(source_files(part.path_of(i))))
        except CardiofmError as exc:
            entry.update(ok=False, error=str(exc))
        status.append(entry)
    npy, js = _chunk_paths(out, chunk)
    _atomic_write(js, lambda fh: fh.write(json.dumps(status).encode()))
    _atomic_write(npy, lambda fh: np.save(fh, arr))
    return chunk, status


def _versions() -> dict[str, str]:
    import scipy
    import wfdb

    return {"cardiofm": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "pandas": pd.__version__, "wfdb": wfdb.__version__, "python": platform.python_version()}


def build_store(cohort: Cohort, out: str | Path, preprocess: Preprocess, *, chunk_size: int = 256,
                workers: int = 1, progress: bool = True) -> BuildReport:
    """Build (or resume, or reuse) the store of ``cohort`` under ``out``.

    An existing complete store with the same manifest is reused as is; one built with other
    parameters or from other inputs is rebuilt. ``out`` must be empty, absent, or a store.
    """
    if preprocess.length is None:
        raise StoreError("a store needs fixed-length signals: set Preprocess.length")
    if chunk_size < 1:
        raise StoreError(f"chunk_size must be positive, got {chunk_size}")
    if len(cohort) == 0:
        raise StoreError("the cohort is empty: nothing to build")
    out = Path(out)
    key = {"format": FORMAT_VERSION, "cardiofm": __version__, "preprocess": preprocess.to_dict(),
           "chunk_size": chunk_size, "cohort_sha1": cohort_fingerprint(cohort), "n_records": len(cohort)}
    _prepare_dir(out, key)
    n_chunks = (len(cohort) + chunk_size - 1) // chunk_size
    todo = [c for c in range(n_chunks) if not all(p.exists() for p in _chunk_paths(out, c))]
    jobs = ((out, c, cohort.subset(np.arange(c * chunk_size, min((c + 1) * chunk_size, len(cohort)))),
             preprocess.to_dict()) for c in todo)
    for _ in _progress(_run(jobs, workers), total=len(todo), enabled=progress, desc=f"building {out.name}"):
        pass
    return _finalise(out, cohort, key, n_chunks, len(todo))


def _prepare_dir(out: Path, key: dict[str, Any]) -> None:
    mpath = out / MANIFEST
    if out.exists() and any(out.iterdir()) and not mpath.exists():
        raise StoreError(f"{out} exists, is not empty and is not a cardiofm store; choose another --out")
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text())
        except ValueError:
            old = {}
        if old.get("key") != key:
            for sub in ("chunks", "cohort"):
                shutil.rmtree(out / sub, ignore_errors=True)
            mpath.unlink()
    (out / "chunks").mkdir(parents=True, exist_ok=True)
    for stale in (out / "chunks").glob("*.tmp*"):  # left by a build that was killed mid-write
        stale.unlink(missing_ok=True)
    if not mpath.exists():
        _write_manifest(out, {"key": key, "status": "building", "versions": _versions()})


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    _atomic_write(out / MANIFEST, lambda fh: fh.write(json.dumps(manifest, indent=1).encode()))


def _run(jobs: Iterator[tuple[Any, ...]], workers: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Run chunk jobs in-process or in a pool, keeping at most 2 jobs per worker in flight."""
    if workers <= 1:
        yield from map(_build_chunk, jobs)
        return
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: set[Future[tuple[int, list[dict[str, Any]]]]] = set()
        for job in jobs:
            pending.add(pool.submit(_build_chunk, job))
            if len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        for f in as_completed(pending):
            yield f.result()


def _progress(it: Iterator[Any], total: int, enabled: bool, desc: str) -> Iterator[Any]:
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc=desc, unit="chunk")


def _finalise(out: Path, cohort: Cohort, key: dict[str, Any], n_chunks: int, built: int) -> BuildReport:
    status: list[dict[str, Any]] = []
    for c in range(n_chunks):
        status.extend(json.loads(_chunk_paths(out, c)[1].read_text()))
    ok = np.array([s["ok"] for s in status], dtype=bool)
    index = cohort.index.copy()
    index["store_row"] = np.arange(len(index))
    index["ok"] = ok
    index["n_repaired"] = [s.get("n_repaired", 0) for s in status]
    full = Cohort(index, cohort.tasks, cohort.source, cohort.root, list(cohort.skipped), dict(cohort.notes))
    failures = [(s["record_id"], s["error"]) for s in status if not s["ok"]]
    usable = full.subset(ok)
    usable.skipped += [Skip(str(cohort.path_of(i)), status[i]["error"]) for i in np.flatnonzero(~ok)]
    tmp = out / "cohort.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    usable.save(tmp)
    shutil.rmtree(out / "cohort", ignore_errors=True)
    os.replace(tmp, out / "cohort")
    digest = hashlib.sha1("".join(s.get("sha1", "-") for s in status).encode()).hexdigest()
    manifest = {"key": key, "status": "complete", "versions": _versions(), "n_ok": int(ok.sum()),
                "n_failed": int((~ok).sum()), "source_sha1": digest,
                "shape": [len(status), len(key["preprocess"]["leads"]), key["preprocess"]["length"]]}
    _write_manifest(out, manifest)
    return BuildReport(out, len(status), int(ok.sum()), built, n_chunks - built, failures)


class Store:
    """Read access to a built store: ``store[i]`` is the signal of cohort row ``i``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.manifest = json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError):
            raise StoreError(f"{self.path}: not a cardiofm store (no readable {MANIFEST})") from None
        if self.manifest.get("status") != "complete":
            raise StoreError(f"{self.path}: the build did not finish; rerun `cardiofm data build` to resume it")
        self.cohort = Cohort.read(self.path / "cohort")
        self.preprocess = Preprocess.from_dict(self.manifest["key"]["preprocess"])
        self.chunk_size = int(self.manifest["key"]["chunk_size"])
        self._rows = self.cohort.index["store_row"].to_numpy(dtype=np.int64)
        self._chunks: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def fs(self) -> float:
        return float(self.preprocess.fs)

    @property
    def leads(self) -> tuple[str, ...]:
        return tuple(self.preprocess.leads)

    @property
    def length(self) -> int:
        return int(self.preprocess.length or 0)

    def _chunk(self, c: int) -> np.ndarray:
        arr = self._chunks.get(c)
        if arr is None:
            arr = np.load(_chunk_paths(self.path, c)[0], mmap_mode="r")
            self._chunks[c] = arr
        return arr

    def __getitem__(self, i: int) -> np.ndarray:
        row = int(self._rows[i])
        return self._chunk(row // self.chunk_size)[row % self.chunk_size]

    def batch(self, rows: np.ndarray) -> np.ndarray:
        """Signals of several cohort rows, ``(len(rows), leads, length)`` float32."""
        return np.stack([self[int(i)] for i in rows]) if len(rows) else np.zeros((0, len(self.leads), self.length),
                                                                                   np.float32)

    def __getstate__(self) -> dict[str, Any]:  # memmaps are reopened in each DataLoader worker
        state = dict(self.__dict__)
        state["_chunks"] = {}
        return state
