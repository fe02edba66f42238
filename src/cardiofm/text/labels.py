"""Entity labels from report text: the supervision SuPreME pretrains on, and the queries that go with it.

:func:`entity_labels` runs an extractor over every report and keeps the entities stated as present
(optionally the uncertain ones too) as a multi-hot :class:`~cardiofm.data.cohort.LabelSet`; its codes
are lexicon codes, so :func:`query_texts` gives each column's clinical description, the text the
fusion network's query for that column is embedded from.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from cardiofm.data.cohort import LabelSet
from cardiofm.errors import ConfigError
from cardiofm.text.entities import EntityExtractor, create_extractor
from cardiofm.text.lexicon import Lexicon, default_lexicon


def _text(report: Any) -> str | None:
    if report is None or (isinstance(report, float) and math.isnan(report)):
        return None
    if not isinstance(report, str):
        raise ConfigError(f"reports must be strings (or None/NaN for a missing report), got {report!r}")
    return report if report.strip() else None


def entity_labels(reports: Sequence[Any], *, extractor: EntityExtractor | None = None,
                  lexicon: Lexicon | None = None, min_count: int = 1, include_uncertain: bool = False,
                  task: str = "entities") -> LabelSet:
    """A multi-hot LabelSet of the entities each report states, one column per code seen ``min_count`` times.

    Rows whose report is missing, or states no entity, have no label and do not count for the task
    (``LabelSet.labelled()`` is False there). ``include_uncertain`` also counts hedged findings
    ("V.a.", "possible") as positives; negated findings are never positives. Columns are ordered by
    code, so the same reports always give the same matrix.
    """
    if min_count < 1:
        raise ConfigError(f"min_count must be at least 1, got {min_count}")
    lexicon = lexicon or default_lexicon()
    extractor = extractor or create_extractor("rules", lexicon=lexicon)
    found: list[set[str]] = []
    for report in reports:
        text = _text(report)
        if text is None:
            found.append(set())
            continue
        ex = extractor(text)
        codes = set(ex.present_codes())
        if include_uncertain:
            codes |= set(ex.uncertain_codes())
        found.append(codes)
    counts = Counter(c for codes in found for c in codes)
    vocab = sorted(c for c, n in counts.items() if n >= min_count)
    col = {c: j for j, c in enumerate(vocab)}
    matrix = np.zeros((len(found), len(vocab)), dtype=np.uint8)
    for i, codes in enumerate(found):
        for c in codes:
            if c in col:
                matrix[i, col[c]] = 1
    names = [lexicon.get(c).name if c in lexicon else c for c in vocab]
    return LabelSet(task, vocab, names, matrix, complete=False)


def query_texts(codes: Sequence[str], lexicon: Lexicon | None = None) -> list[str]:
    """The clinical description of each code (the zero-shot / fusion query text), in the given order."""
    lexicon = lexicon or default_lexicon()
    unknown = [c for c in codes if c not in lexicon]
    if unknown:
        raise ConfigError(f"no lexicon term for code(s) {', '.join(unknown[:10])}; give their descriptions directly")
    return list(lexicon.descriptions(list(codes)))
