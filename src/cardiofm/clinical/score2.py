"""SCORE2 / SCORE2-OP: 10-year risk of fatal and non-fatal cardiovascular disease, as CLEF uses it.

CLEF (``papers/clef.txt``, Appendix C.6) weights contrastive negatives by SCORE2 computed from seven inputs:
age, sex, smoking, systolic blood pressure (SBP), diabetes, total cholesterol and HDL cholesterol.

Model (CLEF eqs. S1-S3, Table S8; cross-checked against the SCORE2 working group's models as implemented in
the R package RiskScorescvd, ``R/11_SCORE2_func.R``, and the working group's Stata program ``score2oprisk``):

* age < 70 (SCORE2): ``u = [(age-60)/5, smoking, (sbp-120)/20, diabetes, tchol-6, (hdl-1.3)/0.5]`` (eq. S1),
  ``x = b1 . u + u1 * (b2 . u)`` (eq. S2), ``risk = 1 - S0 ** exp(x - c)`` (eq. S3) with ``c = 0``.
* age >= 70 (SCORE2-OP): same form, but the published SCORE2-OP centres and scales differently:
  ``age-73``, ``sbp-150``, ``tchol-6``, ``hdl-1.4``, all per one unit (years, mmHg, mmol/L). CLEF's eq. S1 shows only
  the SCORE2 standardisation; its Table S8 OP coefficients (e.g. 0.0094 per mmHg) only make sense with the OP
  centring used by RiskScorescvd, which CLEF cites as its implementation, so that is what is used here.
* Table S8 lists the interaction coefficients beta7..beta11 in the order age x {smoking, SBP, total cholesterol,
  HDL, diabetes} (verified coefficient by coefficient against RiskScorescvd for all four sex/age columns); they are
  paired here by name, not by the position of ``u`` in eq. S2.

Regional recalibration: CLEF omits it ("we directly used the uncalibrated 10-year risk score"), so the default
``region=None`` returns the uncalibrated risk. ``region`` in ``REGIONS`` applies the published recalibration
``1 - exp(-exp(scale1 + scale2 * log(-log(1 - risk))))``.

Missing values (CLEF Appendix C.6, for MIMIC-IV-ECG, which records only age, sex and SBP):

* smoking, diabetes missing -> 0 (paper);
* total cholesterol missing -> 5.2 + 0.5 * N(0, 1) mmol/L; HDL missing -> 1.3 + 0.2 * N(0, 1) mmol/L (paper:
  "population-based reference values stratified by sex ... mean values of age group 40-45" of the SCORE2 paper;
  the paper gives one value per variable, so both sexes use the same values). Noise comes from ``rng``; one normal
  draw per record and variable is made whether or not the value is missing, so a record's imputed value depends
  only on the seed and its position. Imputed values are clipped to at least 0.1 mmol/L;
* age missing -> 40 years (paper);
* SBP missing (not covered by the paper) -> 120 mmHg, the SCORE2 centring value (cohort-independent fallback);
* sex missing (not covered by the paper) -> the mean of the male and the female risk (cohort-independent fallback).

Ages outside the validated ranges (SCORE2 40-69, SCORE2-OP 70-89) are extrapolated, not clipped, as in CLEF's
MIMIC cohort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cardiofm.errors import ConfigError

#: The seven SCORE2 inputs, in the order used by ``Score2Result.imputed`` and ``n_missing``.
INPUT_NAMES: tuple[str, ...] = ("age", "sex", "smoking", "sbp", "diabetes", "tchol", "hdl")

#: Imputation constants (CLEF Appendix C.6 unless marked as a fallback).
AGE_FALLBACK = 40.0
SBP_FALLBACK = 120.0  # fallback, not in the paper: SCORE2 centring value
TCHOL_MEAN, TCHOL_SD = 5.2, 0.5
HDL_MEAN, HDL_SD = 1.3, 0.2
_MIN_IMPUTED_LIPID = 0.1

# Coefficients by model, named by term. Source: CLEF Table S8 (values identical to RiskScorescvd's SCORE2 /
# SCORE2-OP coefficients, which are the rounded published SCORE2 working-group values, Eur Heart J 2021).
# Keys: age, smoking, sbp, diabetes, tchol, hdl (= beta1..beta6), then age interactions smoking_age (beta7),
# sbp_age (beta8), tchol_age (beta9), hdl_age (beta10), diabetes_age (beta11); S0 = 10-year baseline survival;
# c = linear-predictor offset (eq. S3).
_COEF: dict[tuple[str, bool], dict[str, float]] = {
    ("score2", True): {
        "age": 0.3742, "smoking": 0.6012, "sbp": 0.2777, "diabetes": 0.6457, "tchol": 0.1458, "hdl": -0.2698,
        "smoking_age": -0.0755, "sbp_age": -0.0255, "tchol_age": -0.0281, "hdl_age": 0.0426, "diabetes_age": -0.0983,
        "S0": 0.9605, "c": 0.0,
    },
    ("score2", False): {
        "age": 0.4648, "smoking": 0.7744, "sbp": 0.3131, "diabetes": 0.8096, "tchol": 0.1002, "hdl": -0.2606,
        "smoking_age": -0.1088, "sbp_age": -0.0277, "tchol_age": -0.0226, "hdl_age": 0.0613, "diabetes_age": -0.1272,
        "S0": 0.9776, "c": 0.0,
    },
    ("op", True): {
        "age": 0.0634, "smoking": 0.3524, "sbp": 0.0094, "diabetes": 0.4245, "tchol": 0.0850, "hdl": -0.3564,
        "smoking_age": -0.0247, "sbp_age": -0.0005, "tchol_age": 0.0073, "hdl_age": 0.0091, "diabetes_age": -0.0174,
        "S0": 0.7576, "c": 0.0929,
    },
    ("op", False): {
        "age": 0.0789, "smoking": 0.4921, "sbp": 0.0102, "diabetes": 0.6010, "tchol": 0.0605, "hdl": -0.3040,
        "smoking_age": -0.0255, "sbp_age": -0.0004, "tchol_age": -0.0009, "hdl_age": 0.0154, "diabetes_age": -0.0107,
        "S0": 0.8082, "c": 0.2290,
    },
}

# Standardisation (centre, scale) per model: CLEF eq. S1 for SCORE2; SCORE2-OP centring from RiskScorescvd and the
# SCORE2 working group's Stata program (ages-73, sbp-150, tchol-6, hdl-1.4, all /1).
_CENTRE_SCALE: dict[str, dict[str, tuple[float, float]]] = {
    "score2": {"age": (60.0, 5.0), "sbp": (120.0, 20.0), "tchol": (6.0, 1.0), "hdl": (1.3, 0.5)},
    "op": {"age": (73.0, 1.0), "sbp": (150.0, 1.0), "tchol": (6.0, 1.0), "hdl": (1.4, 1.0)},
}

# Regional recalibration (scale1, scale2) by (model, male). SCORE2: SCORE2 working group (Eur Heart J 2021,
# supplementary methods); the low-region values match RiskScorescvd. SCORE2-OP: the working group's Stata program
# score2oprisk ("Europe: published work"), rounded to two decimals as published. All are checked in the tests
# against the worked examples of the SCORE2 / SCORE2-OP supplementary tables.
_RECAL: dict[str, dict[tuple[str, bool], tuple[float, float]]] = {
    "low": {
        ("score2", True): (-0.5699, 0.7476), ("score2", False): (-0.7380, 0.7019),
        ("op", True): (-0.34, 1.19), ("op", False): (-0.52, 1.01),
    },
    "moderate": {
        ("score2", True): (-0.1565, 0.8009), ("score2", False): (-0.3143, 0.7701),
        ("op", True): (0.01, 1.25), ("op", False): (-0.10, 1.10),
    },
    "high": {
        ("score2", True): (0.3207, 0.9360), ("score2", False): (0.5710, 0.9369),
        ("op", True): (0.08, 1.15), ("op", False): (0.38, 1.09),
    },
    "very high": {
        ("score2", True): (0.5836, 0.8294), ("score2", False): (0.9412, 0.8329),
        ("op", True): (0.05, 0.70), ("op", False): (0.38, 0.69),
    },
}

#: Accepted values of ``region`` besides ``None`` (uncalibrated, as in CLEF).
REGIONS: tuple[str, ...] = tuple(_RECAL)

_MALE_STRINGS = {"m", "male", "man"}
_FEMALE_STRINGS = {"f", "female", "woman"}
_MISSING_STRINGS = {"", "nan", "none", "na", "unknown"}


@dataclass(frozen=True)
class Score2Result:
    """SCORE2 output.

    Attributes:
        risk: 10-year CVD risk in [0, 1], shape of the (broadcast) inputs.
        n_missing: how many of the seven inputs were missing per record (int array, same shape).
        imputed: input name (see ``INPUT_NAMES``) -> bool mask of records where that input was imputed.
    """

    risk: np.ndarray
    n_missing: np.ndarray
    imputed: dict[str, np.ndarray]


def _as_float(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"score2: {name} must be numeric (NaN for missing); got {value!r}") from exc
    return arr


def _parse_sex(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (is_male, missing) float/bool arrays. Strings M/F (male/female), or numbers 1 = male, 0 = female."""
    arr = np.asarray(value, dtype=object)
    flat = arr.reshape(-1)
    male = np.zeros(flat.shape, dtype=bool)
    missing = np.zeros(flat.shape, dtype=bool)
    for i, v in enumerate(flat):
        if v is None:
            missing[i] = True
        elif isinstance(v, str):
            s = v.strip().lower()
            if s in _MALE_STRINGS:
                male[i] = True
            elif s in _FEMALE_STRINGS:
                pass
            elif s in _MISSING_STRINGS:
                missing[i] = True
            else:
                raise ConfigError(f"score2: unknown sex {v!r}; use 'M'/'F' (or 1 = male, 0 = female, NaN = missing)")
        else:
            try:
                f = float(v)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"score2: unknown sex {v!r}; use 'M'/'F' (or 1 = male, 0 = female)") from exc
            if np.isnan(f):
                missing[i] = True
            elif f == 1.0:
                male[i] = True
            elif f != 0.0:
                raise ConfigError(f"score2: unknown sex {v!r}; numeric sex must be 1 (male) or 0 (female)")
    return male.reshape(arr.shape), missing.reshape(arr.shape)


def _linear_risk(
    model: str, male: bool, age: np.ndarray, smoking: np.ndarray, sbp: np.ndarray,
    diabetes: np.ndarray, tchol: np.ndarray, hdl: np.ndarray, region: str | None,
) -> np.ndarray:
    """Eqs. S1-S3 (plus optional recalibration) for one model and sex, all inputs complete."""
    b = _COEF[(model, male)]
    cs = _CENTRE_SCALE[model]
    u_age = (age - cs["age"][0]) / cs["age"][1]
    u_sbp = (sbp - cs["sbp"][0]) / cs["sbp"][1]
    u_tc = (tchol - cs["tchol"][0]) / cs["tchol"][1]
    u_hdl = (hdl - cs["hdl"][0]) / cs["hdl"][1]
    x = (
        b["age"] * u_age + b["smoking"] * smoking + b["sbp"] * u_sbp + b["diabetes"] * diabetes
        + b["tchol"] * u_tc + b["hdl"] * u_hdl
        + u_age * (b["smoking_age"] * smoking + b["sbp_age"] * u_sbp + b["tchol_age"] * u_tc
                   + b["hdl_age"] * u_hdl + b["diabetes_age"] * diabetes)
    )
    with np.errstate(over="ignore"):
        risk = 1.0 - b["S0"] ** np.exp(x - b["c"])
    if region is not None:
        s1, s2 = _RECAL[region][(model, male)]
        r = np.clip(risk, 1e-15, 1.0 - 1e-15)
        risk = 1.0 - np.exp(-np.exp(s1 + s2 * np.log(-np.log1p(-r))))
    return np.clip(risk, 0.0, 1.0)


def _risk_for_sex(
    male: bool, age: np.ndarray, smoking: np.ndarray, sbp: np.ndarray,
    diabetes: np.ndarray, tchol: np.ndarray, hdl: np.ndarray, region: str | None,
) -> np.ndarray:
    old = age >= 70.0
    out = np.empty(age.shape, dtype=float)
    for model, sel in (("score2", ~old), ("op", old)):
        if sel.any():
            out[sel] = _linear_risk(
                model, male, age[sel], smoking[sel], sbp[sel], diabetes[sel], tchol[sel], hdl[sel], region
            )
    return out


def score2(
    age: Any,
    sex: Any,
    smoking: Any,
    sbp: Any,
    diabetes: Any,
    tchol: Any,
    hdl: Any,
    *,
    region: str | None = None,
    rng: np.random.Generator | int | None = None,
) -> Score2Result:
    """Compute SCORE2 (age < 70) / SCORE2-OP (age >= 70) 10-year CVD risk, vectorised, with CLEF's imputation.

    Args:
        age: years. NaN = missing (imputed as 40).
        sex: "M"/"F" (also "male"/"female", any case) or numbers 1 = male, 0 = female; None/NaN/"" = missing.
        smoking: 0/1 (or bool). NaN = missing (-> 0).
        sbp: systolic blood pressure, mmHg (> 0). NaN = missing (-> 120, fallback).
        diabetes: 0/1 (or bool). NaN = missing (-> 0).
        tchol: total cholesterol, mmol/L (> 0). NaN = missing (-> 5.2 + 0.5 N(0,1)).
        hdl: HDL cholesterol, mmol/L (> 0). NaN = missing (-> 1.3 + 0.2 N(0,1)).
        region: None (default; uncalibrated risk, as CLEF) or one of ``REGIONS`` ("low", "moderate", "high",
            "very high") for the published regional recalibration.
        rng: generator or integer seed for the cholesterol imputation noise; None means seed 0 (deterministic).

    Inputs are arrays of one common shape or scalars (scalars broadcast). Returns a ``Score2Result`` whose arrays
    have that shape (0-d if every input is a scalar).

    Raises:
        ConfigError: unknown sex, non-binary smoking/diabetes, non-positive SBP or cholesterol, negative age,
            unknown region, or inputs of different shapes.
    """
    if region is not None:
        key = str(region).strip().lower().replace("_", " ")
        if key not in _RECAL:
            raise ConfigError(f"score2: unknown region {region!r}; use None (uncalibrated) or one of {REGIONS}")
        region = key

    arrays = {
        "age": _as_float("age", age),
        "smoking": _as_float("smoking", smoking),
        "sbp": _as_float("sbp", sbp),
        "diabetes": _as_float("diabetes", diabetes),
        "tchol": _as_float("tchol", tchol),
        "hdl": _as_float("hdl", hdl),
    }
    male, sex_missing = _parse_sex(sex)
    shapes = {name: a.shape for name, a in arrays.items()}
    shapes["sex"] = male.shape
    non_scalar = {s for s in shapes.values() if s != ()}
    if len(non_scalar) > 1:
        detail = ", ".join(f"{k}={v}" for k, v in shapes.items())
        raise ConfigError(f"score2: inputs must share one shape (or be scalars); got {detail}")
    shape = non_scalar.pop() if non_scalar else ()
    flat = {name: np.broadcast_to(a, shape).reshape(-1).copy() for name, a in arrays.items()}
    male = np.broadcast_to(male, shape).reshape(-1).copy()
    sex_missing = np.broadcast_to(sex_missing, shape).reshape(-1).copy()
    n = male.size

    missing = {name: np.isnan(a) for name, a in flat.items()}
    missing["sex"] = sex_missing

    for name in ("smoking", "diabetes"):
        a = flat[name]
        bad = ~missing[name] & (a != 0.0) & (a != 1.0)
        if bad.any():
            raise ConfigError(f"score2: {name} must be 0, 1 or NaN; got {a[bad][0]!r}")
    for name, unit in (("sbp", "mmHg"), ("tchol", "mmol/L"), ("hdl", "mmol/L")):
        a = flat[name]
        bad = ~missing[name] & ~(a > 0.0)
        if bad.any():
            raise ConfigError(f"score2: {name} must be positive ({unit}) or NaN; got {a[bad][0]!r}")
        if np.isinf(a).any():
            raise ConfigError(f"score2: {name} must be finite or NaN")
    a = flat["age"]
    if (~missing["age"] & ~((a >= 0.0) & np.isfinite(a))).any():
        raise ConfigError(f"score2: age must be a non-negative number of years or NaN; got {a[a < 0][:1]!r}")

    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
    z_tc = gen.standard_normal(n)
    z_hdl = gen.standard_normal(n)

    flat["age"][missing["age"]] = AGE_FALLBACK
    flat["smoking"][missing["smoking"]] = 0.0
    flat["diabetes"][missing["diabetes"]] = 0.0
    flat["sbp"][missing["sbp"]] = SBP_FALLBACK
    m = missing["tchol"]
    flat["tchol"][m] = np.maximum(TCHOL_MEAN + TCHOL_SD * z_tc[m], _MIN_IMPUTED_LIPID)
    m = missing["hdl"]
    flat["hdl"][m] = np.maximum(HDL_MEAN + HDL_SD * z_hdl[m], _MIN_IMPUTED_LIPID)

    args = (flat["age"], flat["smoking"], flat["sbp"], flat["diabetes"], flat["tchol"], flat["hdl"], region)
    risk_m = _risk_for_sex(True, *args)
    risk_f = _risk_for_sex(False, *args)
    risk = np.where(sex_missing, 0.5 * (risk_m + risk_f), np.where(male, risk_m, risk_f))

    imputed = {name: missing[name].reshape(shape) for name in INPUT_NAMES}
    n_missing = np.sum([missing[name] for name in INPUT_NAMES], axis=0).astype(int).reshape(shape)
    return Score2Result(risk=risk.reshape(shape), n_missing=n_missing, imputed=imputed)
