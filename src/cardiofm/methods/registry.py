"""Methods by name: a LightningModule class and its config dataclass (fairseq-style registry).

A module is registered with ``@register_method(name, config=ConfigClass)`` where it is defined. A system
*declares* its methods cheaply (:func:`declare_method`: name -> the module that registers it), so a recipe's
``method.name`` is found without importing every system's networks up front.

Every method config derives from :class:`MethodConfig`, whose hooks the engine calls instead of probing
for attributes: which loader options the method needs, whether it trains on the task's labels, and how it
completes its values from the store's label names and descriptions.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from cardiofm.errors import ConfigError
from cardiofm.registry import Registry

if TYPE_CHECKING:
    import lightning as L


class MethodConfig:
    """Base of every method config dataclass: the contract between a method and the engine."""

    uses_labels: ClassVar[bool] = True  # False: the loaders carry no labels and keep unlabelled records

    @classmethod
    def data_options(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Extra :class:`~cardiofm.data.torch.StoreDataModule` options (e.g. R-aligned beat windows)."""
        return {}

    @classmethod
    def prepare_values(cls, values: dict[str, Any], label_names: Sequence[str],
                       descriptions: Sequence[str]) -> dict[str, Any]:
        """The method's values completed from the task's labels (e.g. text queries of their descriptions)."""
        return values


@dataclass(frozen=True)
class MethodEntry:
    name: str
    module: type[L.LightningModule]
    config: type


METHODS: Registry[MethodEntry] = Registry("method")
_DECLARED: dict[str, str] = {"supervised": "cardiofm.methods.supervised"}


def register_method(name: str, *, config: type) -> Callable[[type], type]:
    """Class decorator: make a LightningModule available as ``method.name`` in recipes."""
    if not issubclass(config, MethodConfig):
        raise ConfigError(f"method {name}: its config {config.__name__} must derive from MethodConfig")

    def wrap(cls: type) -> type:
        METHODS.add(name, MethodEntry(name, cls, config))
        return cls

    return wrap


def declare_method(name: str, module: str) -> None:
    """Say that importing ``module`` registers method ``name`` (done by a system when it registers)."""
    if _DECLARED.get(name, module) != module:
        raise ConfigError(f"method {name!r} is declared by two modules ({_DECLARED[name]}, {module})")
    _DECLARED[name] = module


def undeclare_method(name: str) -> None:
    _DECLARED.pop(name, None)
    if name in METHODS:
        METHODS.remove(name)


def method_names() -> list[str]:
    return sorted(set(_DECLARED) | set(METHODS))


def get_method(name: str) -> MethodEntry:
    if name not in METHODS and name in _DECLARED:
        importlib.import_module(_DECLARED[name])
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; known: {', '.join(method_names()) or '(none)'}")
    return METHODS.get(name)


def check_method_keys(name: str, keys: Any) -> None:
    """Raise :class:`ConfigError` for keys the config of method ``name`` does not have (or an unknown method)."""
    known = {f.name for f in dataclasses.fields(get_method(name).config)}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise ConfigError(f"method {name}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


def method_config(name: str, values: dict[str, Any]) -> Any:
    """The method's config dataclass from a mapping; unknown keys raise :class:`ConfigError`."""
    check_method_keys(name, values)
    return get_method(name).config(**values)


def create_method(name: str, values: dict[str, Any]) -> L.LightningModule:
    entry = get_method(name)
    return entry.module(method_config(name, values))
