"""What a system is: one published method as a record the CLI, the demo and the report find by name.

A :class:`System` names its run steps, the recipes it ships, the typed config sections it owns, the
LightningModules it provides (``method.name`` in a recipe), its analysis/report step, its demo step and any
command-line verbs of its own. A system package registers one such record with :func:`register_system` in its
``__init__.py``. Registering must stay cheap (``cardiofm --help`` imports every system): the steps are given as
:func:`lazy` references ``"package.module:function"`` that are imported on first call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardiofm.config import register_sections
from cardiofm.errors import ConfigError
from cardiofm.methods.registry import declare_method
from cardiofm.registry import Registry

VERBS = ("train", "pretrain")


class lazy:  # noqa: N801  (used like a function: lazy("pkg.mod:fn"))
    """A callable standing for ``module:attribute``; the module is imported on the first call."""

    def __init__(self, ref: str) -> None:
        if ":" not in ref:
            raise ConfigError(f"lazy reference {ref!r}: expected 'package.module:function'")
        self.ref = ref
        self._target: Callable[..., Any] | None = None

    def resolve(self) -> Callable[..., Any]:
        if self._target is None:
            module, _, attr = self.ref.partition(":")
            self._target = getattr(importlib.import_module(module), attr)
        return self._target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, lazy) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(self.ref)

    def __repr__(self) -> str:
        return f"lazy({self.ref!r})"


Step = Callable[..., Any]


@dataclass(frozen=True)
class System:
    """One published system.

    Attributes:
        name: the registry name, as recipes give it in ``system:``.
        summary: one line for ``cardiofm systems``.
        verb: the CLI action that runs it: ``train`` (supervised, evaluated afterwards) or ``pretrain``.
        run: ``run(cfg: RunConfig) -> RunDir``: every training step, resumable (the engine's run folder).
        analyse: ``analyse(run_dir) -> dict``: the evaluation and report of a finished run (``cardiofm
            evaluate``); ``None`` when ``run`` writes its analysis and report itself.
        recipes: names of the recipes it ships in ``cardiofm/recipes/``.
        sections: typed config sections it owns (top-level recipe keys -> dataclass).
        methods: ``method.name`` -> the module that registers that LightningModule.
        demo: ``demo(ctx: DemoContext) -> None``, its step of ``cardiofm demo`` (``None``: no step).
        commands: extra command-line verbs (Typer functions), e.g. ``zeroshot``.
        paper: the publication it implements.
    """

    name: str
    summary: str
    verb: str
    run: Step
    analyse: Step | None = None
    recipes: tuple[str, ...] = ()
    sections: Mapping[str, type] = field(default_factory=dict)
    methods: Mapping[str, str] = field(default_factory=dict)
    demo: Step | None = None
    commands: tuple[Callable[..., Any], ...] = ()
    paper: str = ""

    @classmethod
    def of(cls, package: str, name: str, verb: str, summary: str, *, run: str = "run:run",
           analyse: str | None = None, demo: str | None = "demo:demo_step", **fields: Any) -> System:
        """A system whose steps live in ``package`` by convention: ``run.py:run`` and ``demo.py:demo_step``
        unless ``run``/``analyse``/``demo`` name other ``module:function`` references (relative to ``package``
        unless they start with ``cardiofm.``)."""

        def ref(r: str | None) -> lazy | None:
            return None if r is None else lazy(r if r.startswith("cardiofm.") else f"{package}.{r}")

        return cls(name=name, summary=summary, verb=verb, run=ref(run), analyse=ref(analyse),  # type: ignore[arg-type]
                   demo=ref(demo), **fields)


SYSTEMS: Registry[System] = Registry("system")


def register_system(system: System) -> System:
    """Add ``system`` to :data:`SYSTEMS`, its config sections to the recipe schema and its methods to the
    method registry. A second system of the same name is an error."""
    if system.verb not in VERBS:
        raise ConfigError(f"system {system.name}: verb {system.verb!r}; use one of {', '.join(VERBS)}")
    if system.name in SYSTEMS and SYSTEMS[system.name] is not system:
        raise ConfigError(f"system {system.name!r} is registered twice; pick another name")
    SYSTEMS.add(system.name, system)
    register_sections(system.name, dict(system.sections))
    for method, module in system.methods.items():
        declare_method(method, module)
    return system


def unregister_system(name: str) -> None:
    """Undo :func:`register_system` (tests, plugins being unloaded)."""
    from cardiofm.config import SYSTEM_SECTIONS
    from cardiofm.methods.registry import undeclare_method

    system = SYSTEMS.remove(name)
    SYSTEM_SECTIONS.remove(name)
    for method in system.methods:
        undeclare_method(method)


@dataclass
class DemoContext:
    """What the demo's steps share: the demo folder, settings, and what they add to the demo report."""

    out: Path
    workers: int = 1
    n_synthetic: int = 200
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    images: list[Path] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def shared_data(self) -> list[str]:
        """Overrides that point a recipe at the demo's generated cohort and store (built by the first steps)."""
        return [f"data.root={self.out / 'synthetic'}", f"data.store={self.out / 'store'}", f"seed={self.seed}",
                f"data.build_workers={self.workers}", "trainer.progress=false"]
