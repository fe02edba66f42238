"""``cardiofm train`` / ``evaluate`` / ``predict``: recipes in, run folders out."""

from __future__ import annotations

from pathlib import Path

import typer

from cardiofm.paths import check_output_dir, check_output_file

RUN_FOLDER = "run folder (--out)"
SET_HELP = "Override one config value, KEY=VALUE with a dotted key (e.g. trainer.max_epochs=3); repeatable."


def train(recipe: Path = typer.Argument(..., help="YAML recipe, e.g. configs/anyecg.yaml."),
          variant: str = typer.Option(None, help="Variant of the recipe (default: its default_variant)."),
          set_: list[str] = typer.Option(None, "--set", help=SET_HELP),
          out: str = typer.Option(None, help="Run folder (default runs/<name>-<variant>)."),
          evaluate: bool = typer.Option(True, help="Evaluate and write report.html once trained.")) -> None:
    """Train a recipe (all cross-validation folds); rerun the same command to resume."""
    from cardiofm.config import load_config

    overrides = list(set_ or [])
    if out:
        overrides.append(f"out={out}")
    cfg = load_config(recipe, variant, overrides)
    check_output_dir(cfg.run_dir, RUN_FOLDER)
    from cardiofm.engine.cv import train as run_train

    run = run_train(cfg)
    typer.echo(f"trained: {run.path}")
    if evaluate:
        from cardiofm.engine.evaluation import evaluate_run

        evaluate_run(run.path)
        typer.echo(f"report: {run.path / 'report.html'}")


def pretrain(recipe: Path = typer.Argument(..., help="YAML recipe, e.g. configs/clef.yaml."),
             variant: str = typer.Option(None, help="Variant of the recipe (default: its default_variant)."),
             set_: list[str] = typer.Option(None, "--set", help=SET_HELP),
             out: str = typer.Option(None, help="Run folder (default runs/<name>-<variant>).")) -> None:
    """Self-supervised pretraining (CLEF, SimCLR, BYOL, MoCo, CardioPRIME, SE-Diff) and its analysis; reruns resume."""
    from cardiofm.config import load_config

    overrides = list(set_ or [])
    if out:
        overrides.append(f"out={out}")
    cfg = load_config(recipe, variant, overrides)
    check_output_dir(cfg.run_dir, RUN_FOLDER)
    from cardiofm.engine.pretrain import pretrain as run_pretrain

    run = run_pretrain(cfg)
    encoder = run.path / "encoder"
    typer.echo(f"pretrained: {encoder if encoder.exists() else run.path}")


def evaluate(run_dir: Path = typer.Argument(..., help="A run folder written by `cardiofm train`.")) -> None:
    """Run the clinical evaluation of a trained run: metrics.json, plots/ and report.html."""
    check_output_dir(run_dir, "run folder")  # evaluation writes metrics.json, plots/ and report.html into it
    from cardiofm.engine.evaluation import evaluate_run

    metrics = evaluate_run(run_dir)
    typer.echo(metrics.get("summary_line", ""))
    typer.echo(f"report: {Path(run_dir) / 'report.html'}")


def predict(run_dir: Path = typer.Argument(..., help="A trained run folder."),
            source: str = typer.Option(..., help="Source layout of the new data (ptbxl, cinc, folder, ...)."),
            root: Path = typer.Option(..., help="Folder of the new data."),
            out: Path = typer.Option(..., help="CSV file for the predictions (one row per record)."),
            opt: list[str] = typer.Option(None, "--opt", help="Source option KEY=VALUE, repeatable.")) -> None:
    """Fold-ensemble inference on external data, preprocessed exactly as the run's training data."""
    check_output_file(out)
    from cardiofm.cli.data import parse_options
    from cardiofm.engine.inference import predict_external

    table = predict_external(run_dir, source, root, out, parse_options(opt))
    typer.echo(f"{len(table)} records -> {out}")


def zeroshot(run_dir: Path = typer.Argument(..., help="A run folder trained with the supreme recipe."),
             label: list[str] = typer.Option(..., "--label", help="Lexicon code (AFIB), PTB-XL class (MI) or text."),
             source: str = typer.Option(..., help="Source layout of the data to score (ptbxl, cinc, folder, ...)."),
             root: Path = typer.Option(..., help="Folder of the data."),
             out: Path = typer.Option(..., help="CSV file for the probabilities (one row per record)."),
             opt: list[str] = typer.Option(None, "--opt", help="Source option KEY=VALUE, repeatable.")) -> None:
    """Zero-shot classification: score labels never trained on, from their descriptions alone."""
    check_output_file(out)
    from cardiofm.cli.data import parse_options
    from cardiofm.engine.zeroshot import zero_shot

    table = zero_shot(run_dir, label, source, root, out, parse_options(opt))
    typer.echo(f"{len(table)} records x {len(label)} labels -> {out}")


def generate(text: str = typer.Argument(..., help="Clinical text, e.g. \"sinus bradycardia, first degree AV block\"."),
             run: Path = typer.Option(Path("runs/sediff-synthetic"), help="A trained SE-Diff run folder."),
             out: Path = typer.Option(..., help="Folder for the WFDB records, plots and generation.json."),
             n: int = typer.Option(4, "--n", help="Number of ECGs to generate."),
             age: float = typer.Option(None, help="Age in years (default: unknown)."),
             sex: str = typer.Option(None, help="F or M (default: unknown)."),
             seed: int = typer.Option(0, help="Random seed: the same seed gives the same ECGs."),
             guidance: float = typer.Option(None, help="Classifier-free guidance scale (default: the run's)."),
             steps: int = typer.Option(None, help="DDIM steps (default: the run's).")) -> None:
    """Generate 12-lead ECGs from clinical text with an SE-Diff run (WFDB + clinical-layout plots)."""
    check_output_dir(out)
    from cardiofm.engine.generate import generate as run_generate

    info = run_generate(run, text, out, n=n, age=age, sex=sex, seed=seed, guidance=guidance, steps=steps)
    typer.echo(f"{info['n']} ECGs -> {out} (findings read from the text: {', '.join(info['query_codes']) or 'none'})")
