"""The six PTB-XL benchmark tasks end to end through the command line (issue 17): train, evaluate, report.

For each task of Strodthoff et al. (2021) (``all``, ``diagnostic``, ``subdiagnostic``, ``superdiagnostic``,
``form``, ``rhythm``) this runs the shipped AnyECG-CCTA recipe's ``ptbxl`` variant as a user would::

    cardiofm train anyecg --variant ptbxl --set data.task=<task> --set cv.folds=0 ... --out <work>/<task>

on the PTB-XL subset in ``../shared/data/ptbxl`` (folds 1-8 / 9 / 10), sharing one store, and records the
exit status, whether ``metrics.json`` and ``report.html`` were written, the test macro AUROC with its CI and
the classes that were not scorable (too few positives or negatives in a split). It is a check that every
task runs and reports, not a tuned benchmark: a few epochs of the small Net1D (see ``--epochs``), PCGrad off
unless ``--pcgrad`` (it costs one backward pass per label, ~22x the step time on the 71 labels of ``all``).

    python benchmarks/ptbxl_tasks.py --epochs 3 --write-results
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TASKS = ("all", "diagnostic", "subdiagnostic", "superdiagnostic", "form", "rhythm")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "ptbxl"), help="PTB-XL folder")
    p.add_argument("--work", default=str(REPO / "benchmarks" / "_work" / "ptbxl-tasks"), help="run folders")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--n-boot", type=int, default=300)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pcgrad", action="store_true",
                   help="keep the recipe's PCGrad (one backward pass per label: ~22x the step time at 71 labels)")
    p.add_argument("--results", default=str(REPO / "benchmarks" / "RESULTS.md"))
    p.add_argument("--write-results", action="store_true",
                   help="write the markdown section into --results (replacing this script's earlier section)")
    p.add_argument("--report-only", action="store_true", help="run nothing; report <work>/results.json")
    return p.parse_args(argv)


def command(args: argparse.Namespace, task: str) -> list[str]:
    work = Path(args.work).resolve()
    sets = [f"data.root={Path(args.root).resolve()}", f"data.task={task}", "cv.folds=0",
            f"trainer.max_epochs={args.epochs}", f"trainer.threads={args.threads}", "trainer.progress=false",
            f"data.store={work / 'store'}", f"evaluate.n_boot={args.n_boot}", "evaluate.beats.max_records=100",
            f"method.pcgrad={str(args.pcgrad).lower()}"]
    cmd = [sys.executable, "-c", "from cardiofm.cli import main; main()", "train", "anyecg", "--variant", "ptbxl",
           "--out", str(work / task)]
    for s in sets:
        cmd += ["--set", s]
    return cmd


def run_task(args: argparse.Namespace, task: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    r = subprocess.run(command(args, task), capture_output=True, text=True)
    out = Path(args.work) / task
    row: dict[str, Any] = {"task": task, "exit": r.returncode, "seconds": round(time.perf_counter() - t0, 1),
                           "metrics": (out / "metrics.json").exists(), "report": (out / "report.html").exists(),
                           "stderr_tail": r.stderr.strip().splitlines()[-3:] if r.returncode else []}
    if row["metrics"]:
        ev = json.loads((out / "metrics.json").read_text()).get("evaluation", {})
        c = (ev.get("test") or {}).get("classification") or {}
        row.update(labels=len(ev.get("codes", [])), macro_auroc=c.get("macro_auroc"), ci=c.get("macro_auroc_ci"),
                   scored=c.get("n_classes_scored"), not_scored=sorted(c.get("not_scored") or {}),
                   rule=c.get("rule"), summary=ev.get("summary_line"))
    print(json.dumps(row), flush=True)
    return row


SECTION = "## The six PTB-XL tasks end to end through `cardiofm train` (issue 17)"


def markdown(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = ["", f"{SECTION} — {time.strftime('%Y-%m-%d')}",
             "", "```bash", f"python benchmarks/ptbxl_tasks.py --epochs {args.epochs} --n-boot {args.n_boot} "
             f"--threads {args.threads} --write-results", "```", "",
             "Each task is `cardiofm train anyecg --variant ptbxl --set data.task=<task> --set cv.folds=0` with "
             f"{args.epochs} epochs of the recipe's Net1D, PCGrad {'on' if args.pcgrad else 'off'} (a run check, "
             "not a tuned result). Test fold 10; "
             "95 % percentile bootstrap CI under the default (Strodthoff) rule. A statement with fewer than 2 "
             "positives or "
             "2 negatives among the test records is listed as not scored and left out of the macro average "
             "(metrics.json and report.html say the same).", "",
             "| task | exit | metrics.json / report.html | labels | scored on test | test macro AUROC [95 % CI] "
             "| not scored on test | wall s |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        ci = r.get("ci") or [None, None]
        auroc = "–" if r.get("macro_auroc") is None else (
            f"{r['macro_auroc']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci[0] is not None else f"{r['macro_auroc']:.3f}")
        lines.append(f"| {r['task']} | {r['exit']} | {'yes' if r['metrics'] else 'no'} / "
                     f"{'yes' if r['report'] else 'no'} | {r.get('labels', '–')} | {r.get('scored', '–')} | {auroc} | "
                     f"{', '.join(r.get('not_scored') or []) or 'none'} | {r['seconds']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    results = Path(args.work) / "results.json"
    if args.report_only:
        rows = json.loads(results.read_text())
    else:
        rows = [run_task(args, task) for task in args.tasks]
        results.write_text(json.dumps(rows, indent=1))
    text = markdown(rows, args)
    print(text)
    if args.write_results:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from ptbxl_report import write_section

        write_section(Path(args.results), text.strip("\n"), SECTION)
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
