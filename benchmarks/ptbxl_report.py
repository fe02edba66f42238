"""Formatting of the PTB-XL subset benchmark: the RESULTS.md section, number formats, hardware line.

Kept apart from ``ptbxl.py`` (which trains and scores); both are run from ``benchmarks/``.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TASKS = ("all", "diagnostic", "subdiagnostic", "superdiagnostic", "form", "rhythm")
SECTION = "## PTB-XL subset benchmark"
STOP = {"budget": "budget", "budget_cut_mid_epoch": "budget, mid-epoch", "schedule": "schedule done",
        "max_epochs": "schedule done", "early_stopping": "early stop", None: "?"}

def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


# ---------------------------------------------------------------------------------------------- report
def _shown(path: str) -> str:
    p = Path(path).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def fmt(x: Any, nd: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}"


def fmt_params(r: dict[str, Any]) -> str:
    n, t = r.get("n_params"), r.get("n_trainable")
    s = f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n / 1e3:.1f} k"
    return s if t == n else f"{s} ({t / 1e3:.1f} k trained)"


COLUMNS = {"budget": "fixed wall budget", "converged": "trained to convergence (early stopping, wall cap)"}
# paired comparisons: (title, which models may be side a, which side b); each side's model is the one with the
# highest validation macro AUROC among its candidates, so the test fold never picks a model
Pick = Any


def _cardiofm(aug: str | None) -> Pick:
    return lambda r: r["kind"] == "cardiofm" and r["model"] != "floor" and aug in (None, r.get("augment"))


def _tecg(aug: str | None) -> Pick:
    return lambda r: r["kind"] == "tecg" and aug in (None, r.get("augment"))


COMPARISONS: list[tuple[str, Pick, Pick]] = [
    ("best of each stack (any augmentation)", _cardiofm(None), _tecg(None)),
    ("no augmentation on either side", _cardiofm("none"), _tecg("none")),
    ("AnyECG augmentation on both sides", _cardiofm("anyecg"), _tecg("anyecg")),
    ("best cardiofm vs the random-encoder floor", _cardiofm(None), lambda r: r["model"] == "floor"),
]


def _aligned(r: dict[str, Any]) -> tuple[Any, Any]:
    """(labels, scores) of the test fold in store-row order, so two models pair record by record."""
    import numpy as np

    pred = r["pred"]
    order = np.argsort(pred["rows_test"])
    return pred["y_test"][order], pred["p_test"][order]


def pick(rs: list[dict[str, Any]], which: Pick) -> dict[str, Any] | None:
    cands = [r for r in rs if which(r) and "pred" in r and r["val_macro_auroc"] == r["val_macro_auroc"]]
    return max(cands, key=lambda r: r["val_macro_auroc"]) if cands else None


def paired(a: dict[str, Any], b: dict[str, Any], n_boot: int, seed: int) -> dict[str, Any]:
    """ΔAUROC (a − b) on the test fold: paired bootstrap CI and p (cardiofm.evaluate.compare)."""
    import numpy as np
    from bench_io import paired_auroc

    ya, pa = _aligned(a)
    yb, pb = _aligned(b)
    if not np.array_equal(ya, yb):
        raise RuntimeError(f"{a['task']}: {a['model']} and {b['model']} were not scored on the same test labels")
    c = paired_auroc(pa, pb, ya, n_boot=n_boot, seed=seed, class_names=[str(x) for x in a["pred"]["codes"]])
    verdict = {1: f"`{a['model']}` wins", -1: f"`{b['model']}` wins", 0: "no difference shown"}[c["sign"]]
    return c | {"a": a, "b": b, "verdict": verdict}


def score_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| task | labels (scored test) | n train / val / test | model | test macro AUROC [95 % CI] | "
             "val macro AUROC | train s | CPU s | epochs (stop) | params |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for task in TASKS:
        for i, r in enumerate(x for x in rows if x["task"] == task):
            ci = r["test_macro_auroc_ci"]
            head = (f"{task} | {r['n_labels']} ({r['test_classes_scored']}) | {r['n_train']} / {r['n_val']} / "
                    f"{r['n_test']}") if i == 0 else " | | "
            lines.append(f"| {head} | `{r['model']}` | {fmt(r['test_macro_auroc'])} [{fmt(ci[0])}, {fmt(ci[1])}] | "
                         f"{fmt(r['val_macro_auroc'])} | {r['train_seconds']:.0f} | {fmt(r.get('cpu_seconds'), 0)} | "
                         f"{r['epochs']}/{r['max_epochs']} ({STOP.get(r.get('stop_reason'), r.get('stop_reason'))}) | "
                         f"{fmt_params(r)} |")
    return lines + [""]


def comparison_table(rows: list[dict[str, Any]], n_boot: int, seed: int) -> tuple[list[str], list[dict[str, Any]]]:
    lines = ["| task | comparison | a (val) | b (val) | test a / b | ΔAUROC a − b [95 % CI] | p | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    done = []
    for task in TASKS:
        rs = [r for r in rows if r["task"] == task]
        for title, side_a, side_b in COMPARISONS:
            a, b = pick(rs, side_a), pick(rs, side_b)
            if a is None or b is None:
                continue
            c = paired(a, b, n_boot, seed) | {"task": task, "title": title}
            done.append(c)
            lines.append(f"| {task} | {title} | `{a['model']}` ({fmt(a['val_macro_auroc'])}) | `{b['model']}` "
                         f"({fmt(b['val_macro_auroc'])}) | {fmt(a['test_macro_auroc'])} / {fmt(b['test_macro_auroc'])} "
                         f"| {c['delta']:+.3f} [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}] | {fmt(c['p'])} | "
                         f"{c['verdict']} |")
    return lines + [""], done


def augmentation_table(rows: list[dict[str, Any]], n_boot: int, seed: int) -> list[str]:
    """Each model with and without the AnyECG augmentation, paired on the test fold."""
    lines = ["| task | model | test without / with | ΔAUROC with − without [95 % CI] | p |",
             "| --- | --- | --- | --- | --- |"]
    for task in TASKS:
        rs = {r["model"]: r for r in rows if r["task"] == task and "pred" in r}
        for name in sorted(rs):
            if name.endswith("_aug") and name[:-4] in rs:
                c = paired(rs[name], rs[name[:-4]], n_boot, seed)
                lines.append(f"| {task} | `{name[:-4]}` | {fmt(rs[name[:-4]]['test_macro_auroc'])} / "
                             f"{fmt(rs[name]['test_macro_auroc'])} | {c['delta']:+.3f} [{c['ci'][0]:+.3f}, "
                             f"{c['ci'][1]:+.3f}] | {fmt(c['p'])} |")
    return lines + [""] if len(lines) > 2 else []


def markdown(results: list[dict[str, Any]], failures: list[dict[str, Any]], args: argparse.Namespace,
             meta: dict[str, Any]) -> str:
    commands = sorted({r.get("command", "") for r in results} - {""})
    lines = [SECTION + f" (issues 4 and 17) — {datetime.date.today().isoformat()}", "",
             "```bash", *commands, "python benchmarks/ptbxl.py --report-only --write-results", "```", "",
             f"- Hardware: {meta['hardware']}. Every model trains with {args.threads} torch thread(s); one thread "
             "because two OpenMP threads spin at barriers when other jobs hold the cores. Two columns: a fixed "
             "wall-time budget per model and task (the schedule is sized to fit it), and 'converged' (a fixed "
             "long schedule ended by early stopping on validation macro AUROC, with a wall cap). Wall budgets "
             "are approximate on a shared machine: 'CPU s' is the CPU time the training process actually got "
             "(start-up and prediction included). 'epochs' is epochs run / schedule length (a cut epoch counts).",
             "- Data: the PTB-XL subset (1,987 records, 100 Hz, `strat_fold` 1-8 / 9 / 10 = train / val / test); one "
             "cardiofm store (100 Hz, 1000 samples, 0.67-40 Hz band-pass, per-lead z-score) feeds every model: "
             "torch-ecg gets the store's arrays for the same rows and labels. Rows without a label of a task are "
             "left out of it (benchmark rule).",
             "- Augmentation is equal by construction: models without a suffix train without augmentation (torch-ecg "
             "as shipped), `_aug` models with the AnyECG-CCTA pipeline (shift, scale, Gaussian noise, one masked "
             "segment; cosine-annealed strength), the same NumPy code on both stacks. Both stacks use the same "
             f"early-stopping patience ({args.patience} epochs) and keep their best-validation checkpoint.",
             "- Test score: macro AUROC over the classes with >= 2 positives and >= 2 negatives in the test fold "
             f"(rarer classes are not scored), 95 % percentile bootstrap CI from {args.n_boot} resamples of test "
             "records under the rule of Strodthoff et al. (2021) (`cardiofm.evaluate.classification_metrics`: a "
             "resample is kept if every scored class has a positive; a class without a negative in a resample is "
             "left out of that resample's macro average). Validation macro AUROC is on fold 9.",
             "- Comparisons are paired: `cardiofm.evaluate.compare` resamples the same test records for both "
             "models and gives ΔAUROC (macro over the scored classes) with its 95 % CI and a two-sided bootstrap "
             "p-value. Each side's model is the one with the best *validation* macro AUROC among its candidates; "
             "the test fold chooses nothing. A side wins only when the CI of Δ excludes 0; p-values are not "
             f"corrected for the number of comparisons, and {2 / (args.n_boot + 1):.3f} is the smallest p that "
             f"{args.n_boot} resamples can give.",
             "- All encoders start from random weights (nothing is downloaded); no model is pretrained.", ""]
    lines += ["| model | what |", "| --- | --- |"]
    for name in dict.fromkeys(r["model"] for r in results):
        lines.append(f"| `{name}` | {next(r['about'] for r in results if r['model'] == name)} |")
    lines += ["", "cardiofm recipes: AdamW (lr 1e-3, 1e-2 for the linear probe, weight decay 1e-2), 5 % warm-up then "
              "cosine decay, batch 64, best checkpoint scored; PCGrad, uncertainty weighting and `both_views` off "
              "(one backward pass per label, ~22x the step time at 71 labels; nothing to learn for the weights in "
              "this budget; twice the step cost). torch-ecg: its ECG_CRNN configs and BaseTrainer (AdamW amsgrad, "
              "OneCycle max_lr 2e-3, BCE), kernel lengths rescaled from 500 Hz to 100 Hz as torch-ecg does for "
              "other rates.", ""]
    verdicts = []
    for col, what in COLUMNS.items():
        rows = [r for r in results if r.get("column", "budget") == col]
        if not rows:
            lines += [f"### Column '{col}' ({what}): not run", ""]
            continue
        budgets = sorted({r["budget_s"] for r in rows})
        lines += [f"### Column '{col}': {what}, {' / '.join(f'{b:g}' for b in budgets)} s per model and task", ""]
        lines += score_table(rows)
        # a task is compared only when every model of the run finished on it: picking "the best on validation"
        # among a partial set would compare something else
        wanted = set(args.models)
        partial = [t for t in TASKS if 0 < len({r["model"] for r in rows if r["task"] == t} & wanted) < len(wanted)]
        if partial:
            lines += [f"Not compared yet ({col}: not every model has finished): {', '.join(partial)}.", ""]
        rows = [r for r in rows if r["task"] not in partial]
        table, done = comparison_table(rows, args.n_boot, args.seed)
        lines += [f"Paired comparisons ({col}):", ""] + table
        aug = augmentation_table(rows, args.n_boot, args.seed)
        if aug:
            lines += [f"The augmentation's effect, model by model ({col}):", ""] + aug
        verdicts += [(col, c) for c in done if c["title"] == COMPARISONS[0][0]]
    if verdicts:
        lines += ["Which stack wins each task (each stack's model chosen on validation, paired test on fold 10). "
                  "In the budget column this is what the budget buys: the torch-ecg CRNNs get 1-3 epochs of it, "
                  "cardiofm's small Net1D 7-14; the converged column is the comparison of trained models.", ""]
        for col, c in verdicts:
            lines.append(f"- {col} / {c['task']}: {c['verdict']} (`{c['a']['model']}` − `{c['b']['model']}` = "
                         f"{c['delta']:+.3f} [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}], p = {fmt(c['p'])}).")
        lines.append("")
    lines += ["Caveats:", "",
              "- One seed, one split, random initial weights, a 1,987-record subset; test folds of 76-255 records "
              "give wide intervals. Strodthoff et al. report 0.88-0.95 macro AUROC for resnet1d_wang on the full "
              "PTB-XL at convergence.",
              "- In the budget column small, fast encoders run many more epochs than the 2.8-7.4 M-parameter "
              "torch-ecg CRNNs: a win there is a win in what fits in the budget, not necessarily of the architecture.",
              "- torch-ecg's runner finishes (and validates) the epoch in which the budget runs out, so its "
              "'train s' can exceed the budget by up to one epoch; Lightning stops cardiofm after the step in "
              "progress. This favours torch-ecg.",
              f"- Per-run details (recipe, stop reason, schedule length, steps, CPU time) are in "
              f"`{_shown(args.work)}/results.json`; test and validation predictions beside each result.", ""]
    if failures:
        lines += ["Failed runs: " + "; ".join(f"{f.get('column', '?')}/{f['task']}/{f['model']}: {f['error']}"
                                              for f in failures), ""]
    return "\n".join(lines)


def write_section(path: Path, md: str, section: str = SECTION) -> None:
    """Append the section to ``path``; a rerun replaces this benchmark's own earlier section only."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(section)
    if start >= 0:
        nxt = text.find("\n## ", start + len(section))
        rest = "" if nxt < 0 else text[nxt:]
        text = text[:start].rstrip("\n") + "\n\n" + md.rstrip("\n") + "\n" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + md.rstrip("\n") + "\n"
    path.write_text(text)


def hardware() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU cores ({cpu}), no GPU, Python {platform.python_version()}"
