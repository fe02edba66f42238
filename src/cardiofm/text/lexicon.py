"""A standard ECG vocabulary: SCP-ECG statements, CinC SNOMED CT names and clinical synonyms.

:func:`default_lexicon` holds PTB-XL's 71 SCP statements (named by the ``description`` column of
the packaged ``scp_statements.csv``), every diagnosis of the PhysioNet/CinC mapping table (merged
into the SCP term where both mean the same, otherwise a term named by its SNOMED CT code), the
heart-axis types and hand-written English and German synonyms and abbreviations. Each term has a
one-sentence description in SuPreME's simplified CKEPE style, usable as a zero-shot text query.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib.resources import files

from cardiofm.errors import LabelError
from cardiofm.text.normalise import joined_key, phrase_tokens, surface, tuple_key
from cardiofm.text.terms_other import (
    CARDIOFM_TERMS,
    CASE_SENSITIVE,
    CINC_MERGE,
    CINC_TERMS,
    NEUTRAL_CODES,
    NORMAL_CODES,
)
from cardiofm.text.terms_scp import SCP_DESCRIPTIONS, SCP_SYNONYMS

KINDS = ("diagnostic", "form", "rhythm", "other")
SCP_SOURCE, CINC_SOURCE, CARDIOFM_SOURCE = "ptbxl-scp", "cinc-snomed", "cardiofm"
_MIN_JOINED = 6  # shorter compound keys ("mi", "sa") match only token by token
_MIN_SUFFIX = 7  # a German compound ending in a known term of this length matches it ("Innenschicht|ischämie")
_NOT_PREFIXES = ("ab", "un", "non", "nicht", "in", "a")


@dataclass(frozen=True)
class Term:
    """One standard term.

    Attributes:
        code: SCP-ECG code where one exists ("AFIB"), else a CinC SNOMED CT code or a cardiofm code.
        name: the standard name ("atrial fibrillation").
        description: one-sentence clinical description (a zero-shot text query).
        synonyms: other names and abbreviations, English and German.
        sources: where the term comes from ("ptbxl-scp", "cinc-snomed:164889003", "cardiofm").
        kind: "diagnostic", "form", "rhythm" or "other".
    """

    code: str
    name: str
    description: str
    synonyms: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    kind: str = "other"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise LabelError(f"term {self.code!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if not self.code or not self.name:
            raise LabelError(f"term {self.code!r}: code and name must be non-empty")
        if not isinstance(self.synonyms, tuple) or not all(isinstance(s, str) for s in self.synonyms):
            raise LabelError(f"term {self.code!r}: synonyms must be a tuple of strings, got {self.synonyms!r}")

    def phrases(self) -> tuple[str, ...]:
        """Name and synonyms."""
        return (self.name, *self.synonyms)


@dataclass
class PhraseIndex:
    """Lookup tables from normalised phrase keys to term codes (built once per :class:`Lexicon`)."""

    by_tokens: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    by_joined: dict[str, set[str]] = field(default_factory=dict)
    case_sensitive: dict[tuple[str, ...], tuple[str, set[str]]] = field(default_factory=dict)
    suffixes: list[tuple[str, str]] = field(default_factory=list)  # (stem, code) of long one-token phrases
    words: set[str] = field(default_factory=set)  # normalised tokens of all phrases
    max_tokens: int = 1


class Lexicon:
    """A vocabulary of :class:`Term` by code, with phrase lookup in English and German.

    Args:
        terms: the terms (codes must be unique).
        case_sensitive: phrases that match only when written in exactly this case.
        normal_codes: codes of normal findings (NORM, sinus rhythm, normal axis).
        neutral_codes: codes that alone make a report neither normal nor abnormal (sinus variants, axis types).
    """

    def __init__(self, terms: Iterable[Term], *, case_sensitive: Iterable[str] = (),
                 normal_codes: Iterable[str] = (), neutral_codes: Iterable[str] = ()) -> None:
        self.terms: dict[str, Term] = {}
        for term in terms:
            if term.code in self.terms:
                raise LabelError(f"lexicon: term code {term.code!r} appears twice")
            self.terms[term.code] = term
        self.case_sensitive = frozenset(case_sensitive)
        self.normal_codes = frozenset(normal_codes)
        self.neutral_codes = frozenset(neutral_codes)

    def __len__(self) -> int:
        return len(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self.terms

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms.values())

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} terms)"

    def get(self, code: str) -> Term:
        """The term of ``code``; :class:`LabelError` when the lexicon has none."""
        try:
            return self.terms[code]
        except KeyError:
            raise LabelError(f"lexicon has no term {code!r} (lookup a phrase with Lexicon.lookup)") from None

    def codes(self, kind: str | None = None, source: str | None = None) -> list[str]:
        """Codes in lexicon order, optionally only one ``kind`` or one source ("ptbxl-scp", "cinc-snomed")."""
        return [c for c, t in self.terms.items() if (kind is None or t.kind == kind)
                and (source is None or any(s.split(":")[0] == source for s in t.sources))]

    def select(self, codes: Iterable[str]) -> Lexicon:
        """A lexicon of only these codes (e.g. a downstream label set), same matching rules."""
        return Lexicon([self.get(c) for c in codes], case_sensitive=self.case_sensitive,
                       normal_codes=self.normal_codes, neutral_codes=self.neutral_codes)

    def descriptions(self, codes: Sequence[str]) -> list[str]:
        """The description of each code, in order (:class:`LabelError` on an unknown code)."""
        return [self.get(c).description for c in codes]

    def names(self, codes: Sequence[str]) -> list[str]:
        """The name of each code, in order."""
        return [self.get(c).name for c in codes]

    def is_normal(self, code: str) -> bool:
        """True for codes of normal findings."""
        return code in self.normal_codes

    def is_abnormal(self, code: str) -> bool:
        """True for codes that make a report abnormal (all but the normal and neutral codes)."""
        return code not in self.normal_codes and code not in self.neutral_codes

    def lookup(self, phrase: str) -> list[str]:
        """Codes whose name or synonym equals ``phrase`` after normalisation (case, umlauts, endings).

        An exact term code ("LAO/LAE") also finds its term; case-sensitive abbreviations match only
        in their own case ("LAD", not "lad").
        """
        if phrase in self.terms:
            return [phrase]
        tokens = phrase_tokens(phrase)
        if not tokens:
            return []
        index = self.index
        key = tuple_key(tokens)
        found: set[str] = set(index.by_tokens.get(key, ()))
        joined = joined_key(tokens)
        if len(joined) >= _MIN_JOINED:
            found |= index.by_joined.get(joined, set())
        cs = index.case_sensitive.get(key)
        if cs is not None and surface(phrase) == cs[0]:
            found |= cs[1]
        return [c for c in self.terms if c in found]

    @cached_property
    def index(self) -> PhraseIndex:
        """Phrase lookup tables (built on first use)."""
        index = PhraseIndex()
        for term in self.terms.values():
            for phrase in term.phrases():
                tokens = phrase_tokens(phrase)
                if not tokens:
                    continue
                index.words.update(tokens)
                index.max_tokens = max(index.max_tokens, len(tokens))
                key = tuple_key(tokens)
                if phrase in self.case_sensitive:
                    index.case_sensitive.setdefault(key, (surface(phrase), set()))[1].add(term.code)
                    continue
                index.by_tokens.setdefault(key, set()).add(term.code)
                joined = joined_key(tokens)
                if len(joined) >= _MIN_JOINED:
                    index.by_joined.setdefault(joined, set()).add(term.code)
                if len(tokens) == 1 and len(key[0]) >= _MIN_SUFFIX:
                    index.suffixes.append((key[0], term.code))
        index.suffixes.sort(key=lambda s: -len(s[0]))
        return index

    def suffix_match(self, token_stem: str) -> set[str]:
        """Codes of the longest known term a German compound ends with ("innenschichtischaemi" -> ISC_)."""
        for key, _ in self.index.suffixes:
            prefix = token_stem[: -len(key)]
            if len(prefix) >= 3 and token_stem.endswith(key) and prefix not in _NOT_PREFIXES:
                return {c for k, c in self.index.suffixes if k == key}
        return set()


def _resource(*parts: str) -> list[dict[str, str]]:
    text = files("cardiofm").joinpath("resources", *parts).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _scp_kind(row: Mapping[str, str]) -> str:
    for kind in ("diagnostic", "form", "rhythm"):
        if row.get(kind, "").strip() in ("1", "1.0"):
            return kind
    return "other"


def _unique(phrases: Iterable[str], name: str) -> tuple[str, ...]:
    seen = {(tuple_key(phrase_tokens(name)), name in CASE_SENSITIVE)}
    out: list[str] = []
    for p in phrases:
        key = (tuple_key(phrase_tokens(p)), p in CASE_SENSITIVE)
        if key[0] and key not in seen:
            seen.add(key)
            out.append(p)
    return tuple(out)


def build_default_terms() -> list[Term]:
    """All terms of :func:`default_lexicon`, freshly built from the packaged tables."""
    scp_rows = _resource("ptbxl_sample", "scp_statements.csv")
    cinc_rows = _resource("cinc_dx_mapping.csv")
    missing = [r[""] for r in scp_rows if r[""] not in SCP_DESCRIPTIONS]
    if missing:
        raise LabelError(f"text/terms_scp.py: no description for SCP statement(s) {missing}")
    extra: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    for row in cinc_rows:
        code = row["snomed_ct"]
        target = CINC_MERGE.get(code)
        if target is not None:
            extra.setdefault(target, []).append(row["name"])
            sources.setdefault(target, []).append(f"{CINC_SOURCE}:{code}")
    terms: list[Term] = []
    for row in scp_rows:
        code = row[""]
        statement = row.get("SCP-ECG Statement Description", "").strip()
        own = [statement] if statement and not statement.startswith("in ") else []
        terms.append(Term(code, row["description"].strip(), SCP_DESCRIPTIONS[code],
                          _unique([*SCP_SYNONYMS.get(code, ()), *own, *extra.get(code, ())], row["description"]),
                          (SCP_SOURCE, *sources.get(code, ())), _scp_kind(row)))
    for row in cinc_rows:
        code = row["snomed_ct"]
        if code in CINC_MERGE:
            continue
        name, description, synonyms, kind = CINC_TERMS.get(code, (row["name"], "", (), "other"))
        description = description or f"{row['name'][:1].upper()}{row['name'][1:]}."
        terms.append(Term(code, name, description, _unique([*synonyms, row["name"], *extra.get(code, ())], name),
                          (f"{CINC_SOURCE}:{code}", *sources.get(code, ())), kind))
    for code, (name, description, synonyms, kind) in CARDIOFM_TERMS.items():
        terms.append(Term(code, name, description, _unique([*synonyms, *extra.get(code, ())], name),
                          (CARDIOFM_SOURCE, *sources.get(code, ())), kind))
    return terms


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The packaged lexicon (cached): 71 SCP statements, CinC SNOMED CT terms, axis types, synonyms."""
    return Lexicon(build_default_terms(), case_sensitive=CASE_SENSITIVE, normal_codes=NORMAL_CODES,
                   neutral_codes=NEUTRAL_CODES)


