"""Source options given as ``KEY=VALUE`` strings (``--opt`` on the command line), typed."""

from __future__ import annotations

from typing import Any

from cardiofm.errors import ConfigError


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """``["labels=x.csv", "folds=5", "label_columns=AF,LBBB"]`` -> typed keyword arguments."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--opt takes KEY=VALUE, got {pair!r}")
        key, value = key.strip(), value.strip()
        items = [v.strip() for v in value.split(",") if v.strip()]
        if key.endswith("_columns"):
            out[key] = items
            continue
        if key.endswith("_folds"):
            try:
                out[key] = [int(v) for v in items]
            except ValueError:
                raise ConfigError(f"--opt {key} takes comma-separated fold numbers, got {value!r}") from None
            continue
        for cast in (int, float):
            try:
                out[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            out[key] = {"true": True, "false": False}.get(value.lower(), value)
    return out
