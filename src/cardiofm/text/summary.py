"""Similar-patient reports for SE-Diff's text condition, written offline by default.

SE-Diff retrieves the patients most similar to a query (tri-view Jaccard, :mod:`cardiofm.clinical.retrieval`)
and embeds a short report of what they share next to the ECG description. Here :class:`Neighbour` holds one
retrieved patient and :data:`PHYSIOLOGY` maps ICD-10, ATC (substances or class prefixes, longest prefix wins),
procedure and ECG statement codes to a clause on what each means for the ECG. :class:`TemplateSummariser`, the
default, is deterministic: codes are ranked by the similarity summed over the neighbours that have them (ties:
count, then code); conditions (findings and diagnoses) come first, then medications, then procedures, codes of
a single neighbour among three or more after all shared ones. The text always has ``min_words`` to
``max_words`` words (``str.split``): generic physiology pads it, whole trailing sentences are dropped and a lone
overlong sentence is cut. :class:`LLMSummariser` asks a callable the user supplies and falls back to the
template with a warning; cardiofm ships no LLM and this module opens no connection. :func:`create_summariser`
picks one by name; :func:`neighbours_from_table` builds neighbours from cohort rows.
"""

from __future__ import annotations

import math
import re
import statistics
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from cardiofm.clinical.codes import ATC, ICD10, PROCEDURES
from cardiofm.clinical.retrieval import parse_codes
from cardiofm.errors import ConfigError
from cardiofm.registry import Registry
from cardiofm.text.entities import PRESENT, extract_entities
from cardiofm.text.lexicon import default_lexicon

VIEWS = ("findings", "diagnoses", "medications", "procedures")

_LBBB = "QRS of 120 ms or more with broad notched R waves in I, aVL, V5 and V6"
_RBBB = "QRS of 120 ms or more with rsR' in V1 and a broad S wave in I and V6"
_ECG = {
    "NORM": "normal rate, intervals, axis, QRS complexes and ST-T segments",
    "SR": "a regular rhythm at 60 to 100 beats per minute with a P wave before every QRS",
    "AFIB": "irregularly irregular ventricular rhythm without organised P waves",
    "AFLT": "regular sawtooth flutter waves with fixed or variable AV conduction",
    "SBRAD": "sinus rhythm below 60 beats per minute", "STACH": "sinus rhythm above 100 beats per minute",
    "SARRH": "RR intervals varying with breathing while P waves stay normal", "1AVB": "PR interval above 200 ms",
    "LBBB": _LBBB, "CLBBB": _LBBB, "RBBB": _RBBB, "CRBBB": _RBBB,
    "ILBBB": "slightly widened QRS with loss of the septal q waves", "IRBBB": "rSR' in V1 with a QRS of 100 to 120 ms",
    "LAFB": "left axis deviation with qR in I and aVL and rS in II, III and aVF",
    "LPFB": "right axis deviation with rS in I and qR in the inferior leads",
    "LVH": "tall QRS voltages with possible strain-type ST-T changes",
    "RVH": "a dominant R wave in V1 with right axis deviation",
    "IMI": "pathological Q waves and ST-T changes in II, III and aVF",
    "ASMI": "Q or QS complexes with lost R waves in V1 to V3",
    "AMI": "pathological Q waves and poor R-wave progression in V2 to V4",
    "LMI": "pathological Q waves and ST-T changes in I, aVL, V5 and V6",
    "PVC": "early wide QRS complexes without a preceding P wave",
    "PAC": "early beats with an abnormal P wave and a narrow QRS",
    "NDT": "minor non-specific flattening of the T waves", "NST_": "slight ST deviation without a specific pattern",
    "ISC_": "horizontal or downsloping ST depression with T-wave inversion",
    "ISCAL": "ischaemic ST depression or T inversion in V3 to V6, I and aVL",
    "ISCIN": "ischaemic ST depression or T inversion in II, III and aVF",
    "STD_": "ST segments below the baseline without a specific pattern", "INVT": "negative T waves",
    "LNGQT": "heart-rate-corrected QT interval above about 450 ms", "QWAVE": "pathological Q waves",
    "WPW": "short PR interval, a delta wave and a widened QRS", "PACE": "pacing spikes before wide paced QRS complexes",
    "LVOLT": "low QRS amplitudes in the limb or chest leads",
}
_ECG_NAMES = {"LBBB": "left bundle branch block", "RBBB": "right bundle branch block",
              "ISC_": "ischaemic ST-T changes", "LNGQT": "a long QT interval"}
_AF, _LIPID, _SMOKE = ("irregularly irregular ventricular rhythm without organised P waves",
                       "no direct ECG sign but a higher risk of ischaemic changes",
                       "a faster resting rate and a higher coronary risk")
_ICD = {
    "I10": "over time higher left ventricular voltages and a broader P wave",
    "I11.9": "tall QRS voltages with possible strain-type ST-T changes",
    "E11.9": "a higher resting rate and silent ischaemic ST-T changes", "E78.0": _LIPID, "E78.5": _LIPID,
    "E66.9": "lower QRS voltages and a leftward shift of the axis", "F17.2": _SMOKE, "Z72.0": _SMOKE,
    "I20.9": "ST depression or T inversion during ischaemia, often a normal resting ECG",
    "I25": "Q waves or ST-T changes in the territory of diseased coronary arteries",
    "I25.1": "Q waves or ST-T changes in the territory of narrowed coronary arteries",
    "I25.2": "pathological Q waves in the infarct territory", "I25.9": "chronic ischaemic ST-T abnormalities",
    "I48": _AF, "I48.1": _AF, "I48.2": _AF,
    "I48.0": "intermittently irregular rhythm without organised P waves, sinus rhythm in between",
    "I44.0": "PR interval above 200 ms", "I44.4": "left axis deviation with qR in I and aVL and rS inferiorly",
    "I44.7": "QRS of 120 ms or more with broad notched R waves in the lateral leads",
    "I45.1": "rsR' in V1 with a broad S wave in the lateral leads", "I45.8": "prolonged heart-rate-corrected QT",
    "I49.1": "early beats with abnormal P waves, narrow QRS", "I49.3": "early wide QRS complexes without a P wave",
    "I51.7": "high QRS voltages and possible axis deviation", "R00.0": "heart rate above 100 beats per minute",
    "R00.1": "heart rate below 60 beats per minute", "Z95.0": "pacing spikes before wide paced QRS complexes",
    "Z95.1": "residual Q waves and non-specific ST-T changes after bypass surgery",
    "Z95.5": "possible residual Q waves or T-wave changes in the stented territory",
}
_ANTICOAG = "anticoagulation, usually for atrial fibrillation, without a direct ECG effect"
_ATC = {  # ATC class prefixes; the longest matching prefix wins
    "C07": "slower sinus rate and longer PR interval", "C08D": "slower rate and longer PR interval",
    "C01AA": "scooped ST depression and a slower ventricular rate", "C01BD": "slower sinus rate and longer QT",
    "C08CA": "lower blood pressure, occasionally a mild reflex rise in heart rate",
    "C09": "lower blood pressure, which may regress left ventricular voltages",
    "C03": "possible low potassium with flat T waves, U waves and a longer QT",
    "C10": "lipid lowering without a direct ECG effect", "B01AF": _ANTICOAG, "B01AA": _ANTICOAG,
    "B01AC": "antiplatelet therapy for coronary disease without a direct ECG effect",
    "A10": "diabetes treatment; hypoglycaemia can raise the rate and prolong QT",
    "N07BA": "nicotine replacement with a possibly faster heart rate",
}
_PROC = {
    "ECHO": "structural assessment, often of voltage or conduction findings",
    "HOLTER": "monitoring for intermittent arrhythmia or ectopic beats",
    "ABPM": "hypertension work-up, related to left ventricular voltage",
    "EXECG": "testing for exercise-induced ST depression", "PM": "pacing spikes before wide paced QRS complexes",
    "CCTA": "imaging for coronary disease behind ischaemic ST-T changes",
    "CAG": "coronary stenosis related to ischaemic ST-T changes and Q waves",
    "PCI": "a stented artery whose territory may keep Q waves or T-wave changes",
    "CABG": "bypass surgery, after which Q waves and ST-T changes are common",
    "DCCV": "cardioversion of an atrial arrhythmia, which often recurs",
}
_ICD_NAMES = {"I25": "chronic ischaemic heart disease", "I48": "atrial fibrillation and flutter"}


def _atc_class(code: str) -> str | None:
    return next((_ATC[code[:n]] for n in range(len(code), 0, -1) if code[:n] in _ATC), None)


_TABLES = {"findings": _ECG, "diagnoses": _ICD, "procedures": _PROC,
           "medications": {**_ATC, **{c: k for c in ATC if (k := _atc_class(c)) is not None}}}
PHYSIOLOGY: dict[str, str] = {k: v for table in _TABLES.values() for k, v in table.items()}
_VIEW_PREFIX = re.compile(r"^(?:dx|rx|px|ecg|scp|icd(?:10)?|atc|diagnoses|medications|procedures|findings):", re.I)


def bare_code(code: str) -> str:
    """``"dx:I48.0"`` -> ``"I48.0"``: a view prefix (dx, rx, px, ecg, icd, atc, ...) and blanks removed."""
    return _VIEW_PREFIX.sub("", code.strip()).strip()


def physiology(code: str, view: str | None = None) -> str | None:
    """The ECG clause of ``code``: exact, else the ICD-10 parent, else the longest ATC prefix; None if unknown."""
    if view is not None and view not in VIEWS:
        raise ConfigError(f"physiology: view must be one of {VIEWS} or None, got {view!r}")
    code = bare_code(code)
    for name in [view] if view else VIEWS:
        if code in _TABLES[name]:
            return _TABLES[name][code]
    parent = code if view in (None, "diagnoses") else ""
    while "." in parent:
        parent = parent[:-1].rstrip(".")
        if parent in _ICD:
            return _ICD[parent]
    return _atc_class(code) if view == "medications" or (view is None and "." not in code) else None


def describe(code: str, view: str | None = None) -> tuple[str, str | None]:
    """(Readable name, ECG clause or None); names come from the outcomes tables or the lexicon, else ``"code X"``."""
    code, lex = bare_code(code), default_lexicon()
    clause = physiology(code, view)
    name = ICD10.get(code) or ATC.get(code) or PROCEDURES.get(code) or _ICD_NAMES.get(code) or _ECG_NAMES.get(code)
    if name is None and view in (None, "findings") and code in lex:
        term = lex.get(code)
        name = term.name
        if clause is None and ": " in term.description:  # "Name: physiology." -> the physiology
            clause = term.description.split(": ", 1)[1].rstrip(".")
    return name or f"code {code}", clause


def _codes(value: object, what: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable) or not all(isinstance(c, str) for c in value):
        raise ConfigError(f"Neighbour.{what}: need a set of code strings (e.g. parse_codes('I48;I10')), got {value!r}")
    return frozenset(b for c in value if (b := bare_code(c)))


def _number(value: object, what: str) -> float | None:
    try:
        x = None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"Neighbour.{what} must be a number, got {value!r}") from None
    return None if x is None or math.isnan(x) else x


@dataclass(frozen=True)
class Neighbour:
    """One retrieved similar patient: similarity to the query (>= 0), code sets per view, age and sex."""

    similarity: float
    diagnoses: frozenset[str] = frozenset()
    medications: frozenset[str] = frozenset()
    procedures: frozenset[str] = frozenset()
    findings: frozenset[str] = frozenset()
    age: float | None = None
    sex: str | None = None

    def __post_init__(self) -> None:
        sim, age = _number(self.similarity, "similarity"), _number(self.age, "age")
        if sim is None or not math.isfinite(sim) or sim < 0:
            raise ConfigError(f"Neighbour.similarity must be finite and >= 0, got {self.similarity!r}")
        if age is not None and not 0 <= age < 150:
            raise ConfigError(f"Neighbour.age must lie in [0, 150) years, got {self.age!r}")
        if self.sex is not None and not isinstance(self.sex, str):
            raise ConfigError(f"Neighbour.sex must be a string or None, got {self.sex!r}")
        for key, value in (("similarity", sim), ("age", age), *((v, _codes(getattr(self, v), v)) for v in VIEWS)):
            object.__setattr__(self, key, value)


@runtime_checkable
class Summariser(Protocol):
    """Turns the retrieved neighbours (and optionally the query's ECG text) into a short report."""

    def summarise(self, neighbours: Sequence[Neighbour], query: str | None = None) -> str: ...


def _check(neighbours: Sequence[Neighbour], query: str | None, min_words: object, max_words: object,
           who: str) -> list[Neighbour]:
    for name, v in (("min_words", min_words), ("max_words", max_words)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{who}: {name} must be a positive integer, got {v!r}")
    if max_words < min_words:  # type: ignore[operator]
        raise ConfigError(f"{who}: max_words ({max_words}) must be >= min_words ({min_words})")
    ok = not isinstance(neighbours, str | bytes) and isinstance(neighbours, Iterable)
    nbs = list(neighbours) if ok else []
    if not ok or not all(isinstance(n, Neighbour) for n in nbs):
        raise ConfigError(f"{who}: neighbours must be a sequence of Neighbour, got {neighbours!r:.80}")
    if query is not None and not isinstance(query, str):
        raise ConfigError(f"{who}: query must be a string or None, got {type(query).__name__}")
    return nbs


def _ranked(neighbours: Sequence[Neighbour], views: Sequence[str]) -> list[tuple[str, str, int]]:
    """(view, code, count), by similarity summed over the neighbours with the code, then count, then code."""
    stats: dict[tuple[str, str], list[float]] = {}
    for nb in neighbours:
        for key in ((view, code) for view in views for code in getattr(nb, view)):
            s = stats.setdefault(key, [0.0, 0])
            s[0], s[1] = s[0] + nb.similarity, s[1] + 1
    order = sorted(stats.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0][1], kv[0][0]))
    return [(view, code, int(s[1])) for (view, code), s in order]


def _demographics(neighbours: Sequence[Neighbour]) -> str | None:
    ages = [nb.age for nb in neighbours if nb.age is not None]
    sexes = [s for nb in neighbours if (s := {"m": "male", "f": "female"}.get((nb.sex or " ").strip()[:1].lower()))]
    if len(neighbours) == 1:
        if ages and sexes:
            return f"The patient was a {ages[0]:.0f}-year-old {'man' if sexes[0] == 'male' else 'woman'}."
        return f"The patient was {f'{ages[0]:.0f} years old' if ages else sexes[0]}." if ages or sexes else None
    of = f"{len(sexes)}" if len(sexes) == len(neighbours) else f"the {len(sexes)} with recorded sex"
    sex = f"{sexes.count('male')} of {of} were male" if sexes else ""
    if ages:
        return f"Their median age was {statistics.median(ages):.0f} years" + (f" and {sex}." if sex else ".")
    return f"Of them, {sex}." if sex else None


def _query_sentence(query: str) -> str:
    codes = list(dict.fromkeys(e.code for e in extract_entities(query).entities if e.status == PRESENT))[:3]
    if not codes:
        return "The query text names no ECG statement the lexicon recognises, so it adds no specific expectation."
    items = [f"{name} ({clause})" if clause else name for name, clause in (describe(c, "findings") for c in codes)]
    return f"The query text describes {items[0] if len(items) == 1 else ', '.join(items[:-1]) + ' and ' + items[-1]}."


_GENERIC = (
    "A normal adult ECG shows sinus rhythm at 60 to 100 beats per minute, a PR interval of 120 to 200 ms, "
    "a QRS narrower than 120 ms and upright T waves in most leads.",
    "Conduction disease widens the QRS or lengthens the PR interval, while rate-slowing drugs lengthen RR and PR.",
    "Ischaemia and old infarction appear as Q waves, ST deviation or T-wave inversion in the leads facing the "
    "affected territory.",
    "Hypertension and hypertrophy raise QRS voltages over the left ventricle and may add strain-type ST-T changes.",
)


def _fit(core: Sequence[str], pad: Sequence[str], lo: int, hi: int) -> str:
    """Core sentences up to the first that would pass ``hi``, padded to ``lo``, cut at ``hi`` words."""
    out: list[str] = []
    total = 0
    for s in core:
        if out and total + len(s.split()) > hi:
            break
        out, total = [*out, s], total + len(s.split())
    unused = list(pad)
    while total < lo:  # unused padding first, preferring a sentence that still fits
        cands = unused or list(pad)
        s = next((c for c in cands if total + len(c.split()) <= hi), cands[0])
        unused = [u for u in unused if u != s]
        out, total = [*out, s], total + len(s.split())
    words = " ".join(out).split()[:hi]
    if total > hi and not words[-1].endswith((".", "!", "?")):
        words[-1] = (words[-1].rstrip(",;:(") or words[-1]) + "."
    return " ".join(words)


@dataclass(frozen=True)
class TemplateSummariser:
    """Deterministic report (module docstring). ``top``: most codes named per group (conditions, medications,
    procedures); codes held by only one of three or more neighbours follow all the shared ones."""

    min_words: int = 60
    max_words: int = 120
    top: int = 6

    def __post_init__(self) -> None:
        _check((), None, self.min_words, self.max_words, "TemplateSummariser")
        if isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 1:
            raise ConfigError(f"TemplateSummariser: top must be a positive integer, got {self.top!r}")

    def summarise(self, neighbours: Sequence[Neighbour], query: str | None = None) -> str:
        nbs = _check(neighbours, query, self.min_words, self.max_words, "TemplateSummariser")
        pad = [_query_sentence(query)] if query and query.strip() else []
        if not nbs:
            core = ["No similar patients were found in the reference cohort, so this summary rests on general "
                    "ECG physiology.", *pad]
            return _fit(core, _GENERIC, self.min_words, self.max_words)
        pad.append("Together these shared conditions set the expected rhythm, heart rate, conduction intervals, "
                   "QRS morphology and ST-T segments of the ECG.")
        return _fit(self._sentences(nbs), [*pad, *_GENERIC], self.min_words, self.max_words)

    def _sentences(self, nbs: list[Neighbour]) -> list[str]:
        n, used = len(nbs), set()

        def item(view: str, code: str) -> str:  # a physiology clause is given once
            name, clause = describe(code, view)
            if clause is None or clause in used:
                return name
            used.add(clause)
            return f"{name} ({clause})"

        conds = _ranked(nbs, ("findings", "diagnoses"))[: self.top]
        sim = sum(nb.similarity for nb in nbs) / n
        if n == 1:
            first = f"The single most similar patient (code similarity {sim:.2f}) had " + (
                f"{item(*conds[0][:2])}." if conds else "no recorded diagnosis or ECG finding.")
        else:
            first = f"Among the {n} most similar patients (mean code similarity {sim:.2f}), " + (
                f"{conds[0][2]} of {n} had {item(*conds[0][:2])}." if conds else "none had a recorded diagnosis "
                "or ECG finding.")
        out = [first, *filter(None, [_demographics(nbs)])]
        groups = ((conds[1:], "also had" if n == 1 else "had"),
                  (_ranked(nbs, ("medications",))[: self.top], "took"),
                  (_ranked(nbs, ("procedures",))[: self.top], "had undergone"))
        for shared in (True, False):  # codes of one neighbour among three or more come after all shared ones
            out += [f"{'The patient' if n == 1 else f'{k} of {n}'} {verb} {item(v, c)}." for ranked, verb in groups
                    for v, c, k in ranked if (k >= 2 or n <= 2) == shared]
        return out


def build_prompt(neighbours: Sequence[Neighbour], query: str | None = None, *, min_words: int = 60,
                 max_words: int = 120) -> str:
    """The LLM prompt: the query, each neighbour's codes with their descriptions, and the task."""
    nbs = _check(neighbours, query, min_words, max_words, "build_prompt")
    lines = ["You summarise the health records of patients similar to the one whose ECG will be generated."]
    if query and query.strip():
        lines.append(f"ECG description of the query patient: {query.strip()}")
    lines.append("Similar patients (most similar first):" if nbs else "Similar patients: none were found.")
    for i, nb in enumerate(nbs, 1):
        age, sex = f", age {nb.age:.0f}" if nb.age is not None else "", f", sex {nb.sex}" if nb.sex else ""
        lines.append(f"{i}. similarity {nb.similarity:.2f}{age}{sex}")
        for view, label in (("findings", "ECG findings"), ("diagnoses", "diagnoses (ICD-10)"),
                            ("medications", "medications (ATC)"), ("procedures", "procedures")):
            listed = "; ".join(f"{c} ({describe(c, view)[0]})" for c in sorted(getattr(nb, view)))
            lines.append(f"   {label}: {listed or 'none'}")
    lines.append(f"Write one paragraph of {min_words} to {max_words} words on what these patients share and what "
                 "it implies physiologically for the ECG: rhythm and rate, PR, QRS and QT intervals, QRS morphology "
                 "and voltage, ST segments and T waves. Say how many patients share each finding. Use only the "
                 "information above, invent nothing, and reply with the paragraph only.")
    return "\n".join(lines)


class LLMSummariser:
    """Report by a user-supplied ``llm(prompt) -> reply``; falls back, with a warning, when the call raises or
    the stripped reply is not a string of ``min_words`` to ``max_words`` words."""

    def __init__(self, llm: Callable[[str], str], fallback: Summariser | None = None, min_words: int = 60,
                 max_words: int = 120) -> None:
        if not callable(llm):
            raise ConfigError(f"LLMSummariser: llm must be a callable prompt -> reply, got {type(llm).__name__}")
        _check((), None, min_words, max_words, "LLMSummariser")
        if fallback is not None and not isinstance(fallback, Summariser):
            raise ConfigError(f"LLMSummariser: fallback must have a summarise method, got {type(fallback).__name__}")
        self.llm, self.min_words, self.max_words = llm, min_words, max_words
        self.fallback: Summariser = fallback or TemplateSummariser(min_words=min_words, max_words=max_words)

    def build_prompt(self, neighbours: Sequence[Neighbour], query: str | None = None) -> str:
        return build_prompt(neighbours, query, min_words=self.min_words, max_words=self.max_words)

    def summarise(self, neighbours: Sequence[Neighbour], query: str | None = None) -> str:
        prompt = self.build_prompt(neighbours, query)
        try:
            reply = self.llm(prompt)
        except Exception as exc:  # any failure of the user's callable falls back
            problem = f"the llm call raised {type(exc).__name__}: {exc}"
        else:
            n = len(reply.split()) if isinstance(reply, str) else -1
            if self.min_words <= n <= self.max_words:
                return reply.strip()
            problem = (f"the reply has {n} words, outside [{self.min_words}, {self.max_words}]" if n >= 0
                       else f"the llm returned {type(reply).__name__}, not a string")
        warnings.warn(f"LLMSummariser: {problem}; using {type(self.fallback).__name__} instead", stacklevel=2)
        return self.fallback.summarise(neighbours, query)


SUMMARISERS: Registry[Callable[..., Summariser]] = Registry("summariser")
SUMMARISERS.register("template")(TemplateSummariser)


@SUMMARISERS.register("llm")
def _llm_summariser(llm: Callable[[str], str] | None = None, **kw: Any) -> LLMSummariser:
    if llm is None:
        raise ConfigError("summariser 'llm' needs llm=<callable prompt -> reply>: cardiofm runs offline and ships no "
                          "language model, so supply your own (e.g. a wrapper of a local model) or use 'template'")
    return LLMSummariser(llm, **kw)


def create_summariser(name: str = "template", **kw: Any) -> Summariser:
    """A summariser by registry name (``"template"``, ``"llm"``) with its keyword arguments."""
    factory = SUMMARISERS.get(name)
    try:
        return factory(**kw)
    except TypeError as exc:
        raise ConfigError(f"summariser {name!r}: bad arguments {sorted(kw)}: {exc}") from exc


def neighbours_from_table(table: pd.DataFrame, indices: Sequence[int], similarities: Sequence[float], *,
                          diagnoses: str = "ehr_diagnoses", medications: str = "ehr_medications",
                          procedures: str = "ehr_procedures",
                          findings: Sequence[Sequence[str]] | None = None) -> list[Neighbour]:
    """Neighbours from the rows at positions ``indices`` (``;``-joined code columns, a missing one gives empty
    sets; ``age``/``sex`` used when present); ``findings``: each neighbour's ECG statement codes."""
    if not isinstance(table, pd.DataFrame):
        raise ConfigError(f"neighbours_from_table: table must be a pandas DataFrame, got {type(table).__name__}")
    idx, sims = list(indices), list(similarities)
    if len(idx) != len(sims) or (findings is not None and len(findings) != len(idx)):
        raise ConfigError(f"neighbours_from_table: {len(idx)} indices, {len(sims)} similarities and "
                          f"{'no' if findings is None else len(findings)} finding lists do not match")
    if bad := [i for i in idx if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < len(table)]:
        raise ConfigError(f"neighbours_from_table: row positions must be integers in [0, {len(table)}), got {bad}")
    cols = {"diagnoses": diagnoses, "medications": medications, "procedures": procedures}
    out = []
    for j, (i, sim) in enumerate(zip(idx, sims, strict=True)):
        row = table.iloc[int(i)]
        codes = {v: parse_codes(row[c]) if c in table.columns else frozenset() for v, c in cols.items()}
        f = () if findings is None else findings[j]
        sex = row["sex"] if "sex" in table.columns and pd.notna(row["sex"]) else None
        out.append(Neighbour(sim, **codes, findings=parse_codes(f) if isinstance(f, str) else frozenset(f),
                             age=row["age"] if "age" in table.columns else None, sex=None if sex is None else str(sex)))
    return out
