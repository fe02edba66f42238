"""Data sources: one module per public database plus own data, each registered by name.

Every module in this package is imported here, so a new source is one new file with a
``@register_source("name")`` class.
"""

import importlib
import pkgutil

from cardiofm.data.sources.base import SOURCES, Source, get_source, open_cohort, register_source

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name != "base":
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["SOURCES", "Source", "get_source", "open_cohort", "register_source"]
