"""Similar-patient summaries for SE-Diff: word bounds, counts, physiology clauses, LLM fallback, cohort rows."""

from __future__ import annotations

import ast
import inspect
import random
import warnings

import numpy as np
import pandas as pd
import pytest

from cardiofm.clinical.codes import ATC, ICD10, PROCEDURES
from cardiofm.errors import ConfigError
from cardiofm.text import summary as summary_module
from cardiofm.text.summary import (
    PHYSIOLOGY,
    SUMMARISERS,
    LLMSummariser,
    Neighbour,
    Summariser,
    TemplateSummariser,
    build_prompt,
    create_summariser,
    describe,
    neighbours_from_table,
    physiology,
)

S = frozenset
AF_CLAUSE = "irregularly irregular ventricular rhythm without organised P waves"
BETA_CLAUSE = "slower sinus rate and longer PR interval"
ECG_CODES = ["NORM", "AFIB", "SBRAD", "STACH", "1AVB", "LBBB", "CLBBB", "RBBB", "CRBBB", "IRBBB", "LVH", "IMI",
             "ASMI", "AMI", "LMI", "PVC", "PAC", "LAFB", "NDT", "ISC_", "STD_", "LNGQT"]


def words(text: str) -> int:
    return len(text.split())


def af_cohort() -> list[Neighbour]:
    """Four neighbours: AFIB in 3, LVH in 2, bisoprolol in 2, echo in 1."""
    return [
        Neighbour(0.9, S({"I48.1", "I10"}), S({"B01AF02", "C07AB07"}), S({"ECHO"}), S({"AFIB"}), age=70, sex="M"),
        Neighbour(0.8, S({"I48.0"}), S({"B01AF01"}), S(), S({"AFIB", "LVH"}), age=64, sex="F"),
        Neighbour(0.7, S({"I10"}), S({"C07AB07"}), S(), S({"AFIB", "LVH"}), age=75, sex="M"),
        Neighbour(0.6, S({"E11.9"}), S({"A10BA02"}), S(), S({"SBRAD"}), age=58, sex="F"),
    ]


def random_neighbours(n: int, seed: int = 0) -> list[Neighbour]:
    rng = random.Random(seed)
    return [Neighbour(round(rng.uniform(0.05, 1.0), 3), S(rng.sample(sorted(ICD10), 3)), S(rng.sample(sorted(ATC), 3)),
                      S(rng.sample(sorted(PROCEDURES), 2)), S(rng.sample(ECG_CODES, 2)),
                      age=rng.uniform(30, 90), sex=rng.choice(["M", "F"])) for _ in range(n)]


def first_sentence(text: str) -> str:
    return text.split(". ")[0]


# --- word bounds -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 5, 30])
@pytest.mark.parametrize("query", [None, "Sinus bradycardia with first degree AV block."])
def test_word_count_within_bounds(n, query):
    text = TemplateSummariser().summarise(random_neighbours(n), query)
    assert 60 <= words(text) <= 120, (words(text), text)


def test_word_count_with_very_many_codes():
    everything = Neighbour(1.0, S(ICD10), S(ATC), S(PROCEDURES), S(ECG_CODES), age=66, sex="F")
    for nbs in ([everything], [everything] * 40):
        text = TemplateSummariser().summarise(nbs, "atrial fibrillation " * 100)
        assert 60 <= words(text) <= 120
        assert text.endswith(".")


def test_custom_and_extreme_bounds():
    nbs = af_cohort()
    assert 30 <= words(TemplateSummariser(min_words=30, max_words=40).summarise(nbs)) <= 40
    assert words(TemplateSummariser(min_words=200, max_words=200).summarise([])) == 200  # padding repeats
    cut = TemplateSummariser(min_words=5, max_words=10).summarise(nbs)  # first sentence alone is too long
    assert words(cut) == 10 and cut.endswith(".") and cut.startswith("Among the 4 most similar patients")


def test_zero_neighbours_says_so_and_describes_the_query():
    text = TemplateSummariser().summarise([], "Atrial fibrillation with left bundle branch block")
    assert first_sentence(text).startswith("No similar patients were found")
    assert "atrial fibrillation" in text and AF_CLAUSE in text and "left bundle branch block" in text
    plain = TemplateSummariser().summarise([])
    assert "query" not in plain and 60 <= words(plain) <= 120


# --- content -----------------------------------------------------------------------------------------------

def test_most_frequent_code_leads_with_its_physiology_and_counts_are_right():
    text = TemplateSummariser().summarise(af_cohort())
    first = first_sentence(text)
    assert first.startswith("Among the 4 most similar patients")
    assert "3 of 4 had atrial fibrillation" in first and AF_CLAUSE in first
    assert "2 of 4 had left ventricular hypertrophy (tall QRS voltages" in text
    assert "2 of 4 took bisoprolol (" + BETA_CLAUSE + ")" in text
    assert "median age was 67 years and 2 of 4 were male" in text


def test_similarity_weighting_breaks_equal_counts():
    low = [Neighbour(0.1, findings=S({"LVH"})), Neighbour(0.9, findings=S({"PVC"}))]
    assert "left ventricular hypertrophy" not in first_sentence(TemplateSummariser().summarise(low))
    assert "ventricular premature complex" in first_sentence(TemplateSummariser().summarise(low))


def test_single_neighbour_wording():
    text = TemplateSummariser().summarise(af_cohort()[:1])
    assert text.startswith("The single most similar patient (code similarity 0.90) had atrial fibrillation")
    assert "The patient was a 70-year-old man." in text and "of 1" not in text


def test_deterministic_and_order_independent():
    nbs = random_neighbours(12, seed=3)
    summariser = TemplateSummariser()
    text = summariser.summarise(nbs, "sinus rhythm")
    assert summariser.summarise(list(nbs), "sinus rhythm") == text
    assert summariser.summarise(list(reversed(nbs)), "sinus rhythm") == text
    assert TemplateSummariser(top=1).summarise(nbs) != summariser.summarise(nbs)


def test_atc_prefix_matching():
    assert physiology("C07AB07") == BETA_CLAUSE == physiology("C07AB03", "medications")  # atenolol: not in ATC
    assert physiology("C08DA01", "medications") != physiology("C08CA01", "medications")  # longest prefix wins
    assert physiology("rx:C07AB02") == BETA_CLAUSE  # a view prefix is removed
    text = TemplateSummariser().summarise([Neighbour(0.5, medications=S({"C07AB03"}))])
    assert BETA_CLAUSE in text and "code C07AB03" in text


def test_physiology_table_covers_the_synthetic_codes():
    assert all(c in PHYSIOLOGY for c in (*ICD10, *ATC, *PROCEDURES))
    assert PHYSIOLOGY["I25.2"] == "pathological Q waves in the infarct territory"
    assert PHYSIOLOGY["1AVB"] == "PR interval above 200 ms"
    assert "tall QRS voltages" in PHYSIOLOGY["LVH"] and "tall QRS voltages" in PHYSIOLOGY["I11.9"]
    assert physiology("I48.91", "diagnoses") == AF_CLAUSE  # ICD-10 parent


def test_unknown_codes_fall_back():
    assert describe("X99.9", "diagnoses") == ("code X99.9", None)
    assert describe("I48.0", "diagnoses")[0] == "paroxysmal atrial fibrillation"
    name, clause = describe("SEHYP", "findings")  # in the lexicon, not in PHYSIOLOGY
    assert name == "septal hypertrophy" and clause
    text = TemplateSummariser().summarise([Neighbour(0.4, S({"X99.9"}), S({"Q01ZZ99"}), S({"ZZPROC"}))] * 3)
    assert "3 of 3 had code X99.9." in text and "took code Q01ZZ99." in text and 60 <= words(text) <= 120


# --- LLM ---------------------------------------------------------------------------------------------------

def test_llm_reply_within_bounds_is_used():
    reply = " ".join(["sinus"] * 80)
    prompts: list[str] = []

    def llm(prompt: str) -> str:
        prompts.append(prompt)
        return f"  {reply}\n"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert LLMSummariser(llm).summarise(af_cohort(), "irregular rhythm") == reply
    assert len(prompts) == 1 and prompts[0] == build_prompt(af_cohort(), "irregular rhythm")
    assert "I48.0 (paroxysmal atrial fibrillation)" in prompts[0] and "C07AB07 (bisoprolol)" in prompts[0]
    assert "AFIB (atrial fibrillation)" in prompts[0] and "60 to 120 words" in prompts[0]
    assert "irregular rhythm" in prompts[0]


@pytest.mark.parametrize("llm", [lambda p: "far too short a reply with only ten words in it",
                                 lambda p: " ".join(["word"] * 121), lambda p: None,
                                 lambda p: (_ for _ in ()).throw(RuntimeError("model crashed"))])
def test_llm_falls_back_with_a_warning(llm):
    with pytest.warns(UserWarning, match="LLMSummariser"):
        text = LLMSummariser(llm).summarise(af_cohort())
    assert text == TemplateSummariser().summarise(af_cohort())


def test_llm_custom_fallback_and_bounds():
    class Fixed:
        def summarise(self, neighbours, query=None):
            return "fixed"

    assert isinstance(Fixed(), Summariser) and isinstance(TemplateSummariser(), Summariser)
    with pytest.warns(UserWarning):
        assert LLMSummariser(lambda p: "", fallback=Fixed()).summarise([]) == "fixed"
    assert LLMSummariser(lambda p: "a b c", min_words=2, max_words=3).summarise([]) == "a b c"


# --- registry, validation, tables --------------------------------------------------------------------------

def test_registry_and_create_summariser():
    assert set(SUMMARISERS) >= {"template", "llm"}
    assert create_summariser() == TemplateSummariser()
    assert create_summariser("template", max_words=90).max_words == 90
    with pytest.raises(ConfigError, match="supply your own"):
        create_summariser("llm")
    assert isinstance(create_summariser("llm", llm=lambda p: p), LLMSummariser)
    with pytest.raises(ConfigError, match="unknown summariser"):
        create_summariser("gpt")
    with pytest.raises(ConfigError):
        create_summariser("template", nonsense=1)


@pytest.mark.parametrize("make", [
    lambda: TemplateSummariser(min_words=80, max_words=60), lambda: TemplateSummariser(min_words=0),
    lambda: TemplateSummariser(top=0), lambda: LLMSummariser("not callable"),
    lambda: Neighbour(-0.1), lambda: Neighbour(float("nan")), lambda: Neighbour(0.5, diagnoses="I48;I10"),
    lambda: Neighbour(0.5, age=-3), lambda: Neighbour(0.5, sex=1),
    lambda: TemplateSummariser().summarise(["I48"]), lambda: TemplateSummariser().summarise([], query=3),
])
def test_bad_input_raises_config_error(make):
    with pytest.raises(ConfigError):
        make()


def test_neighbours_from_table():
    table = pd.DataFrame({"ehr_diagnoses": ["I48.0;I10", np.nan, "E11.9"],
                          "ehr_medications": ["B01AF02; C07AB07", "", None],
                          "age": [71.0, np.nan, 50.0], "sex": ["M", "F", None]})
    nbs = neighbours_from_table(table, [2, np.int64(0)], [0.4, 0.8], findings=[["LVH"], "AFIB;PVC"])
    assert [n.similarity for n in nbs] == [0.4, 0.8]
    assert nbs[1].diagnoses == S({"I48.0", "I10"}) and nbs[1].medications == S({"B01AF02", "C07AB07"})
    assert nbs[1].procedures == S() and nbs[1].findings == S({"AFIB", "PVC"})  # no procedure column
    assert nbs[0].diagnoses == S({"E11.9"}) and nbs[0].medications == S() and nbs[0].findings == S({"LVH"})
    assert (nbs[0].age, nbs[0].sex, nbs[1].age, nbs[1].sex) == (50.0, None, 71.0, "M")
    no_age = neighbours_from_table(table.drop(columns=["age", "sex"]), [1], [0.1])[0]
    assert no_age.age is None and no_age.sex is None and no_age.diagnoses == S()
    for args in (([3], [0.1]), ([0, 1], [0.1]), ([-1], [0.1]), ([0.5], [0.1])):
        with pytest.raises(ConfigError):
            neighbours_from_table(table, *args)
    with pytest.raises(ConfigError):
        neighbours_from_table(table, [0], [0.1], findings=[["A"], ["B"]])


def test_module_imports_no_networking_code():
    tree = ast.parse(inspect.getsource(summary_module))
    names = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    names |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not names & {"socket", "urllib", "http", "requests", "httpx", "aiohttp", "openai", "transformers"}
