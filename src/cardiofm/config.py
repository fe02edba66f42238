"""Typed run configurations: a YAML recipe, one of its variants, and ``--set key=value`` overrides.

A recipe file holds shared settings plus named ``variants`` (e.g. ``synthetic`` and ``ptbxl``), each a
partial config merged over the shared part::

    name: anyecg
    default_variant: synthetic
    model: {name: net1d_s}
    variants:
      synthetic: {data: {source: synthetic, task: stenosis}}
      ptbxl: {data: {source: ptbxl, root: ../shared/data/ptbxl, task: mi_territory}}

Overrides use dotted keys and YAML values: ``trainer.max_epochs=3``, ``data.preprocess.band=[0.5,40]``.
Unknown keys anywhere raise :class:`ConfigError` naming the key, so a typo never passes silently.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cardiofm.errors import CardiofmError, ConfigError
from cardiofm.registry import Registry
from cardiofm.signal.transforms import Preprocess


@dataclass
class DataConfig:
    """Where the recordings come from and how they are cached and batched."""

    source: str = "synthetic"
    root: str | None = None                   # None with source "synthetic": generated into <run>/data
    options: dict[str, Any] = field(default_factory=dict)   # source options (as `--opt` on the CLI)
    synth: dict[str, Any] = field(default_factory=lambda: {"n": 1000, "seed": 0, "fs": 100.0})
    store: str | None = None                  # store folder (a shared cache); default <run>/store
    preprocess: Preprocess = field(default_factory=lambda: Preprocess(fs=100.0, length=1000))
    labellers: dict[str, Any] = field(default_factory=dict)  # steps adding label tasks: {entities: {min_count: 3}}
    task: str = "stenosis"
    leads: list[str] | None = None            # a subset of the store's leads (e.g. [I] for single-lead)
    tabular: str | list[str] | None = None    # clinical columns fed as batch["tab"]: a prefix (dexa) or a list
    augment: str | list[Any] | None = "anyecg"  # a recipe name (anyecg, clef) or an explicit list
    batch_size: int = 64
    num_workers: int = 0
    build_workers: int = 2


@dataclass
class TrainerConfig:
    """What goes to ``lightning.Trainer`` plus early stopping."""

    max_epochs: int = 20
    max_time_s: float | None = None           # wall-time budget of one fit (stops after the step in progress)
    patience: int = 5
    monitor: str = "val_macro_auroc"
    mode: str = "max"                         # "max" (AUROC) or "min" (a loss) for monitor
    accelerator: str = "auto"
    devices: int | str | list[int] = 1
    strategy: str = "auto"
    num_nodes: int = 1
    precision: str = "32-true"
    log_every_n_steps: int = 10
    tensorboard: bool = False
    deterministic: bool = True
    progress: bool = True
    limit_train_batches: float | int = 1.0
    threads: int | None = None                # torch intra-op threads (None: leave torch's default)


@dataclass
class CVConfig:
    """Patient-grouped, label-stratified K-fold cross-validation over the development rows."""

    folds: int = 5
    run_folds: list[int] | None = None        # train only these folds (e.g. [1] for a quick look)
    seed: int = 0


@dataclass
class RunConfig:
    """One run: which system, its data, encoder, method, trainer and cross-validation, and the typed
    sections its system owns (``sections["probe"]``, ``sections["generation"]``, ...)."""

    name: str = "run"
    system: str = "anyecg"                    # a registered system (``cardiofm systems`` lists them)
    variant: str | None = None
    seed: int = 0
    out: str | None = None                    # run directory; default runs/<name>[-<variant>]
    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=lambda: {"name": "net1d_tiny"})
    method: dict[str, Any] = field(default_factory=lambda: {"name": "supervised"})
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    cv: CVConfig = field(default_factory=CVConfig)
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        if self.out:
            return Path(self.out)
        return Path("runs") / (self.name + (f"-{self.variant}" if self.variant else ""))

    def section(self, key: str) -> Any:
        """The typed section ``key`` of this run's system (its defaults when the recipe leaves it out)."""
        if key not in self.sections:
            owned = ", ".join(self.sections) or "none"
            raise ConfigError(f"system {self.system} has no config section {key!r} (its sections: {owned})")
        return self.sections[key]

    def to_dict(self) -> dict[str, Any]:
        """The recipe mapping (system sections at the top level, as a recipe writes them), YAML-safe."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "sections"}
        d.update(self.sections)
        return json.loads(json.dumps(d, default=_plain))


def _plain(o: Any) -> Any:
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    raise TypeError(f"{type(o).__name__} is not a config value")


_CORE = {"data": DataConfig, "trainer": TrainerConfig, "cv": CVConfig}
# system name -> {section key: dataclass}; filled by cardiofm.systems.register_system
SYSTEM_SECTIONS: Registry[dict[str, type]] = Registry("system")


def register_sections(system: str, sections: dict[str, type]) -> None:
    """Declare the typed top-level sections a system's recipes may carry."""
    clash = sorted(set(sections) & ({f.name for f in dataclasses.fields(RunConfig)} - {"sections"}))
    if clash:
        raise ConfigError(f"system {system}: section name(s) {', '.join(clash)} are core config keys")
    SYSTEM_SECTIONS.add(system, dict(sections))


def build_section(cls: type, values: Any, where: str) -> Any:
    """A config dataclass from a mapping; unknown keys raise :class:`ConfigError` naming ``where``.

    Fields that are config dataclasses themselves (``data.preprocess``) are built from their mappings too.
    """
    if dataclasses.is_dataclass(values) and isinstance(values, cls):
        return values
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a mapping, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
    values = dict(values)
    for name, sub in _NESTED.get(cls, {}).items():
        if name in values:
            values[name] = build_section(sub, values[name] or {}, f"{where}.{name}")
    try:
        return cls(**values)
    except CardiofmError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


_NESTED: dict[type, dict[str, type]] = {DataConfig: {"preprocess": Preprocess}}


def config_from_dict(d: dict[str, Any]) -> RunConfig:
    """A :class:`RunConfig` from a plain (already merged) dictionary; unknown keys are errors.

    The ``system`` names a registered system (import :mod:`cardiofm.systems` to register the built-in ones);
    its sections are typed by the dataclasses it registered, and a section of another system is an error.
    """
    d = copy.deepcopy(d)
    system = d.get("system", RunConfig.system)
    if system not in SYSTEM_SECTIONS:
        hint = "" if len(SYSTEM_SECTIONS) else " (none registered: import cardiofm.systems first)"
        raise ConfigError(f"system: unknown system {system!r}; known: {', '.join(SYSTEM_SECTIONS.names())}{hint}")
    owned = SYSTEM_SECTIONS[system]
    core = {f.name for f in dataclasses.fields(RunConfig)} - {"sections"}
    sections = {}
    for key in sorted(set(d) - core):
        if key not in owned:
            known = ", ".join(sorted(core | set(owned)))
            raise ConfigError(f"config: unknown key {key!r} for system {system}; known: {known}")
        sections[key] = build_section(owned[key], d.pop(key) or {}, key)
    for key, cls in owned.items():
        sections.setdefault(key, cls())
    for key, cls in _CORE.items():
        if key in d:
            d[key] = build_section(cls, d[key] or {}, key)
    for key in ("model", "method"):
        if key in d and (not isinstance(d[key], dict) or "name" not in d[key]):
            raise ConfigError(f"{key}: needs a mapping with a 'name', got {d[key]!r}")
    if "method" in d:  # a typo in a method key fails here, before any data is built
        from cardiofm.methods.registry import check_method_keys

        check_method_keys(d["method"]["name"], set(d["method"]) - {"name"})
    cfg = build_section(RunConfig, d, "config")
    cfg.sections = sections
    return cfg


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` merged into a copy of ``base``; nested mappings merge, everything else replaces."""
    out = copy.deepcopy(base)
    for k, v in update.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not _other_component(out[k], v):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _other_component(old: dict[str, Any], new: dict[str, Any]) -> bool:
    # A different encoder or method (another "name") gets its own config: never mix two models' keys.
    return "name" in old and "name" in new and old["name"] != new["name"]


def apply_override(d: dict[str, Any], assignment: str) -> None:
    """Apply one ``a.b.c=value`` (value parsed as YAML) to ``d`` in place."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected key=value, e.g. trainer.max_epochs=3")
    key, raw = assignment.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"--set {assignment!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {assignment!r}: value is not valid YAML ({exc})") from None
    node = d
    for p in parts[:-1]:
        if not isinstance(node.get(p, {}), dict):
            raise ConfigError(f"--set {assignment!r}: {p} is not a section")
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def recipe_path(name: str | Path) -> Path:
    """A recipe file: an existing path, or the name of a recipe shipped with cardiofm (``anyecg``)."""
    from importlib.resources import files

    p = Path(name)
    if p.exists() or p.suffix in (".yaml", ".yml") or len(p.parts) > 1:
        return p
    shipped = Path(str(files("cardiofm") / "recipes" / f"{name}.yaml"))
    if not shipped.exists():
        known = sorted(q.stem for q in shipped.parent.glob("*.yaml"))
        raise ConfigError(f"{name}: no such recipe file, and no shipped recipe of that name ({', '.join(known)})")
    return shipped


def read_recipe(path: str | Path) -> dict[str, Any]:
    """The raw mapping of a YAML recipe file (or shipped recipe name)."""
    path = recipe_path(path)
    try:
        d = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such recipe file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(d, dict):
        raise ConfigError(f"{path}: a recipe must be a YAML mapping")
    return d


def resolve_recipe(d: dict[str, Any], variant: str | None = None, overrides: list[str] | None = None,
                   where: str = "recipe") -> RunConfig:
    """Merge the chosen variant over the shared part, apply overrides, and type-check the result."""
    d = copy.deepcopy(d)
    variants = d.pop("variants", None) or {}
    default = d.pop("default_variant", None)
    chosen = variant or default
    if chosen is not None:
        if chosen not in variants:
            raise ConfigError(f"{where}: no variant {chosen!r}; it has {', '.join(variants) or 'none'}")
        d = deep_merge(d, variants[chosen])
        d["variant"] = chosen
    elif variants:
        raise ConfigError(f"{where}: choose a variant ({', '.join(variants)}) with --variant")
    for o in overrides or []:
        apply_override(d, o)
    return config_from_dict(d)


def load_config(path: str | Path, variant: str | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Read a recipe file and resolve it (see :func:`resolve_recipe`)."""
    return resolve_recipe(read_recipe(path), variant, overrides, where=str(path))


def save_config(cfg: RunConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
