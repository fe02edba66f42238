"""CLEF's missing-data weight M (eq. 4): `printed` vs `trust` vs `off`, with paired CIs (issue 17).

CLEF weights each pair's contrastive term by its SCORE2 risk difference and by a factor M of how many of
the seven SCORE2 inputs are missing. As printed, M weights complete pairs least (both complete:
e^-1 = 0.37; five of seven missing, as in PTB-XL: 0.92); ``trust`` is the reading of the paper's prose
(a pair's weight moves towards 1, plain NT-Xent, as inputs go missing); ``off`` drops M (W = D). See
``cardiofm.systems.clef.loss.clef_weights`` for the formulas.

Three encoders are pretrained exactly as in ``benchmarks/clef.py`` (same work folder, so runs are shared:
``net1d_s``, the PTB-XL folds 1-8 + synthetic-cohort mix, one random lead, CLEF's five views), then
linear-probed on PTB-XL fold 10 (six tasks, leads I and II) and on the synthetic cohort's test split
(conditions, stenosis), with a random-init encoder as the floor. Every pair of encoders is compared cell
by cell on the same test records with ``cardiofm.evaluate.compare``: ΔAUROC with a paired patient
bootstrap CI and p-value.

    python benchmarks/clef_m.py --write benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_io import save_json  # noqa: E402
from clef import PTBXL_TASKS, paired_cells, pretrain_all, pretraining_parser, probe_all  # noqa: E402
from ptbxl_report import fmt, hardware, write_section  # noqa: E402

from cardiofm.data.store import Store  # noqa: E402
from cardiofm.systems.clef.config import ProbeConfig  # noqa: E402

SECTION = "## CLEF's missing-data weight M: printed vs trust vs off (issue 17)"
MODES = {"clef": "printed", "clef_trust": "trust", "clef_no_m": "off"}
# (a, b) pairs compared cell by cell: ΔAUROC = a − b
PAIRS = [("clef_trust", "clef"), ("clef_no_m", "clef"), ("clef_trust", "clef_no_m"), ("clef", "random"),
         ("clef_trust", "random"), ("clef_no_m", "random")]
NAME = {"clef": "printed", "clef_trust": "trust", "clef_no_m": "off", "random": "random init"}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = pretraining_parser(__doc__.split("\n")[0])
    p.add_argument("--fractions", nargs="+", type=float, default=[1.0])
    p.add_argument("--bootstrap", type=int, default=1000)
    args = p.parse_args(argv)
    args.objectives = list(MODES)
    return args


def probe_both(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[tuple, Any]]:
    """Linear-probe rows and test predictions of the three encoders and random init, on both datasets."""
    w = Path(args.work)
    probes = {"ptbxl": ProbeConfig(tasks=PTBXL_TASKS, leads=["I", "II"], fractions=args.fractions, seed=42,
                                   bootstrap=args.bootstrap),
              "synthetic": ProbeConfig(tasks=["conditions", "stenosis"], leads=["I", "II"], fractions=args.fractions,
                                       seed=42, bootstrap=args.bootstrap)}
    rows: list[dict[str, Any]] = []
    pred: dict[tuple, Any] = {}
    for data, probe in probes.items():
        r, p = probe_all(args, data, probe, Store(w / "stores" / data), only=(*MODES, "random"))
        rows += r
        pred |= p
    return rows, pred


def markdown(result: dict[str, Any], args: argparse.Namespace, command: str) -> str:
    pre = result["pretraining"]
    lines = [SECTION + f" — {time.strftime('%Y-%m-%d')}", "", f"```bash\n{command}\n```", "",
             f"Machine: {hardware()}. Encoder `{args.model}` pretrained {args.epochs} epochs per objective on the "
             "PTB-XL folds 1-8 + synthetic-cohort mix of `benchmarks/clef.py` (PTB-XL records have age and sex only, "
             "five of seven SCORE2 inputs missing; synthetic records 0-4 missing). M as printed (eq. 4) weights a "
             "pair by `W = D exp(-t)` with `t = (A - m_i)/A * (A - m_k)/A` (A = 7): complete pairs least. "
             "`trust` is `W = t D + (1 - t)`: a complete pair keeps the full risk weight D and a pair's weight "
             "moves towards 1 (plain NT-Xent) as inputs go missing. `off` is `W = D`. Linear probe of the frozen "
             "encoder "
             f"(fractions {', '.join(f'{f:g}' for f in args.fractions)} of the training patients, regularisation "
             "chosen on the validation split); Δ = macro AUROC of a − b on the same test records, 95 % CI and "
             f"two-sided p from {args.bootstrap} paired patient-bootstrap resamples (`cardiofm.evaluate.compare`). "
             "p-values are not corrected for the number of cells.", "",
             "| objective | M | epochs | best val loss | seconds |", "| --- | --- | --- | --- | --- |"]
    for name, mode in MODES.items():
        v = pre[name]
        lines.append(f"| {name} | {mode} | {v['epochs']} | {fmt(v['best_val_loss'], 4)} | {v['train_seconds']:.0f} |")
    lines += ["", "| data | lead | task | fraction | printed | trust | off | random | trust − printed [95 % CI], p | "
              "off − printed [95 % CI], p |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    cells = result["paired"]
    keyed = {(c["data"], c["lead"], c["task"], c["fraction"], c["a"], c["b"]): c for c in cells}
    value = {"a": "value_a", "b": "value_b"}

    def delta(c: dict[str, Any] | None) -> str:
        return "–" if c is None else f"{c['delta']:+.3f} [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}], {fmt(c['p'])}"

    for data, lead, task, frac in dict.fromkeys((c["data"], c["lead"], c["task"], c["fraction"]) for c in cells):
        k = (data, lead, task, frac)
        tp, op = keyed.get(k + ("clef_trust", "clef")), keyed.get(k + ("clef_no_m", "clef"))
        rand = keyed.get(k + ("clef", "random"))
        au = {"clef": (tp or op or {}).get(value["b"]), "clef_trust": (tp or {}).get(value["a"]),
              "clef_no_m": (op or {}).get(value["a"]), "random": (rand or {}).get(value["b"])}
        lines.append(f"| {data} | {lead} | {task} | {frac:g} | " + " | ".join(fmt(au[n]) for n in NAME)
                     + f" | {delta(tp)} | {delta(op)} |")
    lines += ["", "Over all cells (a win needs the paired CI of Δ to exclude 0):", ""]
    for a, b in PAIRS:
        cs = [c for c in cells if (c["a"], c["b"]) == (a, b)]
        if not cs:
            continue
        wins = sum(c["ci"][0] > 0 for c in cs)
        losses = sum(c["ci"][1] < 0 for c in cs)
        mean = float(np.mean([c["delta"] for c in cs]))
        lines.append(f"- {NAME[a]} − {NAME[b]}: mean Δ {mean:+.3f} over {len(cs)} cells; {NAME[a]} significantly "
                     f"ahead in {wins}, behind in {losses}, no difference shown in {len(cs) - wins - losses}.")
    lines += ["", f"With {len(dict.fromkeys((c['data'], c['lead'], c['task'], c['fraction']) for c in cells))} cells "
              "per pair and no correction for multiplicity, about one cell in twenty comes out 'significant' by "
              "chance alone. One pretraining seed per objective: the Δ CIs cover test-set sampling, not pretraining "
              "variance between seeds.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    pre = pretrain_all(args)
    rows, pred = probe_both(args)
    paired = paired_cells(pred, PAIRS, args.bootstrap)
    result = {"pretraining": pre, "probe": rows, "paired": paired, "hardware": hardware()}
    save_json(Path(args.work) / "m_ablation" / "results.json", result)
    command = "python benchmarks/clef_m.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    md = markdown(result, args, command)
    print(md)
    if args.write:
        write_section(Path(args.write), md, SECTION)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
