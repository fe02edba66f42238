"""Reading a module's imports from its source with :mod:`ast` (nothing is imported): the one parser the
import-rule tests (``test_layers.py``, ``test_evaluate_is_arrays_only.py``) build on.

Imports inside function bodies count as much as those at the top of a module; relative imports are resolved
against the importing module's path (relative to ``src/``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


def module_name(path: str) -> tuple[str, bool]:
    """Dotted name of the module at ``path`` (relative to src/, e.g. ``cardiofm/data/io.py``) and whether it is a
    package ``__init__``."""
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


@dataclass(frozen=True)
class ImportStatement:
    """One import: ``kind`` is ``import``, ``from`` (``names`` imported from ``module``, ``relative_package``
    when it was ``from . import x``) or ``call`` (``importlib.import_module("...")`` / ``__import__("...")``)."""

    line: int
    kind: str
    module: str
    names: tuple[str, ...] = ()
    relative_package: bool = False


def import_statements(path: str, source: str) -> list[ImportStatement]:
    """Every import of ``source`` (the module at ``path``), at any depth, in walk order; ``import a, b`` gives two."""
    me, is_pkg = module_name(path)
    here = me.split(".") if is_pkg else me.split(".")[:-1]
    out: list[ImportStatement] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            out += [ImportStatement(node.lineno, "import", a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append(ImportStatement(node.lineno, "from", mod, tuple(a.name for a in node.names),
                                       relative_package=not node.module))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name in ("import_module", "__import__"):
                out.append(ImportStatement(node.lineno, "call", node.args[0].value))
    return out
