from __future__ import annotations

import ast
import json
import socket
import zlib
from collections.abc import Callable, Sequence
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from cardiofm.errors import ConfigError, LabelError
from cardiofm.synth.conditions import CONDITIONS, sample_cohort_conditions
from cardiofm.synth.reports import write_reports
from cardiofm.text import (
    Entity,
    Extraction,
    Lexicon,
    Term,
    available_extractors,
    create_extractor,
    deduplicate,
    default_lexicon,
    extract_entities,
    extraction_scores,
    global_status,
    register_extractor,
)
from cardiofm.text.entities import EXTRACTORS
from cardiofm.text.llm import LLMReplyError


def found(report: str, **kw: object) -> list[tuple[str, str]]:
    return [(e.code, e.status) for e in extract_entities(report, **kw).entities]  # type: ignore[arg-type]


# --- negation, uncertainty and their scope ---------------------------------------------------

@pytest.mark.parametrize(("report", "code", "status"), [
    ("kein Vorhofflimmern", "AFIB", "negated"),
    ("no evidence of atrial fibrillation", "AFIB", "negated"),
    ("Vorhofflimmern ausgeschlossen", "AFIB", "negated"),
    ("Keine ST-Senkungen", "STD_", "negated"),
    ("V.a. Hinterwandinfarkt", "IMI", "uncertain"),
    ("Verdacht auf Vorderwandinfarkt", "AMI", "uncertain"),
    ("possible LVH", "LVH", "uncertain"),
    ("LVH möglich", "LVH", "uncertain"),
    ("inferior MI cannot be excluded", "IMI", "uncertain"),
    ("Infarkt nicht auszuschließen", "164865005", "uncertain"),  # longest cue beats "nicht"
    ("wahrscheinlich alter HWI", "IMI", "uncertain"),
    ("sinus rhythm. LVH?", "LVH", "uncertain"),
    ("Vorhofflimmern", "AFIB", "present"),
])
def test_status_in_german_and_english(report: str, code: str, status: str) -> None:
    assert (code, status) in found(report)


def test_negation_stops_at_the_next_finding_or_clause() -> None:
    assert found("kein VHF, LVH") == [("AFIB", "negated"), ("LVH", "present")]
    assert found("kein vhf lvh") == [("AFIB", "negated"), ("LVH", "present")]  # PTB-XL style, no punctuation
    assert found("kein VHF oder Vorhofflattern") == [("AFIB", "negated"), ("AFLT", "negated")]
    assert found("no LVH or RVH") == [("LVH", "negated"), ("RVH", "negated")]
    assert found("no acute changes otherwise normal ECG") == [("NORM", "present")]
    assert found("Sinusrhythmus. Kein Hinweis auf Infarkt. LVH.") == [
        ("SR", "present"), ("164865005", "negated"), ("LVH", "present")]
    # the comma ends the clause: "wahrscheinlich alt" does not hedge the infarct before it
    assert found("inferiorer Infarkt, wahrscheinlich alt") == [("IMI", "present")]


def test_umlaut_spellings_and_case_match_alike() -> None:
    for text in ("linksventrikuläre Hypertrophie", "linksventrikulaere Hypertrophie",
                 "LINKSVENTRIKULÄRE HYPERTROPHIE", "linksventrikulÄre hypertrophie"):
        assert found(text) == [("LVH", "present")], text
    assert found("keine QT-VerlÄngerung") == [("LNGQT", "negated")]


def test_typo_tolerance_is_bounded_by_word_length() -> None:
    assert found("vorhofflimmen") == [("AFIB", "present")]
    assert found("vorhofflimmen", typo_tolerance=False) == []
    assert found("vorhofflmmen") == [("AFIB", "present")]  # 2 edits allowed from 10 letters
    assert found("left bundel branch block") == [("CLBBB", "present")]
    assert found("Linkstp") == [("LAD", "present")]  # 1 edit at 7 letters
    assert found("Lnkstp") == []  # 2 edits at 6 letters: too many
    assert found("sinus rhytm") == []  # words under 6 letters are never corrected


def test_ptbxl_run_together_statements() -> None:
    ex = extract_entities("sinusrhythmus linkstyp t-abnormität in inferioren ableitungen")
    assert [(e.code, e.status, e.text) for e in ex.entities] == [
        ("SR", "present", "sinusrhythmus"), ("LAD", "present", "linkstyp"), ("TAB_", "present", "t-abnormität")]
    assert found("sinusrhythmus linkstyp qrs(t) abnormal    inferiorer infarkt     alter unbest.") == [
        ("SR", "present"), ("LAD", "present"), ("ABQRS", "present"), ("IMI", "present")]


def test_longest_match_wins() -> None:
    assert found("old inferior MI") == [("IMI", "present")]
    assert found("MI") == [("164865005", "present")]
    assert found("incomplete right bundle branch block") == [("IRBBB", "present")]
    assert found("AV-Block II°") == [("2AVB", "present")]
    assert found("überdrehter Linkstyp") == [("ALAD", "present")]


def test_spans_point_into_the_original_text() -> None:
    report = "Sinusrhythmus, QT-Verlängerung"
    ex = extract_entities(report)
    for e in ex.entities:
        assert report[e.span[0]:e.span[1]] == e.text
    assert ex.entities[1].text == "QT-Verlängerung"


def test_ambiguous_abbreviations_need_their_case() -> None:
    assert found("Sinusrhythmus, LAD") == [("SR", "present"), ("LAD", "present")]
    assert found("the lad") == []


# --- global status and the result objects ---------------------------------------------------

@pytest.mark.parametrize(("report", "status"), [
    ("Sinusrhythmus, normales EKG", "Normal"),
    ("Sinusbradykardie, sonst normales EKG", "Normal"),
    ("Sinusrhythmus, kein Vorhofflimmern", "Normal"),
    ("Sinusrhythmus, LVH", "Abnormal"),
    ("Sinusrhythmus, V.a. LVH", "Uncertain"),
    ("V.a. LVH, Linksschenkelblock", "Abnormal"),
    ("kein Vorhofflimmern", "Uncertain"),
    ("", "Uncertain"),
])
def test_global_status(report: str, status: str) -> None:
    assert extract_entities(report).global_status == status


def test_extraction_helpers_and_validation() -> None:
    ex = extract_entities("LVH? LVH. kein VHF. V.a. HWI")
    assert ex.statuses() == {"LVH": "present", "AFIB": "negated", "IMI": "uncertain"}
    assert ex.present_codes() == {"LVH"} and ex.negated_codes() == {"AFIB"} and ex.uncertain_codes() == {"IMI"}
    assert json.loads(json.dumps(ex.to_dict()))["global_status"] == "Abnormal"
    with pytest.raises(LabelError):
        ex.codes("maybe")
    with pytest.raises(LabelError):
        Entity("LVH", "maybe", (0, 3), "LVH")
    with pytest.raises(LabelError):
        Extraction([], "Fine")
    with pytest.raises(ConfigError):
        extract_entities(None)  # type: ignore[arg-type]
    assert global_status([Entity("NORM", "present", (0, 1), "x"), Entity("LVH", "negated", (2, 3), "y")]) == "Normal"


# --- extractor registry and the LLM extractor -------------------------------------------------

def test_registry() -> None:
    assert {"rules", "llm"} <= set(available_extractors())
    ex = create_extractor()
    assert ex("kein VHF").negated_codes() == {"AFIB"}
    assert create_extractor("rules", typo_tolerance=False)("vorhofflimmen").entities == []
    with pytest.raises(ConfigError, match="unknown entity extractor"):
        create_extractor("nope")
    with pytest.raises(ConfigError, match="rules"):
        create_extractor("rules", bogus=1)

    @register_extractor("test-upper")
    def _factory() -> object:
        return lambda report: extract_entities(report.upper())

    try:
        assert create_extractor("test-upper")("lvh").present_codes() == {"LVH"}  # type: ignore[operator]
        with pytest.raises(ConfigError, match="twice"):
            register_extractor("test-upper")(lambda: None)  # type: ignore[arg-type,return-value]
    finally:
        EXTRACTORS.remove("test-upper")


def test_llm_extractor_needs_a_callable() -> None:
    with pytest.raises(ConfigError, match="llm="):
        create_extractor("llm")
    with pytest.raises(ConfigError, match="llm="):
        create_extractor("llm", llm="http://localhost:8000")


def test_llm_extractor_parses_a_fake_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kw: object) -> None:
        raise AssertionError("the llm extractor opened a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    prompts: list[str] = []
    reply = {"entities": [{"name": "sinus rhythm", "status": "present"},
                          {"name": "Vorhofflimmern", "status": "absent"},
                          {"name": "old inferior MI", "status": "possible"},
                          {"name": "unicorn wave", "status": "present"}],
             "global_status": "uncertain"}

    def fake_llm(prompt: str) -> str:
        prompts.append(prompt)
        return "Here you go:\n```json\n" + json.dumps(reply) + "\n```"

    report = "Sinusrhythmus, kein Vorhofflimmern, V.a. alten HWI"
    ex = create_extractor("llm", llm=fake_llm)(report)
    assert "JSON" in prompts[0] and report in prompts[0] and "atrial fibrillation" in prompts[0]
    assert ex.statuses() == {"SR": "present", "AFIB": "negated", "IMI": "uncertain"}
    assert ex.unmapped == ["unicorn wave"] and ex.global_status == "Uncertain"
    afib = next(e for e in ex.entities if e.code == "AFIB")
    assert report[afib.span[0]:afib.span[1]] == "Vorhofflimmern"
    sr = next(e for e in ex.entities if e.code == "SR")
    assert sr.span == (-1, -1)  # "sinus rhythm" is not written in the report

    ex = create_extractor("llm", llm=lambda p: '[{"name": "LVH"}]')("LVH")
    assert ex.present_codes() == {"LVH"} and ex.global_status == "Abnormal"  # computed when not given
    with pytest.raises(LLMReplyError, match="no JSON"):
        create_extractor("llm", llm=lambda p: "sorry, I cannot help")("LVH")
    with pytest.raises(LLMReplyError, match="text"):
        create_extractor("llm", llm=lambda p: 42)("LVH")  # type: ignore[arg-type,return-value]


# --- deduplication -----------------------------------------------------------------------------

def trigram_embed(texts: Sequence[str], dim: int = 512) -> np.ndarray:
    """A deterministic stand-in for a text encoder: hashed character trigrams."""
    out = np.zeros((len(texts), dim))
    for i, t in enumerate(texts):
        s = f" {t.lower()} "
        for j in range(len(s) - 2):
            out[i, zlib.crc32(s[j:j + 3].encode()) % dim] += 1
    return out


def test_deduplicate_groups_and_maps_with_a_fake_embedding() -> None:
    vocab = default_lexicon().select(["AFIB", "CLBBB", "LVH", "SR"])
    names = ["atrial fibrillation", "atrial fibrilation", "Atrial Fibrillation", "left bundle branch block",
             "quantum flux", "atrial fibrillation"]
    assert deduplicate(names, vocab, trigram_embed) == {
        "atrial fibrillation": "AFIB", "atrial fibrilation": "AFIB", "Atrial Fibrillation": "AFIB",
        "left bundle branch block": "CLBBB", "quantum flux": None}
    assert deduplicate([], vocab, trigram_embed) == {}


def _fixed_embed(table: dict[str, list[float]]) -> Callable[[Sequence[str]], np.ndarray]:
    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.array([table[t] for t in texts], dtype=float)

    return embed


def test_deduplicate_threshold_edges() -> None:
    # two vocabulary terms along e0 and e2; names placed at exact cosines
    vocab = Lexicon([Term("A", "term a", "desc a"), Term("B", "term b", "desc b")])
    table = {"term a": [1, 0, 0], "desc a": [1, 0, 0], "term b": [0, 0, 1], "desc b": [0, 0, 1],
             "n1": [1, 0, 0], "n2": [0.8, 0.6, 0], "n3": [0.75, 0, np.sqrt(1 - 0.75 ** 2)],
             "n4": [0.74, np.sqrt(1 - 0.74 ** 2), 0]}
    embed = _fixed_embed(table)
    # cos(n1, n2) = 0.8: grouped at the default threshold, apart just above it
    assert deduplicate(["n1", "n2"], vocab, embed) == {"n1": "A", "n2": "A"}
    apart = deduplicate(["n1", "n2"], vocab, embed, group_threshold=0.81, map_threshold=0.81)
    assert apart == {"n1": "A", "n2": None}  # n2 alone: similarity 0.8 to term a < 0.81
    # n3 alone: cosine 0.75 to term a (mapped, the edge counts), n4 alone: 0.74 (a new term)
    assert deduplicate(["n3"], vocab, embed) == {"n3": "A"}
    assert deduplicate(["n4"], vocab, embed) == {"n4": None}
    # a group maps by its average similarity: n1 (1.0) + n2 (0.8) -> 0.9 >= 0.85
    assert deduplicate(["n1", "n2"], vocab, embed, map_threshold=0.85) == {"n1": "A", "n2": "A"}
    assert deduplicate(["n1", "n2"], vocab, embed, map_threshold=0.91) == {"n1": None, "n2": None}
    with pytest.raises(ConfigError, match="shape"):
        deduplicate(["n1"], vocab, lambda t: np.zeros(3))
    with pytest.raises(ConfigError, match="group_threshold"):
        deduplicate(["n1"], vocab, embed, group_threshold=1.5)


# --- scores --------------------------------------------------------------------------------------

def test_extraction_scores_against_hand_counts() -> None:
    s = extraction_scores([{"A", "B"}, {"C"}, set()], [{"A"}, {"C", "D"}, {"E"}])
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 2)
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(0.5)
    assert s["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert s["per_code"]["B"] == {"tp": 0, "fp": 1, "fn": 0, "support": 0, "precision": 0.0, "recall": 1.0,
                                  "f1": 0.0}
    assert s["per_code"]["C"]["tp"] == 1 and s["per_code"]["D"]["support"] == 1
    assert s["exact_match"] == 0.0 and s["n_reports"] == 3
    empty = extraction_scores([set()], [set()])
    assert empty["precision"] == empty["recall"] == empty["exact_match"] == 1.0
    with pytest.raises(ConfigError, match="2 predicted"):
        extraction_scores([set(), set()], [set()])


# --- measurement on synthetic and PTB-XL reports ------------------------------------------------

def test_measured_f1_on_synthetic_reports(record_property: pytest.RecordProperty) -> None:
    rng = np.random.default_rng(0)
    n = 200
    conditions = sample_cohort_conditions(rng.normal(size=n), rng.uniform(30, 85, n), rng.choice(["M", "F"], n), rng)
    reports = write_reports(conditions, rng)
    vocab = set(CONDITIONS)
    extractions = [extract_entities(r.text) for r in reports]
    predicted = [e.present_codes() & vocab for e in extractions]
    truth = [{c for c, s in r.entities if s == "present"} for r in reports]
    scores = extraction_scores(predicted, truth)
    record_property("synthetic_present_f1", scores["f1"])
    print(f"synthetic reports: precision {scores['precision']:.3f} recall {scores['recall']:.3f} "
          f"F1 {scores['f1']:.3f}")
    assert scores["f1"] >= 0.6
    # findings a report states absent are (nearly) never extracted as present
    negated = [(i, c) for i, r in enumerate(reports) for c, s in r.entities if s == "negated"]
    assert negated
    wrong = sum(c in extractions[i].present_codes() for i, c in negated)
    assert wrong <= 0.1 * len(negated)


def test_runs_on_the_ptbxl_sample_reports(record_property: pytest.RecordProperty) -> None:
    path = files("cardiofm").joinpath("resources", "ptbxl_sample", "ptbxl_database.csv")
    with path.open(encoding="utf-8") as fh:
        db = pd.read_csv(fh)
    scp = set(default_lexicon().codes(source="ptbxl-scp"))
    predicted = [extract_entities(str(r)).present_codes() & scp for r in db["report"]]
    truth = [set(ast.literal_eval(s)) for s in db["scp_codes"]]
    scores = extraction_scores(predicted, truth)
    record_property("ptbxl_sample_precision", scores["precision"])
    record_property("ptbxl_sample_recall", scores["recall"])
    print(f"PTB-XL sample ({len(db)} reports): precision {scores['precision']:.3f} recall {scores['recall']:.3f}")
    assert scores["n_reports"] == len(db) > 0
    assert 0.0 <= scores["precision"] <= 1.0 and 0.0 <= scores["recall"] <= 1.0
