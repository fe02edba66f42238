"""The Source interface and its registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from cardiofm.data.cohort import Cohort
from cardiofm.errors import SourceError

SOURCES: dict[str, type[Source]] = {}


class Source(ABC):
    """A database layout on disk. ``scan`` turns a root folder into a :class:`Cohort`.

    ``scan`` lists only records whose files are present; listed-but-missing records and files
    it could not parse are recorded in ``Cohort.skipped`` / ``Cohort.notes``, never raised.
    A root that is not this layout at all raises :class:`SourceError`.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""

    @abstractmethod
    def scan(self, root: Path, **options: Any) -> Cohort: ...


def register_source(name: str) -> Callable[[type[Source]], type[Source]]:
    def wrap(cls: type[Source]) -> type[Source]:
        cls.name = name
        SOURCES[name] = cls
        return cls

    return wrap


def get_source(name: str) -> Source:
    if name not in SOURCES:
        raise SourceError(f"unknown source {name!r}; known sources: {', '.join(sorted(SOURCES))}")
    return SOURCES[name]()


def open_cohort(source: str, root: str | Path, **options: Any) -> Cohort:
    """Scan ``root`` as ``source`` (``ptbxl``, ``cinc``, ``mimic``, ``folder``, ...)."""
    root = Path(root).expanduser()
    if not root.exists():
        raise SourceError(f"{root}: folder does not exist")
    return get_source(source).scan(root, **options)
