"""Helpers the benchmark scripts share: cached JSON stages and the generated synthetic cohort."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_json(path: Path) -> Any:
    """A cached stage's output, or None when the stage has not run yet."""
    return json.loads(path.read_text()) if path.exists() else None


def save_json(path: Path, obj: Any) -> None:
    """Write a stage's output atomically (a killed run never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
    tmp.replace(path)


def synthetic_cohort(work: str | Path, n: int) -> Path:
    """The benchmark's synthetic cohort (``n`` records, seed 0, 100 Hz) under ``work/synthetic``, made once."""
    from cardiofm.synth.cohort import generate_cohort

    root = Path(work) / "synthetic"
    if not (root / "cohort.json").exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)  # a generation killed part-way (our own work folder)
        generate_cohort(n, root, seed=0, fs=100.0, workers=2)
    return root
