"""SE-Diff's conditioning inputs on hand-made cohorts: texts, metadata, views, retrieval, classes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cardiofm.systems.sediff.conditions import OTHER, record_classes, record_meta, record_texts, record_views, retrieve
from cardiofm.systems.sediff.generate import text_codes


def _index() -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": ["r0", "r1", "r2", "r3", "r4"], "patient_id": ["p0", "p0", "p1", "p2", "p3"],
        "age": [70, 71, "n/a", 50, 60], "sex": ["F", "female", "M", None, "x"],
        "report": ["sinus rhythm", None, "AF", "", "normal"],
        "ehr_diagnoses": ["I48;I10", "I48", "I10", None, "E11.9"],
        "ehr_medications": ["B01AF01", "B01AF01", "", None, "A10BA02"]})


def test_texts_meta_and_views():
    idx = _index()
    found = [["AFIB"], [], ["AFIB", "LVH"], [], ["NORM"]]
    texts = record_texts(idx, found, {"AFIB": "atrial fibrillation", "LVH": "left ventricular hypertrophy"})
    assert texts[0] == "atrial fibrillation. sinus rhythm" and texts[1] == "" and texts[3] == ""
    assert texts[2] == "atrial fibrillation; left ventricular hypertrophy. AF" and texts[4] == "NORM. normal"
    meta = record_meta(idx)
    assert meta[0].tolist() == [70.0, 0.0] and meta[2, 1] == 1.0 and math.isnan(meta[2, 0])
    assert math.isnan(meta[3, 1]) and math.isnan(meta[4, 1])
    views = record_views(idx, found)
    assert views["diagnoses"][0] == {"I48", "I10", "AFIB"} and views["procedures"][0] == frozenset()
    assert views["medications"][3] == frozenset()


def test_retrieval_never_returns_the_query_patient_and_ranks_by_similarity():
    idx = _index()
    found = [["AFIB"], ["AFIB"], ["AFIB"], [], ["NORM"]]
    views = record_views(idx, found)
    train = np.arange(5)
    nbrs, sims = retrieve(views, train, idx["patient_id"].tolist(), k=2)
    assert 1 not in nbrs[0] and 0 not in nbrs[0]  # r1 is the same patient as r0
    assert nbrs[0][0] == 2 and sims[0][0] > sims[0][1]
    assert all(len(n) == 2 for n in nbrs) and all(s[0] >= s[1] for s in sims)
    q, qs = retrieve(views, train, idx["patient_id"].tolist(), k=3, query_views={"diagnoses": [frozenset({"I48"})]},
                     query_patients=["new"])
    assert q[0][:2] == [1, 0] and qs[0][:2] == [0.5, 1 / 3]  # {I48, AFIB} above {I48, I10, AFIB}


def test_classes_take_the_rarest_frequent_label():
    found = [["SR", "LVH"], ["SR"], ["SR", "LVH"], ["SR", "AFIB"], [], ["SR", "LVH"]]
    cls, names = record_classes(found, np.arange(6), min_records=2)
    assert names == ["LVH", "SR", OTHER]
    assert [names[c] for c in cls] == ["LVH", "SR", "LVH", "SR", OTHER, "LVH"]  # AFIB has too few records


def test_text_codes_reads_findings_and_icd_codes():
    codes = text_codes("sinus bradycardia, first degree AV block; history of I48 and E11.9", ["SBRAD", "LVH"])
    assert {"SBRAD", "1AVB", "I48", "E11.9"} <= set(codes)
    assert "AFIB" not in text_codes("no atrial fibrillation", [])
