"""Label steps: functions that add label tasks to an opened cohort, applied explicitly after opening it.

Opening a cohort reads files and nothing more; deriving labels from its free-text reports (an NLP step) is
a separate, named step a recipe asks for in ``data.labellers`` (``{entities: {min_count: 3}}``) and the
command line with ``--labeller``. :mod:`cardiofm.text.labels` registers ``entities``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cardiofm.data.cohort import Cohort, LabelSet
from cardiofm.errors import ConfigError
from cardiofm.registry import Registry

Labeller = Callable[..., dict[str, LabelSet]]
LABELLERS: Registry[Labeller] = Registry("labeller")


def apply_labellers(cohort: Cohort, spec: Mapping[str, Any] | None) -> Cohort:
    """Add the tasks of every labeller named in ``spec`` (name -> its options, or ``None``/``{}``) to ``cohort``."""
    for name, options in (spec or {}).items():
        if options is not None and not isinstance(options, Mapping):
            raise ConfigError(f"data.labellers.{name}: expected a mapping of options, got {options!r}")
        cohort.tasks.update(LABELLERS.get(name)(cohort, **dict(options or {})))
    return cohort
