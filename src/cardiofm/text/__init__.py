"""Report text: a standard ECG vocabulary and report -> clinical entity extraction (SuPreME).

- :mod:`~cardiofm.text.lexicon`: :class:`Term`, :class:`Lexicon`, :func:`default_lexicon`.
- :mod:`~cardiofm.text.entities`: :func:`extract_entities`, the extractor registry, and
  (from :mod:`~cardiofm.text.dedup`) :func:`deduplicate` and :func:`extraction_scores`.
- :mod:`~cardiofm.text.encoders`: frozen text encoders (:func:`create_text_encoder`: ``"minilm"``, ``"hf"``,
  ``"hashing"``), :class:`CachedTextEncoder` and SuPreME's :class:`TextProjection`; imported on first
  use, so that ``import cardiofm.text`` stays free of torch.
"""

from typing import Any

from cardiofm.text.entities import (
    Entity,
    EntityExtractor,
    Extraction,
    RuleExtractor,
    available_extractors,
    create_extractor,
    deduplicate,
    extract_entities,
    extraction_scores,
    global_status,
    register_extractor,
)
from cardiofm.text.lexicon import Lexicon, Term, default_lexicon

_ENCODER_NAMES = (
    "CachedTextEncoder", "HashingTextEncoder", "TextEncoder", "TextProjection", "available_text_encoders",
    "create_text_encoder", "register_text_encoder",
)

__all__ = [
    "Entity", "EntityExtractor", "Extraction", "Lexicon", "RuleExtractor", "Term", "available_extractors",
    "create_extractor", "deduplicate", "default_lexicon", "extract_entities", "extraction_scores",
    "global_status", "register_extractor", *_ENCODER_NAMES,
]


def __getattr__(name: str) -> Any:
    if name in _ENCODER_NAMES:
        from cardiofm.text import encoders

        return getattr(encoders, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
