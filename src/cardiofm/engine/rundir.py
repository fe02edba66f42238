"""Run directories: one folder per run holding its config, metrics, checkpoints, plots and report.

A run folder is recognised by its ``config.yaml``. Re-running the same config in it resumes (finished
folds are kept, an interrupted fold continues from its last checkpoint); a different config there is
refused rather than mixed in, and a non-empty folder that is not a run is never written into.
Files are written under a temporary name and renamed, so an interruption never leaves half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from cardiofm.config import RunConfig
from cardiofm.errors import ConfigError
from cardiofm.fileio import read_json, read_yaml
from cardiofm.paths import check_output_dir

CONFIG = "config.yaml"
METRICS = "metrics.json"
DONE = "done.json"  # a step's folder (fold, stage) is finished when it holds this summary
# Keys that may change between a run and its resumption without changing what is computed.
RUNTIME_KEYS = {("trainer", "progress"), ("trainer", "threads"), ("data", "num_workers"),
                ("data", "build_workers")}


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _comparable(d: dict[str, Any]) -> dict[str, Any]:
    d = json.loads(json.dumps(d, default=str))
    for section, key in RUNTIME_KEYS:
        d.get(section, {}).pop(key, None)
    d.pop("out", None)
    return d


class RunDir:
    """A run folder: ``config.yaml``, ``metrics.json``, ``fold<k>/``, ``plots/``, ``report.html``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, cfg: RunConfig, path: str | Path | None = None) -> RunDir:
        """Make (or reopen, for the same config) the run folder of ``cfg``."""
        run = cls(path or cfg.run_dir)
        p = check_output_dir(run.path, "run folder (--out)")
        new = cfg.to_dict()
        if (p / CONFIG).exists():
            old = read_yaml(p / CONFIG, "run config")
            if _comparable(old) != _comparable(new):
                diff = sorted(_diff(_comparable(old), _comparable(new)))
                raise ConfigError(f"{p} holds a run with another config (differs in {', '.join(diff[:6])}); "
                                  "choose another folder with --out, or delete it to start over")
        elif p.exists() and any(p.iterdir()):
            raise ConfigError(f"{p} is not empty and is not a cardiofm run folder (no {CONFIG}); "
                              "choose another folder with --out")
        p.mkdir(parents=True, exist_ok=True)
        atomic_write_text(p / CONFIG, yaml.safe_dump(new, sort_keys=False))
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        run = cls(path)
        if not (run.path / CONFIG).exists():
            raise ConfigError(f"{run.path}: not a cardiofm run folder (no {CONFIG}); "
                              "train one with `cardiofm train RECIPE`")
        return run

    def config(self) -> RunConfig:
        """The run's typed config (its system must be registered: import :mod:`cardiofm.systems`)."""
        from cardiofm.config import config_from_dict

        d = read_yaml(self.path / CONFIG, "run config")
        try:
            return config_from_dict(d)
        except ConfigError as exc:
            old = "" if "system" in d else ("; it names no system, so an older cardiofm wrote it: train it again "
                                            "with the current recipe")
            raise ConfigError(f"{self.path / CONFIG}: {exc}{old}") from None

    def fold_dir(self, fold: int) -> Path:
        d = self.path / f"fold{fold}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    @property
    def plots(self) -> Path:
        d = self.path / "plots"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def metrics(self) -> dict[str, Any]:
        f = self.path / METRICS
        return read_json(f, "run metrics file") if f.exists() else {}

    def update_metrics(self, section: str, values: Any) -> dict[str, Any]:
        """Set ``metrics.json[section] = values`` (other sections kept)."""
        m = self.metrics()
        m[section] = values
        atomic_write_text(self.path / METRICS, json.dumps(m, indent=1, default=_json_default, allow_nan=True))
        return m


def start_run_folder(cfg: RunConfig) -> RunDir:
    """The run folder of ``cfg`` (made, or reopened for the same config), with torch's thread count set."""
    run = RunDir.create(cfg)
    if cfg.trainer.threads:
        import torch

        torch.set_num_threads(int(cfg.trainer.threads))
    return run


def _diff(a: Any, b: Any, prefix: str = "") -> set[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: set[str] = set()
        for k in set(a) | set(b):
            out |= _diff(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return set() if a == b else {prefix.rstrip(".")}


def _json_default(o: Any) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def is_done(folder: Path) -> bool:
    """Whether the step that writes into ``folder`` (a fold, a stage) has finished."""
    return (folder / DONE).exists()


def mark_done(folder: Path, info: dict[str, Any]) -> dict[str, Any]:
    """Write ``folder``'s done marker with the step's summary ``info`` (atomically); returns ``info``."""
    atomic_write_text(folder / DONE, json.dumps(info, indent=1, default=_json_default))
    return info


def done_info(folder: Path, what: str = "step summary") -> dict[str, Any]:
    """The summary a finished step wrote into ``folder``."""
    return read_json(folder / DONE, what)


def run_once(folder: Path, step: Any, what: str = "step summary") -> dict[str, Any]:
    """``step()`` (which returns the step's summary) unless ``folder`` is done already; the summary either way.

    A step interrupted before its marker was written runs again and resumes from its own checkpoints.
    """
    if not is_done(folder):
        mark_done(folder, step())
    return done_info(folder, what)
