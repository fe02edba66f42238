"""``report.html`` of an evaluated run: summary tables, every plot inlined, the config; no external assets."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml

from cardiofm.report.html import esc, page_head, png_data_uri

STYLE = """body{font-family:system-ui,sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:14px}th,td{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}figure{margin:1.2em 0}
figcaption{font-size:14px;color:#444;margin-bottom:.3em}img{max-width:100%;border:1px solid #eee}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}.muted{color:#777;font-size:13px}"""


def _f(v: Any, digits: int = 3) -> str:
    return "–" if v is None or (isinstance(v, float) and v != v) else f"{float(v):.{digits}f}"


def _ci(point: Any, ci: Any, digits: int = 3) -> str:
    if point is None:
        return "–"
    if not ci or ci[0] is None:
        return _f(point, digits)
    return f"{_f(point, digits)} [{_f(ci[0], digits)}, {_f(ci[1], digits)}]"


def _rate(r: dict[str, Any] | None) -> str:
    if not r or r.get("value") is None:
        return "–"
    return f"{r['value']:.2f} [{_f(r.get('lower'), 2)}, {_f(r.get('upper'), 2)}] ({r.get('k')}/{r.get('n')})"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def summary_table(ev: dict[str, Any]) -> str:
    rows = []
    for name in ("internal", "test"):
        s = ev.get(name)
        if not s or "classification" not in s:
            continue
        c = s["classification"]
        pl = s.get("patient_level")
        rows.append([name, s["n_records"], s["n_patients"], _ci(c.get("macro_auroc"), c.get("macro_auroc_ci")),
                     _ci(c.get("micro_auroc"), c.get("micro_auroc_ci")),
                     _ci(c.get("macro_auprc"), c.get("macro_auprc_ci")), _f(s.get("fmax", {}).get("fmax")),
                     _ci(pl.get("macro_auroc"), pl.get("macro_auroc_ci")) if isinstance(pl, dict) else "= exam level"])
    return _table(["set", "records", "patients", "macro AUROC [95 % CI]", "micro AUROC", "macro AUPRC", "Fmax",
                   "patient-level macro AUROC"], rows)


def task_table(s: dict[str, Any], codes: list[str], descriptions: list[str]) -> str:
    c = s["classification"]
    missing = c.get("not_scored") or {}
    rows = []
    for j, code in enumerate(codes):
        if code in missing:  # too few positives or negatives in this set: a marked row, no metrics
            m = missing[code]
            rows.append([f"{code} ({descriptions[j]})", f"{m['n_pos']}/{c['n']}", f"not scored: {m['why']}",
                         *["–"] * 9])
            continue
        t = (s.get("per_task") or {}).get(code, {})
        thr = t.get("threshold", {})
        trend = t.get("trend")
        km = t.get("survival")
        rho = f"{_f(trend['rho'])} (p={trend['p_value']:.2g})" if trend and trend.get("rho") is not None else "–"
        rows.append([f"{code} ({descriptions[j]})", f"{c['n_pos'][j]}/{c['n']}",
                     _ci(c["auroc"][j], (c.get("auroc_ci") or [None] * len(codes))[j]), _f(c["auprc"][j]),
                     _f(t.get("calibration", {}).get("brier")), _f(thr.get("threshold"), 2),
                     _rate(thr.get("sensitivity")), _rate(thr.get("specificity")), _rate(thr.get("ppv")),
                     _rate(thr.get("npv")),
                     rho,
                     f"{km['logrank_p']:.2g}" if km and km.get("logrank_p") is not None else "–"])
    return _table(["task", "positives", "AUROC [95 % CI]", "AUPRC", "Brier", "threshold", "sensitivity",
                   "specificity", "PPV", "NPV", "Spearman ρ", "log-rank p"], rows)


def bootstrap_line(c: dict[str, Any]) -> str:
    """How the CIs of a ``classification`` result were computed, in words."""
    if not c.get("n_boot"):
        return "no bootstrap confidence intervals"
    rule = {"strodthoff": "a resample is kept if every scored class has a positive in it (Strodthoff et al. 2021); "
                          "a class without a negative in a resample is left out of that resample",
            "strict": "a resample is kept only if every scored class has a positive and a negative"}.get(
        c.get("rule"), str(c.get("rule")))
    skips = sum(c.get("n_skipped") or [])
    return (f"{round(100 * c.get('level', 0.95))} % {c.get('ci_method', 'percentile')} bootstrap intervals from "
            f"{c['n_boot']} resamples ({'patients' if c.get('patient_bootstrap') else 'records'}); {rule}; "
            f"{c.get('n_rejected', 0)} resamples redrawn, {skips} class-resample skips; classes need >= "
            f"{c.get('min_pos', 2)} positives and >= {c.get('min_neg', 2)} negatives to be scored.")


def write_run_report(run: Any, cfg: Any, ev: dict[str, Any], figures: Any) -> Path:
    """Write ``<run>/report.html`` from the evaluation results and the listed figures."""
    codes, desc = ev["codes"], ev["descriptions"]
    title = f"cardiofm run {cfg.name}" + (f" ({cfg.variant})" if cfg.variant else "")
    parts = [page_head(title, STYLE),
             f"<h1>{esc(title)}</h1>",
             f"<p class='muted'>{esc(str(run.path.resolve()))} · evaluated {time.strftime('%Y-%m-%d %H:%M')} · "
             f"task <b>{esc(ev['task'])}</b>: " + esc(", ".join(f"{c} = {d}" for c, d in zip(codes, desc, strict=True)))
             + "</p>",
             f"<p>encoder <b>{esc(str(cfg.model.get('name')))}</b>, method "
             f"<b>{esc(str(cfg.method.get('name')))}</b>, {cfg.cv.folds} folds, data "
             f"{esc(cfg.data.source)} ({esc(str(cfg.data.root or 'generated'))})</p>",
             "<h2>Summary</h2>", summary_table(ev)]
    training = run.metrics().get("training", {})
    if training:
        parts.append(_table(["fold", "best val macro AUROC", "epochs", "train s", "resumed"],
                            [[k, _f(v.get("best_score")), v.get("epochs"), v.get("train_seconds"), v.get("resumed")]
                             for k, v in training.items()]))
    sections: dict[str, list[tuple[str, Path]]] = {}
    for section, caption, path in figures.items:
        sections.setdefault(section, []).append((caption, path))
    for name, label in (("internal", None), ("test", None)):
        s = ev.get(name)
        if s and "classification" not in s:
            parts.append(f"<h2>{esc(name)}</h2><p class='muted'>{esc(str(s.get('note', '')))} "
                         f"({esc(s.get('n_records'))} records)</p>")
        if not s or "classification" not in s:
            continue
        heading = next((sec for sec in sections if sec.lower().startswith(name[:4])), label or name)
        parts.append(f"<h2>{esc(heading)}</h2>")
        if s.get("classification", {}).get("note"):
            parts.append(f"<p class='muted'>{esc(s['classification']['note'])}</p>")
        parts.append(f"<p class='muted'>{esc(bootstrap_line(s['classification']))}</p>")
        parts.append(task_table(s, codes, desc))
        parts += _figures(sections.pop(heading, []))
    for heading, items in sections.items():
        parts.append(f"<h2>{esc(heading)}</h2>")
        parts += _figures(items)
    parts += ["<h2>Configuration</h2>", f"<details><summary>config.yaml</summary><pre>"
              f"{esc(yaml.safe_dump(cfg.to_dict(), sort_keys=False))}</pre></details>",
              "<details><summary>metrics.json (evaluation, abridged)</summary><pre>"
              f"{esc(json.dumps(_abridged(ev), indent=1)[:20000])}</pre></details>"]
    out = run.path / "report.html"
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def _figures(items: list[tuple[str, Path]]) -> list[str]:
    return [f"<figure><figcaption>{esc(c)}</figcaption><img src='{png_data_uri(p)}' alt='{esc(c)}'>"
            "</figure>" for c, p in items if Path(p).exists()]


def _abridged(d: Any, depth: int = 0) -> Any:
    if isinstance(d, dict):
        return {k: _abridged(v, depth + 1) for k, v in d.items()}
    if isinstance(d, list) and len(d) > 12:
        return f"[{len(d)} values]"
    return d
