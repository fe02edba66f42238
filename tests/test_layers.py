"""cardiofm's packages form a strict layer order with no package cycles, imports inside functions included.

Lowest first; a module may import only from its own package or a lower one (the order of the package
docstring, ``cardiofm/__init__.py``):

    base modules (cardiofm/__init__, errors, registry, fileio, paths, pool) < signal < physio < clinical < data
    < text < synth < models < methods < evaluate < explain < report < config < engine < systems < demo, cli

and besides: no module outside ``systems/`` imports a system package (only the systems registry,
``cardiofm.systems``), a system package imports no other system package (shared steps live in
``systems/shared``), and ``engine/`` names no paper. The check parses the source with :mod:`ast` (nothing is
imported), so ``import`` statements in function bodies count as much as those at the top of a module;
relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from importscan import import_statements, module_name

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "cardiofm"
BASE_MODULES = ("__init__", "errors", "registry", "fileio", "paths", "pool")
ORDER = ("base", "signal", "physio", "clinical", "data", "text", "synth", "models", "methods", "evaluate", "explain",
         "report", "config", "engine", "systems", "demo", "cli")
FACE = ("demo", "cli")  # the top: nothing imports them, they may import each other
SYSTEM_NONPACKAGES = ("base", "shared")  # systems/base.py (the System record), systems/shared/ (shared steps)
PAPER_NAMES = ("anyecg", "clef", "supreme", "cardioprime", "sediff", "se-diff", "ccta")
TEMPORARY_ALLOWANCES: frozenset[tuple[str, str]] = frozenset()  # (importing file, imported module): none left


def _exists(dotted: str, root: Path) -> bool:
    rel = Path(*dotted.split("."))
    return (root / rel).is_dir() or (root / rel).with_suffix(".py").is_file()


def imports(path: str, source: str, root: Path = SRC) -> list[tuple[int, str]]:
    """(line, imported cardiofm module) of every import in ``source``, at any depth, relative ones resolved.

    ``from cardiofm import x`` counts as importing ``cardiofm.x`` when ``x`` is a module or package under
    ``root``, else as importing ``cardiofm`` itself (an attribute of its ``__init__``).
    """
    out: list[tuple[int, str]] = []
    for s in import_statements(path, source):
        if s.kind == "import":
            out.append((s.line, s.module))
        elif s.kind == "from" and (s.module == "cardiofm" or s.relative_package):
            out += [(s.line, f"{s.module}.{n}" if _exists(f"{s.module}.{n}", root) else s.module) for n in s.names]
        elif s.kind == "from":
            out.append((s.line, s.module))
    return [(line, m) for line, m in out if m == "cardiofm" or m.startswith("cardiofm.")]


def layer(module: str) -> str:
    """The layer of a cardiofm module: ``base`` for the base modules, else its top-level package or module."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in BASE_MODULES:
        return "base"
    return parts[1]


def rank(name: str) -> int:
    if name in FACE:
        return len(ORDER)
    if name not in ORDER:
        raise AssertionError(f"cardiofm.{name} is in no layer: add it to ORDER (and the package docstring)")
    return ORDER.index(name)


def upward_imports(path: str, source: str, root: Path = SRC,
                   allowances: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    """``path:line imports cardiofm.x`` for every import of a layer above the module's own."""
    own = layer(module_name(path)[0])
    return [f"{path}:{line} imports {mod}" for line, mod in imports(path, source, root)
            if rank(layer(mod)) > rank(own) and (path, mod) not in allowances]


def _sources() -> dict[str, str]:
    return {f.relative_to(SRC).as_posix(): f.read_text(encoding="utf-8") for f in sorted(PKG.rglob("*.py"))}


def test_layers_exist() -> None:
    for name in BASE_MODULES:
        assert (PKG / f"{name}.py").is_file(), name
    for name in ORDER[1:]:
        assert (PKG / name / "__init__.py").is_file() or (PKG / f"{name}.py").is_file(), name


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
    ("cardiofm/engine/x.py", "from cardiofm.methods import registry\n", 0),
    ("cardiofm/evaluate/x.py", "def f():\n    from cardiofm.report import evalplots\n", 1),
    ("cardiofm/engine/x.py", "from cardiofm.systems import SYSTEMS\n", 1),
    ("cardiofm/systems/clef/x.py", "from cardiofm.cli.data import parse_options\n", 1),
    ("cardiofm/cli/run.py", "from cardiofm.systems import SYSTEMS\n", 0),
    ("cardiofm/demo.py", "from cardiofm.cli import app\n", 0),
])
def test_checker_cases(path: str, source: str, n_bad: int) -> None:
    assert len(upward_imports(path, source)) == n_bad


def system_package(module: str) -> str | None:
    """``clef`` for ``cardiofm.systems.clef.pretrain``; ``None`` for the registry, ``systems.base`` and
    ``systems.shared`` (which are not systems) and for modules outside ``systems/``."""
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "systems" or parts[2] in SYSTEM_NONPACKAGES:
        return None
    return parts[2]


def system_package_imports(path: str, source: str) -> list[str]:
    """Imports of a system package from outside it (the systems registry, ``systems/__init__.py``, may)."""
    me = module_name(path)[0]
    if me == "cardiofm.systems":
        return []
    own = system_package(me)
    return [f"{path}:{line} imports {mod}" for line, mod in imports(path, source)
            if system_package(mod) is not None and system_package(mod) != own]


def test_only_the_systems_registry_imports_a_system_package() -> None:
    bad = [b for path, src in _sources().items() for b in system_package_imports(path, src)]
    assert not bad, "imports of a system package:\n" + "\n".join(bad)
    assert system_package_imports("cardiofm/cli/run.py", "from cardiofm.systems.clef import pretrain\n")
    assert system_package_imports("cardiofm/systems/sediff/x.py", "def f():\n    import cardiofm.systems.clef\n")
    assert not system_package_imports("cardiofm/systems/sediff/x.py", "from cardiofm.systems.shared import config\n")
    assert not system_package_imports("cardiofm/demo.py", "from cardiofm.systems import SYSTEMS\n")


def test_the_engine_names_no_paper() -> None:
    hits = [f"{f.relative_to(SRC)}:{n}: {line.strip()}" for f in sorted((PKG / "engine").rglob("*.py"))
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
            if any(name in line.lower() for name in PAPER_NAMES)]
    assert not hits, "paper names in engine/:\n" + "\n".join(hits)


def package_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Layer -> the layers it imports (function-level imports included)."""
    graph: dict[str, set[str]] = {}
    for path, src in sources.items():
        own = layer(module_name(path)[0])
        graph.setdefault(own, set()).update(layer(m) for _, m in imports(path, src) if layer(m) != own)
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first repeated at the end), or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph(_sources())
    assert {"engine", "systems", "evaluate", "data", "physio", "text"} <= set(graph)
    found = cycle(graph)
    assert found is None, "package cycle: " + " -> ".join(found or [])
    assert cycle({"data": {"physio"}, "physio": {"text"}, "text": {"data"}}) == ["data", "physio", "text", "data"]
    assert cycle({"engine": {"evaluate"}, "evaluate": {"report"}, "report": set()}) is None


def private_imports(path: str, source: str) -> list[str]:
    """``path:line imports cardiofm.x._name`` for each private name imported from another package."""
    own = layer(module_name(path)[0])
    out = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("cardiofm."):
            if layer(node.module) != own:
                out += [f"{path}:{node.lineno} imports {node.module}.{a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    return out


def test_no_private_name_is_imported_from_another_package() -> None:
    bad = [b for path, src in _sources().items() for b in private_imports(path, src)]
    assert not bad, "private names imported across packages:\n" + "\n".join(bad)
    assert private_imports("cardiofm/explain/x.py", "def f():\n    from cardiofm.signal.transforms import _f\n")
    assert not private_imports("cardiofm/evaluate/x.py", "from cardiofm.evaluate import _checks\n")
    assert not private_imports("cardiofm/data/x.py", "from cardiofm import __version__\n")
