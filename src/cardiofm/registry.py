"""One name -> value registry for every kind of component (sources, readers, encoders, heads, methods, ...).

A :class:`Registry` is a read-only mapping filled by ``@registry.register(name)`` or ``registry.add(name, value)``;
``registry.get(name)`` is a strict lookup whose error lists the known names, ``registry.build(name, ...)`` calls
the registered factory, ``registry.names("net1d*")`` lists the names.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from cardiofm.errors import CardiofmError, ConfigError

T = TypeVar("T")
V = TypeVar("V")


class Registry(Mapping[str, T], Generic[T]):
    """Values (factories, classes or entry records) by name.

    Args:
        what: the kind, as error messages name it (``"source"``, ``"augmentation"``).
        error: the exception :meth:`get` raises for an unknown name (e.g. :class:`~cardiofm.errors.SourceError`).

    Registering a different value under a taken name raises :class:`ConfigError`; registering the same
    value again (a re-imported module; an equal entry record) does nothing. ``in``, ``len``, iteration (in
    registration order) and ``registry[name]`` (``KeyError`` when unknown) work as on any mapping.
    """

    def __init__(self, what: str, error: type[CardiofmError] = ConfigError) -> None:
        self.what = what
        self.error = error
        self._items: dict[str, T] = {}

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {', '.join(self.names())})"

    def add(self, name: str, value: T) -> T:
        """Register ``value`` under ``name`` and return it."""
        if name in self._items and not _same(self._items[name], value):
            raise ConfigError(f"{self.what} {name!r} is registered twice; pick another name")
        self._items[name] = value
        return value

    def register(self, name: str) -> Callable[[V], V]:
        """Decorator form of :meth:`add`: ``@registry.register("name")`` above a class or function."""

        def wrap(value: V) -> V:
            self.add(name, value)  # type: ignore[arg-type]
            return value

        return wrap

    def remove(self, name: str) -> T:
        """Undo a registration (tests, plugins being unloaded); returns the value."""
        return self._items.pop(name)

    def get(self, name: str) -> T:  # type: ignore[override]  # strict: an unknown name is an error, not a default
        """The value registered as ``name``; an unknown name raises ``error`` listing the known names."""
        if not isinstance(name, str) or name not in self._items:
            raise self.error(f"unknown {self.what} {name!r}; known: {', '.join(self.names()) or '(none)'}")
        return self._items[name]

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the factory registered as ``name`` with ``args`` and ``kwargs``."""
        return self.get(name)(*args, **kwargs)  # type: ignore[operator]

    def names(self, pattern: str | None = None) -> list[str]:
        """Sorted registered names, optionally only those matching the glob ``pattern`` (``"net1d*"``)."""
        names = sorted(self._items)
        return fnmatch.filter(names, pattern) if pattern else names


def _same(old: object, new: object) -> bool:
    # factories and classes are the same only when identical; entry records (dataclasses) when equal
    return old is new or (dataclasses.is_dataclass(old) and type(old) is type(new) and old == new)
