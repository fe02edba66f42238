"""R peaks cached next to a store: heart rates against the synthetic ground truth, window starts, the loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiofm.data.anchors import PEAKS_FILE, beat_start, beat_windows, store_r_peaks
from cardiofm.errors import ConfigError


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    from cardiofm.data.sources import open_cohort
    from cardiofm.data.store import Store, build_store
    from cardiofm.signal.transforms import Preprocess
    from cardiofm.synth.cohort import generate_cohort

    root = tmp_path_factory.mktemp("anchors")
    generate_cohort(24, root / "syn", seed=4, fs=100.0, workers=1, progress=False)
    cohort = open_cohort("synthetic", root / "syn")
    build_store(cohort, root / "store", Preprocess(fs=100.0, length=1000, band=(0.67, 40.0), normalise="zscore"),
                workers=1, progress=False)
    return Store(root / "store")


def test_heart_rates_match_the_synthetic_truth_and_are_cached(store, monkeypatch):
    sp = store_r_peaks(store)
    truth = store.cohort.index["true_hr"].to_numpy(dtype=float)
    assert np.median(np.abs(sp.hr - truth) / truth) < 0.05 and (store.path / PEAKS_FILE).exists()
    assert all(len(sp.of(i)) >= 5 for i in range(len(store)))  # 10 s at 40+ bpm
    import cardiofm.physio.delineate as delineate

    monkeypatch.setattr(delineate, "r_peaks", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-ran")))
    again = store_r_peaks(store)
    np.testing.assert_array_equal(again.peaks, sp.peaks) and np.testing.assert_array_equal(again.hr, sp.hr)
    with pytest.raises(ConfigError, match="no lead V7"):
        store_r_peaks(store, "V7")


def test_beat_start_picks_fitting_peaks():
    peaks = np.array([50, 300, 700, 950])
    assert beat_start(peaks, 1000, 400) == 50
    rng = np.random.default_rng(0)
    assert {beat_start(peaks, 1000, 400, rng) for _ in range(50)} == {50, 300}  # 700 + 400 > 1000
    assert beat_start(np.array([900]), 1000, 400) == 300  # nothing fits: the centre
    with pytest.raises(ConfigError, match="does not fit"):
        beat_start(peaks, 300, 400)


def test_loader_windows_start_on_r_peaks(store, tmp_path: Path):
    from cardiofm.data.torch import StoreDataModule

    dm = StoreDataModule(store.path, batch_size=4, beat_window=400)
    dm.setup()
    sp = store_r_peaks(store)
    ds = dm.datasets["val"]
    item = ds[0]
    assert int(item["start"]) in set(sp.of(int(ds.rows[0])).tolist()) and float(item["hr"]) > 30
    starts, hr = beat_windows(store, ds.rows, 400)
    assert int(starts[0]) == int(item["start"]) and hr[0] == pytest.approx(float(item["hr"]))
    train = dm.datasets["train"]
    seen = set()
    for epoch in range(6):  # training draws a random fitting peak per epoch
        train.set_epoch(epoch)
        seen.add(int(train[0]["start"]))
    assert len(seen) > 1
