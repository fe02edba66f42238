"""Several sources as one cohort: e.g. PTB-XL's records and the synthetic cohort's, pretrained on together.

Options: ``parts``, a list of ``{"source": name, "root": folder, "options": {...}, "name": tag}`` (``name``
defaults to the source). Each part is scanned by its own source and keeps its own splits; record and
patient ids are prefixed with the part's name (``ptbxl:1042``), so that two parts can never share a
patient, and a ``part`` column says where each row came from. Paths become absolute, so one store
reads every part.

Tasks: a task that every part has is kept, its vocabulary the union of the parts' codes (first part's
order, then new codes); a part that lacks a code has zeros there, which are negatives only where that
part's task is ``complete``. Tasks that some part lacks are dropped. Report-derived tasks (``entities``)
come from a label step over the joined reports (:mod:`cardiofm.data.labellers`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.data.cohort import Cohort, LabelSet
from cardiofm.data.sources.base import Source, open_cohort, register_source
from cardiofm.errors import ConfigError, SourceError


def _parts(parts: Any) -> list[dict[str, Any]]:
    if not isinstance(parts, list) or not parts:
        raise ConfigError("source union: options.parts must be a non-empty list of "
                          "{source: name, root: folder, options: {...}}")
    out, names = [], set()
    for i, p in enumerate(parts):
        if not isinstance(p, dict) or "source" not in p or "root" not in p:
            raise ConfigError(f"source union: part {i} must give 'source' and 'root', got {p!r}")
        unknown = set(p) - {"source", "root", "options", "name"}
        if unknown:
            raise ConfigError(f"source union: part {i} has unknown key(s) {', '.join(sorted(unknown))}")
        name = str(p.get("name") or p["source"])
        if name in names:
            raise ConfigError(f"source union: two parts are named {name!r}; give each a distinct 'name'")
        names.add(name)
        out.append({"source": str(p["source"]), "root": Path(p["root"]), "options": dict(p.get("options") or {}),
                    "name": name})
    return out


def merge_tasks(cohorts: list[Cohort]) -> dict[str, LabelSet]:
    """The tasks every cohort has, each over the union of the cohorts' codes, rows stacked in cohort order."""
    shared = [t for t in cohorts[0].tasks if all(t in c.tasks for c in cohorts[1:])]
    out = {}
    for task in shared:
        sets = [c.tasks[task] for c in cohorts]
        codes: list[str] = []
        descriptions: dict[str, str] = {}
        for ls in sets:
            for code, desc in zip(ls.codes, ls.descriptions, strict=True):
                if code not in descriptions:
                    codes.append(code)
                    descriptions[code] = desc
        col = {c: j for j, c in enumerate(codes)}
        blocks = []
        for ls in sets:
            m = np.zeros((ls.matrix.shape[0], len(codes)), dtype=ls.matrix.dtype)
            m[:, [col[c] for c in ls.codes]] = ls.matrix
            blocks.append(m)
        out[task] = LabelSet(task, codes, [descriptions[c] for c in codes], np.concatenate(blocks),
                             complete=all(ls.complete for ls in sets))
    return out


@register_source("union")
class Union(Source):
    """Rows of several sources in one cohort (options.parts)."""

    description = "several sources as one cohort (options.parts: [{source, root, options}])"
    needs_root = False

    def scan(self, root: Path | None, *, parts: Any = None, follow_links: bool | None = None,
             **options: Any) -> Cohort:
        specs = _parts(parts)
        if follow_links is not None:  # the union's own follow_links is the default of every part
            for p in specs:
                p["options"].setdefault("follow_links", follow_links)
        cohorts, frames, skipped = [], [], []
        for p in specs:
            try:
                c = open_cohort(p["source"], p["root"], **p["options"])
            except SourceError as exc:
                raise SourceError(f"source union, part {p['name']!r}: {exc}") from None
            idx = c.index.copy()
            for col in ("record_id", "patient_id"):
                idx[col] = p["name"] + ":" + idx[col].astype(str)
            idx["path"] = [str(c.path_of(i).resolve()) for i in range(len(c))]
            idx["part"] = p["name"]
            cohorts.append(c)
            frames.append(idx)
            skipped += c.skipped
        with_split = ["split" in f for f in frames]
        if any(with_split) and not all(with_split):
            lacking = [p["name"] for p, w in zip(specs, with_split, strict=True) if not w]
            raise ConfigError(f"source union: part(s) {', '.join(lacking)} have no train/val/test splits while "
                              "others do; give them folds (their source's folds option) or split none")
        index = pd.concat(frames, ignore_index=True, sort=False)
        notes = {"parts": [{"name": p["name"], "source": p["source"], "root": str(p["root"]), "records": len(c),
                            "notes": c.notes} for p, c in zip(specs, cohorts, strict=True)]}
        cohort = Cohort(index, merge_tasks(cohorts), "union", None, skipped, notes)
        if "split" in index:
            cohort.check_leakage()
        return cohort
