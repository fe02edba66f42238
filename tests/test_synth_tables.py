"""Synthetic patients, conditions, outcomes and reports: rules, rates, directions, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cardiofm.clinical import codes as vocab
from cardiofm.errors import ConfigError, LabelError
from cardiofm.synth import conditions as cond
from cardiofm.synth import outcomes as out
from cardiofm.synth import reports as rep
from cardiofm.synth.patients import DEFAULT_MISSINGNESS, PHENOTYPE_BLOCKS, sample_patients


@pytest.fixture(scope="module")
def cohort() -> tuple[pd.DataFrame, list[list[str]], pd.DataFrame]:
    rng = np.random.default_rng(7)
    patients = sample_patients(4000, rng)
    conds = cond.sample_cohort_conditions(patients["latent_health"], patients["age"], patients["sex"], rng)
    return patients, conds, out.sample_outcomes(patients, conds, rng)


def _has(conds: list[list[str]], codes: tuple[str, ...]) -> np.ndarray:
    return np.array([bool(set(c) & set(codes)) for c in conds])


# --- conditions -------------------------------------------------------------------------------

def test_sampled_conditions_always_respect_the_rules() -> None:
    rng = np.random.default_rng(0)
    for _ in range(3000):
        codes = cond.sample_conditions(rng.normal(0, 1.5), rng.uniform(18, 95), "MF"[int(rng.integers(2))], rng)
        assert cond.check_conditions(codes) == [], codes
        s = set(codes)
        assert len(s & set(cond.RHYTHMS)) == 1
        assert not ({"AFIB", "1AVB"} <= s or {"SBRAD", "STACH"} <= s or {"CLBBB", "CRBBB"} <= s)
        if "NORM" in s:
            assert s - {"NORM"} <= set(cond.SINUS_RHYTHMS)


@pytest.mark.parametrize("codes", [["SR", "SBRAD"], ["NORM", "SR", "PVC"], ["AFIB", "1AVB"], ["SR", "CLBBB", "CRBBB"],
                                   ["SR", "ISC_"], ["SR"], ["SR", "IMI", "AMI", "LMI"], ["SR", "XYZ"]])
def test_rule_checker_catches_violations(codes: list[str]) -> None:
    assert cond.check_conditions(codes)
    with pytest.raises(LabelError):
        cond.validate_codes(codes)


def test_prevalence_rises_with_age_and_latent_health() -> None:
    rng = np.random.default_rng(1)

    def abnormal_and_mi(latent: float, age: float) -> tuple[float, float]:
        draws = [cond.sample_conditions(latent, age, "M" if i % 2 else "F", rng) for i in range(1500)]
        return float(np.mean(["NORM" not in d for d in draws])), float(np.mean(_has(draws, cond.MI_CODES)))

    young, old = abnormal_and_mi(0.0, 35), abnormal_and_mi(0.0, 80)
    healthy, sick = abnormal_and_mi(-1.5, 60), abnormal_and_mi(1.5, 60)
    assert old[0] > young[0] + 0.15 and old[1] > young[1]
    assert sick[0] > healthy[0] + 0.2 and sick[1] > 2 * healthy[1]


def test_vocabulary_uses_ptbxl_codes_and_superclasses() -> None:
    voc = cond.vocabulary()
    assert {"NORM", "AFIB", "1AVB", "CLBBB", "CRBBB", "LVH", "IMI", "ISC_", "STD_", "LNGQT", "PVC"} <= set(voc)
    assert voc["IMI"]["superclass"] == "MI" and voc["CLBBB"]["superclass"] == "CD" and voc["LVH"]["superclass"] == "HYP"
    assert voc["AFIB"]["superclass"] is None and voc["NORM"]["de"] == "normales EKG"


# --- patients ---------------------------------------------------------------------------------

def test_missingness_rates_reproduced() -> None:
    rates = {"cholesterol": 0.4, "hdl": 0.3, "smoking": 0.2, "height": 0.0, "sbp": 0.1, "dexa": 0.15}
    p = sample_patients(6000, np.random.default_rng(2), missingness=rates)
    for col, rate in (rates | {"diabetes": DEFAULT_MISSINGNESS["diabetes"], "weight": DEFAULT_MISSINGNESS["weight"]}
                      ).items():
        col = PHENOTYPE_BLOCKS["dexa"][0] if col == "dexa" else col
        assert abs(p[col].isna().mean() - rate) < 0.025, col
    assert p["height"].notna().all() and p["cgm_mean_glucose"].notna().all()
    assert (p["bmi"].isna() == (p["height"].isna() | p["weight"].isna())).all()
    assert p[[f"true_{c}" for c in ("cholesterol", "hdl", "smoking", "sbp")]].notna().all().all()
    assert p[PHENOTYPE_BLOCKS["dexa"]].isna().all(axis=1).sum() == p[PHENOTYPE_BLOCKS["dexa"]].isna().any(axis=1).sum()
    # labs are recorded more often for older patients
    old = p["age"] > 65
    assert p.loc[old, "cholesterol"].isna().mean() < p.loc[~old, "cholesterol"].isna().mean()
    with pytest.raises(ConfigError):
        sample_patients(5, np.random.default_rng(0), missingness={"ldl": 0.2})
    with pytest.raises(ConfigError):
        sample_patients(5, np.random.default_rng(0), missingness={"hdl": 1.5})


def test_risk_factors_and_phenotypes_correlate_as_documented(cohort) -> None:
    p = cohort[0]
    corr = p.select_dtypes("number").corr()
    assert corr.loc["true_sbp", "age"] > 0.3
    assert corr.loc["true_bmi", "dexa_fat_pct"] > 0.4
    assert corr.loc["latent_health", "cgm_mean_glucose"] > 0.3
    assert corr.loc["latent_health", "true_hdl"] < 0 and corr.loc["latent_health", "true_sbp"] > 0
    assert corr.loc["true_sbp", "retina_avr"] < -0.2
    assert corr.loc["true_bmi", "liver_fat_pct"] > 0.3 and corr.loc["true_bmi", "anthro_waist_cm"] > 0.5
    assert corr.loc["age", "dexa_bmd_spine"] < 0
    men = p["sex"] == "M"
    assert p.loc[men, "true_hdl"].mean() < p.loc[~men, "true_hdl"].mean() - 0.15
    assert p.loc[men, "true_height"].mean() > p.loc[~men, "true_height"].mean() + 8
    diab = p["true_diabetes"] == 1
    assert p.loc[diab, "cgm_mean_glucose"].mean() > p.loc[~diab, "cgm_mean_glucose"].mean() + 30
    assert p.loc[diab, "cgm_tir"].mean() < p.loc[~diab, "cgm_tir"].mean()


def test_score2_inputs_and_blocks_in_plausible_ranges(cohort) -> None:
    p = cohort[0]
    assert p["age"].between(18, 95).all() and 55 <= p["age"].median() <= 66
    assert set(p["sex"]) == {"M", "F"} and 0.45 < (p["sex"] == "M").mean() < 0.6
    assert p["sbp"].dropna().between(85, 230).all() and 120 < p["sbp"].mean() < 145
    assert p["cholesterol"].dropna().between(2.5, 10).all() and 4.8 < p["cholesterol"].mean() < 6.0
    assert p["hdl"].dropna().between(0.5, 3.0).all()
    for col, lo, hi in (("smoking", 0.15, 0.4), ("diabetes", 0.05, 0.2)):
        assert set(p[col].dropna().unique()) <= {0.0, 1.0} and lo < p[col].mean() < hi
    bmi = p["weight"] / (p["height"] / 100) ** 2
    assert np.allclose(bmi.dropna(), p["bmi"].dropna(), atol=0.1)
    assert p["bmi"].dropna().between(16, 55).all()
    for block, cols in PHENOTYPE_BLOCKS.items():
        assert 5 <= len(cols) <= 10 and all(c.startswith(f"{block}_") for c in cols) and set(cols) <= set(p.columns)
    assert p["liver_steatosis_grade"].isin([0, 1, 2, 3]).all() and p["cgm_tir"].between(0, 100).all()
    assert p["retina_avr"].between(0.5, 0.95).all()


# --- outcomes ---------------------------------------------------------------------------------

def test_stenosis_consistent_with_mi_territory_and_risk(cohort) -> None:
    p, conds, o = cohort
    g = {v: o[f"stenosis_{v}"].to_numpy() for v in out.VESSELS}
    assert all(np.isin(x, [0, 1, 2, 3]).all() for x in g.values())
    imi, ant, lat = _has(conds, ("IMI",)), _has(conds, ("AMI", "ASMI")), _has(conds, ("LMI",))
    assert imi.sum() > 50 and ant.sum() > 50 and lat.sum() > 5
    assert ((g["rca"] >= 2) | (g["lcx"] >= 2))[imi].all()
    assert (g["lad"] >= 2)[ant].all() and (g["lcx"] >= 2)[lat].all()
    assert 0 < (g["lm"] == 3).mean() < 0.03
    assert (g["lm"] == 3).mean() < min((g[v] == 3).mean() for v in ("rca", "lad", "lcx"))
    no_mi = ~_has(conds, cond.MI_CODES)
    sick = p["latent_health"].to_numpy() > 0
    severe = np.max(np.stack(list(g.values())), axis=0) == 3
    assert severe[no_mi & sick].mean() > 2 * severe[no_mi & ~sick].mean()


def test_time_to_mi_separates_risk_and_censors(cohort) -> None:
    p, _, o = cohort
    t, e = o["mi_time_days"].to_numpy(), o["mi_event"].to_numpy()
    assert t.min() >= 1 and t.max() <= 1826
    assert 0.80 < 1 - e.mean() < 0.97  # censored share
    dropped = (e == 0) & (t < 1826)
    assert 0.08 < dropped.mean() < 0.3  # random drop-out before the 5-year cut
    for score in (o["true_mi_lp"], p["latent_health"], p["age"]):
        high = score.to_numpy() > np.median(score)
        assert e[high].mean() > 2 * e[~high].mean()


def test_ehr_codes_consistent_with_conditions_and_risk(cohort) -> None:
    p, conds, o = cohort
    dx = [set(s.split(";")) - {""} for s in o["ehr_diagnoses"]]
    rx = [set(s.split(";")) - {""} for s in o["ehr_medications"]]
    px = [set(s.split(";")) - {""} for s in o["ehr_procedures"]]
    severe = (o[[f"stenosis_{v}" for v in out.VESSELS]] == 3).any(axis=1).to_numpy()
    for i, c in enumerate(conds):
        assert dx[i] <= set(vocab.ICD10) and rx[i] <= set(vocab.ATC) and px[i] <= set(vocab.PROCEDURES)
        if "AFIB" in c:
            assert any(d.startswith("I48") for d in dx[i]) and any(m.startswith("B01A") for m in rx[i])
        if p["true_diabetes"].iloc[i] == 1:
            assert "E11.9" in dx[i] and any(m.startswith("A10") for m in rx[i])
        if set(c) & set(cond.MI_CODES):
            assert "I25.2" in dx[i] and "B01AC06" in rx[i]
        if severe[i]:
            assert "I25.1" in dx[i] and "CAG" in px[i]
        if "PCI" in px[i]:
            assert "Z95.5" in dx[i]
    af_free = ~_has(conds, ("AFIB",))
    assert not any(any(d.startswith("I48") for d in dx[i]) for i in np.flatnonzero(af_free))
    sbp_high = p["true_sbp"].to_numpy() >= 150
    htn = np.array([bool({"I10", "I11.9"} & d) for d in dx])
    assert htn[sbp_high].mean() > 0.8 and htn[p["true_sbp"].to_numpy() < 125].mean() == 0


# --- reports ----------------------------------------------------------------------------------

def _cues(text: str, kind: dict[str, tuple[str, ...]], lang: str) -> bool:
    norm = rep.normalise_umlauts(text)
    return any(c in norm for c in kind[lang])


def test_german_share_near_configured(cohort) -> None:
    conds = cohort[1][:2000]
    for share in (0.7, 0.3):
        langs = [r.language for r in rep.write_reports(conds, np.random.default_rng(3), german_share=share)]
        assert abs(np.mean([lang == "de" for lang in langs]) - share) < 0.04
    assert {rep.write_report(["SR", "NORM"], np.random.default_rng(0), language="en").language} == {"en"}


def test_negation_and_uncertainty_reflected_in_entities(cohort) -> None:
    conds = cohort[1][:2000]
    rng = np.random.default_rng(4)
    n_neg = n_unc = 0
    for c in conds:
        r = rep.write_report(c, rng, negation_rate=0.5, uncertainty_rate=0.5, typo_rate=0.0)
        status = dict(r.entities)
        assert len(status) == len(r.entities)  # one status per code
        assert {k for k, s in r.entities if s != rep.NEGATED} == set(c)
        negated = [k for k, s in r.entities if s == rep.NEGATED]
        assert not set(negated) & set(c)
        if negated:
            n_neg += 1
            assert _cues(r.text, rep.NEGATION_CUES, r.language), r.text
        if rep.UNCERTAIN in status.values():
            n_unc += 1
            assert _cues(r.text, rep.UNCERTAINTY_CUES, r.language), r.text
        if not negated and rep.UNCERTAIN not in status.values() and r.language == "en":
            assert not _cues(r.text, rep.UNCERTAINTY_CUES, "en"), r.text
    assert 0.35 * len(conds) < n_neg < 0.65 * len(conds) and n_unc > 0.1 * len(conds)
    none = [rep.write_report(c, rng, negation_rate=0.0, uncertainty_rate=0.0) for c in conds[:300]]
    assert all(s == rep.PRESENT for r in none for _, s in r.entities)


def test_typo_rate_applies() -> None:
    codes = ["SR", "1AVB", "CLBBB", "LVH", "IMI", "ISC_", "STD_"]
    changed = eligible = 0
    for seed in range(400):
        clean = rep.write_report(codes, np.random.default_rng(seed), typo_rate=0.0).text.split(" ")
        typo = rep.write_report(codes, np.random.default_rng(seed), typo_rate=0.2).text.split(" ")
        assert len(clean) == len(typo)
        for a, b in zip(clean, typo, strict=True):
            if sum(ch.isalpha() for ch in a) >= 4:
                eligible += 1
                changed += a != b
            else:
                assert a == b
    assert abs(changed / eligible - 0.2) < 0.03


def test_normal_records_give_normal_reports(cohort) -> None:
    normal = [c for c in cohort[1] if "NORM" in c][:800]
    rng = np.random.default_rng(5)
    markers = ("normal", "unauffaellig", "o.b.", "wnl", "normbereich")
    abnormal = {rep.normalise_umlauts(ph) for code, by_lang in rep.PHRASES.items() if cond.is_abnormal(code)
                for full, abbr in by_lang.values() for ph in full + abbr if len(ph) >= 8}
    for i, c in enumerate(normal):
        r = rep.write_report(c, rng, typo_rate=0.0, negation_rate=0.5 * (i % 2), uncertainty_rate=0.5)
        stated = {k for k, s in r.entities if s != rep.NEGATED}
        assert stated <= {"NORM", *cond.SINUS_RHYTHMS}
        text = rep.normalise_umlauts(r.text)
        assert any(m in text for m in markers), r.text
        if i % 2 == 0:  # without negations no abnormal finding is named at all
            assert not any(ph in text for ph in abnormal), r.text
    assert rep.write_report(["NORM", "SR"], np.random.default_rng(1), abbreviation_rate=0.0, typo_rate=0.0,
                            negation_rate=0.0, lowercase_share=1.0, language="de").text.startswith("sinusrhythmus")


def test_bad_inputs_raise_cardiofm_errors() -> None:
    with pytest.raises(LabelError):
        rep.write_report(["SR", "WPW"], np.random.default_rng(0))
    with pytest.raises(ConfigError):
        rep.write_report(["SR", "NORM"], np.random.default_rng(0), typo_rate=2.0)
    with pytest.raises(ConfigError):
        rep.write_report(["SR", "NORM"], np.random.default_rng(0), language="fr")


def test_same_seed_same_cohort() -> None:
    def make(seed: int) -> tuple[pd.DataFrame, list[str]]:
        rng = np.random.default_rng(seed)
        p = sample_patients(300, rng)
        c = cond.sample_cohort_conditions(p["latent_health"], p["age"], p["sex"], rng)
        table = pd.concat([p, out.sample_outcomes(p, c, rng)], axis=1)
        return table, [rep.write_report(x, rng).text for x in c]

    (a, ra), (b, rb), (c, rc) = make(11), make(11), make(12)
    pd.testing.assert_frame_equal(a, b)
    assert ra == rb
    assert not a.equals(c) and ra != rc
