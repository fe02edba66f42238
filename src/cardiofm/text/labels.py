"""Entity labels from report text: the supervision SuPreME pretrains on, and the queries that go with it.

:func:`entity_labels` runs an extractor over every report and keeps the entities stated as present
(optionally the uncertain ones too) as a multi-hot :class:`~cardiofm.data.cohort.LabelSet`; its codes
are lexicon codes, so :func:`query_texts` gives each column's clinical description, the text the
fusion network's query for that column is embedded from.

Deduplication. SuPreME's LLM writes free entity names, which its section 4.1 groups and maps to
standard terms by embedding similarity (:func:`~cardiofm.text.dedup.deduplicate`). The rule extractor
matches each mention against the lexicon's synonyms, so its mentions arrive mapped; names an extractor
could not map (``Extraction.unmapped``, from the LLM extractor) are mapped by :func:`deduplicate` when
``entity_labels`` gets an ``embed`` function. :func:`mention_labels` is the "without deduplication"
ablation: one label per distinct wording ("sinusrhythmus", "sinus rhythm", "SR" are three labels), each
queried by its own words. :func:`report_tasks` makes both from one extraction pass.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from cardiofm.data.cohort import Cohort, LabelSet
from cardiofm.data.labellers import LABELLERS
from cardiofm.errors import ConfigError
from cardiofm.text.dedup import deduplicate
from cardiofm.text.entities import PRESENT, UNCERTAIN, EntityExtractor, Extraction, create_extractor
from cardiofm.text.lexicon import Lexicon, default_lexicon


def _text(report: Any) -> str | None:
    if report is None or (isinstance(report, float) and math.isnan(report)):
        return None
    if not isinstance(report, str):
        raise ConfigError(f"reports must be strings (or None/NaN for a missing report), got {report!r}")
    return report if report.strip() else None


def _extract(reports: Sequence[Any], extractor: EntityExtractor | None, lexicon: Lexicon) -> list[Extraction | None]:
    extractor = extractor or create_extractor("rules", lexicon=lexicon)
    out: list[Extraction | None] = []
    for report in reports:
        text = _text(report)
        out.append(None if text is None else extractor(text))
    return out


def _multi_hot(found: list[set[str]], min_count: int, task: str, describe: Any) -> LabelSet:
    if min_count < 1:
        raise ConfigError(f"min_count must be at least 1, got {min_count}")
    counts = Counter(c for codes in found for c in codes)
    vocab = sorted(c for c, n in counts.items() if n >= min_count)
    col = {c: j for j, c in enumerate(vocab)}
    matrix = np.zeros((len(found), len(vocab)), dtype=np.uint8)
    for i, codes in enumerate(found):
        for c in codes:
            if c in col:
                matrix[i, col[c]] = 1
    return LabelSet(task, vocab, [describe(c) for c in vocab], matrix, complete=False)


def entity_labels(reports: Sequence[Any], *, extractor: EntityExtractor | None = None,
                  lexicon: Lexicon | None = None, min_count: int = 1, include_uncertain: bool = False,
                  task: str = "entities", embed: Any = None, group_threshold: float = 0.8,
                  map_threshold: float = 0.75, extractions: Sequence[Extraction | None] | None = None,
                  exclude: Sequence[str] = ()) -> LabelSet:
    """A multi-hot LabelSet of the entities each report states, one column per code seen ``min_count`` times.

    Rows whose report is missing, or states no entity, have no label and do not count for the task
    (``LabelSet.labelled()`` is False there). ``include_uncertain`` also counts hedged findings
    ("V.a.", "possible") as positives; negated findings are never positives. Columns are ordered by
    code, so the same reports always give the same matrix. With ``embed`` (texts -> vectors), names the
    extractor left unmapped are deduplicated onto the lexicon (thresholds ``group_threshold`` and
    ``map_threshold``, as :func:`~cardiofm.text.dedup.deduplicate`) and count as present; without it
    they are dropped. ``extractions`` reuses an earlier pass of the extractor over the same reports.
    ``exclude`` leaves codes out of the vocabulary (held out, e.g. to test zero-shot on them).
    """
    lexicon = lexicon or default_lexicon()
    exs = list(extractions) if extractions is not None else _extract(reports, extractor, lexicon)
    if len(exs) != len(reports):
        raise ConfigError(f"entity_labels: {len(exs)} extractions for {len(reports)} reports")
    mapped: dict[str, str | None] = {}
    if embed is not None:
        names = [n for ex in exs if ex is not None for n in ex.unmapped]
        mapped = deduplicate(names, lexicon, embed, group_threshold=group_threshold, map_threshold=map_threshold)
    found: list[set[str]] = []
    for ex in exs:
        if ex is None:
            found.append(set())
            continue
        codes = set(ex.present_codes())
        if include_uncertain:
            codes |= set(ex.uncertain_codes())
        codes |= {c for n in ex.unmapped if (c := mapped.get(n)) is not None}
        found.append(codes - set(exclude))
    return _multi_hot(found, min_count, task, lambda c: lexicon.get(c).name if c in lexicon else c)


RAW_PREFIX = "raw:"


def mention_key(text: str) -> str:
    """The label of one wording in :func:`mention_labels`: lower case, single spaces, ``raw:`` prefix."""
    return RAW_PREFIX + " ".join(text.lower().split())


def mention_labels(reports: Sequence[Any], *, extractor: EntityExtractor | None = None,
                   lexicon: Lexicon | None = None, min_count: int = 1, include_uncertain: bool = False,
                   task: str = "entities_raw", extractions: Sequence[Extraction | None] | None = None,
                   exclude: Sequence[str] = ()) -> LabelSet:
    """SuPreME's "without deduplication" ablation: one label per distinct wording of a present finding.

    Codes are :func:`mention_key` of the report's own words (``raw:sinusrhythmus``), descriptions the
    words themselves, so each label's query is its wording rather than a standard definition. Status
    handling (negation, hedging) is as :func:`entity_labels`; ``exclude`` drops the wordings of those codes.
    """
    lexicon = lexicon or default_lexicon()
    exs = list(extractions) if extractions is not None else _extract(reports, extractor, lexicon)
    wanted = {PRESENT, UNCERTAIN} if include_uncertain else {PRESENT}
    held = set(exclude)
    found = [set() if ex is None else {mention_key(e.text) for e in ex.entities
                                       if e.status in wanted and e.text and e.code not in held} for ex in exs]
    return _multi_hot(found, min_count, task, lambda c: c[len(RAW_PREFIX):])


def report_tasks(reports: Sequence[Any], *, min_count: int = 5, include_uncertain: bool = False,
                 extractor: str = "rules", exclude: Sequence[str] = ()) -> dict[str, LabelSet]:
    """The report-derived tasks of a cohort: ``entities`` (lexicon entities) and ``entities_raw`` (wordings).

    Tasks with no column (no report states a finding ``min_count`` times) are left out. ``exclude``
    holds lexicon codes out of both (a condition kept unseen for zero-shot evaluation).
    """
    if isinstance(exclude, str) or not all(isinstance(c, str) for c in exclude):
        raise ConfigError(f"entities exclude: give a list of lexicon codes, got {exclude!r}")
    if extractor != "rules":
        raise ConfigError("cohort entity tasks use the rule extractor; build other extractors' labels with "
                          "cardiofm.text.labels.entity_labels(reports, extractor=...)")
    lexicon = default_lexicon()
    exs = _extract(reports, None, lexicon)
    sets = [entity_labels(reports, lexicon=lexicon, min_count=min_count, include_uncertain=include_uncertain,
                          extractions=exs, exclude=exclude),
            mention_labels(reports, lexicon=lexicon, min_count=min_count, include_uncertain=include_uncertain,
                           extractions=exs, exclude=exclude)]
    return {ls.task: ls for ls in sets if ls.codes}


@LABELLERS.register("entities")
def entity_labeller(cohort: Cohort, **options: Any) -> dict[str, LabelSet]:
    """The ``entities`` label step: :func:`report_tasks` over the cohort's ``report`` column.

    Options: ``min_count``, ``include_uncertain``, ``exclude`` (codes held out, e.g. for zero-shot)."""
    if "report" not in cohort.index:
        raise ConfigError(f"label step entities: the {cohort.source} cohort has no free-text reports (no "
                          "'report' column)")
    allowed = {"min_count", "include_uncertain", "exclude"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ConfigError(f"label step entities: unknown option(s) {', '.join(unknown)}; known: "
                          f"{', '.join(sorted(allowed))}")
    return report_tasks(cohort.index["report"].tolist(), **options)


def query_texts(codes: Sequence[str], lexicon: Lexicon | None = None) -> list[str]:
    """The clinical description of each code (the zero-shot / fusion query text), in the given order."""
    lexicon = lexicon or default_lexicon()
    unknown = [c for c in codes if c not in lexicon]
    if unknown:
        raise ConfigError(f"no lexicon term for code(s) {', '.join(unknown[:10])}; give their descriptions directly")
    return list(lexicon.descriptions(list(codes)))
