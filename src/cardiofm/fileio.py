"""Readers for the files cardiofm keeps in run folders, stores and model folders.

These folders are shared between people, so nothing read from them may run code: checkpoints load
with ``torch.load(weights_only=True)``, arrays with ``allow_pickle=False``, YAML with the safe loader.
A file that is corrupt, truncated or carries something other than data is refused with a
:class:`~cardiofm.errors.FileFormatError` naming it, which the command line prints as one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cardiofm.errors import FileFormatError


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (at most 300 characters), for a one-line error."""
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def read_text(path: str | Path, what: str = "file") -> str:
    """The UTF-8 text of ``path``; a missing, unreadable or binary file is a :class:`FileFormatError`."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileFormatError(path, f"{what} is missing") from None
    except UnicodeDecodeError:
        raise FileFormatError(path, f"not a text {what} (binary content)") from None
    except OSError as exc:
        raise FileFormatError(path, f"{what} cannot be read ({exc.strerror or exc})") from None


def _parsed(path: Path, what: str, expect: type, kind: str, parse: Any, errors: tuple[type, ...]) -> Any:
    try:
        value = parse(read_text(path, what))
    except errors as exc:
        raise FileFormatError(path, f"not a valid {what} ({one_line(exc)})") from None
    if value is None and expect is dict:
        value = {}
    if not isinstance(value, expect):
        raise FileFormatError(path, f"not a valid {what}: expected a {kind} {expect.__name__}, "
                                    f"found {type(value).__name__}")
    return value


def read_json(path: str | Path, what: str = "JSON file", *, expect: type = dict) -> Any:
    """Parse a JSON file written by cardiofm; its top level must be of type ``expect``."""
    return _parsed(Path(path), what, expect, "JSON", json.loads, (json.JSONDecodeError,))


def read_yaml(path: str | Path, what: str = "YAML file", *, expect: type = dict) -> Any:
    """Parse a YAML file with the safe loader (no Python tags); its top level must be of type ``expect``
    (an empty file reads as an empty mapping)."""
    import yaml

    return _parsed(Path(path), what, expect, "YAML", yaml.safe_load, (yaml.YAMLError,))


def load_arrays(path: str | Path, what: str = "array file", keys: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """All arrays of a ``.npz`` file (read into memory), never unpickling an object array; each of ``keys``
    must be present."""
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an .npz archive")
        with z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
    except FileNotFoundError:
        raise FileFormatError(path, f"{what} is missing") from None
    except (OSError, ValueError, EOFError, KeyError, TypeError) as exc:  # pickled, truncated, not a zip
        raise FileFormatError(path, f"not a valid {what} ({one_line(exc)})") from None
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise FileFormatError(path, f"not a valid {what}: arrays {', '.join(missing)} are missing")
    return arrays


def load_array(path: str | Path, what: str = "array file", *, mmap: bool = False) -> np.ndarray:
    """One ``.npy`` array, never unpickling; ``mmap`` maps it read-only instead of reading it."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except FileNotFoundError:
        raise FileFormatError(path, f"{what} is missing") from None
    except (OSError, ValueError, EOFError) as exc:
        raise FileFormatError(path, f"not a valid {what} ({one_line(exc)})") from None
    if not isinstance(arr, np.ndarray):
        raise FileFormatError(path, f"not a valid {what}: an archive, not one array")
    return arr


def read_table(path: str | Path, what: str = "CSV table", **kwargs: Any) -> Any:
    """A CSV file as a pandas DataFrame; unparsable content is a :class:`FileFormatError`."""
    import pandas as pd

    path = Path(path)
    try:
        return pd.read_csv(path, **kwargs)
    except FileNotFoundError:
        raise FileFormatError(path, f"{what} is missing") from None
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileFormatError(path, f"not a valid {what} ({one_line(exc)})") from None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A Lightning checkpoint, loaded with ``weights_only=True``: tensors and plain containers only.

    A checkpoint that would need to unpickle anything else (a class, a function call) is refused
    without running it. Its ``state_dict`` and, where present, ``hyper_parameters["config"]`` are
    checked to be of the expected types.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise FileFormatError(path, "checkpoint is missing")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = one_line(exc).split(" Check the documentation")[0]
        raise FileFormatError(path, "refused: the checkpoint holds objects other than tensors and plain data, "
                                    f"which could run code when loaded ({reason[:200]})") from None
    except (RuntimeError, OSError, EOFError, ValueError, AttributeError, ImportError, TypeError) as exc:
        raise FileFormatError(path, f"not a readable checkpoint ({one_line(exc)})") from None
    if not isinstance(state, dict) or not isinstance(state.get("state_dict"), dict):
        raise FileFormatError(path, "not a cardiofm checkpoint (no state_dict)")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state["state_dict"].items()):
        raise FileFormatError(path, "not a cardiofm checkpoint (its state_dict holds non-tensors)")
    hp = state.get("hyper_parameters")
    if hp is not None and not (isinstance(hp, dict) and isinstance(hp.get("config", {}), dict)):
        raise FileFormatError(path, "not a cardiofm checkpoint (hyper_parameters.config is not a mapping)")
    return state
