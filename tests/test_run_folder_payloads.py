"""No file in a run folder can make cardiofm run code.

For each command that reads run folders (evaluate, predict, zeroshot, generate --run, train and pretrain
resuming), the command is run once on an intact copy while an audit hook records every file it opens.
Then, file by file, a code-executing payload (a pickle whose unpickling creates a sentinel file, in the
file's own format: torch checkpoint, .npy/.npz object array, YAML python tag, raw pickle) replaces that
file and the command runs again: the sentinel must never appear, and the command either succeeds or
refuses with one line naming the file, never a traceback. Files the command never opened get the
payload all at once, in one more run.
"""

from __future__ import annotations

import pickle
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import recipe_overrides, synthetic_run_data

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _OPENED is not None and isinstance(args[0], (str, Path)):
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
        if "r" in mode or "+" in mode:
            _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


class Payload:
    """Unpickling it calls ``open(sentinel, "w")``: the sentinel file appears if any loader runs it."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = str(sentinel)

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return open, (self.sentinel, "w")


def plant(path: Path, sentinel: Path) -> None:
    """Replace ``path`` with a payload in the format its name suggests."""
    import torch

    obj = Payload(sentinel)
    if path.suffix == ".ckpt":
        torch.save({"state_dict": {}, "epoch": 0, "hyper_parameters": {"config": obj}}, path)
    elif path.suffix in (".npy", ".npz"):
        with open(path, "wb") as fh:
            arr = np.array([obj, 1], dtype=object)
            if path.suffix == ".npy":
                np.save(fh, arr, allow_pickle=True)
            else:
                np.savez(fh, eta=arr, val_rows=arr, test_p=arr)
    elif path.suffix in (".yaml", ".yml"):
        path.write_text(f"!!python/object/apply:builtins.open [{sentinel}, w]\n")
    else:
        path.write_bytes(pickle.dumps(obj))


def test_the_payloads_are_live(tmp_path: Path):  # so that "the sentinel never appears" means something
    import torch
    import yaml

    for name in ("a.ckpt", "b.npy", "c.npz", "d.json", "e.yaml"):
        sentinel = tmp_path / f"{name}.ran"
        plant(tmp_path / name, sentinel)
        if name.endswith(".ckpt"):
            torch.load(tmp_path / name, weights_only=False)
        elif name.endswith(".npy"):
            np.load(tmp_path / name, allow_pickle=True)
        elif name.endswith(".npz"):
            np.load(tmp_path / name, allow_pickle=True)["eta"]
        elif name.endswith(".yaml"):
            yaml.unsafe_load((tmp_path / name).read_text())
        else:
            pickle.loads((tmp_path / name).read_bytes())
        assert sentinel.exists(), name


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from cardiofm.cli import main

    capsys.readouterr()
    argv = sys.argv
    sys.argv = ["cardiofm", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return code, capsys.readouterr().err


TINY = ["trainer.max_epochs=1", "data.batch_size=32", "cv.folds=2", "model.name=net1d_tiny"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from cardiofm.systems import load_config, run_system
    from test_sediff_run import SMALL

    synth = synthetic_run_data(tmp_path_factory, "payload", 60, 11)
    base = tmp_path_factory.mktemp("payload_runs")
    sets: dict[str, tuple[str, list[str]]] = {
        # the supervised run keeps its store inside the run folder, so the store's files are attacked too
        "anyecg": ("anyecg", [f"out={base / 'anyecg'}", f"data.root={synth['root']}", "data.build_workers=1",
                              "trainer.progress=false", *TINY, "evaluate.n_boot=20", "evaluate.beats.max_records=40"]),
        "supreme": ("supreme", recipe_overrides(synth, base / "supreme", *TINY, "model.name=vit_micro",
                                                "method.text_encoder=hashing")),
        "simclr": ("clef", recipe_overrides(synth, base / "simclr", "trainer.max_epochs=2", "data.batch_size=16",
                                            "method.objective=simclr", "probe.tasks=[]")),
        "sediff": ("sediff", [f"out={base / 'sediff'}", f"data.root={synth['root']}", f"data.store={synth['store']}",
                              *SMALL, "generation.eval_records=0", "trainer.max_epochs=1",
                              "generation.vae_epochs=1"]),
    }
    for recipe, overrides in sets.values():
        cfg = load_config(recipe, "synthetic" if recipe == "sediff" else None, overrides)
        run_system(cfg)
    return {"synth": synth, "base": base, "sets": sets}


def _commands(runs: dict[str, object], work: Path) -> dict[str, tuple[str, list[str], Callable[[Path], None]]]:
    """command name -> (run kept, CLI arguments for a copy of it at ``work``, preparation of the copy)."""
    root = runs["synth"]["root"]  # type: ignore[index]
    sets = runs["sets"]  # type: ignore[assignment]

    def sets_of(name: str) -> list[str]:
        return [a for s in sets[name][1] if not s.startswith("out=") for a in ("--set", s)]

    def unfinish_folds(run: Path) -> None:
        for f in [*run.glob("fold*/done.json"), *run.glob("fold*/predictions.npz"), run / "predictions.npz"]:
            f.unlink(missing_ok=True)

    def unfinish_pretraining(run: Path) -> None:
        (run / "pretrain" / "done.json").unlink()
        shutil.rmtree(run / "encoder")

    def nothing(run: Path) -> None:
        pass

    return {
        "evaluate": ("anyecg", ["evaluate", str(work)], nothing),
        "predict": ("anyecg", ["predict", str(work), "--source", "synthetic", "--root", root, "--out",
                               str(work.parent / "p.csv")], nothing),
        "train-resume": ("anyecg", ["train", "anyecg", "--out", str(work), "--no-evaluate", *sets_of("anyecg")],
                         unfinish_folds),
        "zeroshot": ("supreme", ["zeroshot", str(work), "--label", "AFIB", "--source", "synthetic", "--root", root,
                                 "--out", str(work.parent / "z.csv")], nothing),
        "generate": ("sediff", ["generate", "sinus bradycardia", "--run", str(work), "--n", "1", "--steps", "2",
                                "--out", str(work.parent / "gen")], nothing),
        "pretrain-resume": ("simclr", ["pretrain", "clef", "--out", str(work), *sets_of("simclr")],
                            unfinish_pretraining),
    }


COMMANDS = ["evaluate", "predict", "train-resume", "zeroshot", "generate", "pretrain-resume"]


@pytest.mark.parametrize("command", COMMANDS)
def test_no_file_of_a_run_folder_runs_code(runs: dict[str, object], tmp_path: Path, command: str,
                                           capsys: pytest.CaptureFixture[str]):
    global _OPENED
    base: Path = runs["base"]  # type: ignore[assignment]
    work = tmp_path / "run"
    kept, args, prepare = _commands(runs, work)[command]

    def fresh() -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(base / kept, work)
        prepare(work)

    fresh()
    _OPENED = []
    try:
        code, err = cli(capsys, *args)
    finally:
        opened, _OPENED = _OPENED, None
    assert code == 0, err[-2000:]
    read = sorted({Path(p).resolve() for p in opened if Path(p).resolve().is_relative_to(work.resolve())})
    fresh()  # files the command wrote itself and then read are not part of the shared folder
    read = [p for p in read if p.is_file()]
    # one file per kind: fold2/... behaves as fold1/..., chunk 000003 as chunk 000000
    kinds: dict[str, Path] = {}
    for p in read:
        kinds.setdefault(re.sub(r"\d+", "N", p.relative_to(work.resolve()).as_posix()), p)
    assert any(p.suffix == ".ckpt" for p in read), f"{command} read no checkpoint: {read}"
    sentinel = tmp_path / "payload-ran"
    failures = []
    for target in kinds.values():
        fresh()
        plant(target, sentinel)
        code, err = cli(capsys, *args)
        assert not sentinel.exists(), f"{command}: the payload in {target} ran"
        assert "Traceback" not in err and code in (0, 2), (target, code, err[-1500:])
        if code == 2:
            lines = [ln for ln in err.splitlines() if ln.startswith("cardiofm: error:")]
            assert len(lines) == 1 and target.name in lines[0], (target, err[-1500:])
            failures.append(target.name)
    assert any(name.endswith(".ckpt") for name in failures), failures  # every checkpoint read is refused
    # every file the command never opened, all at once
    fresh()
    rest = [p for p in work.rglob("*") if p.is_file() and p.resolve() not in read]
    for p in rest:
        plant(p, sentinel)
    code, err = cli(capsys, *args)
    assert not sentinel.exists() and "Traceback" not in err and code in (0, 2), err[-1500:]


def test_predict_never_serves_rows_of_a_replaced_record(runs: dict[str, object], tmp_path: Path):
    """The external store of ``predict`` is fingerprinted by content: a record replaced by another of the
    same size (modification time copied back) is predicted anew."""
    import os

    import pandas as pd

    from cardiofm.engine.inference import predict_external

    base: Path = runs["base"]  # type: ignore[assignment]
    run = tmp_path / "run"
    shutil.copytree(base / "anyecg", run)
    root = tmp_path / "data"
    shutil.copytree(runs["synth"]["root"], root)  # type: ignore[index]
    first = predict_external(run, "synthetic", root, tmp_path / "p1.csv", workers=1)
    a, b = root / "records" / "000001.dat", root / "records" / "000002.dat"
    assert a.stat().st_size == b.stat().st_size
    st = a.stat()
    a.write_bytes(b.read_bytes())
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = predict_external(run, "synthetic", root, tmp_path / "p2.csv", workers=1)
    cols = [c for c in first.columns if c.startswith("p_")]
    def row(table: pd.DataFrame, rid: str) -> np.ndarray:
        return table.loc[table["record_id"].astype(str) == rid, cols].to_numpy()[0]

    assert not np.allclose(row(first, "000001"), row(again, "000001"))  # the replaced record: predicted anew
    np.testing.assert_allclose(row(again, "000001"), row(again, "000002"), rtol=1e-5)
    others = ~first["record_id"].astype(str).isin(["000001", "000002"])
    pd.testing.assert_frame_equal(first[others].reset_index(drop=True), again[others].reset_index(drop=True))
