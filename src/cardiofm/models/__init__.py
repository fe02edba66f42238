"""Encoder zoo: registry, create_model, safetensors save/load.

Importing this package registers every encoder: ``net1d_{tiny,s,m,l}`` (CLEF), ``vit_{micro,tiny,small}``
(SuPreME), ``lstm_{tiny,cardioprime}`` (CardioPRIME) and ``resnet1d_wang`` (PTB-XL benchmark).
"""

from __future__ import annotations

from cardiofm.models import lstm, net1d, resnet_wang, vit1d  # noqa: F401  (fill the registry)
from cardiofm.models.fusion import CardiacFusionNetwork, LinearQueryHead  # noqa: F401  (SuPreME fusion heads)
from cardiofm.models.heads import LinearHead, MLPHead, create_head, list_heads, register_head
from cardiofm.models.registry import (
    count_parameters,
    create_model,
    list_models,
    load_model,
    model_defaults,
    register_model,
    save_model,
)

__all__ = [
    "LinearHead",
    "MLPHead",
    "count_parameters",
    "create_head",
    "create_model",
    "list_heads",
    "list_models",
    "load_model",
    "model_defaults",
    "register_head",
    "register_model",
    "save_model",
]
