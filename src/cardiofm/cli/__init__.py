"""The ``cardiofm`` command line: one Typer app; commands call library functions."""

from __future__ import annotations

import sys

import typer

from cardiofm.cli import run as run_cli
from cardiofm.cli.data import data_app
from cardiofm.errors import CardiofmError

app = typer.Typer(help="cardiofm: clinically grounded ECG foundation models.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.add_typer(data_app, name="data")
app.command()(run_cli.train)
app.command()(run_cli.pretrain)
app.command()(run_cli.evaluate)
app.command()(run_cli.predict)
app.command()(run_cli.zeroshot)
app.command()(run_cli.generate)


@app.command()
def demo(out: str = typer.Option("runs/demo", help="Run directory for the demo's outputs."),
         workers: int = typer.Option(2, help="Worker processes (cohort generation, store build)."),
         n: int = typer.Option(200, "--n", help="Synthetic records to generate."),
         seed: int = typer.Option(0, help="Random seed.")) -> None:
    """Run the end-to-end demo on generated data and the PTB-XL sample shipped with cardiofm."""
    from cardiofm.demo import run_demo

    run_demo(out, workers=workers, n_synthetic=n, seed=seed)


def main() -> None:
    """Entry point: user errors print one clear line and exit with status 2, never a traceback."""
    try:
        app()
    except CardiofmError as exc:
        typer.secho(f"cardiofm: error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("cardiofm: interrupted", err=True)
        sys.exit(130)
