"""The systems registry: every published system cardiofm runs, found by name.

Importing this package registers the built-in systems (AnyECG-CCTA, CLEF, SuPreME, CardioPRIME, SE-Diff) and
the built-in label steps; the CLI, the demo and the benchmarks reach the systems only through it. A system is a
:class:`~cardiofm.systems.base.System` record registered once with
:func:`~cardiofm.systems.base.register_system`; see the README's "Adding a system".

The layer order of the whole package is in :mod:`cardiofm` (its docstring), enforced by ``tests/test_layers.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cardiofm.text.labels  # noqa: F401  (registers the "entities" label step)
from cardiofm.config import RunConfig
from cardiofm.config import load_config as _load_config
from cardiofm.systems import anyecg, cardioprime, clef, sediff, supreme  # noqa: F401  (register themselves)
from cardiofm.systems.base import SYSTEMS, DemoContext, System, lazy, register_system, unregister_system

__all__ = ["SYSTEMS", "DemoContext", "System", "get_system", "lazy", "load_config", "register_system",
           "run_system", "unregister_system"]


def get_system(name: str) -> System:
    """The registered system ``name``; an unknown name is a :class:`~cardiofm.errors.ConfigError` listing them."""
    return SYSTEMS.get(name)


def load_config(path: str | Path, variant: str | None = None, overrides: list[str] | None = None) -> RunConfig:
    """:func:`cardiofm.config.load_config` with every built-in system registered."""
    return _load_config(path, variant, overrides)


def run_system(cfg: RunConfig, verb: str | None = None) -> Any:
    """Run ``cfg`` with its system's steps; ``verb`` (``train`` / ``pretrain``) checks the system is run by it."""
    from cardiofm.errors import ConfigError

    system = get_system(cfg.system)
    if verb is not None and system.verb != verb:
        others = ", ".join(s.name for s in SYSTEMS.values() if s.verb == verb)
        raise ConfigError(f"`cardiofm {verb}` runs the systems {others}; {cfg.system} is run by "
                          f"`cardiofm {system.verb}`")
    method = cfg.method.get("name")
    if system.methods and method not in system.methods:
        raise ConfigError(f"system {system.name} trains the method(s) {', '.join(system.methods)}, not {method!r}; "
                          "set method.name or choose the recipe of another system (`cardiofm systems`)")
    return system.run(cfg)
