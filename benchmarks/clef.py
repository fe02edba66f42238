"""CLEF benchmark (issue 5): clinically guided pretraining vs SimCLR vs BYOL vs random init.

1. Pretraining: every objective pretrains the same encoder (``--model``, default CLEF-S ``net1d_s``) on the
   same records with the same budget: the synthetic cohort's training split (all seven SCORE2 inputs,
   some missing) plus PTB-XL folds 1-8 (age and sex only: five of seven inputs missing), first record
   per patient, one random lead per sample, CLEF's five view perturbations, validation loss on the
   val splits. Objectives: ``clef`` (L^w + L^d), ``simclr``, ``byol``, ``moco`` and the ablations
   ``clef_no_m`` (W = D, without the missing-metadata weight) and ``clef_no_ld`` (without L^d).
2. Probing on PTB-XL fold 10 (lead I and lead II; tasks all, diagnostic, subdiagnostic,
   superdiagnostic, form, rhythm; plus age by ridge regression): linear probe on frozen embeddings at
   1 / 10 / 100 % of the training patients, regularisation chosen on fold 9; macro AUROC with a 95 %
   patient bootstrap CI (PTB-XL redraw rule), MAE in years with a bootstrap CI. The same encoders
   plus a random-init one. Fine-tuning for ``--finetune-tasks`` at ``--finetune-fractions``.
3. Probing on the synthetic cohort's test split, where risk drives disease: conditions and the
   stenosis outcome, linear probe, leads I and II.
4. Step time: one optimiser step of SimCLR and of CLEF on the same batch (forward, loss, backward,
   update), median of repeated steps, and the loss computation alone.

Every stage caches its output under ``--work``; a rerun continues where it stopped.

    python benchmarks/clef.py --ptbxl-root ../shared/data/ptbxl --write benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_io import load_json, save_json, synthetic_cohort  # noqa: E402
from ptbxl_report import REPO, hardware, write_section  # noqa: E402

from cardiofm.data.store import Store  # noqa: E402
from cardiofm.systems import load_config  # noqa: E402
from cardiofm.systems.clef.config import ProbeConfig  # noqa: E402

OBJECTIVES: dict[str, list[str]] = {
    "clef": ["method.objective=clef"],
    "simclr": ["method.objective=simclr"],
    "byol": ["method.objective=byol"],
    "moco": ["method.objective=moco"],
    "clef_trust": ["method.objective=clef", "method.missing_weight=trust"],
    "clef_no_m": ["method.objective=clef", "method.missing_weight=off"],
    "clef_no_ld": ["method.objective=clef", "method.lam=0"],
}
FINETUNED = ("clef", "simclr", "byol", "random")  # fine-tuning is the costly part: main comparison only
PTBXL_TASKS = ["all", "diagnostic", "subdiagnostic", "superdiagnostic", "form", "rhythm"]


def pretraining_parser(description: str) -> argparse.ArgumentParser:
    """The arguments every CLEF benchmark shares: data, work folder and the pretraining recipe."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--ptbxl-root", default=str(REPO.parent / "shared" / "data" / "ptbxl"))
    p.add_argument("--work", default=str(REPO / "benchmarks" / "_work" / "clef"))
    p.add_argument("--model", default="net1d_s")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--n-synthetic", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--write", default=None, help="RESULTS.md to write the section into")
    return p


def parse() -> argparse.Namespace:
    p = pretraining_parser(__doc__.split("\n")[0])
    p.add_argument("--objectives", nargs="+", default=[o for o in OBJECTIVES if o != "clef_trust"],
                   choices=list(OBJECTIVES))
    p.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1, 1.0])
    p.add_argument("--finetune-tasks", nargs="*", default=["superdiagnostic", "rhythm"])
    p.add_argument("--finetune-fractions", nargs="*", type=float, default=[1.0])
    p.add_argument("--finetune-epochs", type=int, default=5)
    p.add_argument("--bootstrap", type=int, default=500)
    return p.parse_args()


def synthetic_root(args: argparse.Namespace) -> Path:
    return synthetic_cohort(args.work, args.n_synthetic)


def overrides(args: argparse.Namespace, name: str) -> list[str]:
    w = Path(args.work)
    extra = [{"source": "synthetic", "root": str(synthetic_root(args)), "store": str(w / "stores" / "synthetic"),
              "task": "conditions"}]
    return [f"out={w / 'runs' / name}", f"data.root={args.ptbxl_root}", f"data.store={w / 'stores' / 'ptbxl'}",
            f"pretrain.extra_data={json.dumps(extra)}", f"model.name={args.model}",
            f"trainer.max_epochs={args.epochs}", f"trainer.patience={args.epochs}", f"method.lr={args.lr}",
            f"trainer.threads={args.threads}", "trainer.progress=false", "probe.tasks=[]", "probe.regression=[]",
            *OBJECTIVES[name]]


def pretrain_all(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from cardiofm.systems import run_system

    out = {}
    for name in args.objectives:
        cfg = load_config("clef", "ptbxl", overrides(args, name))
        t0 = time.perf_counter()
        run = run_system(cfg)
        info = run.metrics()["pretraining"]
        info["sources"] = json.loads((run.path / "sources.json").read_text())
        print(f"== {name}: {info['epochs']} epochs, {info['train_seconds']:.0f} s (this call "
              f"{time.perf_counter() - t0:.0f} s), best val loss {info['best_val_loss']:.4f}", flush=True)
        out[name] = info
    return out


def encoders(args: argparse.Namespace) -> dict[str, Any]:
    from cardiofm.models import create_model, load_model

    w = Path(args.work)
    out = {name: (load_model(w / "runs" / name / "encoder"), w / "runs" / name / "encoder") for name in args.objectives}
    torch.manual_seed(42)
    rand = create_model(args.model, in_leads=1)
    rand_dir = w / "random_init"
    if not (rand_dir / "model.safetensors").exists():
        from cardiofm.models import save_model

        save_model(rand, rand_dir)
    out["random"] = (load_model(rand_dir), rand_dir)
    return out


def probe_cached(args: argparse.Namespace, data: str, name: str, enc: Any, enc_dir: Path, probe: ProbeConfig,
                 store: Store, kind: str = "probe") -> tuple[list[dict[str, Any]], dict[tuple, dict[str, np.ndarray]]]:
    """One encoder's probe rows and per-cell test predictions, cached as ``<work>/<kind>/<data>_<name>_<tag>``."""
    from cardiofm.systems.clef.probe import probe_encoder

    tag = "_".join([*probe.tasks, *probe.regression, *probe.leads, *(f"{f:g}" for f in probe.fractions),
                    f"ft{probe.finetune_epochs}" if probe.finetune else "lin"])
    cache = Path(args.work) / kind / f"{data}_{name}_{tag}.npz"
    rows = load_json(cache.with_suffix(".json"))
    if rows is None or not cache.exists():
        t0 = time.perf_counter()
        pred: dict[tuple, dict[str, np.ndarray]] = {}
        rows = probe_encoder(enc, store, probe, Path(args.work) / "probe" / data, tag=name, encoder_dir=enc_dir,
                             predictions=pred)
        if probe.finetune:
            rows = [r for r in rows if r["mode"] == "finetune"]
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **{f"{lead}|{task}|{frac:g}|{mode}|{field}": v for (lead, task, frac, mode), d in pred.items()
                           if mode == ("finetune" if probe.finetune else "linear") for field, v in d.items()})
        save_json(cache.with_suffix(".json"), rows)
        print(f"   {kind} {name} on {data}: {len(rows)} cells, {time.perf_counter() - t0:.0f} s", flush=True)
    out: dict[tuple, dict[str, np.ndarray]] = {}
    with np.load(cache) as z:
        for key in z.files:
            lead, task, frac, mode, field = key.split("|")
            out.setdefault((name, data, mode, lead, task, float(frac)), {})[field] = z[key]
    return [r | {"data": data} for r in rows], out


def probe_all(args: argparse.Namespace, data: str, probe: ProbeConfig, store: Store,
              only: tuple[str, ...] | None = None) -> tuple[list[dict[str, Any]], dict[tuple, dict[str, np.ndarray]]]:
    """Probe rows and test predictions of every encoder (``only`` a subset) on one dataset."""
    rows: list[dict[str, Any]] = []
    pred: dict[tuple, dict[str, np.ndarray]] = {}
    for name, (enc, enc_dir) in encoders(args).items():
        if only is None or name in only:
            r, p = probe_cached(args, data, name, enc, enc_dir, probe, store)
            rows += r
            pred |= p
    return rows, pred


def finetune_all(args: argparse.Namespace, store: Store) -> tuple[list[dict[str, Any]], dict[tuple, Any]]:
    if not args.finetune_tasks or not args.finetune_fractions:
        return [], {}
    probe = ProbeConfig(tasks=list(args.finetune_tasks), leads=["I", "II"], fractions=list(args.finetune_fractions),
                        finetune=True, finetune_epochs=args.finetune_epochs, seed=42, bootstrap=args.bootstrap)
    rows: list[dict[str, Any]] = []
    pred: dict[tuple, Any] = {}
    for name, (enc, enc_dir) in encoders(args).items():
        if name in FINETUNED:
            r, p = probe_cached(args, "ptbxl", name, enc, enc_dir, probe, store, kind="finetune")
            rows += r
            pred |= p
    return rows, pred


def paired_mae(y: np.ndarray, pa: np.ndarray, pb: np.ndarray, groups: np.ndarray, n_boot: int) -> dict[str, Any]:
    """MAE(b) − MAE(a) (positive: a better) with a paired patient-bootstrap CI and two-sided p; MAEs of a, b."""
    from cardiofm.evaluate.bootstrap import bootstrap_ci
    from cardiofm.evaluate.comparison import bootstrap_p_value
    from cardiofm.systems.clef.probing import regression_mae

    both = np.column_stack([np.ravel(pa), np.ravel(pb)])
    y = np.ravel(y)
    ci = bootstrap_ci(lambda t, s: regression_mae(t, s[:, 1]) - regression_mae(t, s[:, 0]), y, both, n_boot=n_boot,
                      seed=0, groups=groups, require_both_classes=False)
    return {"delta": float(ci.estimate), "ci": (float(ci.lower), float(ci.upper)),
            "p": bootstrap_p_value(ci.distribution), "value_a": regression_mae(y, both[:, 0]),
            "value_b": regression_mae(y, both[:, 1])}


def paired_cells(pred: dict[tuple, dict[str, np.ndarray]], pairs: list[tuple[str, str]],
                 n_boot: int) -> list[dict[str, Any]]:
    """Encoder a vs b in every (data, mode, lead, task, fraction) cell both have, on the same test records:
    macro ΔAUROC with a paired patient-bootstrap CI and p (``cardiofm.evaluate.compare``); for a numeric
    target (age) ΔMAE with a paired patient bootstrap. Positive Δ: a better."""
    from bench_io import paired_auroc

    out = []
    for cell in sorted({k[1:] for k in pred}):
        for a, b in pairs:
            pa, pb = pred.get((a, *cell)), pred.get((b, *cell))
            if pa is None or pb is None:
                continue
            if not np.array_equal(pa["rows"], pb["rows"]):
                raise RuntimeError(f"{cell}: {a} and {b} were probed on different test rows")
            if pa["y"].ndim == 2:  # label tasks; a numeric target (age) is one column
                c, metric = paired_auroc(pa["p"], pb["p"], pa["y"], groups=pa["groups"], n_boot=n_boot), "macro_auroc"
            else:
                c, metric = paired_mae(pa["y"], pa["p"], pb["p"], pa["groups"], n_boot), "mae_reduction"
            data, mode, lead, task, frac = cell
            out.append({"data": data, "mode": mode, "lead": lead, "task": task, "fraction": frac, "a": a, "b": b,
                        "metric": metric, "value_a": c["value_a"], "value_b": c["value_b"],
                        "delta": float(c["delta"]), "ci": [float(x) for x in c["ci"]], "p": float(c["p"])})
    return out


def step_times(args: argparse.Namespace, n: int = 15) -> dict[str, Any]:
    from cardiofm.methods.registry import create_method

    torch.manual_seed(0)
    b = 64
    g = torch.Generator().manual_seed(0)
    batch = {"x1": torch.randn(b, 1, 1000, generator=g), "x2": torch.randn(b, 1, 1000, generator=g),
             "risk": torch.rand(b, generator=g) * 0.3, "n_missing": torch.randint(0, 8, (b,), generator=g)}
    out: dict[str, Any] = {"batch": b, "model": args.model, "threads": torch.get_num_threads()}
    modules = {name: create_method("contrastive", {"encoder": args.model, "in_leads": 1, "objective": name})
               for name in ("simclr", "clef")}
    opts = {k: torch.optim.AdamW(m.parameters(), 1e-3) for k, m in modules.items()}
    steps: dict[str, list[float]] = {k: [] for k in modules}
    losses: dict[str, list[float]] = {k: [] for k in modules}
    for i in range(n + 2):  # interleaved, so machine load hits both alike; the first two are warm-up
        for k, m in modules.items():
            t0 = time.perf_counter()
            loss, _ = m.objective.loss(m.encoder, batch)
            opts[k].zero_grad()
            loss.backward()
            opts[k].step()
            if i >= 2:
                steps[k].append(time.perf_counter() - t0)
            # the loss alone on fixed embeddings: the same objective over an identity "encoder"
            z = torch.randn(2 * b, m.encoder.embed_dim, generator=g, requires_grad=True)
            t1 = time.perf_counter()
            lz, _ = m.objective.loss(torch.nn.Identity(), {**batch, "x1": z[:b], "x2": z[b:]})
            lz.backward()
            if i >= 2:
                losses[k].append(time.perf_counter() - t1)
    for k in modules:
        out[f"{k}_step_ms"] = 1000 * float(np.median(steps[k]))
        out[f"{k}_loss_ms"] = 1000 * float(np.median(losses[k]))
    out["overhead_step"] = out["clef_step_ms"] / out["simclr_step_ms"] - 1
    out["overhead_loss_ms"] = out["clef_loss_ms"] - out["simclr_loss_ms"]
    out["overhead_loss_share"] = out["overhead_loss_ms"] / out["simclr_step_ms"]
    return out


def main() -> None:
    args = parse()
    torch.set_num_threads(args.threads)
    w = Path(args.work)
    w.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    pre = pretrain_all(args)
    ptbxl = Store(w / "stores" / "ptbxl")
    synth = Store(w / "stores" / "synthetic")
    probe_ptbxl = ProbeConfig(tasks=PTBXL_TASKS, regression=["age"], leads=["I", "II"], fractions=args.fractions,
                              seed=42, bootstrap=args.bootstrap)
    probe_synth = ProbeConfig(tasks=["conditions", "stenosis"], leads=["I", "II"], fractions=args.fractions, seed=42,
                              bootstrap=args.bootstrap)
    rows, pred = {}, {}
    for key, (probe, store) in {"ptbxl": (probe_ptbxl, ptbxl), "synthetic": (probe_synth, synth),
                                "finetune": (None, ptbxl)}.items():
        rows[key], got = finetune_all(args, store) if probe is None else probe_all(args, key, probe, store)
        pred |= got
    paired = paired_cells(pred, [("clef", b) for b in ("simclr", "byol", "moco", "random", "clef_no_m", "clef_no_ld",
                                                       "clef_trust")], args.bootstrap)
    timing = load_json(w / "step_times.json")
    if timing is None:
        timing = step_times(args)
        save_json(w / "step_times.json", timing)
    print(f"step: simclr {timing['simclr_step_ms']:.0f} ms, clef {timing['clef_step_ms']:.0f} ms "
          f"({100 * timing['overhead_step']:+.1f} %)")
    result = {"pretraining": pre, "probe": rows, "paired": paired, "timing": timing, "hardware": hardware(),
              "wall_s": time.perf_counter() - t_all}
    save_json(w / "results.json", result)
    if args.write:
        command = "python benchmarks/clef.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        from clef_report import SECTION, markdown

        write_section(Path(args.write), markdown(result, args, command), SECTION)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
