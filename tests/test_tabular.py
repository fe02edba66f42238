"""Clinical table columns as model inputs: modality columns, two-valued text, training-set standardisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardiofm.data.tabular import Standardiser, modality_columns, numeric_table
from cardiofm.errors import ConfigError


def test_modality_columns_by_prefix_or_list():
    idx = pd.DataFrame({"dexa_fat": [1.0], "dexa_bmd": [2.0], "cgm_mean": [3.0], "age": [50], "sex": ["F"]})
    assert modality_columns(idx, "dexa") == ["dexa_fat", "dexa_bmd"]
    assert modality_columns(idx, ["age", "sex"]) == ["age", "sex"]
    with pytest.raises(ConfigError, match="prefixes: cgm, dexa"):
        modality_columns(idx, "retina")
    with pytest.raises(ConfigError, match="height"):
        modality_columns(idx, ["age", "height"])


def test_numeric_table_maps_two_valued_text_and_keeps_missing_as_nan():
    idx = pd.DataFrame({"sex": ["M", "F", None, "F"], "w": ["70", "x", 80, np.inf]})
    t = numeric_table(idx, ["sex", "w"])
    np.testing.assert_array_equal(t[:, 0], [1.0, 0.0, np.nan, 0.0])  # sorted levels: F -> 0, M -> 1
    np.testing.assert_array_equal(t[:, 1], [70.0, np.nan, 80.0, np.nan])
    with pytest.raises(ConfigError, match="two-valued"):
        numeric_table(pd.DataFrame({"c": ["a", "b", "c"]}), ["c"])


def test_standardiser_uses_training_statistics_and_fills_missing_with_the_mean():
    train = np.array([[1.0, 5.0], [3.0, 5.0], [np.nan, 5.0]])
    st = Standardiser.fit(train, ["a", "b"])
    np.testing.assert_allclose(st.mean, [2.0, 5.0]) and np.testing.assert_allclose(st.scale, [1.0, 1.0])
    z = st.apply(np.array([[4.0, 6.0], [np.nan, np.nan]]))
    np.testing.assert_allclose(z, [[2.0, 1.0], [0.0, 0.0]])  # constant column: centred only
    assert z.dtype == np.float32
    with pytest.raises(ConfigError, match="no value"):
        Standardiser.fit(np.array([[np.nan], [np.nan]]), ["c"])


def test_datamodule_adds_the_standardised_vector_with_training_statistics(tmp_path: Path):
    from cardiofm.data.sources import open_cohort
    from cardiofm.data.store import build_store
    from cardiofm.data.torch import StoreDataModule
    from cardiofm.signal.transforms import Preprocess
    from cardiofm.synth.cohort import generate_cohort

    generate_cohort(30, tmp_path / "syn", seed=2, fs=100.0, workers=1, progress=False)
    cohort = open_cohort("synthetic", tmp_path / "syn")
    build_store(cohort, tmp_path / "store", Preprocess(fs=100.0, length=1000), workers=1, progress=False)
    dm = StoreDataModule(tmp_path / "store", batch_size=8, tabular="dexa")
    dm.setup()
    train, val = dm.datasets["train"], dm.datasets["val"]
    assert val.standardiser is train.standardiser and len(train.standardiser.columns) == 8
    item = val[0]
    raw = numeric_table(val.store.cohort.index.iloc[val.rows[:1]], list(train.standardiser.columns))
    np.testing.assert_allclose(item["tab"].numpy(), train.standardiser.apply(raw)[0], atol=1e-6)
    assert abs(float(train.tab.mean())) < 0.2  # training rows are centred
    batch = next(iter(dm.train_dataloader()))
    assert batch["tab"].shape == (8, 8) and batch["x"].shape[0] == 8
