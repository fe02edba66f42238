"""cardiofm.evaluate is metrics over arrays only: no plotting, no training, no data/model/report layers.

Every module of ``src/cardiofm/evaluate`` may import, from cardiofm, only the base modules (the package
``__init__``, errors, registry, fileio, paths, pool), ``signal``, ``physio``, ``clinical`` and ``evaluate``
itself. Named in particular: data, report, engine, methods, models, systems, text and explain are forbidden,
and so are matplotlib (plots live in :mod:`cardiofm.report`) and the training frameworks.

The check parses the source with :mod:`ast` (nothing is imported), so imports inside function bodies count
as much as those at the top of a module; relative imports are resolved against the importing module, and
``importlib.import_module("...")`` / ``__import__("...")`` with a literal name count as imports too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from importscan import import_statements

SRC = Path(__file__).resolve().parents[1] / "src"
EVALUATE = SRC / "cardiofm" / "evaluate"

ALLOWED_CARDIOFM = frozenset({"__init__", "errors", "registry", "fileio", "paths", "pool",
                              "signal", "physio", "clinical", "evaluate"})
FORBIDDEN_CARDIOFM = frozenset({"data", "report", "engine", "methods", "models", "systems", "text", "explain"})
FORBIDDEN_THIRD_PARTY = ("matplotlib", "lightning", "pytorch_lightning", "torch.optim")


def imported_modules(path: str, source: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, at any depth.

    ``from pkg import name`` yields ``pkg.name`` as well as ``pkg``, so ``from cardiofm import data`` is seen
    as importing ``cardiofm.data``; relative imports are resolved against ``path`` (relative to src/).
    """
    out: list[tuple[int, str]] = []
    for s in import_statements(path, source):
        out.append((s.line, s.module))
        out += [(s.line, f"{s.module}.{n}") for n in s.names if n != "*"]
    return out


def _problem(module: str) -> str | None:
    parts = module.split(".")
    for bad in FORBIDDEN_THIRD_PARTY:
        if module == bad or module.startswith(bad + "."):
            return f"{bad} (no plotting or training in evaluate)"
    if parts[0] != "cardiofm" or len(parts) == 1:
        return None
    top = parts[1]
    if top in FORBIDDEN_CARDIOFM:
        return f"cardiofm.{top} (forbidden in evaluate)"
    is_module = (SRC / "cardiofm" / top).is_dir() or (SRC / "cardiofm" / f"{top}.py").is_file()
    if top not in ALLOWED_CARDIOFM and is_module:
        return f"cardiofm.{top} (not in the allowed set {sorted(ALLOWED_CARDIOFM)})"
    return None  # an attribute of cardiofm/__init__ (from cardiofm import __version__)


def violations(path: str, source: str) -> list[str]:
    """``path:line imports module: reason`` for every import ``source`` may not make (one per line and module)."""
    seen: dict[tuple[int, str], str] = {}
    for line, mod in imported_modules(path, source):
        why = _problem(mod)
        if why is not None:
            seen.setdefault((line, why), f"{path}:{line} imports {mod}: {why}")
    return [seen[k] for k in sorted(seen)]


def _sources() -> dict[str, str]:
    return {f.relative_to(SRC).as_posix(): f.read_text(encoding="utf-8") for f in sorted(EVALUATE.rglob("*.py"))}


def test_evaluate_imports_only_the_allowed_set() -> None:
    sources = _sources()
    assert {"cardiofm/evaluate/__init__.py", "cardiofm/evaluate/clustering.py",
            "cardiofm/evaluate/correlation.py", "cardiofm/evaluate/generation.py"} <= set(sources)
    bad = [v for path, src in sources.items() for v in violations(path, src)]
    for line in bad:
        print(line)
    assert not bad, "cardiofm.evaluate must be metrics over arrays only:\n" + "\n".join(bad)


def test_evaluate_defines_no_plot_functions() -> None:
    bad = [f"{path}:{node.lineno} defines {node.name}" for path, src in _sources().items()
           for node in ast.walk(ast.parse(src)) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
           and (node.name.startswith(("plot_", "_plot")) or node.name in ("save_figure", "savefig"))]
    for line in bad:
        print(line)
    assert not bad, "plotting belongs in cardiofm.report:\n" + "\n".join(bad)


FAKE = """\
from __future__ import annotations

import numpy as np

from cardiofm.errors import MetricError
from cardiofm.evaluate import _checks
from . import bootstrap
from cardiofm.signal.record import LEADS_12


def heatmap(table, path):
    import matplotlib
    from matplotlib.figure import Figure
    from cardiofm.data.cohort import Cohort
    from .. import report
    from ..models import encoders
    import cardiofm.engine.fit
    from cardiofm import text
    import importlib
    importlib.import_module("cardiofm.systems.cardioprime")
    from cardiofm.config import RunConfig
    return Figure, Cohort
"""


def test_checker_reports_path_and_line_of_each_offence() -> None:
    bad = violations("cardiofm/evaluate/fake.py", FAKE)
    assert [b.split(": ", 1)[0] for b in bad] == [
        "cardiofm/evaluate/fake.py:12 imports matplotlib",
        "cardiofm/evaluate/fake.py:13 imports matplotlib.figure",
        "cardiofm/evaluate/fake.py:14 imports cardiofm.data.cohort",
        "cardiofm/evaluate/fake.py:15 imports cardiofm.report",
        "cardiofm/evaluate/fake.py:16 imports cardiofm.models",
        "cardiofm/evaluate/fake.py:17 imports cardiofm.engine.fit",
        "cardiofm/evaluate/fake.py:18 imports cardiofm.text",
        "cardiofm/evaluate/fake.py:20 imports cardiofm.systems.cardioprime",
        "cardiofm/evaluate/fake.py:21 imports cardiofm.config",
    ]
    assert "not in the allowed set" in bad[-1]


@pytest.mark.parametrize(("path", "source", "n_bad"), [
    ("cardiofm/evaluate/x.py", "from cardiofm.physio.delineate import features\n", 0),
    ("cardiofm/evaluate/x.py", "from cardiofm import __version__, errors, pool\n", 0),
    ("cardiofm/evaluate/x.py", "from cardiofm.clinical import codes\n", 0),
    ("cardiofm/evaluate/__init__.py", "from .classification import roc_curves\n", 0),
    ("cardiofm/evaluate/x.py", "from ..signal.record import ECGRecord\n", 0),
    ("cardiofm/evaluate/x.py", "from ..data import store\n", 1),
    ("cardiofm/evaluate/x.py", "def f():\n    from cardiofm.explain import saliency\n", 1),
    ("cardiofm/evaluate/x.py", "def f():\n    import matplotlib.pyplot as plt\n", 1),
    ("cardiofm/evaluate/x.py", "import lightning as L\n", 1),
    ("cardiofm/evaluate/x.py", "from torch.optim import AdamW\n", 1),
    ("cardiofm/evaluate/x.py", "import torch\n", 0),  # inference (generation.embed) is not training
    ("cardiofm/evaluate/x.py", "from cardiofm.synth import outcomes\n", 1),  # not in the allowed set
])
def test_checker_cases(path: str, source: str, n_bad: int) -> None:
    assert len(violations(path, source)) == n_bad
