"""The AnyECG-CCTA recipe end to end: `cardiofm train configs/anyecg.yaml` + `cardiofm evaluate`, then a
results table (per task: AUROC with CI, AUPRC, Brier, sensitivity/specificity at the risk threshold,
Spearman trend, log-rank p) for benchmarks/RESULTS.md.

    python benchmarks/anyecg.py --variant synthetic [--set trainer.max_epochs=10 ...] [--write-results]
    python benchmarks/anyecg.py --variant ptbxl --set data.root=../shared/data/ptbxl --write-results

Reruns resume the run folder (default benchmarks/_work/anyecg-<variant>).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from cardiofm.engine.cv import train
from cardiofm.systems import load_config
from cardiofm.systems.shared.evaluation import evaluate_run

RECIPE = Path(__file__).resolve().parents[1] / "configs" / "anyecg.yaml"


def _f(v: float | None, d: int = 3) -> str:
    return "–" if v is None else f"{v:.{d}f}"


def _ci(v: float | None, ci: list[float | None] | None) -> str:
    if v is None:
        return "–"
    if not ci or ci[0] is None:
        return _f(v)
    return f"{_f(v)} [{_f(ci[0])}, {_f(ci[1])}]"


def _rate(r: dict | None) -> str:
    return "–" if not r or r.get("value") is None else f"{r['value']:.2f} ({r['k']}/{r['n']})"


def table(ev: dict, name: str) -> list[str]:
    s = ev.get(name)
    if not s or "classification" not in s:
        return [f"{name}: {s.get('note') if s else 'absent'}"]
    c = s["classification"]
    macro, micro = _ci(c["macro_auroc"], c.get("macro_auroc_ci")), _ci(c["micro_auroc"], c.get("micro_auroc_ci"))
    lines = [f"**{name}** ({s['n_records']} records, {s['n_patients']} patients): macro AUROC "
             f"{macro}, micro AUROC {micro}, macro AUPRC {_f(c['macro_auprc'])}",
             "",
             "| task | positives | AUROC [95 % CI] | AUPRC | Brier | threshold | sensitivity | specificity | "
             "Spearman ρ (p) | KM log-rank p |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for j, code in enumerate(ev["codes"]):
        t = (s.get("per_task") or {}).get(code, {})
        thr, tr, km = t.get("threshold", {}), t.get("trend"), t.get("survival") or {}
        rho = f"{_f(tr['rho'])} ({tr['p_value']:.2g})" if tr and tr.get("rho") is not None else "–"
        lr = f"{km['logrank_p']:.2g}" if km.get("logrank_p") is not None else km.get("note", "–")
        if "median" in str(km.get("grouping", "")):
            lr += " (median split)"
        auc = _ci(c["auroc"][j], (c.get("auroc_ci") or [None] * len(ev["codes"]))[j])
        lines.append(f"| {code} | {c['n_pos'][j]}/{c['n']} | {auc}"
                     f" | {_f(c['auprc'][j])} | {_f(t.get('calibration', {}).get('brier'))} | "
                     f"{_f(thr.get('threshold'), 2)} | {_rate(thr.get('sensitivity'))} | "
                     f"{_rate(thr.get('specificity'))} | {rho} | {lr} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default="synthetic")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    ap.add_argument("--write-results", action="store_true")
    args = ap.parse_args()
    out = args.out or Path(__file__).parent / "_work" / f"anyecg-{args.variant}"
    cfg = load_config(RECIPE, args.variant, [*args.overrides, f"out={out}"])
    t0 = time.perf_counter()
    run = train(cfg)
    t_train = time.perf_counter() - t0
    ev = evaluate_run(run.path)
    training = run.metrics()["training"]
    cmd = "python benchmarks/anyecg.py --variant " + args.variant + "".join(f" --set {o}" for o in args.overrides)
    lines = [f"### AnyECG-CCTA recipe, variant `{args.variant}` ({time.strftime('%Y-%m-%d')})", "", "```bash", cmd,
             "```", "",
             f"Encoder `{cfg.model['name']}`, {cfg.cv.folds} folds, up to {cfg.trainer.max_epochs} epochs (patience "
             f"{cfg.trainer.patience}), PCGrad {cfg.method.get('pcgrad')}, uncertainty weighting "
             f"{cfg.method.get('uncertainty_weighting')}, both views {cfg.method.get('both_views')}, augmentation "
             f"`{cfg.data.augment}`. Training {t_train / 60:.1f} min on 2 CPU cores (this call; 0 when resumed), "
             f"evaluation {ev['seconds']:.0f} s. Per fold: "
             + ", ".join(f"{k} best val macro AUROC {_f(v.get('best_score'))} after {v.get('epochs')} epochs"
                         for k, v in training.items()) + ".", ""]
    lines += table(ev, "internal") + [""] + table(ev, "test") + [""]
    text = "\n".join(lines)
    print(text)
    (out / "results.md").write_text(text)
    (out / "summary.json").write_text(json.dumps({"summary": ev["summary_line"], "training": training}, indent=1))
    if args.write_results:
        with open(args.results, "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    sys.exit(main())
