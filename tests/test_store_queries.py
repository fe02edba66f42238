"""Store queries: lead positions by name, rows by split and task, lead counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiofm.data.cohort import LabelSet
from cardiofm.data.sources import open_cohort
from cardiofm.data.store import Store, build_store
from cardiofm.errors import LabelError, LeadError
from cardiofm.signal.transforms import Preprocess
from test_store import npy_cohort

from conftest import PTBXL

PREP = Preprocess(fs=100.0, length=500)
SPLITS = ["train"] * 6 + ["val"] * 2 + ["test"] * 4


def _store(tmp_path: Path, *, splits: list[str] | None = SPLITS, prep: Preprocess = PREP) -> Store:
    """12 records; task ``t`` labels rows 0, 2, 3, 4, 6, 8, 9, 10 (rows 1, 5, 7, 11 carry no label of it),
    task ``c`` is complete (every row counts)."""
    cohort = npy_cohort(tmp_path / "data", 12, length=1000)
    if splits is None:
        cohort.index = cohort.index.drop(columns="split")
    else:
        cohort.index["split"] = splits
    cohort.tasks["c"] = LabelSet("c", ["x"], ["X"], np.zeros((12, 1), np.uint8), complete=True)
    build_store(cohort, tmp_path / "store", prep, chunk_size=5, progress=False)
    return Store(tmp_path / "store")


def test_lead_index_accepts_any_spelling(tmp_path):
    build_store(open_cohort("ptbxl", PTBXL).subset(np.arange(3)), tmp_path / "s", PREP, progress=False)
    store = Store(tmp_path / "s")
    assert store.lead_index("avr") == [3]
    assert store.lead_index(["AVR", "aVL", " v6 ", "I"]) == [3, 4, 11, 0]
    assert store.lead_index(("II", "II")) == [1, 1]
    assert store.lead_index([]) == []


def test_unknown_lead_is_a_lead_error_naming_it_and_the_store_leads(tmp_path):
    store = _store(tmp_path, prep=Preprocess(fs=100.0, length=500, leads=("I", "II", "V1")))
    assert store.leads == ("I", "II", "V1") and store.lead_index(["v1", "i"]) == [2, 0]
    with pytest.raises(LeadError, match=r"lead V6 is not in this store \(it has I, II, V1\)") as err:
        store.lead_index(["I", "V6"])
    assert str(store.path) in str(err.value)
    with pytest.raises(LeadError, match="leads aVR, V6 are not"):
        store.lead_index(["avr", "V6", "aVR"])


def test_n_leads_and_n_leads_for(tmp_path):
    store = _store(tmp_path)
    assert store.n_leads == 12 == len(store.leads)
    assert store.n_leads_for(None) == 12 and store.n_leads_for([]) == 12
    assert store.n_leads_for(["I"]) == 1 and store.n_leads_for(["avr", "V2"]) == 2
    with pytest.raises(LeadError, match="X9"):
        store.n_leads_for(["X9"])
    assert store.batch(np.array([], np.int64)).shape == (0, 12, 500)


def test_rows_by_split_and_task(tmp_path):
    store = _store(tmp_path)
    np.testing.assert_array_equal(store.rows(), np.arange(12))
    np.testing.assert_array_equal(store.rows("train"), np.arange(6))
    np.testing.assert_array_equal(store.rows("val"), [6, 7])
    np.testing.assert_array_equal(store.rows(["val", "test"]), np.arange(6, 12))
    np.testing.assert_array_equal(store.rows(("test", "train")), [0, 1, 2, 3, 4, 5, 8, 9, 10, 11])
    assert store.rows("nosuch").size == 0 and store.rows("train").dtype == np.int64
    # only the records labelled for the task, unless labelled_only=False
    np.testing.assert_array_equal(store.rows(task="t"), [0, 2, 3, 4, 6, 8, 9, 10])
    np.testing.assert_array_equal(store.rows("train", "t"), [0, 2, 3, 4])
    np.testing.assert_array_equal(store.rows(["val", "test"], "t"), [6, 8, 9, 10])
    np.testing.assert_array_equal(store.rows("train", "t", labelled_only=False), np.arange(6))
    np.testing.assert_array_equal(store.rows("test", "c"), np.arange(8, 12))  # a complete task keeps every row
    with pytest.raises(LabelError, match="nosuch"):
        store.rows("train", "nosuch")


def test_rows_without_a_split_column_count_as_train(tmp_path):
    store = _store(tmp_path, splits=None)
    assert "split" not in store.cohort.index
    np.testing.assert_array_equal(store.rows("train"), np.arange(12))
    np.testing.assert_array_equal(store.rows(["train", "val"], "t"), [0, 2, 3, 4, 6, 8, 9, 10])
    assert store.rows("test").size == 0
