"""Ground truth beyond the ECG: coronary stenosis per vessel, time to myocardial infarction, EHR codes.

All draws use the patients' true risk factors (``true_<col>`` from
:func:`cardiofm.synth.patients.sample_patients` where present, so missingness in the metadata table
does not change the outcomes) and the record's condition codes.

- **Stenosis** (``stenosis_rca``, ``stenosis_lm``, ``stenosis_lad``, ``stenosis_lcx``; 0 normal, 1 mild,
  2 moderate, 3 severe/occluded): an atherosclerotic burden (latent health, age, sex, smoking,
  diabetes, SBP, lipids, prior MI) plus patient- and vessel-level noise, cut at fixed thresholds;
  left main disease is rare. An MI on the ECG forces its culprit vessel to moderate or severe:
  inferior -> RCA (80 %) or LCX, anterior/anteroseptal -> LAD, lateral -> LCX.
- **Time to MI** (``mi_time_days``, ``mi_event``, ``true_mi_lp``): Weibull proportional hazards in the
  risk factors and the stenosis grades; censored at the end of follow-up (5 years) and by
  exponential drop-out. With the defaults about 8-12 % of patients have an event in 5 years.
- **EHR codes** (``ehr_diagnoses``, ``ehr_medications``, ``ehr_procedures``, each ``;``-joined): the
  history up to the ECG. Diagnoses are ICD-10 (WHO) codes, medications ATC codes (substance level),
  procedures a small code set; every code drawn is in the vocabularies of :mod:`cardiofm.clinical.codes`.
  Firm links (always): AF -> I48 + an anticoagulant (B01AF/B01AA); diabetes -> E11 + an antidiabetic
  (A10); MI on the ECG -> I25.2 + aspirin (B01AC06); a severe stenosis -> I25.1 + coronary angiography
  (CAG).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cardiofm.errors import ConfigError

VESSELS = ("rca", "lm", "lad", "lcx")
STENOSIS_GRADES = {0: "normal", 1: "mild", 2: "moderate", 3: "severe"}
STENOSIS_THRESHOLDS = (1.1, 2.2, 3.0)
VESSEL_OFFSET = {"rca": 0.0, "lm": -1.9, "lad": 0.3, "lcx": -0.2}
CULPRIT = {"IMI": (("rca", 0.8), ("lcx", 0.2)), "ASMI": (("lad", 1.0),), "AMI": (("lad", 1.0),),
           "LMI": (("lcx", 1.0),)}


def _true(patients: pd.DataFrame, col: str, default: float) -> np.ndarray:
    """The unmasked column (``true_<col>`` if present), NaN replaced by ``default``."""
    src = patients[f"true_{col}"] if f"true_{col}" in patients else patients.get(col)
    if src is None:
        return np.full(len(patients), default)
    return pd.to_numeric(src, errors="coerce").fillna(default).to_numpy(dtype=float)


def _risk_factors(patients: pd.DataFrame) -> dict[str, np.ndarray]:
    return {"latent": _true(patients, "latent_health", 0.0), "age": _true(patients, "age", 60.0),
            "male": (patients["sex"].astype(str).str.upper().str[0] == "M").to_numpy(dtype=float),
            "smoking": _true(patients, "smoking", 0.0), "diabetes": _true(patients, "diabetes", 0.0),
            "sbp": _true(patients, "sbp", 130.0), "chol": _true(patients, "cholesterol", 5.3),
            "hdl": _true(patients, "hdl", 1.3), "bmi": _true(patients, "bmi", 26.0)}


def _has(conditions: Sequence[Sequence[str]], codes: Sequence[str]) -> np.ndarray:
    return np.array([any(c in codes for c in conds) for conds in conditions], dtype=float)


def atherosclerosis_burden(patients: pd.DataFrame, conditions: Sequence[Sequence[str]]) -> np.ndarray:
    """Per-patient coronary burden (log-odds-like scale) from risk factors and prior MI on the ECG."""
    r = _risk_factors(patients)
    return (0.6 * r["latent"] + 0.35 * (r["age"] - 60) / 10 + 0.5 * r["smoking"] + 0.5 * r["diabetes"]
            + 0.4 * r["male"] + 0.12 * (r["sbp"] - 130) / 10 + 0.2 * (r["chol"] - 5.3) - 0.5 * (r["hdl"] - 1.3)
            + 0.6 * _has(conditions, tuple(CULPRIT)))


def sample_stenosis(patients: pd.DataFrame, conditions: Sequence[Sequence[str]],
                    rng: np.random.Generator) -> pd.DataFrame:
    """Stenosis grade 0-3 per vessel (columns ``stenosis_rca/lm/lad/lcx``), consistent with MI territories."""
    n = len(patients)
    b = atherosclerosis_burden(patients, conditions) + rng.normal(0, 0.5, n)
    grades = {v: np.digitize(b + VESSEL_OFFSET[v] + rng.normal(0, 0.8, n), STENOSIS_THRESHOLDS) for v in VESSELS}
    for i, conds in enumerate(conditions):
        for code in conds:
            if code not in CULPRIT:
                continue
            vessels, probs = zip(*CULPRIT[code], strict=True)
            v = vessels[int(rng.choice(len(vessels), p=probs))]
            grades[v][i] = max(int(grades[v][i]), 3 if rng.random() < 0.85 else 2)
    return pd.DataFrame({f"stenosis_{v}": grades[v].astype(int) for v in VESSELS}, index=patients.index)


def mi_linear_predictor(patients: pd.DataFrame, conditions: Sequence[Sequence[str]],
                        stenosis: pd.DataFrame) -> np.ndarray:
    """Log hazard ratio of a future MI relative to the reference patient (60-year-old woman, no risk)."""
    r = _risk_factors(patients)
    g = np.stack([stenosis[f"stenosis_{v}"].to_numpy() for v in ("rca", "lad", "lcx")])
    return (0.4 * r["latent"] + 0.35 * (r["age"] - 60) / 10 + 0.45 * r["smoking"] + 0.45 * r["diabetes"]
            + 0.3 * r["male"] + 0.08 * (r["sbp"] - 130) / 10 + 0.1 * (r["chol"] - 5.3) - 0.3 * (r["hdl"] - 1.3)
            + 0.12 * g.sum(0) + 0.25 * (g == 3).sum(0) + 0.8 * (stenosis["stenosis_lm"].to_numpy() == 3)
            + 0.4 * _has(conditions, tuple(CULPRIT)))


def sample_time_to_mi(patients: pd.DataFrame, conditions: Sequence[Sequence[str]], stenosis: pd.DataFrame,
                      rng: np.random.Generator, follow_up_days: int = 1826, dropout_per_year: float = 0.04,
                      reference_risk: float = 0.012, shape: float = 1.2) -> pd.DataFrame:
    """Observed time (days) to MI or censoring, the event flag and the true linear predictor.

    Args:
        follow_up_days: administrative censoring (default 5 years).
        dropout_per_year: hazard of loss to follow-up (exponential).
        reference_risk: risk of MI within ``follow_up_days`` for the reference patient.
        shape: Weibull shape (> 1: hazard rising with time since the ECG).
    """
    lp = mi_linear_predictor(patients, conditions, stenosis)
    n = len(lp)
    scale = follow_up_days / (-np.log1p(-reference_risk)) ** (1 / shape)
    t_mi = scale * (-np.log(1 - rng.random(n)) / np.exp(lp)) ** (1 / shape)
    t_drop = rng.exponential(365.25 / dropout_per_year, n) if dropout_per_year > 0 else np.full(n, np.inf)
    censor = np.minimum(t_drop, follow_up_days)
    event = t_mi <= censor
    time = np.maximum(1, np.ceil(np.where(event, t_mi, censor))).astype(int)
    return pd.DataFrame({"mi_time_days": time, "mi_event": event.astype(int), "true_mi_lp": np.round(lp, 4)},
                        index=patients.index)


def _pick(rng: np.random.Generator, options: Sequence[str], p: Sequence[float] | None = None) -> str:
    return str(options[int(rng.choice(len(options), p=p))])


def ehr_codes(risk: dict[str, float], conditions: Sequence[str], stenosis: dict[str, int],
              rng: np.random.Generator) -> tuple[list[str], list[str], list[str]]:
    """Diagnoses (ICD-10), medications (ATC) and procedures of one patient, each sorted.

    ``risk`` holds the true ``age``, ``smoking``, ``diabetes``, ``sbp``, ``chol``, ``bmi``; ``stenosis``
    maps ``rca``/``lm``/``lad``/``lcx`` to grades.
    """
    dx: set[str] = set()
    rx: set[str] = set()
    px: set[str] = set()
    c = set(conditions)
    mi = bool(c & set(CULPRIT))
    severe = [v for v in VESSELS if stenosis[v] == 3]
    moderate = any(stenosis[v] == 2 for v in VESSELS)
    htn = (risk["sbp"] >= 140 and rng.random() < 0.9) or (130 <= risk["sbp"] < 140 and rng.random() < 0.25)
    if htn:
        dx.add("I11.9" if "LVH" in c and rng.random() < 0.5 else "I10")
        rx.add(_pick(rng, ("C09AA05", "C09CA01"), (0.7, 0.3)))
        rx.update(a for a, p in (("C08CA01", 0.3), ("C03AA03", 0.25)) if rng.random() < p)
        if rng.random() < 0.3:
            px.add("ABPM")
    if risk["diabetes"] >= 0.5:
        dx.add("E11.9")
        rx.add("A10BA02" if rng.random() < 0.85 else "A10AE04")
        rx.update(a for a, p in (("A10BK01", 0.2), ("A10AE04", 0.1)) if rng.random() < p)
    if risk["smoking"] >= 0.5 and rng.random() < 0.6:
        dx.add(_pick(rng, ("F17.2", "Z72.0")))
        if rng.random() < 0.1:
            rx.add("N07BA01")
    if risk["bmi"] >= 30 and rng.random() < 0.6:
        dx.add("E66.9")
    cad = mi or bool(severe) or (moderate and rng.random() < 0.5)
    if (risk["chol"] >= 6.5 and rng.random() < 0.7) or (cad and rng.random() < 0.6):
        dx.add("E78.0" if risk["chol"] >= 6.5 else "E78.5")
    if cad or "E78.0" in dx or "E78.5" in dx:
        if rng.random() < (0.9 if cad else 0.6):
            rx.add(_pick(rng, ("C10AA05", "C10AA01"), (0.7, 0.3)))
    if mi:
        dx.update(("I25.2", "I25.1"))
        rx.add("B01AC06")
        if rng.random() < 0.8:
            rx.add(_pick(rng, ("C07AB07", "C07AB02")))
        if rng.random() < 0.7:
            rx.add("C09AA05")
    if severe:
        dx.add("I25.1")
        px.add("CAG")
        if "lm" in severe or len(severe) >= 3:
            px.add("CABG" if rng.random() < 0.7 else "PCI")
        elif rng.random() < 0.5:
            px.add("PCI")
    elif (moderate or mi) and rng.random() < 0.6:
        px.add(_pick(rng, ("CAG", "CCTA"), (0.6, 0.4)))
    if "PCI" in px:
        dx.add("Z95.5")
        rx.add("B01AC06")
        if rng.random() < 0.4:
            rx.add("B01AC04")
    if "CABG" in px:
        dx.add("Z95.1")
        rx.add("B01AC06")
    if "ISC_" in c and not mi:
        dx.add(_pick(rng, ("I25.9", "I20.9")))
        px.add(_pick(rng, ("EXECG", "CCTA", "ECHO")))
    if "AFIB" in c:
        dx.add(_pick(rng, ("I48.0", "I48.1", "I48.2"), (0.35, 0.3, 0.35)))
        rx.add(_pick(rng, ("B01AF01", "B01AF02", "B01AF03", "B01AA04"), (0.3, 0.35, 0.1, 0.25)))
        rx.add(_pick(rng, ("C07AB07", "C07AB02", "C01AA05"), (0.55, 0.3, 0.15)))
        px.update(p for p, q in (("ECHO", 0.7), ("HOLTER", 0.4), ("DCCV", 0.2)) if rng.random() < q)
    for code, icd in (("1AVB", "I44.0"), ("LAFB", "I44.4"), ("CLBBB", "I44.7"), ("CRBBB", "I45.1"),
                      ("IRBBB", "I45.1"), ("LNGQT", "I45.8"), ("PAC", "I49.1"), ("PVC", "I49.3"),
                      ("STACH", "R00.0"), ("SBRAD", "R00.1"), ("LVH", "I51.7")):
        if code in c and rng.random() < (0.9 if code in ("CLBBB", "LVH", "1AVB") else 0.6):
            dx.add(icd)
    conduction = ("SBRAD" in c and "1AVB" in c) or ("CRBBB" in c and "LAFB" in c)
    if conduction and rng.random() < 0.25:
        px.add("PM")
        dx.add("Z95.0")
    if "PVC" in c or "PAC" in c or "SBRAD" in c:
        if rng.random() < 0.3:
            px.add("HOLTER")
    if ({"CLBBB", "LVH"} & c or mi or htn) and rng.random() < 0.6:
        px.add("ECHO")
    elif rng.random() < 0.1:
        px.add("ECHO")
    return sorted(dx), sorted(rx), sorted(px)


def sample_ehr(patients: pd.DataFrame, conditions: Sequence[Sequence[str]], stenosis: pd.DataFrame,
               rng: np.random.Generator) -> pd.DataFrame:
    """EHR code lists per patient as ``;``-joined strings (``ehr_diagnoses/medications/procedures``)."""
    r = _risk_factors(patients)
    rows = []
    for i, conds in enumerate(conditions):
        risk = {k: float(v[i]) for k, v in r.items()}
        sten = {v: int(stenosis[f"stenosis_{v}"].iloc[i]) for v in VESSELS}
        rows.append([";".join(x) for x in ehr_codes(risk, conds, sten, rng)])
    return pd.DataFrame(rows, columns=["ehr_diagnoses", "ehr_medications", "ehr_procedures"], index=patients.index)


def sample_outcomes(patients: pd.DataFrame, conditions: Sequence[Sequence[str]], rng: np.random.Generator,
                    **time_kw: float) -> pd.DataFrame:
    """Stenosis grades, time to MI and EHR codes for every patient (``time_kw`` go to :func:`sample_time_to_mi`)."""
    if len(conditions) != len(patients):
        raise ConfigError(f"sample_outcomes: {len(conditions)} condition lists for {len(patients)} patients")
    sten = sample_stenosis(patients, conditions, rng)
    tte = sample_time_to_mi(patients, conditions, sten, rng, **time_kw)
    return pd.concat([sten, tte, sample_ehr(patients, conditions, sten, rng)], axis=1)
