"""ECG report -> standardized clinical entities (SuPreME, section 3.1), by rules or by a user's LLM.

:func:`extract_entities` finds every finding of a :class:`~cardiofm.text.lexicon.Lexicon` in a
German or English report, with its status (``present``, ``negated``, ``uncertain``) and the
report's global status (``Normal``, ``Abnormal``, ``Uncertain``); see :mod:`cardiofm.text.rules`
for the rules. Extractors are registered by name: ``create_extractor("rules")`` (the default) or
``create_extractor("llm", llm=my_function)`` with a user-supplied prompt -> text function.
:func:`deduplicate` (SuPreME's entity deduplication) and :func:`extraction_scores` are re-exported
here from :mod:`cardiofm.text.dedup`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cardiofm.errors import ConfigError, LabelError
from cardiofm.registry import Registry
from cardiofm.text.dedup import deduplicate, extraction_scores
from cardiofm.text.lexicon import Lexicon, default_lexicon
from cardiofm.text.rules import find_entities

__all__ = [
    "STATUSES", "GLOBAL_STATUSES", "Entity", "Extraction", "EntityExtractor", "RuleExtractor", "extract_entities",
    "global_status", "register_extractor", "create_extractor", "available_extractors", "deduplicate",
    "extraction_scores",
]

PRESENT, NEGATED, UNCERTAIN = "present", "negated", "uncertain"
STATUSES = (PRESENT, NEGATED, UNCERTAIN)
NORMAL, ABNORMAL, UNCERTAIN_GLOBAL = "Normal", "Abnormal", "Uncertain"
GLOBAL_STATUSES = (NORMAL, ABNORMAL, UNCERTAIN_GLOBAL)
_RANK = {PRESENT: 0, UNCERTAIN: 1, NEGATED: 2}


@dataclass(frozen=True)
class Entity:
    """One finding of a report.

    Attributes:
        code: lexicon code ("AFIB").
        status: "present", "negated" or "uncertain".
        span: ``(start, end)`` character offsets in the report; ``(-1, -1)`` when not located.
        text: the report's words for it.
    """

    code: str
    status: str
    span: tuple[int, int]
    text: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise LabelError(f"entity {self.code!r}: status must be one of {STATUSES}, got {self.status!r}")


@dataclass
class Extraction:
    """The entities of one report and its global status.

    Attributes:
        entities: every mention, in text order (a code may appear more than once).
        global_status: "Normal", "Abnormal" or "Uncertain" (see :func:`global_status`).
        unmapped: names an extractor found but could not map to a lexicon code (LLM extractor).
    """

    entities: list[Entity]
    global_status: str
    unmapped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.global_status not in GLOBAL_STATUSES:
            raise LabelError(f"global status must be one of {GLOBAL_STATUSES}, got {self.global_status!r}")

    def statuses(self) -> dict[str, str]:
        """Code -> status, one per code (a code stated present anywhere is present, then uncertain, then negated)."""
        out: dict[str, str] = {}
        for e in self.entities:
            if e.code not in out or _RANK[e.status] < _RANK[out[e.code]]:
                out[e.code] = e.status
        return out

    def codes(self, status: str = PRESENT) -> set[str]:
        """Codes whose merged status (:meth:`statuses`) is ``status``."""
        if status not in STATUSES:
            raise LabelError(f"status must be one of {STATUSES}, got {status!r}")
        return {c for c, s in self.statuses().items() if s == status}

    def present_codes(self) -> set[str]:
        """Codes stated present."""
        return self.codes(PRESENT)

    def negated_codes(self) -> set[str]:
        """Codes only ever stated absent."""
        return self.codes(NEGATED)

    def uncertain_codes(self) -> set[str]:
        """Codes stated as possible but never as present."""
        return self.codes(UNCERTAIN)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"global_status": self.global_status, "unmapped": list(self.unmapped),
                "entities": [{"code": e.code, "status": e.status, "span": list(e.span), "text": e.text}
                             for e in self.entities]}


def global_status(entities: list[Entity], lexicon: Lexicon | None = None) -> str:
    """SuPreME's report-level status.

    ``Abnormal`` if any abnormal finding is present; else ``Uncertain`` if an abnormal finding is
    hedged; else ``Normal`` if any finding is present (normal ones such as NORM or sinus rhythm,
    or neutral ones such as sinus bradycardia or an axis type); ``Uncertain`` when nothing is
    present at all. Negated findings never count.
    """
    lex = lexicon or default_lexicon()
    if any(e.status == PRESENT and lex.is_abnormal(e.code) for e in entities):
        return ABNORMAL
    if any(e.status == UNCERTAIN and lex.is_abnormal(e.code) for e in entities):
        return UNCERTAIN_GLOBAL
    if any(e.status == PRESENT for e in entities):
        return NORMAL
    return UNCERTAIN_GLOBAL


def extract_entities(report: str, lexicon: Lexicon | None = None, *, typo_tolerance: bool = True) -> Extraction:
    """Rule-based entities of one free-text ECG report (German or English).

    Args:
        report: the report text, in any case, with umlauts or their ae/oe/ue spellings, statements
            separated by punctuation or run together as in PTB-XL.
        lexicon: the vocabulary; default :func:`~cardiofm.text.lexicon.default_lexicon`.
        typo_tolerance: correct misspelt words (1 edit from 6 letters, 2 from 10).

    Returns:
        An :class:`Extraction` with one :class:`Entity` per mention and the global status.
    """
    if not isinstance(report, str):
        raise ConfigError(f"extract_entities: report must be a string, got {type(report).__name__}")
    lex = lexicon or default_lexicon()
    entities = [Entity(code, status, (start, end), report[start:end])
                for code, status, start, end in find_entities(report, lex, typo_tolerance)]
    return Extraction(entities, global_status(entities, lex))


class EntityExtractor(Protocol):
    """Anything that turns a report into an :class:`Extraction`."""

    def __call__(self, report: str) -> Extraction: ...


EXTRACTORS: Registry[Callable[..., EntityExtractor]] = Registry("entity extractor")


def register_extractor(name: str) -> Callable[[Callable[..., EntityExtractor]], Callable[..., EntityExtractor]]:
    """Decorator: make a factory (class or function returning an :class:`EntityExtractor`) available by name."""
    return EXTRACTORS.register(name)


def _load_builtin() -> None:
    import cardiofm.text.llm  # noqa: F401  (registers "llm")


def available_extractors() -> list[str]:
    """Names of the registered extractors."""
    _load_builtin()
    return EXTRACTORS.names()


def create_extractor(name: str = "rules", **kw: Any) -> EntityExtractor:
    """Build a registered extractor: ``"rules"`` (default) or ``"llm"`` (needs ``llm=callable``)."""
    _load_builtin()
    factory = EXTRACTORS.get(name)
    try:
        return factory(**kw)
    except TypeError as exc:
        raise ConfigError(f"entity extractor {name!r}: {exc}") from None


@register_extractor("rules")
@dataclass
class RuleExtractor:
    """:func:`extract_entities` as an :class:`EntityExtractor`."""

    lexicon: Lexicon | None = None
    typo_tolerance: bool = True

    def __call__(self, report: str) -> Extraction:
        return extract_entities(report, self.lexicon, typo_tolerance=self.typo_tolerance)
