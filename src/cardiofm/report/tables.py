"""Terminal tables (rich) for cohort summaries."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(summary: dict[str, Any], console: Console | None = None, max_skipped: int = 20,
                  max_labels: int = 6) -> None:
    """Print what ``Cohort.summary()`` returns: counts, folds, labels per task, skipped files."""
    con = console or Console()
    if not con.is_terminal:  # piped or captured output: do not wrap at 80 columns
        con = Console(width=160)
    con.print(f"[bold]{summary.get('source')}[/bold] at {summary.get('root')}: "
              f"{summary['records']} records, {summary['patients']} patients")
    notes = summary.get("notes") or {}
    if notes.get("listed_missing"):
        con.print(f"{notes['listed_missing']} record(s) listed in the index but not on disk (not used)")
    if summary.get("folds"):
        t = Table(title="records per fold")
        for k in summary["folds"]:
            t.add_column(str(k), justify="right")
        t.add_row(*[str(v) for v in summary["folds"].values()])
        con.print(t)
    if summary.get("splits"):
        con.print("splits: " + ", ".join(f"{k} {v}" for k, v in summary["splits"].items()))
    tasks = summary.get("tasks") or {}
    if tasks:
        t = Table(title="labels per task (all counts: --json)")
        for col, just in (("task", "left"), ("vocab", "right"), ("labelled records", "right"),
                          ("labels present", "right"), ("most frequent", "left")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for task, info in tasks.items():
            counts = sorted(((n, c) for c, n in info["counts"].items() if n), reverse=True)
            top = ", ".join(f"{c} {n}" for n, c in counts[:max_labels])
            t.add_row(task, str(info["n_labels"]), str(info.get("records_labelled", "?")), str(len(counts)),
                      top + (" ..." if len(counts) > max_labels else ""))
        con.print(t)
    li = summary.get("lead_identities")
    if li:
        con.print(f"lead identities (Einthoven, Goldberger) over {li['records_checked']} records: max residual "
                  f"{li['max_residual_mv']:.2g} mV, median {li['median_residual_mv']:.2g} mV, "
                  f"{li['records_over_0.01_mv']} record(s) above 0.01 mV")
    skipped = summary.get("skipped", {})
    if skipped.get("count"):
        con.print(f"[yellow]{skipped['count']} file(s) skipped:[/yellow]")
        for s in skipped["files"][:max_skipped]:
            con.print(f"  {s['path']}: {s['reason']}")
        if skipped["count"] > max_skipped:
            con.print(f"  ... and {skipped['count'] - max_skipped} more (use --json for all)")
