"""`cardiofm pretrain`: CLEF recipe end to end on a small synthetic cohort, resume, errors, probe rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardiofm.config import load_config
from cardiofm.data.store import Store
from cardiofm.errors import ConfigError
from cardiofm.models import load_model
from cardiofm.systems import run_system
from cardiofm.systems.clef.pretrain import first_per_patient

from conftest import crash_at_epoch, recipe_overrides, synthetic_run_data

RECIPE = Path(__file__).parents[1] / "configs" / "clef.yaml"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return synthetic_run_data(tmp_path_factory, "pretrain", 140, 5)


def tiny(synth: dict[str, str], out: Path, *extra: str) -> list[str]:
    return recipe_overrides(synth, out, "trainer.max_epochs=3", "data.batch_size=16", "probe.bootstrap=20",
                            "probe.fractions=[0.1,1.0]", *extra)


def test_clef_recipe_pretrains_saves_an_encoder_and_probes_it(synth: dict[str, str], tmp_path: Path):
    run = run_system(load_config(RECIPE, None, tiny(synth, tmp_path / "clef")))
    info = run.metrics()["pretraining"]
    assert info["objective"] == "clef" and info["epochs"] == 3 and np.isfinite(info["best_val_loss"])
    report = (run.path / "report.html").read_text()  # the system's report: metrics, plots, config
    assert "best_val_loss" in report and "data:image/png;base64" in report and "Content-Security-Policy" in report
    encoder = load_model(run.path / "encoder")
    assert encoder.in_leads == 1  # random lead sampling: a single-lead model
    sources = json.loads((run.path / "sources.json").read_text())
    assert sources[0]["train_records"] > 0 and sum(sources[0]["n_missing_histogram"]) == sources[0]["train_records"]
    probe = pd.read_csv(run.path / "probe.csv")
    assert set(probe["lead"]) == {"I", "II"} and set(probe["task"]) == {"conditions", "stenosis"}
    assert set(probe["fraction"]) == {0.1, 1.0} and (probe["mode"] == "linear").all()
    assert probe["value"].between(0, 1).all()
    full = probe[probe["fraction"] == 1.0]
    assert (full["n_train"] > probe[probe["fraction"] == 0.1]["n_train"].max()).all()
    log = pd.concat([pd.read_csv(f) for f in (run.path / "pretrain" / "logs").glob("attempt*/metrics.csv")])
    epochs = log.dropna(subset=["train_loss_epoch"])["train_loss_epoch"].to_numpy()
    assert epochs[-1] < epochs[0]  # the CLEF loss goes down


def test_pretraining_resumes_after_interruption(synth: dict[str, str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch):
    import cardiofm.engine.fit as fit  # pretraining fits through engine.fit.fit_resumable

    cfg = load_config(RECIPE, None, tiny(synth, tmp_path / "cut", "method.objective=simclr", "probe.tasks=[]"))
    build = crash_at_epoch(monkeypatch, fit)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_system(cfg)
    assert (tmp_path / "cut" / "pretrain" / "checkpoints" / "last.ckpt").exists()
    assert not (tmp_path / "cut" / "encoder").exists()
    monkeypatch.setattr(fit, "build_trainer", build)
    info = run_system(cfg).metrics()["pretraining"]
    assert info["resumed"] is True and info["epochs"] == 3 and "probe" not in run_system(cfg).metrics()


def test_pretrain_config_errors(synth: dict[str, str], tmp_path: Path):
    with pytest.raises(ConfigError, match="system clef trains the method.s. contrastive, not 'supervised'"):
        run_system(load_config(RECIPE, None, tiny(synth, tmp_path / "a", "method={name: supervised}")))
    with pytest.raises(ConfigError, match="mode=min"):
        run_system(load_config(RECIPE, None, tiny(synth, tmp_path / "b", "trainer.mode=max")))
    with pytest.raises(ConfigError, match="validation records"):
        run_system(load_config(RECIPE, None, tiny(synth, tmp_path / "c", "pretrain.val_splits=[nope]")))
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(RECIPE, None, ["pretrain.lead=I"])


def test_first_record_per_patient(synth: dict[str, str]):
    store = Store(synth["store"])
    rows = np.arange(len(store))
    first = first_per_patient(store, rows)
    pids = store.cohort.index["patient_id"].astype(str).to_numpy()
    assert len(first) == len(set(pids)) and len(set(pids[first])) == len(first)
    for r in first:
        assert r == np.flatnonzero(pids == pids[r])[0]
