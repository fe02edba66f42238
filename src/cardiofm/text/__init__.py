"""Report text: a standard ECG vocabulary and report -> clinical entity extraction (SuPreME).

- :mod:`~cardiofm.text.lexicon`: :class:`Term`, :class:`Lexicon`, :func:`default_lexicon`.
- :mod:`~cardiofm.text.entities`: :func:`extract_entities`, the extractor registry, and
  (from :mod:`~cardiofm.text.dedup`) :func:`deduplicate` and :func:`extraction_scores`.
"""

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

__all__ = [
    "Entity", "EntityExtractor", "Extraction", "Lexicon", "RuleExtractor", "Term", "available_extractors",
    "create_extractor", "deduplicate", "default_lexicon", "extract_entities", "extraction_scores",
    "global_status", "register_extractor",
]
