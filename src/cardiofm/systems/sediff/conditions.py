"""SE-Diff's training inputs from a store: texts, metadata, retrieved reports, average cycles, classes and eta.

* **Text** ``t`` of a record: the descriptions of its labels in ``data.task`` joined by "; ", then its report.
* **Metadata** ``m``: age and sex (``NaN`` when unknown; see :func:`cardiofm.systems.sediff.module.meta_features`).
* **Retrieved report** ``r``: the record's EHR views (diagnoses = ``ehr_diagnoses`` plus its label codes,
  medications, procedures) are compared with every *training* record's by tri-view Jaccard similarity
  (:mod:`cardiofm.clinical.retrieval`); the top ``k``, never the same patient, are summarised into a 60-120-word
  report (:mod:`cardiofm.text.summary`). Sources without EHR columns (PTB-XL) retrieve on their labels only.
* **Average cycle** per record: the median phase-normalised cycle (:func:`cardiofm.physio.cycles.average_cycle`)
  around the store's cached R peaks of lead II; ``beat_ok`` is false when the record has no usable beat.
* **Class** per record: its least frequent label among those with ``min_class_records`` training records (the
  most specific statement), else ``_other``. ``eta`` per (class, lead) is McSharry's model fitted to the median
  of the class's training cycles (:func:`cardiofm.physio.cycles.fit_cycle_params`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm.clinical.retrieval import VIEWS, parse_codes, tri_view_similarity
from cardiofm.data.store import Store

OTHER = "_other"
EHR_COLUMNS = {"diagnoses": "ehr_diagnoses", "medications": "ehr_medications", "procedures": "ehr_procedures"}


def label_codes(matrix: np.ndarray, codes: Sequence[str]) -> list[list[str]]:
    return [[codes[j] for j in np.flatnonzero(row > 0)] for row in np.asarray(matrix)]


def record_texts(index: pd.DataFrame, found: Sequence[Sequence[str]], describe: dict[str, str]) -> list[str]:
    """Label descriptions then the report of every record (an empty string when it has neither)."""
    reports = index["report"].fillna("").astype(str).tolist() if "report" in index else [""] * len(index)
    out = []
    for codes, report in zip(found, reports, strict=True):
        head = "; ".join(describe.get(c, c) for c in codes)
        out.append(". ".join(p for p in (head, report.strip()) if p))
    return out


def record_meta(index: pd.DataFrame) -> np.ndarray:
    """``(N, 2)`` float: age (years) and male (1/0), NaN when unknown."""
    n = len(index)
    age = pd.to_numeric(index["age"], errors="coerce").to_numpy(float) if "age" in index else np.full(n, np.nan)
    if "sex" in index:
        s = index["sex"].astype(str).str.strip().str.upper().str[:1]
        male = np.where(s == "M", 1.0, np.where(s == "F", 0.0, np.nan))
    else:
        male = np.full(len(index), np.nan)
    return np.stack([age, male], axis=1)


def record_views(index: pd.DataFrame, found: Sequence[Sequence[str]]) -> dict[str, list[frozenset[str]]]:
    """The three EHR views per record; the labels join the diagnoses (they are the ECG's diagnoses)."""
    views: dict[str, list[frozenset[str]]] = {}
    for view in VIEWS:
        col = EHR_COLUMNS[view]
        sets = [parse_codes(v) for v in index[col]] if col in index else [frozenset()] * len(index)
        if view == "diagnoses":
            sets = [s | frozenset(f) for s, f in zip(sets, found, strict=True)]
        views[view] = sets
    return views


def retrieve(views: dict[str, list[frozenset[str]]], train_rows: np.ndarray, patients: Sequence[str], k: int,
             query_views: dict[str, list[frozenset[str]]] | None = None,
             query_patients: Sequence[str] | None = None) -> tuple[list[list[int]], list[list[float]]]:
    """Top-``k`` training records (indices into all records) and their similarity, per query record."""
    train = {v: [s[i] for i in train_rows] for v, s in views.items()}
    queries = views if query_views is None else query_views
    known = {v: s for v, s in train.items() if v in queries}
    sim = tri_view_similarity(known, queries={v: queries[v] for v in known})
    qp = np.asarray([str(p) for p in (patients if query_patients is None else query_patients)])
    tp = np.asarray([str(patients[i]) for i in train_rows])
    idx, sims = [], []
    for i in range(sim.shape[0]):
        s = np.where(tp == qp[i], -np.inf, sim[i])  # never the query's own patient
        order = [j for j in np.lexsort((np.arange(len(s)), -s)) if np.isfinite(s[j])][:k]
        idx.append([int(train_rows[j]) for j in order])
        sims.append([float(sim[i, j]) for j in order])
    return idx, sims


def summaries(index: pd.DataFrame, neighbours: list[list[int]], sims: list[list[float]],
              found: Sequence[Sequence[str]], summariser: Any, queries: Sequence[str] | None = None) -> list[str]:
    """The retrieved-report text of every query (``neighbours`` index rows of ``index``)."""
    from cardiofm.text.summary import neighbours_from_table

    table = index.reset_index(drop=True)
    out = []
    for q, (rows, s) in enumerate(zip(neighbours, sims, strict=True)):
        nb = neighbours_from_table(table, rows, s, findings=[found[r] for r in rows])
        out.append(summariser.summarise(nb, None if queries is None else queries[q]))
    return out


def record_classes(found: Sequence[Sequence[str]], train_rows: np.ndarray, min_records: int) -> tuple[np.ndarray,
                                                                                                      list[str]]:
    """Class index per record and the class names (:data:`OTHER` last)."""
    counts: dict[str, int] = {}
    for i in train_rows:
        for c in found[i]:
            counts[c] = counts.get(c, 0) + 1
    names = sorted(c for c, n in counts.items() if n >= min_records)
    pos = {c: j for j, c in enumerate(names)}
    cls = []
    for codes in found:
        kept = [c for c in codes if c in pos]
        cls.append(pos[min(kept, key=lambda c: (counts[c], c))] if kept else len(names))
    return np.asarray(cls, dtype=np.int64), [*names, OTHER]


def average_cycles(store: Store, n_phase: int) -> tuple[np.ndarray, np.ndarray]:
    """``(N, leads, n_phase)`` median cycles of every store row (zeros where none) and the ``ok`` flags."""
    from cardiofm.data.anchors import store_r_peaks
    from cardiofm.physio.cycles import average_cycle

    peaks = store_r_peaks(store, "II")
    out = np.zeros((len(store), store.n_leads, n_phase), np.float32)
    ok = np.zeros(len(store), bool)
    for i in range(len(store)):
        c = average_cycle(np.asarray(store[i], dtype=np.float64), store.fs, peaks.of(i), n_phase=n_phase)
        if np.isfinite(c).all():
            out[i], ok[i] = c, True
    return out, ok


def fit_class_eta(cycles: np.ndarray, ok: np.ndarray, cls: np.ndarray, train_rows: np.ndarray,
                  n_classes: int) -> tuple[np.ndarray, pd.DataFrame]:
    """eta ``(n_classes, leads, 25)`` fitted to each class's median training cycle, and the fit errors."""
    from cardiofm.physio.cycles import fit_cycle_params

    leads = cycles.shape[1]
    targets, rows = [], []
    fallback = np.median(cycles[train_rows[ok[train_rows]]], axis=0)
    for c in range(n_classes):
        members = train_rows[(cls[train_rows] == c) & ok[train_rows]]
        targets.append(np.median(cycles[members], axis=0) if len(members) else fallback)
        rows.append(len(members))
    fit = fit_cycle_params(np.concatenate(targets).reshape(n_classes * leads, -1))
    eta = fit.params.reshape(n_classes, leads, -1).astype(np.float32)
    errors = pd.DataFrame({"class": np.repeat(np.arange(n_classes), leads),
                           "lead": np.tile(np.arange(leads), n_classes),
                           "records": np.repeat(rows, leads), "rmse_mv": fit.rmse,
                           "relative_rmse": fit.relative_rmse})
    return eta, errors


@dataclass
class Conditions:
    """Everything SE-Diff conditions on, one row per store record."""

    text: np.ndarray         # (N, text_dim) embeddings of the record texts
    retrieved: np.ndarray    # (N, text_dim) embeddings of the retrieved reports
    meta: np.ndarray         # (N, 2) age, male
    cls: np.ndarray          # (N,) class index
    classes: list[str]
    table: pd.DataFrame      # record_id, class, text, report (retrieved), neighbours

    def save(self, folder: Path) -> None:
        np.savez(folder / "conditions.npz", text=self.text, retrieved=self.retrieved, meta=self.meta, cls=self.cls,
                 classes=np.asarray(self.classes))
        self.table.to_csv(folder / "conditions.csv", index=False)

    @classmethod
    def load(cls, folder: Path) -> Conditions:
        from cardiofm.fileio import load_arrays, read_table

        z = load_arrays(folder / "conditions.npz", "conditioning file", ("text", "retrieved", "meta", "cls", "classes"))
        return cls(z["text"], z["retrieved"], z["meta"], z["cls"], [str(c) for c in z["classes"]],
                   read_table(folder / "conditions.csv", "conditioning table", dtype=str, keep_default_na=False))
