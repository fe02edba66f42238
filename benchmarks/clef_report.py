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


def counts(paired: list[dict[str, Any]], data: str, a: str, b: str, mode: str = "linear") -> tuple[int, ...]:
    """(wins, losses, ties by point estimate, significant wins, significant losses) of ``a`` against ``b``.

    Significant: the paired bootstrap CI of Δ (``benchmarks/clef.py:paired_cells``, same test records, whole
    patients resampled) excludes 0. Δ is oriented so that positive means ``a`` is better (AUROC up, MAE down).
    """
    cells = [c for c in paired if (c["data"], c["mode"], c["a"], c["b"]) == (data, mode, a, b)]
    wins = sum(c["delta"] > 0 for c in cells)
    losses = sum(c["delta"] < 0 for c in cells)
    return (wins, losses, len(cells) - wins - losses, sum(c["ci"][0] > 0 for c in cells),
            sum(c["ci"][1] < 0 for c in cells))


def tally(paired: list[dict[str, Any]], data: str, a: str, b: str, mode: str = "linear") -> str:
    wins, losses, ties, sig_w, sig_l = counts(paired, data, a, b, mode)
    return (f"{LABEL[a]} vs {LABEL[b]}: ahead in {wins}, behind in {losses}, tied in {ties} cells by point "
            f"estimate; by the paired 95 % CI significantly ahead in {sig_w}, behind in {sig_l}")


def _short(source: str) -> str:
    """A source label without this machine's absolute paths."""
    return source.split(" (")[0] if "/" in source else source


def targets(paired: list[dict[str, Any]]) -> list[str]:
    """The issue's target, cell by cell: does CLEF's linear probe beat SimCLR's and random init's (paired)?"""
    out = []
    for data in ("ptbxl", "synthetic"):
        for b in ("simclr", "random"):
            w, losses, t, sig_w, sig_l = counts(paired, data, "clef", b)
            verdict = "met" if sig_w > (w + losses + t) / 2 else "not met"
            out.append(f"- {data}: CLEF significantly ahead of {LABEL[b]} (paired CI excludes 0) in {sig_w} of "
                       f"{w + losses + t} linear-probe cells, behind in {sig_l} (target: most cells): **{verdict}**.")
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
              "Highest point estimate per row in bold (a description, not a test: see the paired counts below).", ""]
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
    paired = result["paired"]
    lines += ["", "### Targets", ""] + targets(paired)
    lines += ["", "### Wins and losses over all cells (paired)", "",
              "Each cell compares two encoders on the same test records: Δ macro AUROC (Δ MAE for age) with a paired "
              f"patient-bootstrap 95 % CI from {args.bootstrap} resamples (`cardiofm.evaluate.compare`); no correction "
              "for the number of cells.", ""]
    for data in ("ptbxl", "synthetic"):
        for b in ("simclr", "byol", "moco", "random", "clef_no_m", "clef_no_ld", "clef_trust"):
            if counts(paired, data, "clef", b)[:3] != (0, 0, 0):
                lines.append(f"- {data}: " + tally(paired, data, "clef", b))
    for b in ("simclr", "byol", "random"):
        if counts(paired, "ptbxl", "clef", b, "finetune")[:3] != (0, 0, 0):
            lines.append("- PTB-XL fine-tuning: " + tally(paired, "ptbxl", "clef", b, mode="finetune"))
    lines += ["", "### Cost of the clinical weighting", "",
              f"One optimiser step on a batch of {t['batch']} single-lead 10 s records ({t['model']}, "
              f"{t['threads']} threads), median of 15 interleaved steps: SimCLR {t['simclr_step_ms']:.0f} ms, "
              f"CLEF {t['clef_step_ms']:.0f} ms ({100 * t['overhead_step']:+.1f} %). The loss alone on fixed "
              f"embeddings (forward + backward): SimCLR {t['simclr_loss_ms']:.2f} ms, CLEF {t['clef_loss_ms']:.2f} ms, "
              f"so the weighting and L^d add {t['overhead_loss_ms']:.2f} ms = "
              f"{100 * t['overhead_loss_share']:.2f} % of a SimCLR step (target ≤ 5 %).", ""]
    return "\n".join(lines)
