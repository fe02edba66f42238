"""``cardiofm train`` / ``evaluate`` / ``predict``: recipes in, run folders out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cardiofm.paths import check_output_dir, check_output_file

RUN_FOLDER = "run folder (--out)"
SET_HELP = "Override one config value, KEY=VALUE with a dotted key (e.g. trainer.max_epochs=3); repeatable."


def _config(recipe: Path, variant: str | None, set_: list[str] | None, out: str | None) -> Any:
    from cardiofm.systems import load_config

    overrides = list(set_ or [])
    if out:
        check_output_dir(out, RUN_FOLDER)  # before the recipe pulls in a method's training stack
        overrides.append(f"out={out}")
    cfg = load_config(recipe, variant, overrides)
    if not out:  # the recipe's own folder (runs/<name>-<variant>, or its out key)
        check_output_dir(cfg.run_dir, RUN_FOLDER)
    return cfg


def systems() -> None:
    """List the systems, the recipes each ships and their variants, one line each."""
    from cardiofm.config import read_recipe
    from cardiofm.systems import SYSTEMS

    for s in SYSTEMS.values():
        typer.echo(f"{s.name:<12} cardiofm {s.verb:<8} {s.summary}")
        for r in s.recipes:
            d = read_recipe(r)
            variants = ", ".join(f"{v} (default)" if v == d.get("default_variant") else v
                                 for v in d.get("variants") or {})
            typer.echo(f"{'':<12}   recipe {r}: {variants or 'no variants'}")


def train(recipe: Path = typer.Argument(..., help="YAML recipe, e.g. configs/anyecg.yaml."),
          variant: str = typer.Option(None, help="Variant of the recipe (default: its default_variant)."),
          set_: list[str] = typer.Option(None, "--set", help=SET_HELP),
          out: str = typer.Option(None, help="Run folder (default runs/<name>-<variant>)."),
          evaluate: bool = typer.Option(True, help="Evaluate and write report.html once trained.")) -> None:
    """Train a recipe (all cross-validation folds); rerun the same command to resume."""
    from cardiofm.systems import get_system, run_system

    cfg = _config(recipe, variant, set_, out)
    run = run_system(cfg, "train")
    typer.echo(f"trained: {run.path}")
    analyse = get_system(cfg.system).analyse
    if evaluate and analyse is not None:
        analyse(run.path)
        typer.echo(f"report: {run.path / 'report.html'}")


def pretrain(recipe: Path = typer.Argument(..., help="YAML recipe, e.g. configs/clef.yaml."),
             variant: str = typer.Option(None, help="Variant of the recipe (default: its default_variant)."),
             set_: list[str] = typer.Option(None, "--set", help=SET_HELP),
             out: str = typer.Option(None, help="Run folder (default runs/<name>-<variant>).")) -> None:
    """Self-supervised pretraining (CLEF, SimCLR, BYOL, MoCo, CardioPRIME, SE-Diff) and its analysis; reruns resume."""
    from cardiofm.systems import run_system

    run = run_system(_config(recipe, variant, set_, out), "pretrain")
    encoder = run.path / "encoder"
    typer.echo(f"pretrained: {encoder if encoder.exists() else run.path}")


def evaluate(run_dir: Path = typer.Argument(..., help="A run folder written by `cardiofm train`.")) -> None:
    """Rerun the analysis of a trained run (the clinical evaluation for supervised systems): metrics.json, plots/,
    report.html."""
    check_output_dir(run_dir, "run folder")  # evaluation writes metrics.json, plots/ and report.html into it
    from cardiofm.engine.rundir import RunDir
    from cardiofm.errors import ConfigError
    from cardiofm.systems import get_system

    system = get_system(RunDir.open(run_dir).config().system)
    if system.analyse is None:
        raise ConfigError(f"{run_dir}: a {system.name} run writes its analysis and report.html while it runs; "
                          f"rerun `cardiofm {system.verb}` on its recipe to complete it")
    metrics = system.analyse(run_dir)
    typer.echo(metrics.get("summary_line", ""))
    typer.echo(f"report: {Path(run_dir) / 'report.html'}")


def predict(run_dir: Path = typer.Argument(..., help="A trained run folder."),
            source: str = typer.Option(..., help="Source layout of the new data (ptbxl, cinc, folder, ...)."),
            root: Path = typer.Option(..., help="Folder of the new data."),
            out: Path = typer.Option(..., help="CSV file for the predictions (one row per record)."),
            opt: list[str] = typer.Option(None, "--opt", help="Source option KEY=VALUE, repeatable.")) -> None:
    """Fold-ensemble inference on external data, preprocessed exactly as the run's training data."""
    check_output_file(out)
    from cardiofm.data.options import parse_options
    from cardiofm.engine.inference import predict_external

    table = predict_external(run_dir, source, root, out, parse_options(opt))
    typer.echo(f"{len(table)} records -> {out}")
