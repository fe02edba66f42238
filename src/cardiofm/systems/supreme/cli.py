"""``cardiofm zeroshot``: score labels never trained on from their descriptions (a command of the SuPreME system)."""

from __future__ import annotations

from pathlib import Path

import typer

from cardiofm.paths import check_output_file


def zeroshot(run_dir: Path = typer.Argument(..., help="A run folder trained with the supreme recipe."),
             label: list[str] = typer.Option(..., "--label", help="Lexicon code (AFIB), PTB-XL class (MI) or text."),
             source: str = typer.Option(..., help="Source layout of the data to score (ptbxl, cinc, folder, ...)."),
             root: Path = typer.Option(..., help="Folder of the data."),
             out: Path = typer.Option(..., help="CSV file for the probabilities (one row per record)."),
             opt: list[str] = typer.Option(None, "--opt", help="Source option KEY=VALUE, repeatable.")) -> None:
    """Zero-shot classification: score labels never trained on, from their descriptions alone."""
    check_output_file(out)
    from cardiofm.data.options import parse_options
    from cardiofm.systems.supreme.zeroshot import zero_shot

    table = zero_shot(run_dir, label, source, root, out, parse_options(opt))
    typer.echo(f"{len(table)} records x {len(label)} labels -> {out}")
