"""The one :class:`~cardiofm.registry.Registry` and every registry of the package built on it."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import pytest

import cardiofm
from cardiofm.errors import CardiofmError, ConfigError, SourceError
from cardiofm.registry import Registry

# module, attribute: every registry of the package (test_every_registry_is_listed keeps this list complete)
PACKAGE_REGISTRIES = [
    ("cardiofm.data.io", "READERS"),
    ("cardiofm.data.sources.base", "SOURCES"),
    ("cardiofm.data.augment", "AUGMENTATIONS"),
    ("cardiofm.models.registry", "MODELS"),
    ("cardiofm.models.heads", "HEADS"),
    ("cardiofm.methods.registry", "METHODS"),
    ("cardiofm.systems.clef.module", "OBJECTIVES"),
    ("cardiofm.text.encoders", "TEXT_ENCODERS"),
    ("cardiofm.text.entities", "EXTRACTORS"),
    ("cardiofm.text.summary", "SUMMARISERS"),
    ("cardiofm.data.augment", "AUGMENT_RECIPES"),
    ("cardiofm.data.labellers", "LABELLERS"),
    ("cardiofm.config", "SYSTEM_SECTIONS"),
    ("cardiofm.systems.base", "SYSTEMS"),
    ("cardiofm.demo", "DEMO_STEPS"),
]
# modules whose import fills the registries above
_FILLERS = ["cardiofm.data.sources", "cardiofm.models", "cardiofm.systems", "cardiofm.systems.cardioprime.module",
            "cardiofm.systems.clef.module", "cardiofm.systems.sediff.module", "cardiofm.methods.supervised",
            "cardiofm.systems.supreme.module", "cardiofm.text.llm"]


def _registry(module: str, attr: str) -> Registry:
    for filler in _FILLERS:
        importlib.import_module(filler)
    return getattr(importlib.import_module(module), attr)


# ---------------------------------------------------------------------------------------------- the API

def test_register_add_get_build_names() -> None:
    reg: Registry = Registry("widget")

    @reg.register("double")
    def double(x: int) -> int:
        return 2 * x

    assert reg.add("triple", lambda x: 3 * x)(2) == 6
    assert reg.get("double") is double and reg["double"] is double
    assert reg.build("double", 4) == 8 and reg.build("triple", x=1) == 3
    assert reg.names() == ["double", "triple"] and reg.names("tr*") == ["triple"] and reg.names("z*") == []
    assert "double" in reg and "nope" not in reg and len(reg) == 2 and list(reg) == ["double", "triple"]
    with pytest.raises(KeyError):
        reg["nope"]  # noqa: B018  (the mapping protocol stays a KeyError; get() is the friendly lookup)
    assert reg.remove("triple") and reg.names() == ["double"]


def test_duplicate_name_is_an_error_and_identical_reregistration_is_not() -> None:
    reg: Registry = Registry("widget")
    reg.register("a")(len)
    reg.register("a")(len)  # a re-imported module registers the same object again
    with pytest.raises(ConfigError, match="widget 'a' is registered twice"):
        reg.register("a")(abs)
    with pytest.raises(ConfigError, match="registered twice"):
        reg.add("a", sum)
    assert reg.get("a") is len


def test_equal_entry_records_reregister_but_different_ones_do_not() -> None:
    @dataclass(frozen=True)
    class Entry:
        builder: object
        size: int

    reg: Registry = Registry("entry")
    reg.add("e", Entry(len, 1))
    reg.add("e", Entry(len, 1))
    with pytest.raises(ConfigError, match="twice"):
        reg.add("e", Entry(len, 2))


def test_unknown_name_lists_the_known_ones_with_the_configured_error() -> None:
    reg: Registry = Registry("source", SourceError)
    with pytest.raises(SourceError, match=r"unknown source 'x'; known: \(none\)"):
        reg.get("x")
    reg.add("b", 1)
    reg.add("a", 2)
    with pytest.raises(SourceError, match="unknown source 'x'; known: a, b$"):
        reg.build("x")
    with pytest.raises(SourceError, match="unknown source"):
        reg.get(["not", "hashable"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown thing"):
        Registry("thing").get("x")


# ---------------------------------------------------------------------------------------------- the package

@pytest.mark.parametrize(("module", "attr"), PACKAGE_REGISTRIES, ids=[a for _, a in PACKAGE_REGISTRIES])
def test_package_registry(module: str, attr: str) -> None:
    reg = _registry(module, attr)
    assert isinstance(reg, Registry) and len(reg) > 0
    names = reg.names()
    assert names == sorted(set(names)) == sorted(reg)
    with pytest.raises(CardiofmError, match=f"unknown {reg.what} '_no_such_name'; known: {', '.join(names)}"):
        reg.get("_no_such_name")


def test_every_registry_is_listed() -> None:
    found = set()
    for info in pkgutil.walk_packages(cardiofm.__path__, "cardiofm."):
        if info.name.endswith("__main__"):
            continue
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, Registry):
                found.add(id(value))
    assert found == {id(_registry(m, a)) for m, a in PACKAGE_REGISTRIES}


def test_real_heads_and_sources_reject_a_second_object_under_a_taken_name() -> None:
    from torch import nn

    from cardiofm.data.sources import SOURCES, Source, register_source
    from cardiofm.models.heads import HEADS, LinearHead, register_head

    class OtherHead(nn.Module):
        pass

    with pytest.raises(ConfigError, match="head 'linear' is registered twice"):
        register_head("linear")(OtherHead)
    assert HEADS.get("linear") is LinearHead

    ptbxl = SOURCES.get("ptbxl")

    class OtherSource(Source):
        def scan(self, root, **options):  # type: ignore[no-untyped-def]
            raise NotImplementedError

    with pytest.raises(ConfigError, match="source 'ptbxl' is registered twice"):
        register_source("ptbxl")(OtherSource)
    assert SOURCES.get("ptbxl") is ptbxl and ptbxl.name == "ptbxl"
    assert not hasattr(OtherSource, "name") or OtherSource.name != "ptbxl"


def test_helpers_keep_their_errors() -> None:
    from cardiofm.data.io import read_record
    from cardiofm.data.sources import get_source
    from cardiofm.errors import RecordError
    from cardiofm.systems.clef.module import ContrastiveConfig, ContrastiveModule

    with pytest.raises(SourceError, match="unknown source 'nope'; known: .*ptbxl"):
        get_source("nope")
    with pytest.raises(RecordError, match="unknown reader 'nope'; known: .*wfdb"):
        read_record("x.hea", reader="nope")
    with pytest.raises(ConfigError, match="method.objective: unknown contrastive objective 'swav'; known: .*simclr"):
        ContrastiveModule(ContrastiveConfig(objective="swav"))
