from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

FIXTURES = Path(__file__).parent / "fixtures"
PTBXL = FIXTURES / "ptbxl"
RECORD_1 = PTBXL / "records100" / "00000" / "00001_lr"


@pytest.fixture
def ptbxl_root() -> Path:
    return PTBXL


@pytest.fixture
def record_path() -> Path:
    return RECORD_1


def synthetic_run_data(factory: pytest.TempPathFactory, name: str, n: int, seed: int) -> dict[str, str]:
    """A generated cohort (``root``) and the path its store will be built at (``store``), for recipe tests."""
    from cardiofm.synth.cohort import generate_cohort

    root = factory.mktemp(name) / "synthetic"
    generate_cohort(n, root, seed=seed, fs=100.0, workers=1, progress=False)
    return {"root": str(root), "store": str(root.parent / "store")}


def recipe_overrides(synth: dict[str, str], out: Path, *extra: str) -> list[str]:
    """``--set`` overrides shared by the recipe tests: that cohort and store, a tiny Net1D, no progress bars."""
    return [f"out={out}", f"data.root={synth['root']}", f"data.store={synth['store']}", "data.build_workers=1",
            "model.name=net1d_tiny", "trainer.progress=false", *extra]


def crash_at_epoch(monkeypatch: pytest.MonkeyPatch, module: object, epoch: int = 2) -> object:
    """Make ``module.build_trainer`` give trainers that raise at the start of ``epoch`` (a simulated crash);
    returns the original builder so a test can put it back."""
    import lightning as L

    build = module.build_trainer

    class _Crash(L.Callback):
        def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
            if trainer.current_epoch == epoch:
                raise RuntimeError("simulated crash")

    def crashing(tc, fold_dir):  # noqa: ANN001, ANN202
        t = build(tc, fold_dir)
        t.callbacks.append(_Crash())
        return t

    monkeypatch.setattr(module, "build_trainer", crashing)
    return build
