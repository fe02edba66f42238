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


def paired_auroc(p_a: Any, p_b: Any, y: Any, *, groups: Any = None, n_boot: int = 1000, seed: int = 0,
                 class_names: Any = None) -> dict[str, Any]:
    """Macro ΔAUROC (a − b) of two models on the same records (``cardiofm.evaluate.compare``): ``delta``,
    ``ci``, ``p``, both macro AUROCs and ``sign`` (+1 / −1 when the CI excludes 0 on that side, else 0)."""
    import numpy as np

    from cardiofm.evaluate import compare

    c = compare(np.asarray(p_a), np.asarray(p_b), np.asarray(y), class_names=class_names, n_boot=n_boot, seed=seed,
                groups=None if groups is None else np.asarray(groups, dtype=str), max_draws=20_000 * n_boot)
    lo, hi = c.macro_delta_ci or (float("nan"), float("nan"))
    return {"delta": c.macro_delta, "ci": (float(lo), float(hi)), "p": c.macro_delta_p, "value_a": c.macro_auroc_a,
            "value_b": c.macro_auroc_b, "classes": c.n_classes_scored, "sign": 1 if lo > 0 else -1 if hi < 0 else 0}
