"""Entity labels from reports: columns, rows without labels, uncertain findings, query texts."""

from __future__ import annotations

import numpy as np
import pytest

from cardiofm.errors import ConfigError
from cardiofm.text import default_lexicon, extract_entities
from cardiofm.text.labels import entity_labels, query_texts

REPORTS = ["sinusrhythmus kein vorhofflimmern", "vorhofflimmern", "V.a. Hinterwandinfarkt", None, float("nan"),
           "", "atrial fibrillation and left ventricular hypertrophy"]


def test_present_entities_become_columns_and_missing_reports_have_no_label():
    ls = entity_labels(REPORTS)
    assert ls.codes == sorted(ls.codes) and "AFIB" in ls.codes and "IMI" not in ls.codes  # uncertain: not a positive
    y = dict(zip(ls.codes, ls.matrix.T, strict=True))
    assert list(y["AFIB"]) == [0, 1, 0, 0, 0, 0, 1]  # "kein vorhofflimmern" is negated
    assert ls.labelled().tolist() == [True, True, False, False, False, False, True]
    for i, report in enumerate(REPORTS):  # each row is exactly the extractor's present codes
        want = set(extract_entities(report).present_codes()) if isinstance(report, str) and report else set()
        assert {c for c, v in zip(ls.codes, ls.matrix[i], strict=True) if v} == want


def test_uncertain_and_min_count():
    ls = entity_labels(REPORTS, include_uncertain=True)
    assert ls.matrix[2, ls.codes.index("IMI")] == 1
    rare = entity_labels(REPORTS, min_count=2)
    assert rare.codes == ["AFIB"] and rare.matrix[:, 0].tolist() == [0, 1, 0, 0, 0, 0, 1]
    with pytest.raises(ConfigError, match="min_count"):
        entity_labels(REPORTS, min_count=0)
    with pytest.raises(ConfigError, match="strings"):
        entity_labels([3])


def test_query_texts_follow_the_codes():
    lex = default_lexicon()
    ls = entity_labels(REPORTS)
    texts = query_texts(ls.codes)
    assert len(texts) == len(ls.codes) and texts[ls.codes.index("AFIB")] == lex.get("AFIB").description
    assert all(isinstance(t, str) and len(t) > 10 for t in texts)
    with pytest.raises(ConfigError, match="NOPE"):
        query_texts(["AFIB", "NOPE"])
    assert np.array_equal(entity_labels(REPORTS).matrix, ls.matrix)
