"""Methods by name: a LightningModule class and its config dataclass (fairseq-style registry)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightning as L

from cardiofm.errors import ConfigError
from cardiofm.registry import Registry


@dataclass(frozen=True)
class MethodEntry:
    name: str
    module: type[L.LightningModule]
    config: type


METHODS: Registry[MethodEntry] = Registry("method")


def register_method(name: str, *, config: type) -> Callable[[type], type]:
    """Class decorator: make a LightningModule available as ``method.name`` in recipes."""

    def wrap(cls: type) -> type:
        METHODS.add(name, MethodEntry(name, cls, config))
        return cls

    return wrap


def _load_builtin() -> None:
    import cardiofm.methods.cardioprime  # noqa: F401  (fills the registry)
    import cardiofm.methods.contrastive  # noqa: F401
    import cardiofm.methods.sediff  # noqa: F401
    import cardiofm.methods.supervised  # noqa: F401
    import cardiofm.methods.supreme  # noqa: F401


def get_method(name: str) -> MethodEntry:
    _load_builtin()
    return METHODS.get(name)


def method_config(name: str, values: dict[str, Any]) -> Any:
    """The method's config dataclass from a mapping; unknown keys raise :class:`ConfigError`."""
    entry = get_method(name)
    known = {f.name for f in dataclasses.fields(entry.config)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"method {name}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return entry.config(**values)


def create_method(name: str, values: dict[str, Any]) -> L.LightningModule:
    entry = get_method(name)
    return entry.module(method_config(name, values))
