"""Store: a directory of preprocessed, fixed-rate, fixed-length signals in chunks, plus the Cohort.

Layout::

    manifest.json        format marker, parameters, versions, cohort fingerprint, status ("building"/"complete")
    cohort/              the Cohort (index.csv with ``store_row`` and ``ok``, labels.npz, cohort.json)
    chunks/000012.npy    float32 (n, leads, length), one file per ``chunk_size`` records
    chunks/000012.json   per-record status (ok / error reason) and source SHA-1
    source_digests.json  cached SHA-1 of each source file (see :mod:`cardiofm.data.fingerprint`)
    .build.lock          held (``flock``) by the one build writing the folder

A chunk counts as done when both of its files exist; each is written under a temporary name and
renamed into place, so a build killed at any moment (SIGKILL included) resumes without redoing
finished chunks and ends with the same bytes as an uninterrupted build. Workers load and write
their own chunks, so the parent's memory does not grow with the number of records; they exit when
their parent dies, so a killed build leaves no process behind.

A folder counts as a store only when its manifest carries the format marker cardiofm writes; a
rebuild removes only the files a store consists of, never anything else in the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm import __version__
from cardiofm.data.cohort import Cohort, Skip
from cardiofm.data.fingerprint import DIGESTS, DigestCache, cohort_fingerprint, source_files
from cardiofm.errors import CardiofmError, LeadError, StoreError
from cardiofm.fileio import load_array, read_json
from cardiofm.pool import worker_pool
from cardiofm.signal.record import normalise_lead_name
from cardiofm.signal.transforms import Preprocess

MANIFEST = "manifest.json"
FORMAT = "cardiofm-store"
FORMAT_VERSION = 2
LOCK = ".build.lock"
_CHUNK_FILE = re.compile(r"^\d{6}\.(npy|json)$")
_COHORT_FILES = ("index.csv", "labels.npz", "cohort.json")


@dataclass
class BuildReport:
    """What a build did: chunks built now vs found done, records that failed and why."""

    path: Path
    n_records: int
    n_ok: int
    chunks_built: int
    chunks_reused: int
    failures: list[tuple[str, str]]


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
    parameters or from other inputs (any changed byte of a source file) is rebuilt. ``out`` must be
    empty, absent, or a store; a second build into the same folder is refused while one runs.
    """
    if preprocess.length is None:
        raise StoreError("a store needs fixed-length signals: set Preprocess.length")
    if chunk_size < 1:
        raise StoreError(f"chunk_size must be positive, got {chunk_size}")
    if len(cohort) == 0:
        raise StoreError("the cohort is empty: nothing to build")
    out = Path(out)
    _check_out(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{out}: cannot create the store folder ({exc.strerror or exc}); "
                         "choose another --out") from None
    with _build_lock(out):
        _check_out(out)  # again, now that no other build can change the folder
        cache = DigestCache.read(out / DIGESTS) if is_store(out) else DigestCache()
        key = {"format": FORMAT_VERSION, "cardiofm": __version__, "preprocess": preprocess.to_dict(),
               "chunk_size": chunk_size, "cohort_sha1": cohort_fingerprint(cohort, cache), "n_records": len(cohort)}
        _prepare_dir(out, key)
        cache.save(out / DIGESTS)
        n_chunks = (len(cohort) + chunk_size - 1) // chunk_size
        todo = [c for c in range(n_chunks) if not all(p.exists() for p in _chunk_paths(out, c))]
        jobs = ((out, c, cohort.subset(np.arange(c * chunk_size, min((c + 1) * chunk_size, len(cohort)))),
                 preprocess.to_dict()) for c in todo)
        for _ in _progress(_run(jobs, workers), total=len(todo), enabled=progress, desc=f"building {out.name}"):
            pass
        return _finalise(out, cohort, key, n_chunks, len(todo))


def _read_manifest(out: Path) -> Any:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_store(path: str | Path) -> bool:
    """True when ``path`` holds a manifest that cardiofm wrote for a store (its format marker), in any state."""
    m = _read_manifest(Path(path))
    if not isinstance(m, dict):
        return False
    if m.get("format") == FORMAT:
        return True
    key = m.get("key")  # format 1 (before the marker): recognised by its full key, to be rebuilt
    return (isinstance(key, dict) and key.get("format") == 1 and {"preprocess", "cohort_sha1", "chunk_size"} <= set(key)
            and m.get("status") in ("building", "complete"))


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise StoreError(f"{out}: is a file, not a folder; choose another --out")
    if out.is_dir() and not is_store(out) and any(p.name != LOCK and not p.name.startswith(f"{MANIFEST}.tmp")
                                                        for p in out.iterdir()):
        why = "its manifest.json was not written by cardiofm" if (out / MANIFEST).exists() else "no store manifest"
        raise StoreError(f"{out} exists, is not empty and is not a cardiofm store ({why}); nothing in it was "
                         "changed; choose another --out")


@contextmanager
def _build_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.build.lock`` for the build (released by the kernel when the process dies).

    A POSIX record lock (``lockf``), not ``flock``: forked pool workers do not inherit it, so a build
    killed with SIGKILL frees the folder at once even while its workers are still exiting."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock
        yield
        return
    fh = open(out / LOCK, "a+")  # noqa: SIM115 - held for the whole build
    try:
        try:
            fcntl.lockf(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StoreError(f"{out}: another cardiofm build is writing this store; wait for it to finish "
                             "or choose another --out") from None
        yield
    finally:
        fh.close()


def _remove_ours(out: Path) -> None:
    """Delete the files a store consists of (chunks, cohort, temporaries), never anything else."""
    chunks = out / "chunks"
    if chunks.is_dir():
        for f in chunks.iterdir():
            if f.is_file() and _CHUNK_FILE.match(f.name.split(".tmp")[0]):
                f.unlink(missing_ok=True)
    for d in [out / "cohort", *out.glob("cohort.tmp*")]:
        if d.is_dir():
            for name in _COHORT_FILES:
                (d / name).unlink(missing_ok=True)
            try:
                d.rmdir()
            except OSError:
                raise StoreError(f"{d}: holds files cardiofm did not write; move them out and rerun") from None


def _pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie, which can write nothing, counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def _clean_stale(out: Path, wait_s: float = 0.0) -> None:
    """Delete chunk temporaries left by a killed build. A file whose writer still runs (a worker of a killed
    build, which exits within a fraction of a second) is waited for up to ``wait_s``; a live one is kept."""
    deadline = time.monotonic() + wait_s
    for stale in sorted((out / "chunks").glob("*.tmp*")):
        pid = stale.name.rsplit(".tmp", 1)[-1]
        if not _CHUNK_FILE.match(stale.name.split(".tmp")[0]):
            continue
        while pid.isdigit() and _pid_alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not pid.isdigit() or not _pid_alive(int(pid)):
            stale.unlink(missing_ok=True)


def _prepare_dir(out: Path, key: dict[str, Any]) -> None:
    old = _read_manifest(out) if is_store(out) else None
    if old is not None and old.get("key") != key:
        # mark the store as being rebuilt before removing its chunks, so a build killed here starts over
        _write_manifest(out, {"format": FORMAT, "key": None, "status": "building", "versions": _versions()})
        _remove_ours(out)
        old = None
    if old is None:  # the manifest comes first: a folder holding anything else is always recognisably a store
        _write_manifest(out, {"format": FORMAT, "key": key, "status": "building", "versions": _versions()})
    (out / "chunks").mkdir(parents=True, exist_ok=True)
    _clean_stale(out, wait_s=3.0)


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    _atomic_write(out / MANIFEST, lambda fh: fh.write(json.dumps(manifest, indent=1).encode()))


def _run(jobs: Iterator[tuple[Any, ...]], workers: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Run chunk jobs in-process or in a pool, keeping at most 2 jobs per worker in flight."""
    if workers <= 1:
        yield from map(_build_chunk, jobs)
        return
    with worker_pool(workers) as pool:
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
        status.extend(read_json(_chunk_paths(out, c)[1], "chunk status file", expect=list))
    ok = np.array([s["ok"] for s in status], dtype=bool)
    index = cohort.index.copy()
    index["store_row"] = np.arange(len(index))
    index["ok"] = ok
    index["n_repaired"] = [s.get("n_repaired", 0) for s in status]
    full = Cohort(index, cohort.tasks, cohort.source, cohort.root, list(cohort.skipped), dict(cohort.notes))
    failures = [(s["record_id"], s["error"]) for s in status if not s["ok"]]
    usable = full.subset(ok)
    usable.skipped += [Skip(str(cohort.path_of(i)), status[i]["error"]) for i in np.flatnonzero(~ok)]
    tmp = out / f"cohort.tmp{os.getpid()}"
    usable.save(tmp)
    for name in _COHORT_FILES:  # replace the cohort's files; anything else there stays
        (out / "cohort").mkdir(exist_ok=True)
        os.replace(tmp / name, out / "cohort" / name)
    tmp.rmdir()
    digest = hashlib.sha1("".join(s.get("sha1", "-") for s in status).encode()).hexdigest()
    manifest = {"format": FORMAT, "key": key, "status": "complete", "versions": _versions(), "n_ok": int(ok.sum()),
                "n_failed": int((~ok).sum()), "source_sha1": digest,
                "shape": [len(status), len(key["preprocess"]["leads"]), key["preprocess"]["length"]]}
    _write_manifest(out, manifest)
    _clean_stale(out)
    return BuildReport(out, len(status), int(ok.sum()), built, n_chunks - built, failures)


class Store:
    """Read access to a built store: ``store[i]`` is the signal of cohort row ``i``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        manifest = _read_manifest(self.path)
        if not is_store(self.path):
            raise StoreError(f"{self.path}: not a cardiofm store (no {MANIFEST} written by cardiofm)")
        if manifest.get("format") != FORMAT:
            raise StoreError(f"{self.path}: a store in an older format; rebuild it with `cardiofm data build`")
        if manifest.get("status") != "complete":
            raise StoreError(f"{self.path}: the build did not finish; rerun `cardiofm data build` to resume it")
        self.manifest = manifest
        try:
            self.preprocess = Preprocess.from_dict(manifest["key"]["preprocess"])
            self.chunk_size = int(manifest["key"]["chunk_size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"{self.path / MANIFEST}: damaged store manifest ({exc!r}); rebuild the store") from None
        self.cohort = Cohort.read(self.path / "cohort")
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

    @property
    def n_leads(self) -> int:
        """Number of leads of every stored signal."""
        return len(self.preprocess.leads)

    def lead_index(self, names: Sequence[str] | str) -> list[int]:
        """Positions of the leads ``names`` (any spelling: ``"avr"`` is aVR) among the store's leads, in order.

        Raises:
            LeadError: a lead is not in this store; the message names it and the store's leads.
        """
        wanted = [normalise_lead_name(n) for n in ([names] if isinstance(names, str) else names)]
        have = self.leads
        missing = list(dict.fromkeys(n for n in wanted if n not in have))
        if missing:
            what = f"lead {missing[0]} is" if len(missing) == 1 else f"leads {', '.join(missing)} are"
            raise LeadError(self.path, f"{what} not in this store (it has {', '.join(have)})")
        return [have.index(n) for n in wanted]

    def n_leads_for(self, leads: Sequence[str] | None) -> int:
        """Input leads a model gets: those of ``leads`` when a lead subset is given (checked to be in the
        store, :class:`LeadError` otherwise), else every lead of the store."""
        return len(self.lead_index(leads)) if leads else self.n_leads

    def rows(self, split: str | Sequence[str] | None = None, task: str | None = None, *,
             labelled_only: bool = True) -> np.ndarray:
        """Store row positions (sorted, int64) of the records in ``split`` (one name or several; ``None``: all).

        A store without a split column counts every record as ``"train"``. With ``task`` and
        ``labelled_only``, only the records that count for the task are kept (those with a label of it;
        every record of a complete task). An unknown task raises :class:`~cardiofm.errors.LabelError`.
        """
        index = self.cohort.index
        keep = np.ones(len(index), dtype=bool)
        if split is not None:
            names = [split] if isinstance(split, str) else [str(s) for s in split]
            have = index["split"].astype(str).to_numpy() if "split" in index else np.full(len(index), "train")
            keep &= np.isin(have, names)
        if task is not None:
            labels = self.cohort.labels(task)
            if labelled_only:
                keep &= labels.labelled()
        return np.flatnonzero(keep).astype(np.int64)

    def _chunk(self, c: int) -> np.ndarray:
        arr = self._chunks.get(c)
        if arr is None:
            arr = load_array(_chunk_paths(self.path, c)[0], "store chunk", mmap=True)
            self._chunks[c] = arr
        return arr

    def __getitem__(self, i: int) -> np.ndarray:
        row = int(self._rows[i])
        return self._chunk(row // self.chunk_size)[row % self.chunk_size]

    def batch(self, rows: np.ndarray) -> np.ndarray:
        """Signals of several cohort rows, ``(len(rows), leads, length)`` float32."""
        if not len(rows):
            return np.zeros((0, self.n_leads, self.length), np.float32)
        return np.stack([self[int(i)] for i in rows])

    def __getstate__(self) -> dict[str, Any]:  # memmaps are reopened in each DataLoader worker
        state = dict(self.__dict__)
        state["_chunks"] = {}
        return state
