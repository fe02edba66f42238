"""Output paths checked before any work starts: a wrong type or an unwritable place is one clear error.

Writability is tested by creating and removing a uniquely named empty file, not by reading mode bits:
root ignores them, while read-only mounts, ACLs and quotas do not show in them.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from cardiofm.errors import OutputError


def _probe(folder: Path) -> None:
    """Create and remove a uniquely named empty file in ``folder``; raises ``OSError`` if that fails."""
    probe = folder / f".cardiofm-write-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    os.unlink(probe)


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _require_writable(folder: Path, where: str, advice: str = "choose a writable location") -> None:
    """:func:`_probe` ``folder``; a failure is an :class:`OutputError` "``where`` is not writable (why); advice"."""
    try:
        _probe(folder)
    except OSError as exc:
        raise OutputError(f"{where} is not writable ({_why(exc)}); {advice}") from None


def _check_creatable(path: Path, what: str, shown: Path, kind: str) -> None:
    """``path`` (a folder to be made) does not exist: its nearest existing ancestor must be a writable folder."""
    anc = path.absolute()
    while not os.path.lexists(anc) and anc.parent != anc:
        anc = anc.parent
    if not anc.is_dir():
        raise OutputError(f"{what} {shown}: cannot create the {kind}, {anc} is a file, not a folder; "
                          "choose another path")
    _require_writable(anc, f"{what} {shown}: cannot create the {kind}, {anc}")


def check_output_dir(path: str | Path, what: str = "--out") -> Path:
    """Check that ``path`` is a writable folder, or can be created as one; create nothing.

    Raises :class:`~cardiofm.errors.OutputError` (one line naming the path and what to do) if ``path`` is a
    file, lies under a file, or is (or would be created in) a folder that cannot be written.
    """
    p = Path(path)
    try:
        if p.exists():
            if not p.is_dir():
                raise OutputError(f"{what} {p}: is a file, not a folder; choose a folder path")
            _require_writable(p, f"{what} {p}: folder", "choose a writable location or fix its permissions")
        elif os.path.lexists(p):
            raise OutputError(f"{what} {p}: is a broken symbolic link; remove it or choose another folder")
        else:
            _check_creatable(p, what, p, "folder")
    except OSError as exc:  # stat itself refused (e.g. no search permission on a parent)
        raise OutputError(f"{what} {p}: cannot be checked ({_why(exc)}); choose a writable location") from None
    return p


def check_output_file(path: str | Path, what: str = "--out") -> Path:
    """Check that ``path`` can be written as a file (its folder is writable, or can be created); create
    nothing and leave an existing file unchanged.

    Raises :class:`~cardiofm.errors.OutputError` if ``path`` is a folder, lies under a file, or cannot be
    written.
    """
    p = Path(path)
    try:
        if p.is_dir():
            raise OutputError(f"{what} {p}: is a folder, not a file; give a file path inside it")
        if p.exists():
            try:
                if not p.is_file():  # a device or pipe (/dev/stdout): opening a pipe could block
                    if not os.access(p, os.W_OK):
                        raise PermissionError(13, "Permission denied", str(p))
                else:
                    with open(p, "ab"):  # opening for append writes nothing: the file is left as it is
                        pass
            except OSError as exc:
                raise OutputError(f"{what} {p}: file is not writable ({_why(exc)}); "
                                  "choose another path or fix its permissions") from None
        elif os.path.lexists(p):
            raise OutputError(f"{what} {p}: is a broken symbolic link; remove it or choose another path")
        else:
            parent = p.absolute().parent
            if parent.is_dir():
                _require_writable(parent, f"{what} {p}: folder {parent}")
            else:
                _check_creatable(parent, what, p, "file's folder")
    except OSError as exc:
        raise OutputError(f"{what} {p}: cannot be checked ({_why(exc)}); choose a writable location") from None
    return p
