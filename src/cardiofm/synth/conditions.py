"""The condition vocabulary of the synthetic cohort and a sampler that respects its rules.

Codes are PTB-XL SCP-ECG statement codes (``scp_statements.csv``); ``superclass`` is PTB-XL's
diagnostic class (NORM/MI/STTC/CD/HYP) where the statement has one, ``None`` for pure rhythm and
form statements (SR, AFIB, PVC, STD_, ...), as in PTB-XL.

``prevalence`` is the probability of a condition for a *reference* patient (age 60, latent health
0, female); the odds are multiplied by ``exp(age_log_or)`` per 10 years of age, ``exp(health_log_or)``
per standard deviation of latent health (higher = sicker) and ``exp(male_log_or)`` for men.

Rules (checked by :func:`check_conditions`, always respected by :func:`sample_conditions`):

- exactly one rhythm statement: SR, SBRAD, STACH, SARRH or AFIB (so SBRAD excludes STACH, and a
  sinus-node statement excludes AFIB);
- NORM goes only with a sinus rhythm statement and nothing else; a record with no other finding is NORM;
- AFIB excludes 1AVB (no P waves, no PR interval) and PAC;
- CLBBB excludes CRBBB, IRBBB and LAFB (both fascicles are blocked) and ISC_/STD_ (its ST changes
  are secondary); CRBBB excludes IRBBB;
- AMI and ASMI are one anterior (LAD) territory, never both; at most two MI territories, and a
  second one is drawn with a tenth of its usual odds;
- ISC_ implies STD_ (the ST depression the ischaemia interpretation rests on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cardiofm.errors import LabelError


@dataclass(frozen=True)
class Condition:
    """One statement of the vocabulary (see the module docstring for the meaning of the odds)."""

    code: str
    en: str
    de: str
    superclass: str | None
    kind: str  # "rhythm", "diagnostic" or "form"
    prevalence: float
    age_log_or: float = 0.0
    health_log_or: float = 0.0
    male_log_or: float = 0.0


CONDITIONS: dict[str, Condition] = {c.code: c for c in [
    Condition("NORM", "normal ECG", "normales EKG", "NORM", "diagnostic", 0.0),
    Condition("SR", "sinus rhythm", "Sinusrhythmus", None, "rhythm", 0.0),
    Condition("SBRAD", "sinus bradycardia", "Sinusbradykardie", None, "rhythm", 0.05, 0.1, 0.0, 0.3),
    Condition("STACH", "sinus tachycardia", "Sinustachykardie", None, "rhythm", 0.05, 0.0, 0.35, -0.2),
    Condition("SARRH", "sinus arrhythmia", "Sinusarrhythmie", None, "rhythm", 0.035, -0.35, -0.2),
    Condition("AFIB", "atrial fibrillation", "Vorhofflimmern", None, "rhythm", 0.035, 0.75, 0.5, 0.3),
    Condition("PAC", "atrial premature complex", "supraventrikuläre Extrasystole", None, "form",
              0.025, 0.35, 0.2),
    Condition("PVC", "ventricular premature complex", "ventrikuläre Extrasystole", None, "form",
              0.045, 0.35, 0.35, 0.2),
    Condition("1AVB", "first degree AV block", "AV-Block I. Grades", "CD", "diagnostic", 0.035, 0.35, 0.2, 0.3),
    Condition("CLBBB", "complete left bundle branch block", "kompletter Linksschenkelblock", "CD", "diagnostic",
              0.02, 0.45, 0.5, 0.0),
    Condition("CRBBB", "complete right bundle branch block", "kompletter Rechtsschenkelblock", "CD", "diagnostic",
              0.022, 0.45, 0.3, 0.45),
    Condition("IRBBB", "incomplete right bundle branch block", "inkompletter Rechtsschenkelblock", "CD",
              "diagnostic", 0.045, -0.1, 0.0, 0.4),
    Condition("LAFB", "left anterior fascicular block", "linksanteriorer Hemiblock", "CD", "diagnostic",
              0.06, 0.45, 0.35, 0.35),
    Condition("LVH", "left ventricular hypertrophy", "linksventrikuläre Hypertrophie", "HYP", "diagnostic",
              0.08, 0.3, 0.6, 0.35),
    Condition("IMI", "inferior myocardial infarction", "inferiorer Myokardinfarkt", "MI", "diagnostic",
              0.06, 0.4, 0.85, 0.6),
    Condition("ASMI", "anteroseptal myocardial infarction", "anteroseptaler Myokardinfarkt", "MI", "diagnostic",
              0.05, 0.4, 0.85, 0.6),
    Condition("AMI", "anterior myocardial infarction", "anteriorer Myokardinfarkt", "MI", "diagnostic",
              0.012, 0.4, 0.85, 0.6),
    Condition("LMI", "lateral myocardial infarction", "lateraler Myokardinfarkt", "MI", "diagnostic",
              0.01, 0.4, 0.85, 0.5),
    Condition("ISC_", "non-specific ischaemic ST depression", "ischämische ST-Senkung", "STTC", "diagnostic",
              0.045, 0.4, 0.7, 0.1),
    Condition("STD_", "non-specific ST depression", "unspezifische ST-Senkung", None, "form", 0.03, 0.3, 0.4),
    Condition("INVT", "inverted T waves", "negative T-Wellen", None, "form", 0.018, 0.3, 0.5),
    Condition("LNGQT", "long QT interval", "QT-Verlängerung", "STTC", "diagnostic", 0.012, 0.25, 0.4, -0.4),
]}

RHYTHMS = ("SR", "SBRAD", "STACH", "SARRH", "AFIB")
SINUS_RHYTHMS = ("SR", "SBRAD", "STACH", "SARRH")
MI_CODES = ("IMI", "ASMI", "AMI", "LMI")
MI_TERRITORY = {"IMI": "inferior", "ASMI": "anterior", "AMI": "anterior", "LMI": "lateral"}
EXCLUDES: tuple[tuple[str, str], ...] = (
    ("AFIB", "1AVB"), ("AFIB", "PAC"),
    ("CLBBB", "CRBBB"), ("CLBBB", "IRBBB"), ("CLBBB", "LAFB"), ("CLBBB", "ISC_"), ("CLBBB", "STD_"),
    ("CRBBB", "IRBBB"), ("AMI", "ASMI"),
)
IMPLIES: dict[str, tuple[str, ...]] = {"ISC_": ("STD_",)}
MAX_MI_TERRITORIES = 2
SECOND_MI_ODDS = 0.1

_EXCLUDE_SET = {frozenset(p) for p in EXCLUDES}


def vocabulary() -> dict[str, dict[str, Any]]:
    """The vocabulary as plain dicts (code -> en, de, superclass, kind, prevalence, odds ratios), JSON-ready."""
    return {code: {k: v for k, v in asdict(c).items() if k != "code"} for code, c in CONDITIONS.items()}


def is_abnormal(code: str) -> bool:
    """True for every code except NORM and the sinus rhythm statements."""
    return code != "NORM" and code not in SINUS_RHYTHMS


def check_conditions(codes: Iterable[str]) -> list[str]:
    """Every rule a code list breaks, as readable messages (empty when the list is valid)."""
    codes = list(codes)
    errors = [f"unknown condition code {c!r}" for c in codes if c not in CONDITIONS]
    s = set(codes)
    if len(s) != len(codes):
        errors.append("duplicate codes")
    rhythms = [c for c in codes if c in RHYTHMS]
    if len(rhythms) != 1:
        errors.append(f"exactly one rhythm statement needed, got {rhythms}")
    if "NORM" in s and any(is_abnormal(c) for c in s):
        errors.append(f"NORM together with abnormal findings {sorted(c for c in s if is_abnormal(c))}")
    if "NORM" not in s and not any(is_abnormal(c) for c in s):
        errors.append("no abnormal finding but NORM missing")
    errors += [f"{a} excludes {b}" for a, b in EXCLUDES if a in s and b in s]
    errors += [f"{a} requires {b}" for a, bs in IMPLIES.items() if a in s for b in bs if b not in s]
    if sum(c in s for c in MI_CODES) > MAX_MI_TERRITORIES:
        errors.append(f"more than {MAX_MI_TERRITORIES} MI territories")
    return errors


def _compatible(code: str, chosen: set[str]) -> bool:
    if any(frozenset((code, c)) in _EXCLUDE_SET for c in chosen):
        return False
    return not (code in MI_CODES and sum(c in chosen for c in MI_CODES) >= MAX_MI_TERRITORIES)


def condition_probability(code: str, latent_health: float, age: float, sex: str) -> float:
    """Probability of ``code`` for one patient before the rules are applied (``sex`` "M" or "F")."""
    c = CONDITIONS[code]
    p0 = min(max(c.prevalence, 1e-9), 1 - 1e-9)
    logit = (np.log(p0 / (1 - p0)) + c.age_log_or * (age - 60.0) / 10.0 + c.health_log_or * latent_health
             + c.male_log_or * (str(sex).upper().startswith("M")))
    return float(1.0 / (1.0 + np.exp(-logit)))


def sample_conditions(latent_health: float, age: float, sex: str, rng: np.random.Generator) -> list[str]:
    """Draw the condition codes of one record; the result always passes :func:`check_conditions`.

    Args:
        latent_health: the patient's latent state (standard normal, higher = sicker).
        age: years.
        sex: "M" or "F".
        rng: the only source of randomness.

    Returns:
        Codes in vocabulary order, with one rhythm statement and NORM when nothing is abnormal.
    """
    p = {c: condition_probability(c, latent_health, age, sex) for c in ("AFIB", "SBRAD", "STACH", "SARRH")}
    if rng.random() < p["AFIB"]:
        rhythm = "AFIB"
    else:
        sinus = np.array([p["SBRAD"], p["STACH"], p["SARRH"]])
        sinus = sinus / max(1.0, sinus.sum())
        k = int(rng.choice(4, p=[*sinus, 1.0 - sinus.sum()]))
        rhythm = ("SBRAD", "STACH", "SARRH", "SR")[k]
    chosen = {rhythm}
    others = [c for c, v in CONDITIONS.items() if v.kind != "rhythm" and c != "NORM"]
    for j in rng.permutation(len(others)):
        code = others[int(j)]
        prob = condition_probability(code, latent_health, age, sex)
        if code in MI_CODES and any(c in chosen for c in MI_CODES):
            prob = prob * SECOND_MI_ODDS / (1 - prob + prob * SECOND_MI_ODDS)
        if rng.random() < prob and _compatible(code, chosen) and all(_compatible(b, chosen)
                                                                       for b in IMPLIES.get(code, ())):
            chosen.add(code)
            chosen.update(IMPLIES.get(code, ()))
    if not any(is_abnormal(c) for c in chosen):
        chosen.add("NORM")
    return [c for c in CONDITIONS if c in chosen]


def sample_cohort_conditions(latent_health: Iterable[float], age: Iterable[float], sex: Iterable[str],
                             rng: np.random.Generator) -> list[list[str]]:
    """:func:`sample_conditions` for every patient of a cohort (e.g. the columns of ``sample_patients``)."""
    return [sample_conditions(float(h), float(a), str(s), rng) for h, a, s in zip(latent_health, age, sex, strict=True)]


def validate_codes(codes: Iterable[str]) -> list[str]:
    """Return ``codes`` as a list, raising :class:`LabelError` with the broken rules if it is invalid."""
    codes = list(codes)
    errors = check_conditions(codes)
    if errors:
        raise LabelError(f"conditions {codes}: " + "; ".join(errors) + " (see cardiofm.synth.conditions)")
    return codes
