"""Content fingerprints of a cohort's source files, so that a store is rebuilt when any byte changes.

Hashing every file on every build would cost minutes on large databases, so each file's SHA-1 is cached
next to the store (``source_digests.json``) together with its size, modification time, change time and
inode. The cached digest is reused only when all four match; replacing a file (even by one of the same
size, with its modification time copied) changes its change time and so forces a new hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cardiofm.data.cohort import Cohort

DIGESTS = "source_digests.json"


def source_files(path: Path) -> list[Path]:
    """The files a record is made of (header + signal file for WFDB/CinC, the file itself otherwise)."""
    if path.suffix.lower() in {".npy", ".csv"}:
        return [path]
    base = path.with_suffix("") if path.suffix.lower() in {".hea", ".dat", ".mat"} else path
    return [p for p in (base.with_suffix(".hea"), base.with_suffix(".dat"), base.with_suffix(".mat")) if p.exists()]


def sha1_file(path: Path, block: int = 1 << 20) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class DigestCache:
    """SHA-1 of files, remembered by (size, mtime, ctime, inode); loaded from and saved to one JSON file."""

    def __init__(self, entries: dict[str, Any] | None = None) -> None:
        self.entries: dict[str, Any] = dict(entries or {})
        self.used: dict[str, Any] = {}

    @classmethod
    def read(cls, path: Path) -> DigestCache:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()  # absent or damaged: every file is hashed again
        ok = isinstance(raw, dict) and all(isinstance(v, list) and len(v) == 5 for v in raw.values())
        return cls(raw if ok else None)

    def digest(self, f: Path) -> str:
        key = str(f.resolve())
        stat = _stat_key(f.stat())
        hit = self.entries.get(key)
        sha = hit[4] if hit is not None and hit[:4] == stat else sha1_file(f)
        self.used[key] = [*stat, sha]
        return sha

    def save(self, path: Path) -> None:
        """Write the digests used by the last fingerprint (one process per store: the build holds its lock)."""
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.used, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)


def cohort_fingerprint(cohort: Cohort, cache: DigestCache | None = None) -> str:
    """SHA-1 over record ids, paths, readers, rates and the SHA-1 of every source file's bytes."""
    cache = cache or DigestCache()
    h = hashlib.sha1()
    idx = cohort.index
    for i, (rid, rel, reader, fs) in enumerate(zip(idx["record_id"], idx["path"], idx["reader"], idx["fs"],
                                                   strict=True)):
        digests = [cache.digest(f) for f in source_files(cohort.path_of(i))]
        h.update(f"{rid}|{rel}|{reader}|{fs}|{digests}\n".encode())
    return h.hexdigest()
