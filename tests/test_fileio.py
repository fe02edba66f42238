"""cardiofm.fileio: the readers of run-folder files accept data and refuse anything else in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cardiofm.errors import FileFormatError
from cardiofm.fileio import load_array, load_arrays, load_checkpoint, read_json, read_table, read_yaml
from test_run_folder_payloads import plant


def test_a_plain_checkpoint_loads(tmp_path: Path):
    state = {"state_dict": {"w": torch.ones(2)}, "epoch": 3, "hyper_parameters": {"config": {"lr": 0.1, "dims": [1]}},
             "callbacks": {"ModelCheckpoint{'monitor': 'x'}": {"best_model_score": torch.tensor(0.5)}}}
    torch.save(state, tmp_path / "ok.ckpt")
    got = load_checkpoint(tmp_path / "ok.ckpt")
    assert got["epoch"] == 3 and torch.equal(got["state_dict"]["w"], torch.ones(2))


@pytest.mark.parametrize("content", ["payload", "garbage", "no_state_dict", "non_tensor", "config_list"])
def test_bad_checkpoints_are_refused_naming_the_file(tmp_path: Path, content: str):
    path, sentinel = tmp_path / "best.ckpt", tmp_path / "ran"
    if content == "payload":
        plant(path, sentinel)
    elif content == "garbage":
        path.write_bytes(b"\x00not a zip")
    else:
        bad = {"no_state_dict": {"epoch": 1}, "non_tensor": {"state_dict": {"w": [1, 2]}},
               "config_list": {"state_dict": {}, "hyper_parameters": {"config": [1]}}}[content]
        torch.save(bad, path)
    with pytest.raises(FileFormatError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert not sentinel.exists()
    if content == "payload":
        assert "could run code" in str(info.value)


def test_arrays_without_pickle_and_required_keys(tmp_path: Path):
    np.savez(tmp_path / "a.npz", x=np.arange(3))
    assert load_arrays(tmp_path / "a.npz", keys=("x",))["x"].tolist() == [0, 1, 2]
    with pytest.raises(FileFormatError, match="y are missing"):
        load_arrays(tmp_path / "a.npz", keys=("x", "y"))
    np.save(tmp_path / "b.npy", np.ones(2))
    with pytest.raises(FileFormatError, match="not an .npz"):
        load_arrays(tmp_path / "b.npy")
    assert load_array(tmp_path / "b.npy", mmap=True).sum() == 2
    for name in ("c.npy", "d.npz"):
        plant(tmp_path / name, tmp_path / "ran")
        with pytest.raises(FileFormatError, match=name):
            (load_array if name.endswith("npy") else load_arrays)(tmp_path / name)
    assert not (tmp_path / "ran").exists()


def test_text_files(tmp_path: Path):
    (tmp_path / "m.json").write_text('{"a": 1}')
    assert read_json(tmp_path / "m.json") == {"a": 1}
    (tmp_path / "l.json").write_text("[1]")
    assert read_json(tmp_path / "l.json", expect=list) == [1]
    with pytest.raises(FileFormatError, match="expected a JSON dict, found list"):
        read_json(tmp_path / "l.json")
    (tmp_path / "bin.json").write_bytes(b"\x80\x81")
    with pytest.raises(FileFormatError, match="binary"):
        read_json(tmp_path / "bin.json")
    plant(tmp_path / "c.yaml", tmp_path / "ran")
    with pytest.raises(FileFormatError, match="c.yaml: not a valid YAML file"):
        read_yaml(tmp_path / "c.yaml")
    assert not (tmp_path / "ran").exists()
    with pytest.raises(FileFormatError, match="missing"):
        read_table(tmp_path / "none.csv")
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    assert read_table(tmp_path / "t.csv")["b"].tolist() == [2]
