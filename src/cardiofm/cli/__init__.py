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
app.command()(run_cli.systems)


def _system_commands() -> None:
    from cardiofm.systems import SYSTEMS

    for system in SYSTEMS.values():
        for command in system.commands:
            app.command()(command)


_system_commands()


def _print_version(value: bool) -> None:
    if value:
        from cardiofm import __version__

        typer.echo(f"cardiofm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print cardiofm's version and exit.")) -> None:
    """cardiofm: clinically grounded ECG foundation models."""


@app.command()
def demo(out: str = typer.Option("runs/demo", help="Run directory for the demo's outputs."),
         workers: int = typer.Option(2, help="Worker processes (cohort generation, store build)."),
         n: int = typer.Option(200, "--n", help="Synthetic records to generate."),
         seed: int = typer.Option(0, help="Random seed.")) -> None:
    """Run the end-to-end demo on generated data and the PTB-XL sample shipped with cardiofm."""
    from cardiofm.paths import check_output_dir

    check_output_dir(out)
    from cardiofm.demo import run_demo

    run_demo(out, workers=workers, n_synthetic=n, seed=seed)


def os_error_line(exc: OSError) -> str:
    """``<strerror>: <filename>`` (and ``-> <filename2>`` for a rename) of an ``OSError``, on one line."""
    line = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None:
        line += f": {exc.filename}"
    if exc.filename2 is not None:
        line += f" -> {exc.filename2}"
    return " ".join(line.split())


def main() -> None:
    """Entry point: user errors print one clear line and exit with status 2, never a traceback.

    An ``OSError`` that escapes a command (disk full, permission lost mid-run, a file removed under it) is
    a problem of the machine, not of cardiofm's code: it gets one line too. Other exceptions are bugs and
    keep their traceback.
    """
    try:
        app()
    except CardiofmError as exc:
        typer.secho(f"cardiofm: error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except OSError as exc:
        typer.secho(f"cardiofm: error: {os_error_line(exc)}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("cardiofm: interrupted", err=True)
        sys.exit(130)
