"""Model registry (timm-like): ``register_model``, ``create_model``, safetensors save/load.

Every encoder takes ``(batch, leads, samples)`` and returns a pooled embedding ``(batch, embed_dim)``
from ``forward`` and tokens ``(batch, n_tokens, embed_dim)`` from ``forward_features``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from cardiofm.errors import ConfigError
from cardiofm.registry import Registry

T = TypeVar("T")

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "model.json"


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: its builder and the defaults of every config key it accepts."""

    name: str
    builder: Callable[..., nn.Module]
    defaults: dict[str, Any]


MODELS: Registry[ModelEntry] = Registry("model")


def _signature_defaults(builder: Callable[..., Any]) -> tuple[dict[str, Any], bool]:
    """Keyword defaults of ``builder`` (without ``in_leads``) and whether it takes ``**kwargs``."""
    sig = inspect.signature(builder)
    out: dict[str, Any] = {}
    var_kw = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.name not in ("self", "in_leads") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            out[p.name] = None if p.default is p.empty else p.default
    return out, var_kw


def register_model(name: str, **defaults: Any) -> Callable[[T], T]:
    """Register an encoder builder (function or ``nn.Module`` class) under ``name`` with default config."""

    def deco(builder: T) -> T:
        sig_defaults, _ = _signature_defaults(builder)  # type: ignore[arg-type]
        MODELS.add(name, ModelEntry(name, builder, {**sig_defaults, **defaults}))  # type: ignore[arg-type]
        return builder

    return deco


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models, optionally those matching the glob ``pattern`` (``"net1d*"``)."""
    return MODELS.names(pattern)


def model_defaults(name: str) -> dict[str, Any]:
    """The default config of model ``name`` (every key ``create_model`` accepts besides ``in_leads``)."""
    return dict(MODELS.get(name).defaults)


def create_model(name: str, in_leads: int = 12, **cfg: Any) -> nn.Module:
    """Build a registered encoder; the module gets ``model_name`` and ``model_cfg`` (full resolved config)."""
    entry = MODELS.get(name)
    _, var_kw = _signature_defaults(entry.builder)
    unknown = sorted(k for k in cfg if k not in entry.defaults)
    if unknown and not var_kw:
        raise ConfigError(
            f"model {name!r} has no config key(s) {', '.join(map(repr, unknown))}; "
            f"valid keys: in_leads, {', '.join(sorted(entry.defaults))}"
        )
    if isinstance(in_leads, bool) or not isinstance(in_leads, int) or in_leads < 1:
        raise ConfigError(f"in_leads must be a positive integer, got {in_leads!r}")
    # tuples become lists so that model_cfg equals its own JSON round trip (save_model / load_model)
    full = {k: list(v) if isinstance(v, tuple) else v for k, v in {**entry.defaults, **cfg}.items()}
    full["in_leads"] = in_leads
    try:
        model = entry.builder(**full)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {name!r} cannot be built from config {full}: {exc}") from exc
    model.model_name = name
    model.model_cfg = full
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (works for models on the ``meta`` device)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def check_input(x: torch.Tensor, in_leads: int, model: str) -> None:
    """Raise ConfigError unless ``x`` is a float ``(batch, in_leads, samples)`` tensor."""
    if not isinstance(x, torch.Tensor):
        raise ConfigError(f"{model}: input must be a torch.Tensor (batch, leads, samples), got {type(x).__name__}")
    if x.ndim != 3:
        raise ConfigError(
            f"{model}: input must have shape (batch, leads, samples), got {x.ndim}-D shape {tuple(x.shape)}; "
            "add a batch dimension with x[None] for a single recording"
        )
    if x.shape[1] != in_leads:
        raise ConfigError(
            f"{model}: expected {in_leads} leads, got {x.shape[1]} (input shape {tuple(x.shape)}); "
            f"select the leads or create the model with in_leads={x.shape[1]}"
        )
    if not x.is_floating_point():
        raise ConfigError(f"{model}: input must be a float tensor, got dtype {x.dtype}")
    if x.shape[2] < 1 or x.shape[0] < 1:
        raise ConfigError(f"{model}: input has an empty dimension, shape {tuple(x.shape)}")


def _files(path: str | Path) -> tuple[Path, Path]:
    p = Path(path)
    if p.suffix == ".safetensors":
        return p, p.with_suffix(".json")
    return p / WEIGHTS_FILE, p / CONFIG_FILE


def save_model(model: nn.Module, path: str | Path) -> Path:
    """Write ``model.safetensors`` + ``model.json`` into directory ``path`` (or to ``<path>.safetensors``).

    Returns the path of the weights file.
    """
    from safetensors.torch import save_file

    from cardiofm import __version__

    name = getattr(model, "model_name", None)
    cfg = getattr(model, "model_cfg", None)
    if name is None or cfg is None:
        raise ConfigError("save_model needs a model built by create_model (it has no model_name/model_cfg)")
    weights, config = _files(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    meta = {"name": name, "cfg": cfg, "cardiofm_version": __version__, "n_parameters": count_parameters(model)}
    try:
        text = json.dumps(meta, indent=2, sort_keys=True)
    except TypeError as exc:
        raise ConfigError(f"config of model {name!r} is not JSON-serialisable: {exc}") from exc
    save_file(state, str(weights), metadata={"cardiofm": json.dumps(meta)})
    config.write_text(text + "\n")
    return weights


def _read_meta(weights: Path, config: Path) -> dict[str, Any]:
    if config.is_file():
        try:
            meta = json.loads(config.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{config}: cannot read model config ({exc}); re-save the model") from exc
    else:
        from safetensors import safe_open

        try:
            with safe_open(str(weights), framework="pt") as f:
                raw = (f.metadata() or {}).get("cardiofm")
        except Exception as exc:  # safetensors raises its own error types for corrupt headers
            raise ConfigError(f"{weights}: not a readable safetensors file ({exc})") from exc
        if raw is None:
            raise ConfigError(f"{config}: missing, and {weights} carries no cardiofm config; re-save the model")
        try:
            meta = json.loads(raw)
        except ValueError:
            raise ConfigError(f"{weights}: its embedded cardiofm config is not valid JSON; re-save the model") from None
    if not isinstance(meta, dict) or "name" not in meta or not isinstance(meta.get("cfg"), dict):
        raise ConfigError(f"{config}: model config lacks 'name' or 'cfg'; re-save the model")
    return meta


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Re-create a model saved by :func:`save_model` from its directory or its ``.safetensors`` file."""
    from safetensors.torch import load_file

    weights, config = _files(path)
    if not weights.is_file():
        raise ConfigError(f"{weights}: model weights file not found; pass a directory written by save_model")
    meta = _read_meta(weights, config)
    cfg = dict(meta["cfg"])
    in_leads = cfg.pop("in_leads", 12)
    model = create_model(meta["name"], in_leads=in_leads, **cfg)
    try:
        state = load_file(str(weights), device="cpu")
    except Exception as exc:  # corrupt header / truncated file
        raise ConfigError(f"{weights}: not a readable safetensors file ({exc})") from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ConfigError(f"{weights}: weights do not match model {meta['name']!r} with its config: {exc}") from exc
    return model.to(map_location)


def build_encoder(name: str, in_leads: int, cfg: dict[str, Any] | None = None, *,
                  pretrained: str | Path | None = None) -> nn.Module:
    """A method's encoder: the saved one at ``pretrained`` (its lead count must be ``in_leads``), else a new
    ``create_model(name, in_leads=in_leads, **cfg)``."""
    if not pretrained:
        return create_model(name, in_leads=in_leads, **(cfg or {}))
    encoder = load_model(pretrained)
    if getattr(encoder, "in_leads", in_leads) != in_leads:
        raise ConfigError(f"method.pretrained: {pretrained} takes {encoder.in_leads} leads, the data has {in_leads}")
    return encoder
