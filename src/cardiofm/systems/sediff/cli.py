"""``cardiofm generate``: 12-lead ECGs from clinical text (a command of the SE-Diff system)."""

from __future__ import annotations

from pathlib import Path

import typer

from cardiofm.paths import check_output_dir


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
    from cardiofm.systems.sediff.generate import generate as run_generate

    info = run_generate(run, text, out, n=n, age=age, sex=sex, seed=seed, guidance=guidance, steps=steps)
    typer.echo(f"{info['n']} ECGs -> {out} (findings read from the text: {', '.join(info['query_codes']) or 'none'})")
