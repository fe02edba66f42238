"""Terminal tables (rich) for cohort summaries."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(summary: dict[str, Any], console: Console | None = None, max_skipped: int = 20) -> None:
    """Print what ``Cohort.summary()`` returns: counts, folds, labels per task, skipped files."""
    con = console or Console()
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
    for task, info in (summary.get("tasks") or {}).items():
        counts = info["counts"]
        t = Table(title=f"task {task}: {info['n_labels']} labels, {info.get('records_labelled', '?')} "
                        "records with at least one")
        t.add_column("label")
        t.add_column("records", justify="right")
        for code, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            t.add_row(code, str(n))
        con.print(t)
    skipped = summary.get("skipped", {})
    if skipped.get("count"):
        con.print(f"[yellow]{skipped['count']} file(s) skipped:[/yellow]")
        for s in skipped["files"][:max_skipped]:
            con.print(f"  {s['path']}: {s['reason']}")
        if skipped["count"] > max_skipped:
            con.print(f"  ... and {skipped['count'] - max_skipped} more (use --json for all)")
