"""CardioPRIME benchmark (issue 7): integrated (clinical KL) vs baseline (alpha1 = 0) embeddings.

(a) The synthetic cohort: the baseline and one integrated run per phenotype modality (dexa, cgm, retina, liver,
    anthro); diseases = the cohort's conditions. (b) The PTB-XL subset: anthropometrics (age, sex, height,
    weight, BMI) as the clinical modality, the SCP diagnostic statements as diseases. Every run uses
    ``configs/cardioprime.yaml`` (Adam 1e-4, batch 20, stop after 3 epochs without a better validation MSE,
    R-aligned 4 s windows) and is analysed on its source's test split: reconstruction MSE, embedding-feature
    correlations, k-means clustering metrics with patient-bootstrap CIs; each integrated run is divided by
    its baseline (the paper's ratio table). (c) Step cost: one optimisation step of CardioPRIME against a plain
    LSTM-VAE of the same size (same encoder and decoder, the latent repeated over time instead of the ODE).

Runs resume; a rerun only reports.

    python benchmarks/cardioprime.py --ptbxl-root ../shared/data/ptbxl --write benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_io import load_json, save_json, synthetic_cohort  # noqa: E402
from ptbxl_report import REPO  # noqa: E402

from cardiofm.systems import load_config  # noqa: E402

MODALITIES = ("dexa", "cgm", "retina", "liver", "anthro")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ptbxl-root", default=str(REPO.parent / "shared" / "data" / "ptbxl"))
    p.add_argument("--work", default=str(REPO / "benchmarks" / "_work" / "cardioprime"))
    p.add_argument("--n-synthetic", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-ptbxl", action="store_true")
    p.add_argument("--write", default=None, help="RESULTS.md to write the section into")
    return p.parse_args()


def common(args: argparse.Namespace) -> list[str]:
    return [f"trainer.max_epochs={args.epochs}", f"trainer.threads={args.threads}", "trainer.progress=false",
            f"evaluate.n_boot={args.bootstrap}", "data.build_workers=2"]


def run_one(args: argparse.Namespace, variant: str, name: str, extra: list[str]) -> dict[str, Any]:
    from cardiofm.systems import run_system

    w = Path(args.work)
    if variant == "synthetic":
        data = [f"data.root={synthetic_cohort(w, args.n_synthetic)}", f"data.store={w / 'stores' / 'synthetic'}"]
    else:
        data = [f"data.root={args.ptbxl_root}", f"data.store={w / 'stores' / 'ptbxl'}"]
    cfg = load_config("cardioprime", variant, [f"out={w / 'runs' / name}", *data, *common(args), *extra])
    t0 = time.perf_counter()
    run = run_system(cfg)
    m = run.metrics()
    print(f"== {name}: {time.perf_counter() - t0:.0f} s this call, test MSE {m['cardioprime']['test_mse']:.3f}",
          flush=True)
    return {"run": str(run.path), **m}


def train_all(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"synthetic": {"baseline": run_one(args, "synthetic", "syn_baseline", ["method.alpha1=0"])}}
    for mod in MODALITIES:
        out["synthetic"][mod] = run_one(args, "synthetic", f"syn_{mod}", [f"data.tabular={mod}"])
    if not args.skip_ptbxl:
        out["ptbxl"] = {"baseline": run_one(args, "ptbxl", "ptbxl_baseline", ["method.alpha1=0"]),
                        "anthropometrics": run_one(args, "ptbxl", "ptbxl_anthro", [])}
    return out


def compare_all(args: argparse.Namespace, runs: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from cardiofm.systems.cardioprime.run import compare_runs

    w = Path(args.work)
    out: dict[str, Any] = {}
    for data, group in runs.items():
        base = group["baseline"]["run"]
        for name, r in group.items():
            if name == "baseline":
                continue
            ratios = compare_runs(r["run"], base, w / "compare" / f"{data}_{name}", title=f"{data}, {name}")
            out[f"{data}/{name}"] = {"ratios": ratios.to_dict(orient="records"),
                                     "clusters": pd.read_csv(Path(r["run"]) / "clusters.csv").to_dict("records"),
                                     "baseline_clusters": pd.read_csv(Path(base) / "clusters.csv").to_dict("records"),
                                     "figure": str(w / "compare" / f"{data}_{name}" / "ratios.png")}
    return out


class PlainLSTMVAE(torch.nn.Module):
    """The step-cost reference: CardioPRIME's encoder and decoder without the ODE (latent repeated over time)."""

    def __init__(self, like: Any) -> None:
        super().__init__()
        cfg = like.config
        from cardiofm.models import create_model

        self.encoder = create_model("lstm_cardioprime", in_leads=cfg.in_leads, hidden_size=cfg.hidden,
                                    embed_dim=2 * cfg.latent)
        self.reduce = torch.nn.Linear(cfg.latent, 3)
        self.decoder = torch.nn.LSTM(3, cfg.hidden, batch_first=True)
        self.project = torch.nn.Conv1d(cfg.hidden, cfg.in_leads, cfg.decoder_kernel, padding=cfg.decoder_kernel // 2)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encoder(x).chunk(2, -1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        seq = self.reduce(z)[:, None, :].expand(-1, x.shape[-1], -1)
        out, _ = self.decoder(seq)
        rec = self.project(out.transpose(1, 2))
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1).mean()
        return 100 * (rec - x).pow(2).mean() + 1.5 * kl


def step_cost(args: argparse.Namespace, repeats: int = 12) -> dict[str, float]:
    from cardiofm.systems.cardioprime.module import CardioPrimeConfig, CardioPrimeModule

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cp = CardioPrimeModule(CardioPrimeConfig(tab_dim=8))
    plain = PlainLSTMVAE(cp)
    x, tab = torch.randn(20, 12, 400), torch.randn(20, 8)
    batch = {"x": x, "tab": tab, "start": torch.zeros(20, dtype=torch.long), "hr": torch.full((20,), 70.0)}
    times: dict[str, list[float]] = {"cardioprime": [], "plain": []}
    opts = {"cardioprime": torch.optim.Adam(cp.parameters(), 1e-4), "plain": torch.optim.Adam(plain.parameters(), 1e-4)}
    steps = {"cardioprime": lambda: cp.losses(batch)["loss"], "plain": lambda: plain.loss(x)}
    for i in range(repeats + 2):
        for name in ("cardioprime", "plain"):  # interleaved, so that drifts hit both
            t0 = time.perf_counter()
            loss = steps[name]()
            opts[name].zero_grad()
            loss.backward()
            opts[name].step()
            if i >= 2:
                times[name].append(time.perf_counter() - t0)
    med = {k: 1000 * float(np.median(v)) for k, v in times.items()}
    return {"cardioprime_ms": med["cardioprime"], "plain_ms": med["plain"], "ratio": med["cardioprime"] / med["plain"]}


def main() -> None:
    args = parse()
    torch.set_num_threads(args.threads)
    w = Path(args.work)
    w.mkdir(parents=True, exist_ok=True)
    runs = train_all(args)
    save_json(w / "runs.json", runs)
    results = {"runs": runs, "compare": compare_all(args, runs),
               "step": load_json(w / "step.json") or step_cost(args)}
    save_json(w / "step.json", results["step"])
    save_json(w / "results.json", results)
    if args.write:
        from cardioprime_report import write_report

        write_report(args, results, Path(args.write))


if __name__ == "__main__":
    main()
