from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import cardiofm.systems  # noqa: F401  (registers the built-in systems: recipes name them)

os.environ.setdefault("MPLBACKEND", "Agg")
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "", None}


def _host(address: object) -> object:
    return address[0] if isinstance(address, tuple) and address else address


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    """The whole suite runs offline: a connection or name look-up beyond this machine fails the test that
    makes it (loopback stays open for the gloo process groups of the DDP tests)."""
    real_connect, real_connect_ex, real_lookup = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def check(address: object) -> None:
        if isinstance(address, (str, bytes)) and not isinstance(address, tuple):
            return  # a Unix socket path
        if _host(address) not in _LOOPBACK:
            raise OSError(f"tests run offline: connection to {address!r} blocked")

    def connect(self: socket.socket, address: object) -> object:
        if self.family != getattr(socket, "AF_UNIX", None):
            check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> object:
        if self.family != getattr(socket, "AF_UNIX", None):
            check(address)
        return real_connect_ex(self, address)

    def lookup(host: object, *args: object, **kw: object) -> object:
        if host not in _LOOPBACK:
            raise OSError(f"tests run offline: name look-up of {host!r} blocked")
        return real_lookup(host, *args, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket, "getaddrinfo", lookup)
        yield

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
