"""Markdown for the CLEF benchmark section of RESULTS.md (tables from ``benchmarks/clef.py`` results)."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from ptbxl_report import fmt

SECTION = "## CLEF pretraining, SSL baselines and the probing protocol (issue 5)"
MAIN = ("clef", "simclr", "byol", "moco", "random")
ABLATION = ("clef", "clef_no_m", "clef_no_ld", "simclr")
LABEL = {"clef": "CLEF", "simclr": "SimCLR", "byol": "BYOL", "moco": "MoCo", "random": "random init",
         "clef_no_m": "CLEF without M", "clef_trust": "CLEF, M read as trust",
         "clef_no_ld": "CLEF without L^d"}


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "n/a"
    lo, hi = r["ci"]
    return f"{fmt(r['value'])} [{fmt(lo)}, {fmt(hi)}]"


def _index(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    return {(r["encoder"], r["mode"], r["lead"], r["task"], float(r["fraction"])): r for r in rows}


def _better(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["value"] < b["value"] if a["metric"] == "mae" else a["value"] > b["value"]


def _separated(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """a's CI lies wholly on the better side of b's estimate and b's CI wholly on the worse side of a's."""
    if None in a["ci"] or None in b["ci"]:
        return False
    if a["metric"] == "mae":
        return a["ci"][1] < b["value"] and b["ci"][0] > a["value"]
    return a["ci"][0] > b["value"] and b["ci"][1] < a["value"]


def table(rows: list[dict[str, Any]], encoders: tuple[str, ...], mode: str = "linear") -> list[str]:
    idx = _index(rows)
    cells = sorted({(r["task"], r["lead"], float(r["fraction"])) for r in rows if r["mode"] == mode},
                   key=lambda c: (c[0], c[1], c[2]))
    present = [e for e in encoders if any(k[0] == e for k in idx)]
    out = ["| task | lead | labels | metric | " + " | ".join(LABEL[e] for e in present) + " |",
           "|---|---|---|---|" + "---|" * len(present)]
    for task, lead, frac in cells:
        got = [idx.get((e, mode, lead, task, frac)) for e in present]
        valid = [g for g in got if g is not None and g["value"] is not None]
        best = None
        if valid:
            best = min(valid, key=lambda g: g["value"]) if valid[0]["metric"] == "mae" else max(
                valid, key=lambda g: g["value"])
            if sum(g["value"] == best["value"] for g in valid) > 1:  # a tie has no winner to mark
                best = None
        metric = next((g["metric"] for g in valid), "")
        shown = ["**" + _cell(g) + "**" if g is best else _cell(g) for g in got]
        n = next((g["n_train"] for g in valid), "")
        out.append(f"| {task} | {lead} | {frac:.0%} (n={n}) | {metric.replace('macro_auroc', 'AUROC')} | "
                   + " | ".join(shown) + " |")
    return out


def counts(rows: list[dict[str, Any]], a: str, b: str, mode: str = "linear") -> tuple[int, int, int, int, int]:
    """(wins, losses, ties, CI-separated wins, CI-separated losses) of encoder ``a`` against ``b``."""
    idx = _index(rows)
    wins = losses = sep_w = sep_l = ties = 0
    for key, r in idx.items():
        if key[0] != a or key[1] != mode:
            continue
        other = idx.get((b,) + key[1:])
        if other is None:
            continue
        if r["value"] == other["value"]:
            ties += 1
        elif _better(r, other):
            wins += 1
            sep_w += _separated(r, other)
        else:
            losses += 1
            sep_l += _separated(other, r)
    return wins, losses, ties, sep_w, sep_l


def tally(rows: list[dict[str, Any]], a: str, b: str, mode: str = "linear") -> str:
    wins, losses, ties, sep_w, sep_l = counts(rows, a, b, mode)
    return (f"{LABEL[a]} vs {LABEL[b]}: {wins} wins, {losses} losses, {ties} ties "
            f"(with non-overlapping estimates/CIs: {sep_w} wins, {sep_l} losses)")


def _short(source: str) -> str:
    """A source label without this machine's absolute paths."""
    return source.split(" (")[0] if "/" in source else source


def targets(probe: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The issue's target, checked cell by cell: does CLEF's linear probe beat SimCLR's and random init's?"""
    out = []
    for data in ("ptbxl", "synthetic"):
        for b in ("simclr", "random"):
            w, losses, t, _, _ = counts(probe[data], "clef", b)
            verdict = "met" if w > losses else "not met"
            out.append(f"- {data}: CLEF beats {LABEL[b]} in {w} of {w + losses + t} linear-probe cells "
                       f"(target: most cells): **{verdict}**.")
    return out


def markdown(result: dict[str, Any], args: argparse.Namespace, command: str) -> str:
    pre, probe, t = result["pretraining"], result["probe"], result["timing"]
    lines = [SECTION + f" — {datetime.date.today().isoformat()}", "", f"```bash\n{command}\n```", "",
             f"Machine: {result['hardware']}. This invocation: {result['wall_s'] / 60:.0f} min; stages cached "
             "by earlier invocations of the same command are not re-run. The pretraining seconds below are "
             "wall times of runs that at times shared the two cores with other jobs, so they do not compare "
             "the objectives' costs (the step-time measurement at the end does).", "",
             f"**Pretraining.** Encoder `{args.model}` (CLEF-S), one random lead per sample, two views from CLEF's "
             "five perturbations (NSTDB baseline wander, NSTDB muscle noise, white noise, masking p = 0.2 of 10 % "
             f"segments, none), batch 64, AdamW lr {args.lr:g}, weight decay 5e-5, cosine schedule, "
             f"{args.epochs} epochs, τ = 0.07, α = 0.2, λ = 1, seed 42; best epoch by validation loss.", ""]
    first = next(iter(pre.values()))
    lines += ["| source | train records (first per patient) | val records | SCORE2 risk median [p10, p90] | "
              "records by number of missing SCORE2 inputs (0…7) |", "|---|---|---|---|---|"]
    for s in first["sources"]:
        lines.append(f"| {_short(s['source'])} | {s['train_records']} | {s['val_records']} | "
                     f"{fmt(s['risk_median'], 3)} [{', '.join(fmt(v, 3) for v in s['risk_p10_p90'])}] | "
                     f"{s['n_missing_histogram']} |")
    lines += ["", "| objective | epochs | seconds | best val loss |", "|---|---|---|---|"]
    lines += [f"| {LABEL[k]} | {v['epochs']} | {v['train_seconds']:.0f} | {fmt(v['best_val_loss'], 4)} |"
              for k, v in pre.items()]
    lines += ["", "### PTB-XL fold 10: linear probe (frozen encoder; C chosen on fold 9)", "",
              "Macro AUROC with 95 % patient-bootstrap CI (PTB-XL redraw rule); age: MAE in years. "
              "Labels: share of the training patients (folds 1-8) whose labels the probe sees. "
              "Best per row in bold.", ""]
    lines += table(probe["ptbxl"], MAIN)
    lines += ["", "### Synthetic cohort test split: linear probe (risk drives disease here)", ""]
    lines += table(probe["synthetic"], MAIN)
    if probe.get("finetune"):
        lines += ["", f"### PTB-XL fold 10: full fine-tuning ({args.finetune_epochs} epochs, early stopping on "
                  "fold-9 macro AUROC)", ""]
        lines += table(probe["finetune"], MAIN, mode="finetune")
    lines += ["", "### Ablations (linear probe)", "", "PTB-XL:", ""]
    lines += table(probe["ptbxl"], ABLATION)
    lines += ["", "Synthetic:", ""]
    lines += table(probe["synthetic"], ABLATION)
    lines += ["", "### Targets", ""] + targets(probe)
    lines += ["", "### Wins and losses over all cells", ""]
    for data in ("ptbxl", "synthetic"):
        for b in ("simclr", "byol", "moco", "random", "clef_no_m", "clef_no_ld"):
            lines.append(f"- {data}: " + tally(probe[data], "clef", b))
    if probe.get("finetune"):
        for b in ("simclr", "byol", "random"):
            lines.append("- PTB-XL fine-tuning: " + tally(probe["finetune"], "clef", b, mode="finetune"))
    lines += ["", "### Cost of the clinical weighting", "",
              f"One optimiser step on a batch of {t['batch']} single-lead 10 s records ({t['model']}, "
              f"{t['threads']} threads), median of 15 interleaved steps: SimCLR {t['simclr_step_ms']:.0f} ms, "
              f"CLEF {t['clef_step_ms']:.0f} ms ({100 * t['overhead_step']:+.1f} %). The loss alone on fixed "
              f"embeddings (forward + backward): SimCLR {t['simclr_loss_ms']:.2f} ms, CLEF {t['clef_loss_ms']:.2f} ms, "
              f"so the weighting and L^d add {t['overhead_loss_ms']:.2f} ms = "
              f"{100 * t['overhead_loss_share']:.2f} % of a SimCLR step (target ≤ 5 %).", ""]
    return "\n".join(lines)
