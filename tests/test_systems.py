"""The system contract: every registered system in one loop, and a sixth system added from this module alone.

The toy system below is what a new paper needs: a LightningModule with its config (registered as a method), a
typed config section, run steps on the generic engine, an analysis step that writes a report section, and one
``register_system`` call. Nothing under ``src/`` is touched; the CLI, the recipe loader and ``cardiofm systems``
find it through the registry.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from cardiofm.config import SYSTEM_SECTIONS, read_recipe, resolve_recipe
from cardiofm.errors import ConfigError
from cardiofm.methods.registry import MethodConfig, get_method, register_method
from cardiofm.systems import SYSTEMS, System, get_system, register_system, unregister_system

from conftest import synthetic_run_data

BUILT_IN = ("anyecg", "clef", "supreme", "cardioprime", "sediff")


# ------------------------------------------------------------------------------ every registered system

@pytest.mark.parametrize("name", BUILT_IN)
def test_registered_system_is_complete(name: str) -> None:
    s = get_system(name)
    assert s.name == name and s.summary and s.paper and s.verb in ("train", "pretrain")
    assert callable(s.run) and s.recipes, "a system runs and ships at least one recipe"
    for step in (s.run, s.analyse, s.demo):
        if step is not None and hasattr(step, "resolve"):
            assert callable(step.resolve()), step  # every lazy reference points at a real function
    for method in s.methods:
        assert get_method(method).config.__dataclass_fields__  # the declared module registers it
    for recipe in s.recipes:
        raw = read_recipe(recipe)
        assert raw.get("system") == name, f"recipe {recipe} names its system"
        for variant in raw.get("variants") or [None]:
            cfg = resolve_recipe(raw, variant)
            assert cfg.system == name and set(cfg.sections) == set(s.sections)
            for key, cls in s.sections.items():
                assert isinstance(cfg.section(key), cls)


def test_the_registry_lists_the_five_papers_and_refuses_a_second_one_by_a_name() -> None:
    assert set(BUILT_IN) <= set(SYSTEMS.names())
    with pytest.raises(ConfigError, match="unknown system 'clefx'; known: .*anyecg"):
        get_system("clefx")
    clone = dataclasses.replace(get_system("clef"), summary="another CLEF")
    with pytest.raises(ConfigError, match="system 'clef' is registered twice"):
        register_system(clone)


def test_a_system_run_by_the_other_verb_is_a_clear_error(tmp_path: Path) -> None:
    from cardiofm.systems import load_config, run_system

    with pytest.raises(ConfigError, match="clef is run by `cardiofm pretrain`"):
        run_system(load_config("clef", None, [f"out={tmp_path / 'r'}"]), "train")


# ------------------------------------------------------------------------------ a sixth system, from here

@dataclass
class ToyConfig(MethodConfig):
    """A linear read-out of each lead's standard deviation (the toy objective)."""

    in_leads: int = 12
    n_labels: int = 1
    label_names: list[str] = field(default_factory=list)
    lr: float = 0.05


@register_method("toy_sd", config=ToyConfig)
class ToyModule(L.LightningModule):
    def __init__(self, config: ToyConfig | dict[str, Any]) -> None:
        super().__init__()
        self.config = config if isinstance(config, ToyConfig) else ToyConfig(**config)
        self.save_hyperparameters({"config": dataclasses.asdict(self.config)})
        self.head = torch.nn.Linear(self.config.in_leads, self.config.n_labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x.std(dim=-1))

    def _loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.nn.functional.binary_cross_entropy_with_logits(self(batch["x"]), batch["y"].float())

    def training_step(self, batch: dict[str, torch.Tensor], _: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], _: int) -> None:
        self.log("val_loss", self._loss(batch), prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.config.lr)


@dataclass
class ToySection:
    """The toy system's own typed section."""

    title: str = "Toy read-out"
    test_records: int = 50


def run_toy(cfg: Any) -> Any:
    from cardiofm.engine.data import split_rows, start_run
    from cardiofm.engine.fit import fit_fold, load_fold_module, predict_rows
    from cardiofm.engine.rundir import run_once

    run, store = start_run(cfg)
    rows = split_rows(store)
    fold = run.path / "model"
    run.update_metrics("training", run_once(fold, lambda: fit_fold(cfg, store, rows, fold, seed=cfg.seed)))
    test = rows["test"][: cfg.section("toy").test_records]
    p = predict_rows([load_fold_module(fold, "toy_sd")], store, test)
    y = store.cohort.labels(cfg.data.task).matrix[test]
    run.update_metrics("toy", {"test_records": len(test), "mean_p": float(p.mean()), "prevalence": float(y.mean())})
    return run


def analyse_toy(run_dir: Path) -> dict[str, Any]:
    from cardiofm.engine.rundir import RunDir
    from cardiofm.report.html import write_report

    run = RunDir.open(run_dir)
    cfg = run.config()
    m = run.metrics()
    write_report(run.path / "report.html", cfg.section("toy").title, cfg.to_dict(), {"toy": m["toy"]}, [])
    return {"summary_line": f"toy: mean p {m['toy']['mean_p']:.3f} on {m['toy']['test_records']} records"}


@pytest.fixture
def toy_system() -> Iterator[System]:
    system = register_system(System(
        name="toy", summary="a linear read-out of lead standard deviations (test system)", verb="train",
        run=run_toy, analyse=analyse_toy, sections={"toy": ToySection}, methods={"toy_sd": __name__},
        paper="none: the README's example"))
    yield system
    unregister_system("toy")
    register_method("toy_sd", config=ToyConfig)(ToyModule)  # the class stays importable for a rerun of the file


def test_a_sixth_system_registers_trains_and_reports_without_touching_src(
        toy_system: System, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    from cardiofm.cli import app

    synth = synthetic_run_data(tmp_path_factory, "toy", 80, 5)
    recipe = tmp_path / "toy.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "toy", "system": "toy", "method": {"name": "toy_sd", "lr": 0.05},
        "trainer": {"max_epochs": 1, "monitor": "val_loss", "mode": "min", "progress": False},
        "data": {"source": "synthetic", "root": synth["root"], "task": "superdiagnostic", "augment": "none",
                 "batch_size": 32, "build_workers": 1},
        "toy": {"title": "Toy read-out of the sixth system", "test_records": 5}}))
    runner = CliRunner()
    listed = runner.invoke(app, ["systems"])
    assert listed.exit_code == 0 and "toy" in listed.output and "lead standard deviations" in listed.output
    out = tmp_path / "run"
    r = runner.invoke(app, ["train", str(recipe), "--out", str(out)])
    assert r.exit_code == 0, r.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training"]["epochs"] == 1 and metrics["toy"]["test_records"] == 5
    assert 0.0 < metrics["toy"]["mean_p"] < 1.0 and np.isfinite(metrics["training"]["best_score"])
    report = (out / "report.html").read_text()
    assert "Toy read-out of the sixth system" in report and "mean_p" in report
    assert yaml.safe_load((out / "config.yaml").read_text())["toy"]["test_records"] == 5
    ev = runner.invoke(app, ["evaluate", str(out)])  # the analysis step alone, found through the registry
    assert ev.exit_code == 0 and "toy: mean p" in ev.output
    bad = runner.invoke(app, ["train", str(recipe), "--out", str(tmp_path / "bad"), "--set", "toy.titel=x"])
    assert bad.exit_code != 0 and "toy: unknown key(s) titel" in str(bad.exception)
    pre = runner.invoke(app, ["pretrain", str(recipe), "--out", str(tmp_path / "pre")])
    assert "toy is run by `cardiofm train`" in str(pre.exception)


def test_unregistering_removes_every_trace(toy_system: System) -> None:
    assert "toy" in SYSTEMS and "toy" in SYSTEM_SECTIONS
    unregister_system("toy")
    assert "toy" not in SYSTEMS and "toy" not in SYSTEM_SECTIONS
    with pytest.raises(ConfigError, match="unknown method 'toy_sd'"):
        get_method("toy_sd")
    register_system(toy_system)  # the fixture's teardown unregisters it again
