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


def test_mention_labels_keep_each_wording_apart():
    from cardiofm.text.labels import mention_key, mention_labels

    reports = ["Sinusrhythmus", "sinus rhythm", "sinusrhythmus  normales EKG", "kein Vorhofflimmern", None]
    raw = mention_labels(reports)
    assert raw.task == "entities_raw" and "raw:sinusrhythmus" in raw.codes and "raw:sinus rhythm" in raw.codes
    assert raw.descriptions[raw.codes.index("raw:sinus rhythm")] == "sinus rhythm"
    assert raw.matrix[:, raw.codes.index("raw:sinusrhythmus")].tolist() == [1, 0, 1, 0, 0]
    assert not any("vorhofflimmern" in c for c in raw.codes)  # negated wordings are not positives
    lexical = entity_labels(reports)  # the deduplicated task: both wordings are one entity
    sr = [c for c in lexical.codes if lexical.matrix[0, lexical.codes.index(c)]]
    assert len(sr) == 1 and lexical.matrix[:, lexical.codes.index(sr[0])].tolist() == [1, 1, 1, 0, 0]
    assert mention_key("  Sinus   Rhythm ") == "raw:sinus rhythm"


def test_unmapped_names_are_deduplicated_onto_the_lexicon_when_an_embedding_is_given():
    from cardiofm.text.entities import Extraction

    lex = default_lexicon()
    target = lex.get("AFIB")

    def embed(texts):  # a toy embedding: the AFIB term and the odd name share a direction, all else is orthogonal
        return np.array([[1.0, 0.0] if t in (target.name, "atrial fib., irregular") else [0.0, 1.0] for t in texts])

    exs = [Extraction([], "Uncertain", unmapped=["atrial fib., irregular"]), None]
    kept = entity_labels(["x", None], extractions=exs, embed=embed)
    assert kept.codes == ["AFIB"] and kept.matrix[:, 0].tolist() == [1, 0]
    assert entity_labels(["x", None], extractions=exs).codes == []  # without an embedding: dropped
    with pytest.raises(ConfigError, match="extractions"):
        entity_labels(["x"], extractions=exs)


def test_report_tasks_builds_both_tasks_and_skips_empty_ones():
    from cardiofm.text.labels import report_tasks

    reports = ["vorhofflimmern", "atrial fibrillation", "vorhofflimmern"] * 2
    tasks = report_tasks(reports, min_count=2)
    assert set(tasks) == {"entities", "entities_raw"} and tasks["entities"].codes == ["AFIB"]
    assert tasks["entities_raw"].codes == ["raw:atrial fibrillation", "raw:vorhofflimmern"]
    assert report_tasks(["nothing to see"], min_count=1) == {}
    with pytest.raises(ConfigError, match="rule extractor"):
        report_tasks(reports, extractor="llm")


def test_excluded_codes_are_held_out_of_both_tasks():
    from cardiofm.text.labels import report_tasks

    reports = ["vorhofflimmern linkstyp", "atrial fibrillation", "linkstyp"] * 2
    tasks = report_tasks(reports, min_count=1, exclude=["AFIB"])
    assert "AFIB" not in tasks["entities"].codes and tasks["entities"].codes
    assert not any("fib" in c or "flimmern" in c for c in tasks["entities_raw"].codes)
    assert tasks["entities"].labelled().tolist() == [True, False, True] * 2  # AF-only reports: no label left
    with pytest.raises(ConfigError, match="list of lexicon codes"):
        report_tasks(reports, exclude="AFIB")
