"""`cardiofm pretrain cardioprime` end to end on a small synthetic cohort: run folder, analysis, comparison."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardiofm.config import load_config
from cardiofm.errors import ConfigError
from cardiofm.systems import run_system
from cardiofm.systems.cardioprime.run import compare_runs

from conftest import synthetic_run_data


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return synthetic_run_data(tmp_path_factory, "cardioprime", 100, 5)


def _cfg(synth: dict[str, str], out: Path, *extra: str):
    return load_config("cardioprime", "synthetic", [
        f"out={out}", f"data.root={synth['root']}", f"data.store={synth['store']}", "data.build_workers=1",
        "trainer.max_epochs=2", "trainer.progress=false", "method.hidden=16", "method.jac_points=4",
        "evaluate.n_boot=30", *extra])


def test_integrated_and_baseline_runs_write_the_analysis_and_compare(synth: dict[str, str], tmp_path: Path):
    integ = run_system(_cfg(synth, tmp_path / "integrated"))
    base = run_system(_cfg(synth, tmp_path / "baseline", "method.alpha1=0"))
    for run in (integ, base):
        p = run.path
        for name in ("embeddings.npz", "ode_parameters.csv", "correlations.csv", "best_dimensions.csv", "clusters.csv",
                     "plots/correlations.png", "plots/reconstructions.png", "model/done.json"):
            assert (p / name).exists(), name
        assert (p / "report.html").read_text().count("data:image/png;base64") >= 2
        m = json.loads((p / "metrics.json").read_text())["cardioprime"]
        emb = np.load(p / "embeddings.npz")
        assert emb["mu"].shape == (m["test_records"], 50) and np.isfinite(emb["mu"]).all()
        assert m["k"] == 6 and np.isfinite(m["test_mse"])
        ode = pd.read_csv(p / "ode_parameters.csv")
        assert len(ode) == m["test_records"] and ode["R_a"].between(15, 55).all()
        clusters = pd.read_csv(p / "clusters.csv")
        assert len(clusters) <= 10 and clusters["nmi"].between(0, 1).all()
    ratios = compare_runs(integ.path, base.path, tmp_path / "compare")
    assert ratios["disease"].iloc[-1] == "mean" and (tmp_path / "compare" / "ratios.png").exists()
    again = run_system(_cfg(synth, tmp_path / "integrated"))  # a rerun resumes: nothing is retrained
    assert json.loads((again.path / "model" / "done.json").read_text()) == json.loads(
        (integ.path / "model" / "done.json").read_text())


def test_cardioprime_recipe_checks(synth: dict[str, str], tmp_path: Path):
    with pytest.raises(ConfigError, match="val_mse"):
        run_system(_cfg(synth, tmp_path / "a", "trainer.monitor=val_loss"))
    with pytest.raises(ConfigError, match="tab_dim|alpha1"):
        run_system(_cfg(synth, tmp_path / "b", "data.tabular=null"))
    with pytest.raises(ConfigError, match="retina_x|no columns"):
        run_system(_cfg(synth, tmp_path / "c", "data.tabular=retina_x"))


def test_ecg_features_are_measured_once_per_record(synth: dict[str, str], tmp_path: Path, monkeypatch):
    import cardiofm.physio.delineate as delineate
    from cardiofm.data.store import Store
    from cardiofm.systems.cardioprime.run import ecg_features

    run_system(_cfg(synth, tmp_path / "run"))  # builds the store and caches its test records' features
    store = Store(synth["store"])
    test = np.flatnonzero(store.cohort.index["split"].to_numpy() == "test")
    first = ecg_features(store, test)
    monkeypatch.setattr(delineate, "features_table", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-ran")))
    again = ecg_features(store, test[::-1])  # cached, and returned in the order asked for
    assert list(again["record_id"]) == list(first["record_id"])[::-1]
    pd.testing.assert_frame_equal(again.iloc[::-1].reset_index(drop=True), first.reset_index(drop=True))
