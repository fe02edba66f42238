"""The done marker of a run step: a step runs once, an interrupted one runs again, a damaged marker is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardiofm.engine.rundir import DONE, done_info, is_done, mark_done, run_once
from cardiofm.errors import FileFormatError


def test_a_step_runs_once_and_an_interrupted_one_again(tmp_path: Path):
    calls = []

    def step() -> dict:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("killed")
        return {"epochs": 3, "score": float("nan")}

    with pytest.raises(RuntimeError):
        run_once(tmp_path, step)
    assert not is_done(tmp_path)
    first = run_once(tmp_path, step)
    assert first["epochs"] == 3 and is_done(tmp_path) and len(calls) == 2
    assert run_once(tmp_path, step)["epochs"] == 3 and len(calls) == 2  # finished: not run again
    assert not list(tmp_path.glob("*.tmp*"))


def test_mark_done_and_a_damaged_marker(tmp_path: Path):
    import numpy as np

    mark_done(tmp_path, {"n": np.int64(4), "rows": np.arange(2)})
    assert done_info(tmp_path) == {"n": 4, "rows": [0, 1]}
    (tmp_path / DONE).write_bytes(b"\x80\x04garbage")
    with pytest.raises(FileFormatError, match=DONE):
        run_once(tmp_path, dict)
