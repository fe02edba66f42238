from __future__ import annotations

import csv
import io
from importlib.resources import files

import pytest

from cardiofm.errors import LabelError
from cardiofm.text import Lexicon, Term, default_lexicon
from cardiofm.text.lexicon import KINDS


def _csv(*parts: str) -> list[dict[str, str]]:
    text = files("cardiofm").joinpath("resources", *parts).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


SCP_ROWS = _csv("ptbxl_sample", "scp_statements.csv")
CINC_ROWS = _csv("cinc_dx_mapping.csv")


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return default_lexicon()


def test_every_scp_statement_is_a_term_with_a_description(lex: Lexicon) -> None:
    assert len(SCP_ROWS) == 71
    for row in SCP_ROWS:
        term = lex.get(row[""])
        assert term.name == row["description"].strip()
        assert "ptbxl-scp" in term.sources
        assert term.kind in KINDS and term.kind != "other"
        d = term.description
        # one sentence in CKEPE-simplified style: "<condition>: <ECG features>."
        assert d and ":" in d and d.endswith(".") and ". " not in d, (term.code, d)
        assert 40 <= len(d) <= 200, (term.code, d)
    assert len(lex.codes(source="ptbxl-scp")) == 71
    assert {"AFIB", "SR", "SBRAD"} <= set(lex.codes(kind="rhythm"))
    assert lex.get("LVH").kind == "diagnostic" and lex.get("PVC").kind == "form"


def test_every_term_has_a_description_and_unique_phrases(lex: Lexicon) -> None:
    for term in lex:
        assert term.description.strip(), term.code
    index = lex.index
    assert not {k: v for k, v in index.by_tokens.items() if len(v) > 1}
    assert not {k: v for k, v in index.by_joined.items() if len(v) > 1}


def test_cinc_names_are_merged_or_own_terms(lex: Lexicon) -> None:
    sources = {s for term in lex for s in term.sources}
    for row in CINC_ROWS:
        code = row["snomed_ct"]
        assert code in lex or f"cinc-snomed:{code}" in sources, code
    afib = lex.get("AFIB")
    assert "cinc-snomed:164889003" in afib.sources and "164889003" not in lex
    assert lex.lookup("atrial fibrillation") == ["AFIB"]
    # LBBB and complete LBBB are one class in the CinC 2021 metric and one SCP statement
    assert lex.lookup("left bundle branch block") == lex.lookup("complete left bundle branch block") == ["CLBBB"]
    assert "Brugada" in lex.get("418818005").name


@pytest.mark.parametrize(("phrase", "code"), [
    ("sinusrhythmus", "SR"), ("sinus rhythm", "SR"), ("SR", "SR"),
    ("vorhofflimmern", "AFIB"), ("VHF", "AFIB"), ("afib", "AFIB"), ("atrial fibrillation", "AFIB"),
    ("linkstyp", "LAD"), ("left axis deviation", "LAD"),
    ("st-senkung", "STD_"), ("ST depression", "STD_"),
    ("linksschenkelblock", "CLBBB"), ("LBBB", "CLBBB"), ("CLBBB", "CLBBB"),
    ("AV-Block I°", "1AVB"), ("first degree AV block", "1AVB"),
    ("Q-Zacke", "QWAVE"), ("pathologische Q", "QWAVE"),
    ("linksventrikuläre Hypertrophie", "LVH"), ("LVH", "LVH"),
    ("Niedervoltage", "LVOLT"), ("low voltage", "LVOLT"),
    ("ventrikuläre Extrasystolen", "PVC"), ("VES", "PVC"), ("PVC", "PVC"),
    ("unspezifische T-Veränderungen", "NT_"), ("non-specific T wave changes", "NT_"),
    ("Vorderwandinfarkt", "AMI"), ("anterior MI", "AMI"),
    ("Hinterwandinfarkt", "IMI"), ("inferior MI", "IMI"),
])
def test_lookup_in_english_and_german(lex: Lexicon, phrase: str, code: str) -> None:
    assert lex.lookup(phrase) == [code]


def test_lookup_normalises_case_umlauts_endings_and_compounds(lex: Lexicon) -> None:
    for spelling in ("linksventrikulaere Hypertrophie", "LINKSVENTRIKULÄRE HYPERTROPHIE",
                     "linksventrikulÄre hypertrophie", "linksventrikulären Hypertrophie"):
        assert lex.lookup(spelling) == ["LVH"], spelling
    assert lex.lookup("QT-VerlÄngerung") == lex.lookup("qt verlaengerung") == ["LNGQT"]
    assert lex.lookup("ST Senkung") == lex.lookup("STSenkung") == ["STD_"]
    assert lex.lookup("LAO/LAE") == ["LAO/LAE"]  # a code finds its own term
    assert lex.lookup("unicorn wave") == [] and lex.lookup("") == []


def test_ambiguous_abbreviations_are_case_sensitive(lex: Lexicon) -> None:
    assert lex.lookup("LAD") == ["LAD"]
    assert lex.lookup("lad") == []
    assert lex.lookup("SA") == ["SARRH"] and lex.lookup("sa") == []


def test_get_descriptions_and_errors(lex: Lexicon) -> None:
    assert "AFIB" in lex and "NOPE" not in lex and len(lex) > 150
    assert lex.descriptions(["AFIB", "SR"])[0].startswith("Atrial fibrillation:")
    assert lex.names(["NORM"]) == ["normal ECG"]
    with pytest.raises(LabelError, match="NOPE"):
        lex.get("NOPE")
    with pytest.raises(LabelError, match="NOPE"):
        lex.descriptions(["AFIB", "NOPE"])
    assert default_lexicon() is lex  # cached


def test_normal_and_abnormal_codes(lex: Lexicon) -> None:
    assert lex.is_normal("NORM") and lex.is_normal("SR")
    assert not lex.is_abnormal("SBRAD") and not lex.is_normal("SBRAD")  # neutral
    assert lex.is_abnormal("AFIB") and lex.is_abnormal("LVH")


def test_custom_lexicon_and_select(lex: Lexicon) -> None:
    small = lex.select(["AFIB", "CLBBB"])
    assert small.codes() == ["AFIB", "CLBBB"] and small.lookup("LSB") == ["CLBBB"]
    assert small.lookup("LVH") == []
    own = Lexicon([Term("X1", "unicorn wave", "Unicorn wave: a test term.", ("Einhornwelle",))])
    assert own.lookup("Einhornwellen") == ["X1"]
    with pytest.raises(LabelError, match="twice"):
        Lexicon([own.get("X1"), own.get("X1")])
    with pytest.raises(LabelError, match="kind"):
        Term("X2", "name", "desc", kind="disease")
    with pytest.raises(LabelError, match="tuple"):
        Term("X3", "name", "desc", synonyms="not a tuple")  # type: ignore[arg-type]
