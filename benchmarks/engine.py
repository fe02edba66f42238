"""Engine overhead and inference throughput (issue 4 targets).

1. Training: the same model (``net1d_s``, 12 leads, 12x1000) on the same store, batch 64, no
   augmentation, once through cardiofm's engine (SupervisedModule + lightning.Trainer with its
   callbacks, CSV logger, progress bar off) and once through a bare PyTorch loop (same encoder, heads,
   per-task BCE, AdamW + warm-up/cosine, same DataLoader). Runs alternate (bare, engine, bare, engine)
   so that a change of machine load hits both; samples/s is taken per epoch, median over epochs.
2. Inference: the fold-model forward pass (``predict_rows``) over a store, ECGs/s, for the small encoders.

    python benchmarks/engine.py --out benchmarks/_work/engine.json [--threads 2] [--write-results]

The JSON goes to stdout (and ``--out``); ``--write-results`` also appends a markdown section with the measured
numbers and the command (:func:`results_markdown`) to ``--results`` (default ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader

from cardiofm.data.sources import open_cohort
from cardiofm.data.store import Store, build_store
from cardiofm.data.torch import EpochShuffleSampler, StoreDataset
from cardiofm.engine.fit import predict_rows, quiet_lightning
from cardiofm.methods.optim import adamw_warmup_cosine
from cardiofm.methods.supervised import SupervisedConfig, SupervisedModule
from cardiofm.signal.transforms import Preprocess
from cardiofm.synth.cohort import generate_cohort


def make_store(work: Path, n: int) -> Store:
    root, store = work / f"synth{n}", work / f"store{n}"
    if not (root / "cohort.json").exists():
        generate_cohort(n, root, seed=0, fs=100.0, workers=2, progress=False)
    build_store(open_cohort("synthetic", root), store, Preprocess(fs=100.0, length=1000), workers=2, progress=False)
    return Store(store)


def _config(encoder: str) -> SupervisedConfig:
    return SupervisedConfig(encoder=encoder, in_leads=12, n_labels=4, uncertainty_weighting=False, pcgrad=False,
                            both_views=False, lr=1e-3)


def bare_epochs(store: Store, encoder: str, epochs: int, batch: int) -> list[float]:
    """Samples/s per epoch of a hand-written loop doing the same work as the engine."""
    L.seed_everything(0, verbose=False)
    model = SupervisedModule(_config(encoder))  # used as a plain nn.Module: encoder + heads
    ds = StoreDataset(store, split="train", task="stenosis", labelled_only=False)
    sampler = EpochShuffleSampler(len(ds), 0)
    loader = DataLoader(ds, batch_size=batch, sampler=sampler)
    opt, sched = adamw_warmup_cosine(model.parameters(), 1e-3, 1e-2, len(loader) // 20, epochs * len(loader))
    rates = []
    model.train()
    for e in range(epochs):
        sampler.set_epoch(e)
        t0 = time.perf_counter()
        n = 0
        for b in loader:
            logits = model(b["x"])
            loss = sum(F.binary_cross_entropy_with_logits(logits[:, c], b["y"][:, c]) for c in model.tasks.values())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            n += len(b["x"])
        rates.append(n / (time.perf_counter() - t0))
    return rates


class EpochTimer(L.Callback):
    def __init__(self) -> None:
        self.rates: list[float] = []
        self.t0 = 0.0
        self.n = 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.t0, self.n = time.perf_counter(), 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
        self.n += len(batch["x"])

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.rates.append(self.n / (time.perf_counter() - self.t0))


def engine_epochs(store: Store, encoder: str, epochs: int, batch: int, work: Path) -> list[float]:
    """Samples/s per training epoch through the engine's Trainer (callbacks, logger, checkpoints)."""
    from cardiofm.config import TrainerConfig
    from cardiofm.data.torch import StoreDataModule
    from cardiofm.engine.fit import build_trainer

    L.seed_everything(0, verbose=False)
    module = SupervisedModule(_config(encoder))
    tc = TrainerConfig(max_epochs=epochs, progress=False, accelerator="cpu", patience=100)
    fold = Path(tempfile.mkdtemp(dir=work))
    trainer = build_trainer(tc, fold)
    timer = EpochTimer()
    trainer.callbacks.append(timer)
    idx = store.cohort.index
    rows = {"train": np.flatnonzero(idx["split"] == "train"), "val": np.flatnonzero(idx["split"] == "val")}
    dm = StoreDataModule(store.path, task="stenosis", batch_size=batch, rows=rows)
    trainer.fit(module, datamodule=dm)
    return timer.rates


def inference(store: Store, encoder: str, batch: int, repeats: int = 3) -> float:
    L.seed_everything(0, verbose=False)
    model = SupervisedModule(_config(encoder)).eval()
    rows = np.arange(len(store))
    predict_rows([model], store, rows[:batch], batch_size=batch)  # warm-up
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict_rows([model], store, rows, batch_size=batch)
        best = max(best, len(rows) / (time.perf_counter() - t0))
    return best


PAPER_PARAMS = {"net1d_s": 448_000, "net1d_m": 30_700_000, "net1d_l": 296_000_000}


def parameter_counts() -> dict[str, dict[str, float | int | None]]:
    """Parameters of every registered encoder (1 lead, as CLEF counts them; built on the meta device)."""
    from cardiofm.models import count_parameters, create_model, list_models

    out = {}
    for name in list_models():
        with torch.device("meta"):
            n = count_parameters(create_model(name, in_leads=1))
        paper = PAPER_PARAMS.get(name)
        out[name] = {"params_1_lead": n, "paper": paper,
                     "gap_pct": None if paper is None else round(100 * (n - paper) / paper, 2)}
    return out


def _num(x: float | int | None, digits: int = 1) -> str:
    if x is None:
        return "–"
    return f"{x:,}" if isinstance(x, int) else f"{x:,.{digits}f}"


def results_markdown(res: dict[str, Any], command: Sequence[str], date: str | None = None) -> str:
    """A RESULTS.md section for one run of this benchmark: the command, machine, overhead, inference, sizes.

    ``res`` is the dict this script prints as JSON; ``command`` the argv it was run with. Pure formatting.
    """
    date = date or datetime.date.today().isoformat()
    lines = [f"## Engine overhead and inference throughput — {date}", "", "```bash",
             "python " + " ".join(shlex.quote(str(c)) for c in command), "```", "",
             f"Machine: {res['machine']}; load average at the end "
             f"{', '.join(f'{v:.2f}' for v in res['load_average'])}. Model `{res['encoder']}`, input "
             f"{res['input']}, batch {res['batch']}, {res['threads']} torch thread(s), {res['train_records']} "
             "training records; runs alternate bare, engine, bare, engine; samples/s per epoch after the first.",
             "", "| | samples/s (per epoch) | median |", "| --- | --- | --- |",
             f"| bare PyTorch loop | {', '.join(_num(r) for r in res['bare_epochs'])} | "
             f"{_num(res['bare_samples_per_s'])} |",
             f"| cardiofm engine | {', '.join(_num(r) for r in res['engine_epochs'])} | "
             f"{_num(res['engine_samples_per_s'])} |",
             f"| **overhead** | | **{_num(res['engine_overhead_pct'])} %** |", "",
             "| encoder | inference ECGs/s (batch 256) |", "| --- | --- |"]
    lines += [f"| `{enc}` | {_num(v)} |" for enc, v in res["inference_ecgs_per_s"].items()]
    lines += ["", "| encoder | parameters (1 lead) | paper | gap |", "| --- | --- | --- | --- |"]
    for name, p in res["parameters"].items():
        gap = "–" if p.get("gap_pct") is None else f"{p['gap_pct']:+.2f} %"
        lines.append(f"| `{name}` | {_num(p['params_1_lead'])} | {_num(p.get('paper'))} | {gap} |")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("benchmarks/_work/engine"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--n", type=int, default=1200, help="synthetic records (train split ~80 %%)")
    ap.add_argument("--encoder", default="net1d_s")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--inference-encoders", default="net1d_s,net1d_tiny,resnet1d_wang,vit_micro")
    ap.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    ap.add_argument("--write-results", action="store_true", help="append a markdown section to --results")
    return ap


def main() -> None:
    args = build_parser().parse_args()
    torch.set_num_threads(args.threads)
    quiet_lightning()
    args.work.mkdir(parents=True, exist_ok=True)
    store = make_store(args.work, args.n)
    bare, engine = [], []
    for _ in range(2):
        bare += bare_epochs(store, args.encoder, args.epochs, args.batch)[1:]   # first epoch: warm-up
        engine += engine_epochs(store, args.encoder, args.epochs, args.batch, args.work)[1:]
    b, e = statistics.median(bare), statistics.median(engine)
    res = {"encoder": args.encoder, "threads": args.threads, "batch": args.batch, "input": "12x1000 (100 Hz, 10 s)",
           "train_records": int((store.cohort.index["split"] == "train").sum()),
           "bare_samples_per_s": round(b, 1), "engine_samples_per_s": round(e, 1),
           "engine_overhead_pct": round(100 * (b - e) / b, 1),
           "bare_epochs": [round(r, 1) for r in bare], "engine_epochs": [round(r, 1) for r in engine],
           "parameters": parameter_counts(),
           "inference_ecgs_per_s": {enc: round(inference(store, enc, 256), 1)
                                    for enc in args.inference_encoders.split(",")},
           "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
           "load_average": os.getloadavg()}
    print(json.dumps(res, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1))
    if args.write_results:
        with open(args.results, "a") as fh:
            fh.write("\n" + results_markdown(res, ["benchmarks/engine.py", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
