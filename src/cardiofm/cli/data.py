"""``cardiofm data ...``: inspect sources, build stores, plot records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cardiofm.data.options import parse_options
from cardiofm.errors import ConfigError
from cardiofm.paths import check_output_dir, check_output_file

if TYPE_CHECKING:
    from cardiofm.data.cohort import Cohort

data_app = typer.Typer(help="Inspect data sources, build stores, plot records.", no_args_is_help=True)

SOURCE_HELP = "Source layout: ptbxl, cinc, mimic or folder (own data)."


OPT_HELP = "Source option KEY=VALUE, repeatable (e.g. labels=meta.csv, folds=5, label_columns=AF,LBBB)."
LINKS_HELP = ("Read files through symbolic links that lead outside --root (same as --opt follow_links=true); "
              "'..' and absolute paths stay refused.")


LABELLER_HELP = "Label step to apply after opening, repeatable (entities: tasks from the free-text reports)."


def _open(source: str, root: Path, fs: float | None, validate: bool, workers: int,
          options: list[str] | None = None, follow_links: bool = False, labellers: list[str] | None = None) -> Cohort:
    from cardiofm.data.labellers import apply_labellers
    from cardiofm.data.sources import open_cohort

    opts = parse_options(options)
    if follow_links:
        opts["follow_links"] = True
    if fs is not None:
        opts["fs"] = int(fs) if source == "ptbxl" else fs
    cohort = apply_labellers(open_cohort(source, root, **opts), {name: {} for name in labellers or []})
    return cohort.validate(workers=workers) if validate else cohort


@data_app.command("info")
def info(source: str = typer.Option(..., help=SOURCE_HELP), root: Path = typer.Option(..., help="Root folder."),
         fs: float = typer.Option(None, help="Sampling rate to use/expect (PTB-XL: 100 or 500)."),
         validate: bool = typer.Option(True, help="Read every signal once and report unreadable ones."),
         workers: int = typer.Option(4, help="Threads used to validate."),
         opt: list[str] = typer.Option(None, "--opt", help=OPT_HELP),
         follow_links: bool = typer.Option(False, "--follow-links", help=LINKS_HELP),
         labeller: list[str] = typer.Option(None, "--labeller", help=LABELLER_HELP),
         as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")) -> None:
    """Records, patients, folds, label counts per task and skipped files (with reasons)."""
    summary = _open(source, root, fs, validate, workers, opt, follow_links, labeller).summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=1, default=str))
        return
    from cardiofm.report.tables import print_summary

    print_summary(summary)


def parse_band(band: str) -> tuple[float | None, float | None] | None:
    """``"0.67,40"`` -> (0.67, 40.0); ``"none"`` -> no filter; ``",40"`` -> low-pass only."""
    if band.strip().lower() in {"none", "off", ""}:
        return None
    parts = band.split(",")
    if len(parts) != 2:
        raise ConfigError(f"--band takes LOW,HIGH in Hz (e.g. 0.67,40) or 'none', got {band!r}")
    try:
        return tuple(float(p) if p.strip() else None for p in parts)  # type: ignore[return-value]
    except ValueError:
        raise ConfigError(f"--band values must be numbers, got {band!r}") from None


@data_app.command("build")
def build(source: str = typer.Option(..., help=SOURCE_HELP), root: Path = typer.Option(..., help="Root folder."),
          out: Path = typer.Option(..., help="Store directory to create (or resume)."),
          source_fs: float = typer.Option(None, help="Source rate to read (PTB-XL: 100 or 500)."),
          fs: float = typer.Option(500.0, help="Store sampling rate (Hz)."),
          seconds: float = typer.Option(10.0, help="Fixed length in seconds (crop or zero-pad)."),
          leads: str = typer.Option("I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6", help="Comma-separated leads."),
          band: str = typer.Option("0.67,40", help="Band-pass LOW,HIGH Hz, or 'none'."),
          normalise: str = typer.Option("zscore", help="'zscore' (per lead) or 'none'."),
          chunk_size: int = typer.Option(256, help="Records per chunk file."),
          workers: int = typer.Option(1, help="Worker processes."),
          opt: list[str] = typer.Option(None, "--opt", help=OPT_HELP),
          follow_links: bool = typer.Option(False, "--follow-links", help=LINKS_HELP),
          labeller: list[str] = typer.Option(None, "--labeller", help=LABELLER_HELP),
          progress: bool = typer.Option(True, help="Show a progress bar.")) -> None:
    """Preprocess a source into a chunked, memory-mappable store (resumable)."""
    check_output_dir(out)
    from cardiofm.data.store import build_store
    from cardiofm.signal.transforms import Preprocess

    prep = Preprocess(fs=fs, length=int(round(seconds * fs)), leads=tuple(x.strip() for x in leads.split(",")),
                      band=parse_band(band), normalise=None if normalise.lower() == "none" else normalise)
    cohort = _open(source, root, source_fs, validate=False, workers=1, options=opt, follow_links=follow_links,
                   labellers=labeller)
    rep = build_store(cohort, out, prep, chunk_size=chunk_size, workers=workers, progress=progress)
    typer.echo(f"store {rep.path}: {rep.n_ok}/{rep.n_records} records ok, {rep.chunks_built} chunk(s) built, "
               f"{rep.chunks_reused} reused")
    for rid, why in rep.failures[:20]:
        typer.echo(f"  skipped {rid}: {why}")
    if len(rep.failures) > 20:
        typer.echo(f"  ... and {len(rep.failures) - 20} more (see {rep.path}/cohort/cohort.json)")


@data_app.command("plot")
def plot(path: Path = typer.Argument(None, help="A record file (WFDB .hea/.dat, CinC .mat, .npy with --fs)."),
         source: str = typer.Option(None, help=SOURCE_HELP + " With --root and --record."),
         root: Path = typer.Option(None, help="Source root folder."),
         record: str = typer.Option(None, help="record_id within the source."),
         fs: float = typer.Option(None, help="Sampling rate for .npy/.csv files."),
         out: Path = typer.Option(..., help="Output image (.png, .pdf or .svg)."),
         layout: str = typer.Option("3x4+rhythm", help="'3x4+rhythm' or '12x1'."),
         rhythm_lead: str = typer.Option("II", help="Lead of the rhythm strip.")) -> None:
    """Draw one ECG in the clinical paper layout (25 mm/s, 10 mm/mV grid)."""
    check_output_file(out)
    from cardiofm.data.io import read_record
    from cardiofm.report.plots import plot_ecg

    if path is not None:
        rec = read_record(path, **({"fs": fs} if fs else {}))
    elif source and root and record:
        cohort = _open(source, root, fs, validate=False, workers=1)
        hits = (cohort.index["record_id"].astype(str) == str(record)).to_numpy().nonzero()[0]
        if not len(hits):
            raise ConfigError(f"record {record!r} is not in {source} at {root}")
        rec = cohort.load(int(hits[0]))
    else:
        raise ConfigError("give a record file, or --source, --root and --record")
    plot_ecg(rec, out, layout=layout, rhythm_lead=rhythm_lead)
    typer.echo(f"wrote {out}")


@data_app.command("synth")
def synth(n: int = typer.Option(500, "--n", help="Number of records (one per patient)."),
          seed: int = typer.Option(0, help="Random seed (same seed, same cohort)."),
          fs: float = typer.Option(100.0, help="Sampling rate: 100 or 500 Hz."),
          seconds: float = typer.Option(10.0, help="Record length in seconds."),
          out: Path = typer.Option(..., help="Output folder (WFDB records + index.csv + cohort.json)."),
          workers: int = typer.Option(2, help="Worker processes."),
          progress: bool = typer.Option(True, help="Show a progress bar.")) -> None:
    """Generate a synthetic 12-lead cohort with known ground truth (read it with --source synthetic)."""
    import time

    if fs not in (100.0, 500.0):
        raise ConfigError(f"--fs must be 100 or 500, got {fs:g}")
    check_output_dir(out)
    from cardiofm.synth.cohort import generate_cohort

    t0 = time.perf_counter()
    index = generate_cohort(n, out, seed=seed, fs=fs, duration_s=seconds, workers=workers, progress=progress)
    typer.echo(f"wrote {len(index)} records to {out} in {time.perf_counter() - t0:.1f} s "
               f"(read them with: cardiofm data info --source synthetic --root {out})")
