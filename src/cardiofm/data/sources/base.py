"""The Source interface and its registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from cardiofm.data.cohort import Cohort
from cardiofm.data.containment import flag
from cardiofm.errors import SourceError
from cardiofm.registry import Registry

SOURCES: Registry[type[Source]] = Registry("source", SourceError)


class Source(ABC):
    """A database layout on disk. ``scan`` turns a root folder into a :class:`Cohort`.

    ``scan`` lists only records whose files are present; listed-but-missing records and files
    it could not parse are recorded in ``Cohort.skipped`` / ``Cohort.notes``, never raised.
    A root that is not this layout at all raises :class:`SourceError`.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    needs_root: ClassVar[bool] = True     # False for sources that are not one folder (``union``)

    @abstractmethod
    def scan(self, root: Path, **options: Any) -> Cohort: ...


def register_source(name: str) -> Callable[[type[Source]], type[Source]]:
    """Class decorator: make a :class:`Source` available to :func:`open_cohort` as ``name`` (sets ``cls.name``)."""

    def wrap(cls: type[Source]) -> type[Source]:
        SOURCES.add(name, cls)
        cls.name = name
        return cls

    return wrap


def get_source(name: str) -> Source:
    """A new instance of source ``name``; an unknown name raises :class:`SourceError` listing the known ones."""
    return SOURCES.build(name)


def open_cohort(source: str, root: str | Path | None, **options: Any) -> Cohort:
    """Scan ``root`` as ``source`` (``ptbxl``, ``cinc``, ``mimic``, ``folder``, ``union``, ...).

    Opening reads files only: label tasks derived from report texts are a separate step
    (:func:`cardiofm.data.labellers.apply_labellers`).

    Every source keeps its files inside ``root``; ``follow_links=True`` lets symbolic links lead
    outside it (:mod:`cardiofm.data.containment`). Two rows with one ``record_id`` are a :class:`SourceError`.
    """
    src = get_source(source)
    if root is None:
        if src.needs_root:
            raise SourceError(f"source {source!r} needs a root folder")
        path = None
    else:
        path = Path(root).expanduser()
        if not path.exists():
            raise SourceError(f"{path}: folder does not exist")
    if "follow_links" in options:
        options["follow_links"] = flag(options["follow_links"])
    cohort = src.scan(path, **options)  # type: ignore[arg-type]
    check_unique_ids(cohort)
    return cohort


def check_unique_ids(cohort: Cohort, show: int = 5) -> None:
    """Raise :class:`SourceError` naming the first ``show`` record ids that occur on several rows."""
    ids = cohort.index["record_id"].astype(str)
    dup = ids[ids.duplicated(keep=False)].unique()
    if len(dup):
        more = f" and {len(dup) - show} more" if len(dup) > show else ""
        where = cohort.root or cohort.source
        raise SourceError(f"{where}: record id(s) {', '.join(map(repr, dup[:show]))}{more} occur on several rows; "
                          "every recording needs its own record_id")
