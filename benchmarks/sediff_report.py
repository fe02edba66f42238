"""Markdown section of benchmarks/sediff.py for RESULTS.md."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path
from typing import Any

from ptbxl_report import hardware, write_section
from sediff import epochs_of

SECTION = "## SE-Diff: text-conditioned 12-lead generation with a simulator prior (issue 8)"


def _f(v: Any, d: int = 3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"


def _ci(c: dict[str, Any] | None, d: int = 3) -> str:
    if not c:
        return "n/a"
    est = c.get("mean", c.get("estimate"))
    return f"{_f(est, d)} [{_f(c.get('lower'), d)}, {_f(c.get('upper'), d)}]"


def _recall(r: dict[Any, Any]) -> str:
    """recall@1 / @5 / @10 (keys are ints in memory, strings after a JSON round trip)."""
    return " / ".join(_f(r.get(str(k), r.get(k)), 2) for k in (1, 5, 10))


def _fidelity(ev: dict[str, Any]) -> list[str]:
    md = ["| model | MAE mV | NRMSE | Einthoven residual mV | Goldberger residual mV | Fréchet distance | "
          "recall@1 / @5 / @10 | intervals plausible |", "|---|---|---|---|---|---|---|---|"]
    for name, m in ev["variants"].items():
        md.append(f"| {name} | {_ci(m['mae_mv'])} | {_ci(m['nrmse'])} | {_ci(m['generated_einthoven_mv'], 4)} | "
                  f"{_ci(m['generated_goldberger_mv'], 4)} | {_ci(m['frechet'], 2)} | {_recall(m['recall'])} | "
                  f"{_f(m['generated_intervals']['all'], 2)} |")
    ref = ev["reference"]
    first = next(iter(ev["variants"].values()))
    md.append(f"| *real test ECGs* | – | – | {_ci(first['real_einthoven_mv'], 4)} | "
              f"{_ci(first['real_goldberger_mv'], 4)} | {_ci(ref['frechet_train_vs_test'], 2)} (train vs test) | "
              f"{_recall(ref['recall_real_test'])} | "
              f"{_f(first['real_intervals']['all'], 2)} |")
    return md + [""]


def _intervals(ev: dict[str, Any]) -> list[str]:
    md = ["| model | HR | PR | QRS | QTc | all four | gap of medians to real: HR bpm / PR / QRS / QTc ms |",
          "|---|---|---|---|---|---|---|"]
    for name, m in ev["variants"].items():
        g, gap = m["generated_intervals"], m["interval_gap"]
        md.append(f"| {name} | {_f(g['hr'], 2)} | {_f(g['pr'], 2)} | {_f(g['qrs'], 2)} | {_f(g['qtc_bazett'], 2)} | "
                  f"{_f(g['all'], 2)} | {_f(gap['hr'], 1)} / {_f(gap['pr'], 0)} / {_f(gap['qrs'], 0)} / "
                  f"{_f(gap['qtc_bazett'], 0)} |")
    first = next(iter(ev["variants"].values()))["real_intervals"]
    md.append(f"| *real test ECGs* | {_f(first['hr'], 2)} | {_f(first['pr'], 2)} | {_f(first['qrs'], 2)} | "
              f"{_f(first['qtc_bazett'], 2)} | {_f(first['all'], 2)} | – |")
    return md + [""]


def _costs(ev: dict[str, Any]) -> list[str]:
    md = ["| model | VAE s (epochs) | diffusion s (epochs) | sampling ECG/s |", "|---|---|---|---|"]
    for name, m in ev["variants"].items():
        t = m["train_seconds"]
        md.append(f"| {name} | {t['vae']:.0f} ({t.get('vae_epochs', '?')}) | {t['diffusion']:.0f} "
                  f"({t['diffusion_epochs']}) | {m['samples_per_s']:.1f} |")
    return md + [""]


def _augmentation(ev: dict[str, Any]) -> list[str]:
    a = ev["augmentation"]
    md = [f"Rare class **{a['class']}**: {a['train_positives']} of {a['train_records']} training records, "
          f"{a['test_positives']} of {a['test_records']} test records. Baseline (real only) test AUROC "
          f"{_f(a['baseline_auroc'])}.", "",
          "| generator | generated ECGs added | AUROC with them | change [95 % CI] |", "|---|---|---|---|"]
    for name, v in a["variants"].items():
        md.append(f"| {name} | {v['generated']} | {_f(v['auroc_aug'])} | {_f(v['delta'])} "
                  f"[{_f(v['lower'])}, {_f(v['upper'])}] |")
    return md + [""]


def markdown(args: argparse.Namespace, results: dict[str, Any]) -> str:
    cmd = "python benchmarks/sediff.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    epochs = ", ".join(f"{d} {e[0]} / {e[1]}" for d, e in ((d, epochs_of(args, d)) for d in results))
    md = [SECTION, "", f"`{cmd}` ({hardware()}).", "",
          f"Epochs (diffusion / VAE, at most; early stopping on the validation loss): {epochs}. One generated ECG "
          "per test record from that record's own text, age/sex and retrieved report; DDIM 50 "
          "steps, guidance 2, seed 0. CIs are 95 % bootstrap intervals over test records. Fréchet distance: "
          "embeddings of a Net1D classifier trained on the real training records (its own reference: real "
          "training vs real test records). Recall@k: SuPreME (Net1D + CFN) scores of each class description "
          "against all generated test ECGs; an ECG is relevant to its own record's class. Intervals: fraction "
          "of delineated ECGs inside wide physiological limits (HR 30-220, PR 80-320, QRS 40-200, QTc 300-560).",
          ""]
    for dataset, r in results.items():
        ev = r["eval"]
        md += [f"### {dataset}", "", "Fidelity, lead consistency, realism and text alignment:", "", *_fidelity(ev),
               "Interval plausibility:", "", *_intervals(ev), "Imbalance experiment (classifier retrained with "
               "three generated ECGs per real training positive of the rare class):", "", *_augmentation(ev),
               "Cost (2 CPU cores):", "", *_costs(ev)]
    return "\n".join(md) + "\n"


def write_report(args: argparse.Namespace, results: dict[str, Any], path: Path) -> None:
    write_section(path, markdown(args, results), SECTION)
