"""Containment: every file a source opens must lie inside the source's root folder.

A path escapes when it leads outside the root by its text (``../x``, an absolute path elsewhere)
or, unless the user passed ``follow_links=True`` (``--follow-links``), through a symbolic link.
``..`` and absolute paths are never allowed, whatever ``follow_links`` says: only links are.
Every source checks through :class:`RootGuard` (one per scan; it caches resolved folders) or
:func:`inside_root`; per-record escapes become skips, escaping layout files a :class:`SourceError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cardiofm.data.header import Header, check_signal_files, parse_header, signal_files
from cardiofm.errors import ConfigError, RecordError, SourceError

ESCAPES = "path escapes the root folder"


class RootGuard:
    """Checks paths against one root folder; see the module docs for the rule."""

    def __init__(self, root: str | Path, follow_links: bool = False) -> None:
        self.root = Path(root)
        self.follow_links = bool(follow_links)
        self._lexical_root = _norm(os.path.abspath(self.root))
        self._real_root = _norm(os.path.realpath(self.root))
        self._real_dirs: dict[str, str] = {}

    def check(self, path: str | Path) -> Path:
        """``path`` unchanged when it lies inside the root, else :class:`RecordError` naming it."""
        text = os.fspath(path)
        if "\x00" in text:
            raise RecordError(repr(text), f"{ESCAPES} {self.root}: the path holds a NUL character")
        if not _within(_norm(os.path.abspath(text)), self._lexical_root):
            raise RecordError(text, f"{ESCAPES} {self.root} ('..' or an absolute path elsewhere)")
        if not self.follow_links:
            real = self._realpath(text)
            if not _within(_norm(real), self._real_root):
                raise RecordError(text, f"{ESCAPES} {self.root}: a symbolic link leads to {real}; pass "
                                        "follow_links=true (--follow-links) to read linked files")
        return path if isinstance(path, Path) else Path(path)

    def table(self, path: str | Path) -> Path:
        """:meth:`check` for a layout file (``ptbxl_database.csv``, ...): escaping is a :class:`SourceError`."""
        try:
            return self.check(path)
        except RecordError as exc:
            raise SourceError(str(exc)) from None

    def _realpath(self, text: str) -> str:
        # realpath(dir)/name equals realpath(dir/name) when name is not a link: one lstat per file.
        folder, name = os.path.split(text)
        if name in ("", ".", "..") or os.path.islink(text):
            return os.path.realpath(text)
        key = folder or "."
        real = self._real_dirs.get(key)
        if real is None:
            real = self._real_dirs[key] = os.path.realpath(key)
        return os.path.join(real, name)


def inside_root(path: str | Path, root: str | Path, follow_links: bool = False) -> Path:
    """``path`` when it lies inside ``root`` (see :class:`RootGuard`), else :class:`RecordError`."""
    return RootGuard(root, follow_links).check(path)


def checked_header(base: str | Path, guard: RootGuard) -> Header:
    """The parsed header of the WFDB record ``base`` (path without suffix), after checking that the
    header and every signal file it names lie inside the guard's root and that the files' sizes
    fit the header. Raises :class:`RecordError` naming the file at fault."""
    hea = guard.check(f"{os.fspath(base)}.hea")
    h = parse_header(hea)
    for name, specs in signal_files(h).items():
        if specs[0].fmt != "0":
            guard.check(hea.parent / name)
    check_signal_files(h, hea.parent)
    return h


def walk(root: str | Path, follow_links: bool = False) -> Iterator[tuple[str, list[str], list[str]]]:
    """:func:`os.walk` (top-down; prune ``dirnames`` in place) that follows linked folders only with
    ``follow_links``, then visits each real folder once (no loops, no duplicate records)."""
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_links):
        if follow_links:
            real = os.path.realpath(dirpath)
            if real in seen:
                dirnames[:] = []
                continue
            seen.add(real)
        yield dirpath, dirnames, filenames


def flag(value: Any, name: str = "follow_links") -> bool:
    """A boolean option given as a bool, 0/1 or true/false/yes/no text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConfigError(f"option {name} must be true or false, got {value!r}")


def _norm(path: str) -> str:
    return os.path.normcase(path)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
