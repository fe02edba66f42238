"""The training engine: recipes, run folders, cross-validation, resume, DDP on CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cardiofm.config import load_config, resolve_recipe
from cardiofm.engine.cv import PREDICTIONS, train
from cardiofm.engine.rundir import RunDir
from cardiofm.errors import ConfigError

from conftest import crash_at_epoch, recipe_overrides, synthetic_run_data

RECIPE = Path(__file__).parents[1] / "configs" / "anyecg.yaml"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return synthetic_run_data(tmp_path_factory, "engine", 160, 3)


def tiny(synth: dict[str, str], out: Path, *extra: str) -> list[str]:
    return recipe_overrides(synth, out, "trainer.max_epochs=2", "cv.folds=2", "data.batch_size=32", *extra)


def test_recipe_variants_and_overrides():
    cfg = load_config(RECIPE)
    assert cfg.variant == "synthetic" and cfg.data.task == "stenosis" and cfg.cv.folds == 5
    assert cfg.system == "anyecg" and cfg.section("evaluate").thresholds["LM"] == 0.01
    p = load_config(RECIPE, "ptbxl", ["trainer.max_epochs=3", "data.preprocess.band=[0.5, 30]"])
    assert p.data.source == "ptbxl" and p.data.task == "mi_territory"
    assert p.trainer.max_epochs == 3 and p.data.preprocess.band == (0.5, 30)  # typed: the Preprocess dataclass
    assert p.data.preprocess.fs == 100  # merged, not replaced
    assert p.run_dir == Path("runs/anyecg-ptbxl")


def test_config_sections_belong_to_the_recipes_system():
    from cardiofm.config import config_from_dict

    cfg = load_config(RECIPE)
    assert config_from_dict(cfg.to_dict()) == cfg  # the saved form reads back to the same typed config
    with pytest.raises(ConfigError, match="unknown key 'probe' for system anyecg"):
        load_config(RECIPE, None, ["probe.tasks=[conditions]"])  # CLEF's section in an AnyECG recipe
    with pytest.raises(ConfigError, match="evaluate: unknown key.*n_bootstrap"):
        load_config(RECIPE, None, ["evaluate.n_bootstrap=10"])
    with pytest.raises(ConfigError, match="data.preprocess: unknown key.*sampling_rate"):
        load_config(RECIPE, None, ["data.preprocess.sampling_rate=250"])
    with pytest.raises(ConfigError, match="method supervised: unknown key.*learning_rate"):
        load_config(RECIPE, None, ["method.learning_rate=0.1"])
    with pytest.raises(ConfigError, match="unknown method 'supervize'"):
        load_config(RECIPE, None, ["method={name: supervize}"])
    with pytest.raises(ConfigError, match="unknown system 'nope'"):
        load_config(RECIPE, None, ["system=nope"])
    with pytest.raises(ConfigError, match="has no config section 'generation'"):
        cfg.section("generation")


def test_a_recipe_value_that_contradicts_the_store_is_an_error():
    from cardiofm.engine.fit import with_derived

    fields = {"fs": None, "in_leads": None}
    assert with_derived({"lr": 1.0}, {"fs": 100.0, "in_leads": 12, "tab_dim": 3}, fields, "m") == {
        "lr": 1.0, "fs": 100.0, "in_leads": 12}
    assert with_derived({"fs": 100.0}, {"fs": 100.0}, fields, "m") == {"fs": 100.0}  # agreeing is fine
    with pytest.raises(ConfigError, match=r"method.fs=500.0 contradicts the data \(fs = 100.0\)"):
        with_derived({"fs": 500.0}, {"fs": 100.0}, fields, "m")


def test_recipe_errors_name_the_key(tmp_path: Path):
    with pytest.raises(ConfigError, match="trainer: unknown key.*max_epoch"):
        load_config(RECIPE, None, ["trainer.max_epoch=3"])
    with pytest.raises(ConfigError, match="no variant 'mimic'"):
        load_config(RECIPE, "mimic")
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config(RECIPE, None, ["trainer.max_epochs"])
    with pytest.raises(ConfigError, match="no such recipe"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="model: needs a mapping with a 'name'"):
        resolve_recipe({"model": "net1d_s"})


def test_model_switch_does_not_mix_configs():
    d = yaml.safe_load(RECIPE.read_text())
    d["model"] = {"name": "vit_tiny", "patch_size": 25}
    d["variants"]["synthetic"]["model"] = {"name": "net1d_tiny"}
    assert resolve_recipe(d).model == {"name": "net1d_tiny"}


def test_run_folder_refuses_other_config_and_foreign_folder(tmp_path: Path):
    cfg = load_config(RECIPE, None, [f"out={tmp_path / 'run'}"])
    run = RunDir.create(cfg)
    assert (run.path / "config.yaml").exists()
    RunDir.create(load_config(RECIPE, None, [f"out={tmp_path / 'run'}", "trainer.progress=false"]))  # runtime key
    with pytest.raises(ConfigError, match="another config.*trainer.max_epochs"):
        RunDir.create(load_config(RECIPE, None, [f"out={tmp_path / 'run'}", "trainer.max_epochs=1"]))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a cardiofm run folder"):
        RunDir.create(load_config(RECIPE, None, [f"out={foreign}"]))
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    with pytest.raises(ConfigError, match="not a cardiofm run folder"):
        RunDir.open(foreign)


@pytest.mark.slow
def test_cross_validation_out_of_fold_and_ensemble(synth: dict[str, str], tmp_path: Path):
    run = train(load_config(RECIPE, None, tiny(synth, tmp_path / "cv")))
    f = np.load(run.path / PREDICTIONS)
    folds = np.loadtxt(run.path / "folds.csv", delimiter=",", skiprows=1, dtype=str)
    # every development record is predicted exactly once, by the model that did not train on it
    assert sorted(f["oof_rows"].tolist()) == sorted(folds[:, 2].astype(int).tolist())
    assert f["oof_p"].shape == f["oof_y"].shape == (len(f["oof_rows"]), 4)
    assert ((f["oof_p"] >= 0) & (f["oof_p"] <= 1)).all()
    # no patient in two folds
    by_patient: dict[str, set[str]] = {}
    for _, pid, _, fold in folds:
        by_patient.setdefault(pid, set()).add(fold)
    assert all(len(v) == 1 for v in by_patient.values())
    # the test prediction is the mean of the fold models
    assert f["test_p_folds"].shape[0] == 2
    assert np.allclose(f["test_p"], f["test_p_folds"].mean(0))
    assert set(f["test_rows"]).isdisjoint(f["oof_rows"])
    for k in (1, 2):
        assert (run.path / f"fold{k}" / "checkpoints" / "best.ckpt").exists()
        assert (run.path / f"fold{k}" / "logs" / "attempt0" / "metrics.csv").exists()
        assert (run.path / f"fold{k}" / "encoder" / "model.safetensors").exists()
    m = run.metrics()["training"]
    assert set(m) == {"fold1", "fold2"} and all(0 <= v["best_score"] <= 1 for v in m.values())
    # external data goes through the fold ensemble
    from cardiofm.engine.inference import predict_external

    table = predict_external(run.path, "synthetic", synth["root"], tmp_path / "ext.csv", workers=1)
    assert list(table.columns[2:]) == ["p_RCA", "p_LM", "p_LAD", "p_LCX"]
    test = dict(zip(f["test_record_id"], f["test_p"][:, 0], strict=True))
    got = dict(zip(table["record_id"], table["p_RCA"], strict=True))
    assert all(abs(got[r] - p) < 1e-5 for r, p in test.items())


@pytest.mark.slow
def test_resume_after_interruption_gives_the_same_model(synth: dict[str, str], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    import cardiofm.engine.fit as fit

    extra = ("trainer.max_epochs=4", "cv.run_folds=[1]", "trainer.patience=10")
    whole = train(load_config(RECIPE, None, tiny(synth, tmp_path / "whole", *extra)))

    build = crash_at_epoch(monkeypatch, fit)
    cfg = load_config(RECIPE, None, tiny(synth, tmp_path / "cut", *extra))
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(cfg)
    fold = tmp_path / "cut" / "fold1"
    assert (fold / "checkpoints" / "last.ckpt").exists() and not (fold / "done.json").exists()
    monkeypatch.setattr(fit, "build_trainer", build)
    resumed = train(cfg)
    info = resumed.metrics()["training"]["fold1"]
    assert info["resumed"] is True and info["epochs"] == 4
    a, b = np.load(whole.path / PREDICTIONS), np.load(resumed.path / PREDICTIONS)
    assert np.allclose(a["oof_p"], b["oof_p"], atol=1e-5)
    assert np.allclose(a["test_p"], b["test_p"], atol=1e-5)
    from cardiofm.engine.fit import training_log

    log = training_log(fold)  # both attempts' logs are kept: epochs 0-1 before the crash, 2-3 after it
    assert sorted(log["epoch"].dropna().astype(int).unique()) == [0, 1, 2, 3]


@pytest.mark.slow
def test_ddp_spawn_on_two_cpu_processes_with_pcgrad(synth: dict[str, str], tmp_path: Path):
    extra = ("trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp_spawn", "cv.run_folds=[1]",
             "trainer.max_epochs=1", "method.pcgrad=true")
    run = train(load_config(RECIPE, None, tiny(synth, tmp_path / "ddp", *extra)))
    assert (run.path / "fold1" / "checkpoints" / "best.ckpt").exists()
    info = run.metrics()["training"]["fold1"]
    assert info["epochs"] == 1 and 0 <= info["best_score"] <= 1


def test_a_run_folder_from_before_systems_is_refused_with_the_reason(tmp_path: Path):
    run = tmp_path / "old"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump({"name": "old", "method": {"name": "supervised"},
                                                     "generation": {"k": 5}}))
    with pytest.raises(ConfigError, match=r"config.yaml: config: unknown key 'generation' for system anyecg.*older"):
        RunDir.open(run).config()


def test_clef_and_sediff_take_the_data_derived_method_values_the_same_way():
    """CLEF's lead count and SE-Diff's fs/leads/length come from the data through with_derived: a recipe
    value that contradicts them is an error, not silently overridden (SE-Diff) or silently kept (CLEF)."""
    from types import SimpleNamespace

    import numpy as np

    from cardiofm.systems import load_config
    from cardiofm.systems.clef.pretrain import method_values as clef_values
    from cardiofm.systems.sediff.run import method_values as sediff_values

    assert clef_values(load_config("clef"), 1)["in_leads"] == 1
    with pytest.raises(ConfigError, match=r"method.in_leads=12 contradicts the data \(in_leads = 1\)"):
        clef_values(load_config("clef", None, ["method.in_leads=12"]), 1)

    store = SimpleNamespace(n_leads=12, leads=["I"] * 12, fs=100.0, batch=lambda rows: np.zeros((1, 12, 1000)))
    cond = SimpleNamespace(text=np.zeros((3, 384)), classes=["NORM", "MI"])
    got = sediff_values(load_config("sediff"), store, cond, "vae")
    assert (got["fs"], got["length"], got["text_dim"], got["stage"]) == (100.0, 1000, 384, "vae")
    with pytest.raises(ConfigError, match=r"method.fs=500 contradicts the data \(fs = 100.0\)"):
        sediff_values(load_config("sediff", None, ["method.fs=500"]), store, cond, "diffusion")
