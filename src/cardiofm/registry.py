"""A name -> factory registry filled by a decorator (the pattern of cardiofm's component registries)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from cardiofm.errors import ConfigError

F = TypeVar("F", bound=Callable)


class Registry(dict[str, F], Generic[F]):
    """A dict of factories by name; ``@registry.register(name)`` adds one, and registering a different
    factory under a taken name raises :class:`ConfigError` (``what`` names the kind in that message)."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def register(self, name: str) -> Callable[[F], F]:
        def wrap(factory: F) -> F:
            if name in self and self[name] is not factory:
                raise ConfigError(f"{self.what} {name!r} is registered twice")
            self[name] = factory
            return factory

        return wrap
