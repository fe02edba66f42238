"""Entity extraction by a large language model the user supplies (SuPreME used Llama 3.1 70B).

cardiofm never calls a model service itself: ``create_extractor("llm", llm=fn)`` takes any
function ``fn(prompt: str) -> str`` (a local model, a client the user configured). The prompt
gives the standard terms as domain knowledge, one worked example and the report, and asks for
JSON; the reply's names are mapped to lexicon codes (exact code, then name/synonym lookup, then
the rule extractor run on the name), unmappable names are kept in ``Extraction.unmapped``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cardiofm.errors import CardiofmError, ConfigError
from cardiofm.text.entities import (
    GLOBAL_STATUSES,
    NEGATED,
    PRESENT,
    UNCERTAIN,
    Entity,
    Extraction,
    extract_entities,
    global_status,
    register_extractor,
)
from cardiofm.text.lexicon import Lexicon, default_lexicon

_STATUS_WORDS = {PRESENT: PRESENT, "positive": PRESENT, "yes": PRESENT, "true": PRESENT,
                 NEGATED: NEGATED, "negative": NEGATED, "absent": NEGATED, "no": NEGATED, "excluded": NEGATED,
                 UNCERTAIN: UNCERTAIN, "possible": UNCERTAIN, "probable": UNCERTAIN, "suspected": UNCERTAIN,
                 "hedged": UNCERTAIN}
_EXAMPLE_REPORT = "Sinusrhythmus, kein Vorhofflimmern, V.a. alten Hinterwandinfarkt."
_EXAMPLE_REPLY = ('{"entities": [{"name": "sinus rhythm", "status": "present"}, '
                  '{"name": "atrial fibrillation", "status": "negated"}, '
                  '{"name": "inferior myocardial infarction", "status": "uncertain"}], "global_status": "Uncertain"}')


class LLMReplyError(CardiofmError):
    """The language model's reply is not the JSON the prompt asked for."""


def build_prompt(report: str, lexicon: Lexicon, *, with_terms: bool = True) -> str:
    """The extraction prompt for one report (standard terms, instructions, one example, the report)."""
    parts = ["You are a cardiologist extracting clinical entities from an ECG report (German or English).",
             "For every finding the report mentions give its standard English name and its status: "
             "'present', 'negated' (stated absent) or 'uncertain' (possible, suspected, cannot be excluded).",
             "Then give the report's global status: 'Normal' (only normal findings), 'Abnormal' (any abnormal "
             "finding present) or 'Uncertain' (abnormal findings only hedged)."]
    if with_terms:
        parts.append("Standard terms (use these names where they fit):\n"
                     + "\n".join(f"- {t.name}" for t in lexicon))
    parts += ['Answer with JSON only: {"entities": [{"name": ..., "status": ...}], "global_status": ...}',
              f"Example report: {_EXAMPLE_REPORT}\nExample answer: {_EXAMPLE_REPLY}",
              f"Report: {report}\nAnswer:"]
    return "\n\n".join(parts)


def _json(reply: str) -> Any:
    text = re.sub(r"^```(?:json)?|```$", "", reply.strip(), flags=re.MULTILINE).strip()
    start = min([i for i in (text.find("{"), text.find("[")) if i >= 0], default=-1)
    end = max(text.rfind("}"), text.rfind("]"))
    if start < 0 or end < start:
        raise LLMReplyError(f"LLM reply holds no JSON: {reply[:200]!r}")
    try:
        return json.loads(text[start:end + 1])
    except json.JSONDecodeError as exc:
        raise LLMReplyError(f"LLM reply is not valid JSON ({exc}): {reply[:200]!r}") from None


def _codes(name: str, lexicon: Lexicon) -> list[str]:
    found = lexicon.lookup(name)
    if found:
        return found[:1]
    return list(dict.fromkeys(e.code for e in extract_entities(name, lexicon).entities if e.status == PRESENT))


def parse_reply(reply: str, report: str, lexicon: Lexicon | None = None) -> Extraction:
    """Turn a model's JSON reply into an :class:`Extraction` (names mapped through ``lexicon``)."""
    lex = lexicon or default_lexicon()
    data = _json(reply)
    items = data.get("entities", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise LLMReplyError(f"LLM reply: 'entities' must be a list, got {type(items).__name__}")
    entities: list[Entity] = []
    unmapped: list[str] = []
    low = report.lower()
    for item in items:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise LLMReplyError(f"LLM reply: entity {item!r} is neither an object nor a string")
        name = str(item.get("name") or item.get("entity") or item.get("term") or "").strip()
        if not name:
            continue
        status = _STATUS_WORDS.get(str(item.get("status", PRESENT)).strip().lower(), PRESENT)
        codes = _codes(name, lex)
        if not codes:
            unmapped.append(name)
            continue
        at = low.find(name.lower())
        span = (at, at + len(name)) if at >= 0 else (-1, -1)
        text = report[span[0]:span[1]] if at >= 0 else name
        entities += [Entity(c, status, span, text) for c in codes]
    reported = data.get("global_status") if isinstance(data, dict) else None
    status = str(reported).strip().capitalize() if reported else ""
    if status not in GLOBAL_STATUSES:
        status = global_status(entities, lex)
    return Extraction(entities, status, unmapped)


@dataclass
class LLMExtractor:
    """Extraction by a user-supplied ``llm(prompt) -> reply`` function (never a network call of cardiofm's)."""

    llm: Callable[[str], str]
    lexicon: Lexicon | None = None
    with_terms: bool = True

    def __call__(self, report: str) -> Extraction:
        lex = self.lexicon or default_lexicon()
        reply = self.llm(build_prompt(report, lex, with_terms=self.with_terms))
        if not isinstance(reply, str):
            raise LLMReplyError(f"the llm callable must return text, got {type(reply).__name__}")
        return parse_reply(reply, report, lex)


@register_extractor("llm")
def llm_extractor(llm: Callable[[str], str] | None = None, lexicon: Lexicon | None = None,
                  with_terms: bool = True) -> LLMExtractor:
    """Factory of the ``"llm"`` extractor; ``llm`` is required."""
    if llm is None or not callable(llm):
        raise ConfigError("entity extractor 'llm' needs llm=<callable>: a function prompt -> reply text that runs "
                          "your language model (local or a client you configured); cardiofm opens no network "
                          "connection itself. Use create_extractor('rules') for the offline rule-based extractor.")
    return LLMExtractor(llm, lexicon, with_terms)
