"""The lower packages form a strict layer order with no package cycles, imports inside functions included.

Lowest first; a module may import only from its own package or a lower one:

    base modules (cardiofm/__init__, errors, registry, fileio, paths, pool) < signal < physio < clinical < data
    < text < synth < models

Every other package or top-level module of cardiofm (engine, methods, config, ...) counts as above models. The
check parses the source with :mod:`ast` (nothing is imported), so ``import`` statements in function bodies count
as much as those at the top of a module; relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "cardiofm"
BASE_MODULES = ("__init__", "errors", "registry", "fileio", "paths", "pool")
ORDER = ("base", "signal", "physio", "clinical", "data", "text", "synth", "models")
ABOVE = len(ORDER)  # rank of every package not in ORDER

# Upward imports tolerated for now: (importing file relative to src/, imported module).
TEMPORARY_ALLOWANCES = {
    # TEMPORARY: open_cohort labels report text with the entity extractor; the data-layer restructuring
    # (engine/methods branch) removes this edge. Delete the entry when it is gone.
    ("cardiofm/data/sources/base.py", "cardiofm.text.labels"),
}


def module_name(path: str) -> tuple[str, bool]:
    """Dotted name of the module at ``path`` (relative to src/, e.g. ``cardiofm/data/io.py``) and whether it is a
    package ``__init__``."""
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _exists(dotted: str, root: Path) -> bool:
    rel = Path(*dotted.split("."))
    return (root / rel).is_dir() or (root / rel).with_suffix(".py").is_file()


def imports(path: str, source: str, root: Path = SRC) -> list[tuple[int, str]]:
    """(line, imported cardiofm module) of every import in ``source``, at any depth, relative ones resolved.

    ``from cardiofm import x`` counts as importing ``cardiofm.x`` when ``x`` is a module or package under
    ``root``, else as importing ``cardiofm`` itself (an attribute of its ``__init__``).
    """
    me, is_pkg = module_name(path)
    here = me.split(".") if is_pkg else me.split(".")[:-1]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod == "cardiofm" or not node.module:
                for a in node.names:
                    sub = f"{mod}.{a.name}"
                    out.append((node.lineno, sub if _exists(sub, root) else mod))
            else:
                out.append((node.lineno, mod))
    return [(line, m) for line, m in out if m == "cardiofm" or m.startswith("cardiofm.")]


def layer(module: str) -> str:
    """The layer of a cardiofm module: ``base`` for the base modules, else its top-level package or module."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in BASE_MODULES:
        return "base"
    return parts[1]


def rank(name: str) -> int:
    return ORDER.index(name) if name in ORDER else ABOVE


def upward_imports(path: str, source: str, root: Path = SRC,
                   allowances: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    """``path:line imports cardiofm.x`` for every import of a layer above the module's own (only modules of the
    layers in ORDER are checked; above them everything may import everything)."""
    own = layer(module_name(path)[0])
    if own not in ORDER:
        return []
    return [f"{path}:{line} imports {mod}" for line, mod in imports(path, source, root)
            if rank(layer(mod)) > rank(own) and (path, mod) not in allowances]


def _sources() -> dict[str, str]:
    return {f.relative_to(SRC).as_posix(): f.read_text(encoding="utf-8") for f in sorted(PKG.rglob("*.py"))}


def test_layers_exist() -> None:
    for name in BASE_MODULES:
        assert (PKG / f"{name}.py").is_file(), name
    for name in ORDER[1:]:
        assert (PKG / name / "__init__.py").is_file(), name


def test_no_module_imports_a_higher_layer() -> None:
    sources = _sources()
    assert len(sources) > 50
    bad = [b for path, src in sources.items() for b in upward_imports(path, src, allowances=TEMPORARY_ALLOWANCES)]
    for line in bad:
        print(line)
    assert not bad, "imports of a higher layer:\n" + "\n".join(bad)


def test_signal_imports_only_base_modules() -> None:
    sources = {p: s for p, s in _sources().items() if p.startswith("cardiofm/signal/")}
    assert {"cardiofm/signal/record.py", "cardiofm/signal/transforms.py"} <= set(sources)
    bad = [f"{path}:{line} imports {mod}" for path, src in sources.items() for line, mod in imports(path, src)
           if layer(mod) not in ("base", "signal")]
    for line in bad:
        print(line)
    assert not bad, "signal imports above the base modules:\n" + "\n".join(bad)


FAKE = """\
from __future__ import annotations

import numpy as np

from cardiofm.errors import ConfigError
from cardiofm.signal.record import ECGRecord
from . import beats


def features_table(cohort):
    from cardiofm.data.cohort import Cohort
    from .. import text
    import cardiofm.engine.fit
    return Cohort
"""


def test_checker_finds_upward_imports_in_function_bodies_and_relative_ones() -> None:
    bad = upward_imports("cardiofm/physio/fake.py", FAKE)
    assert bad == ["cardiofm/physio/fake.py:11 imports cardiofm.data.cohort",
                   "cardiofm/physio/fake.py:12 imports cardiofm.text",
                   "cardiofm/physio/fake.py:13 imports cardiofm.engine.fit"]


@pytest.mark.parametrize(("path", "source", "n_bad"), [
    ("cardiofm/signal/x.py", "from cardiofm.physio import leads\n", 1),
    ("cardiofm/signal/x.py", "from cardiofm import __version__, errors\n", 0),
    ("cardiofm/signal/__init__.py", "from .record import ECGRecord\n", 0),
    ("cardiofm/clinical/x.py", "from cardiofm.synth.outcomes import sample_outcomes\n", 1),
    ("cardiofm/clinical/x.py", "from ..synth import outcomes\n", 1),
    ("cardiofm/data/x.py", "def f():\n    from cardiofm.config import DataConfig\n", 1),  # config is not a base module
    ("cardiofm/data/x.py", "from cardiofm.physio.leads import identity_residual\n", 0),
    ("cardiofm/models/x.py", "from cardiofm.text import summary\n", 0),
    ("cardiofm/engine/x.py", "from cardiofm.methods import registry\n", 0),  # above the checked layers
])
def test_checker_cases(path: str, source: str, n_bad: int) -> None:
    assert len(upward_imports(path, source)) == n_bad


def test_temporary_allowance_covers_only_its_own_edge() -> None:
    src = "def open_cohort():\n    from cardiofm.text.labels import label_reports\n"
    assert upward_imports("cardiofm/data/sources/base.py", src, allowances=TEMPORARY_ALLOWANCES) == []
    assert upward_imports("cardiofm/data/sources/folder.py", src, allowances=TEMPORARY_ALLOWANCES) == [
        "cardiofm/data/sources/folder.py:2 imports cardiofm.text.labels"]
