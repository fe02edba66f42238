"""SE-Diff's tri-view Jaccard retrieval on hand-made patients."""

from __future__ import annotations

import numpy as np
import pytest

from cardiofm.clinical.retrieval import jaccard_matrix, parse_codes, top_k_similar, tri_view_similarity
from cardiofm.errors import ConfigError

S = frozenset


def test_jaccard_by_hand_and_empty_pairs():
    sets = [S({"I48", "I10"}), S({"I48"}), S(), S({"E11"})]
    m = jaccard_matrix(sets)
    assert m[0, 1] == pytest.approx(0.5) and m[0, 3] == 0.0 and m[1, 1] == 1.0
    assert np.isnan(m[2, 2]) and m[2, 0] == 0.0  # both empty: unknown; one empty: no overlap
    assert parse_codes("I48; I10;;") == S({"I48", "I10"}) and parse_codes(float("nan")) == S()


def test_tri_view_mean_skips_views_empty_for_both():
    views = {"diagnoses": [S({"I48", "I10"}), S({"I48"}), S({"E11"})],
             "medications": [S({"B01AF01"}), S({"B01AF01"}), S()],
             "procedures": [S(), S(), S()]}
    sim = tri_view_similarity(views)
    # 0 vs 1: diagnoses 1/2, medications 1, procedures empty for both -> (0.5 + 1) / 2
    assert sim[0, 1] == pytest.approx(0.75) and sim[1, 0] == pytest.approx(0.75)
    # 0 vs 2: diagnoses 0, medications 0 (one empty), procedures skipped -> 0
    assert sim[0, 2] == 0.0
    weighted = tri_view_similarity(views, weights={"diagnoses": 3.0, "medications": 1.0})
    assert weighted[0, 1] == pytest.approx((3 * 0.5 + 1 * 1.0) / 4)
    q = tri_view_similarity(views, queries={k: v[:1] for k, v in views.items()})
    np.testing.assert_allclose(q, sim[:1])
    with pytest.raises(ConfigError, match="different numbers"):
        tri_view_similarity({"diagnoses": [S()], "medications": [S(), S()]})
    with pytest.raises(ConfigError, match="weights"):
        tri_view_similarity(views, weights={"diagnoses": -1.0})


def test_top_k_excludes_self_and_same_patient_and_breaks_ties_by_order():
    sim = np.array([[1.0, 0.8, 0.8, 0.1],
                    [0.8, 1.0, 0.3, 0.9],
                    [0.8, 0.3, 1.0, 0.0],
                    [0.1, 0.9, 0.0, 1.0]])
    assert top_k_similar(sim, 2) == [[1, 2], [3, 0], [0, 1], [1, 0]]
    assert top_k_similar(sim, 2, patients=["a", "b", "a", "c"])[0] == [1, 3]  # record 2 is the same patient
    assert top_k_similar(sim, 3, min_similarity=0.5) == [[1, 2], [3, 0], [0], [1]]
    with pytest.raises(ConfigError, match="square"):
        top_k_similar(sim[:2], 1)
    with pytest.raises(ConfigError, match="positive integer"):
        top_k_similar(sim, 0)
