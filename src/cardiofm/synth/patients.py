"""Synthetic patients: demographics, SCORE2 inputs with realistic missingness, five phenotype blocks.

Every patient has a latent health state ``latent_health`` (standard normal, higher = sicker) that
drives the risk factors, the phenotype blocks, the conditions (:mod:`cardiofm.synth.conditions`)
and the outcomes (:mod:`cardiofm.synth.outcomes`).

Base columns (unit; plausible range):

- ``patient_id`` ("S000001"...), ``latent_health``, ``age`` (years; 18-95, median ~61 as PTB-XL),
  ``sex`` ("M"/"F", 52 % men);
- ``height`` (cm; 140-205), ``weight`` (kg; 32-200), ``bmi`` (kg/m^2; 16-55, NaN if height or weight is);
- SCORE2 inputs: ``smoking`` (0/1), ``sbp`` (systolic BP, mmHg; 85-230, rises with age, BMI and
  latent), ``diabetes`` (0/1), ``cholesterol`` (total, mmol/L; 2.5-10), ``hdl`` (mmol/L; 0.5-3.0,
  ~0.3 lower in men, lower with BMI, smoking and latent).

Missingness (NaN) is drawn per column at the rates of :data:`DEFAULT_MISSINGNESS`, reproduced in
expectation: each patient's probability follows a logistic model in age and latent state (labs and
history are recorded less often for the young and healthy) whose intercept is solved so that the
mean probability equals the configured rate. Columns of a group (cholesterol+HDL: one lab panel;
height+weight) share one uniform draw, so they tend to be missing together. A phenotype block name
(``"dexa"``, ...) as key drops that whole block for that share of patients (default 0). The values
before masking are kept as ``true_<column>`` for the base columns.

Phenotype blocks (:data:`PHENOTYPE_BLOCKS`; units and ranges in :data:`PHENOTYPE_UNITS`):
DEXA body composition, CGM glycaemic summary (iglu-style), retinal vessel morphology
(AutoMorph-style), liver ultrasound / elastography, anthropometrics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from cardiofm.errors import ConfigError

MASKABLE = ("height", "weight", "smoking", "sbp", "diabetes", "cholesterol", "hdl")
DEFAULT_MISSINGNESS: dict[str, float] = {
    "height": 0.35, "weight": 0.25, "smoking": 0.20, "sbp": 0.10, "diabetes": 0.15,
    "cholesterol": 0.35, "hdl": 0.38,
}
MISSING_GROUPS = (("height", "weight"), ("cholesterol", "hdl"), ("smoking",), ("diabetes",), ("sbp",))
# log-odds of missingness per SD of (age, latent health): negative = observed more often when older/sicker
MISSING_DRIVERS = {"height": (0.3, 0.0), "weight": (0.3, 0.0), "smoking": (-0.3, -0.3), "diabetes": (-0.3, -0.4),
                   "sbp": (-0.2, -0.2), "cholesterol": (-0.5, -0.6), "hdl": (-0.5, -0.6)}

PHENOTYPE_UNITS: dict[str, dict[str, str]] = {
    "dexa": {"dexa_fat_pct": "% body fat; 8-55", "dexa_fat_mass_kg": "kg; 5-90", "dexa_lean_mass_kg": "kg; 28-85",
             "dexa_vat_g": "visceral adipose tissue, g; 50-4000", "dexa_android_gynoid": "ratio; 0.5-1.7",
             "dexa_alm_index": "appendicular lean mass / height^2, kg/m^2; 4.5-11",
             "dexa_bmd_spine": "L1-L4 bone mineral density, g/cm^2; 0.6-1.6",
             "dexa_bmd_femneck": "femoral neck BMD, g/cm^2; 0.45-1.3"},
    "cgm": {"cgm_mean_glucose": "mg/dL; 75-300", "cgm_sd": "mg/dL; 8-110", "cgm_cv": "% (SD/mean); 10-50",
            "cgm_tir": "% time 70-180 mg/dL; 0-100", "cgm_tar": "% time >180 mg/dL; 0-100",
            "cgm_tbr": "% time <70 mg/dL; 0-30", "cgm_mage": "mean amplitude of glycaemic excursions, mg/dL; 15-250",
            "cgm_gmi": "glucose management indicator, % (3.31 + 0.02392 x mean); 5.1-10.5"},
    "retina": {"retina_crae": "central retinal arteriolar equivalent, um; 100-190",
               "retina_crve": "central retinal venular equivalent, um; 160-280",
               "retina_avr": "arteriole/venule ratio; 0.5-0.95",
               "retina_artery_tortuosity": "distance measure x1e3; 0.5-5",
               "retina_vein_tortuosity": "x1e3; 0.5-5", "retina_fractal_dim": "box-counting dimension; 1.30-1.55",
               "retina_artery_density": "vessel area fraction; 0.03-0.10",
               "retina_vein_density": "vessel area fraction; 0.04-0.12"},
    "liver": {"liver_fat_pct": "fat fraction, %; 0.5-40", "liver_steatosis_grade": "0-3 (<5, 5-15, 15-25, >=25 %)",
              "liver_cap": "controlled attenuation parameter, dB/m; 150-400",
              "liver_attenuation": "dB/cm/MHz; 0.4-1.1", "liver_sound_speed": "m/s; 1450-1600",
              "liver_stiffness_kpa": "shear-wave elastography, kPa; 2-40",
              "liver_swv": "shear-wave velocity, m/s (sqrt(kPa/3)); 0.8-3.7"},
    "anthro": {"anthro_waist_cm": "cm; 55-170", "anthro_hip_cm": "cm; 75-170", "anthro_whr": "waist/hip; 0.65-1.25",
               "anthro_whtr": "waist/height; 0.35-0.9", "anthro_neck_cm": "cm; 27-55",
               "anthro_bsa": "body surface area (Mosteller), m^2; 1.3-2.9"},
}
PHENOTYPE_BLOCKS: dict[str, list[str]] = {block: list(cols) for block, cols in PHENOTYPE_UNITS.items()}


def _clip_noise(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    return np.clip(rng.normal(0.0, sd, n), -3 * sd, 3 * sd)


def _base(n: int, rng: np.random.Generator) -> pd.DataFrame:
    latent = rng.standard_normal(n)
    age = np.round(np.clip(18 + 77 * rng.beta(2.6, 2.0, n), 18, 95))
    male = rng.random(n) < 0.52
    a10 = (age - 60) / 10
    height = np.where(male, 177.0, 164.0) - 0.06 * np.clip(age - 50, 0, None) + _clip_noise(rng, n, 6.8)
    bmi = np.clip(26.0 + 1.2 * latent + 0.6 * a10 - 0.25 * a10**2 + _clip_noise(rng, n, 3.8), 16, 55)
    weight = bmi * (height / 100) ** 2
    smoke_p = 1 / (1 + np.exp(-(-1.25 + 0.35 * male + 0.35 * latent - 0.2 * a10)))
    smoking = (rng.random(n) < smoke_p).astype(float)
    diab_p = 1 / (1 + np.exp(-(-2.7 + 0.35 * a10 + 0.8 * latent + 0.1 * (bmi - 26))))
    diabetes = (rng.random(n) < diab_p).astype(float)
    sbp = np.clip(131 + 5.5 * a10 + 4.5 * latent + 0.6 * (bmi - 26) + 3.5 * male + _clip_noise(rng, n, 13), 85, 230)
    chol = np.clip(5.3 + 0.05 * a10 + 0.35 * (~male & (age > 55)) + 0.25 * latent + _clip_noise(rng, n, 0.9), 2.5, 10)
    hdl = np.clip(np.where(male, 1.22, 1.52) - 0.06 * latent - 0.018 * (bmi - 26) - 0.08 * smoking
                  + _clip_noise(rng, n, 0.3), 0.5, 3.0)
    return pd.DataFrame({
        "patient_id": [f"S{i:06d}" for i in range(1, n + 1)], "latent_health": latent, "age": age,
        "sex": np.where(male, "M", "F"), "height": np.round(height, 1), "weight": np.round(weight, 1),
        "bmi": np.round(bmi, 2), "smoking": smoking, "sbp": np.round(sbp), "diabetes": diabetes,
        "cholesterol": np.round(chol, 2), "hdl": np.round(hdl, 2),
    })


def _phenotypes(b: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(b)
    h, age, bmi, male = (b[c].to_numpy() for c in ("latent_health", "age", "bmi", "sex"))
    male = male == "M"
    hm, wt, diab, smk, sbp = (b[c].to_numpy() for c in ("height", "weight", "diabetes", "smoking", "sbp"))
    hm = hm / 100
    a10 = (age - 60) / 10

    def e(sd: float) -> np.ndarray:
        return _clip_noise(rng, n, sd)

    out: dict[str, np.ndarray] = {}
    # DEXA: fat % from BMI, sex and age (Deurenberg-like), lean mass the remainder
    fat = np.clip(1.2 * bmi + 0.23 * age - 10.8 * male - 5.4 + 0.8 * h + e(3.0), 8, 55)
    out["dexa_fat_pct"] = fat
    out["dexa_fat_mass_kg"] = wt * fat / 100
    out["dexa_lean_mass_kg"] = np.clip(wt * (1 - fat / 100) * 0.95, 28, 85)
    out["dexa_vat_g"] = np.clip(np.exp(6.4 + 0.09 * (bmi - 26) + 0.45 * male + 0.12 * a10 + 0.2 * h + e(0.3)), 50, 4000)
    out["dexa_android_gynoid"] = np.clip(0.95 + 0.02 * (bmi - 26) + 0.18 * male + 0.05 * h + e(0.08), 0.5, 1.7)
    out["dexa_alm_index"] = np.clip(out["dexa_lean_mass_kg"] * 0.45 / hm**2 - 0.15 * a10 + e(0.4), 4.5, 11)
    bmd_loss = 0.008 * np.clip(age - 50, 0, None) * np.where(male, 0.5, 1.0)
    out["dexa_bmd_spine"] = np.clip(1.08 + 0.06 * male - bmd_loss + 0.006 * (bmi - 26) + e(0.12), 0.6, 1.6)
    out["dexa_bmd_femneck"] = np.clip(0.88 + 0.07 * male - 1.1 * bmd_loss + 0.005 * (bmi - 26) + e(0.1), 0.45, 1.3)
    # CGM: mean glucose from diabetes and latent; variability grows with the mean
    mg = np.clip(np.where(diab > 0, 150.0, 100.0) + 12 * h + 4 * a10 + 0.6 * (bmi - 26)
                 + np.where(diab > 0, e(30.0), e(8.0)), 75, 300)
    cv = np.clip(17 + 0.06 * (mg - 100) + 1.5 * h + e(3.5), 10, 50)
    sd = mg * cv / 100
    s_log = np.sqrt(np.log1p((cv / 100) ** 2))  # glucose readings taken as log-normal around the mean
    mu_log = np.log(mg) - s_log**2 / 2
    tar = 100 * norm.sf((np.log(180) - mu_log) / s_log)
    tbr = 100 * np.clip(norm.cdf((np.log(70) - mu_log) / s_log), 0, 0.3)
    out.update(cgm_mean_glucose=mg, cgm_sd=sd, cgm_cv=cv, cgm_tir=np.clip(100 - tar - tbr, 0, 100), cgm_tar=tar,
               cgm_tbr=tbr, cgm_mage=np.clip(2.2 * sd * np.exp(e(0.15)), 15, 250), cgm_gmi=3.31 + 0.02392 * mg)
    # retina: narrower arterioles with BP and age, wider venules with smoking, diabetes, BMI, latent
    crae = np.clip(158 - 0.35 * (sbp - 130) - 2.0 * a10 + e(12.0), 100, 190)
    crve = np.clip(226 + 7 * smk + 5 * diab + 0.8 * (bmi - 26) + 4 * h - 2.5 * a10 + e(16.0), 160, 280)
    out.update(retina_crae=crae, retina_crve=crve, retina_avr=np.clip(crae / crve, 0.5, 0.95))
    out["retina_artery_tortuosity"] = np.clip(np.exp(0.4 + 0.06 * (sbp - 130) / 10 + 0.12 * h + e(0.3)), 0.5, 5)
    out["retina_vein_tortuosity"] = np.clip(np.exp(0.5 + 0.15 * diab + 0.1 * h + e(0.3)), 0.5, 5)
    fd = np.clip(1.47 - 0.012 * a10 - 0.01 * h - 0.0008 * (sbp - 130) - 0.01 * diab + e(0.025), 1.30, 1.55)
    out["retina_fractal_dim"] = fd
    out["retina_artery_density"] = np.clip(0.062 + 0.25 * (fd - 1.47) - 0.0002 * (sbp - 130) + e(0.006), 0.03, 0.10)
    out["retina_vein_density"] = np.clip(0.078 + 0.25 * (fd - 1.47) + 0.003 * smk + e(0.007), 0.04, 0.12)
    # liver: fat fraction from BMI, diabetes, latent; stiffness rises with fat and latent
    lf = np.clip(np.exp(1.35 + 0.09 * (bmi - 26) + 0.45 * diab + 0.3 * h + 0.15 * male + e(0.55)), 0.5, 40)
    out["liver_fat_pct"] = lf
    out["liver_steatosis_grade"] = np.digitize(lf, [5.0, 15.0, 25.0]).astype(float)
    out["liver_cap"] = np.clip(190 + 5.8 * lf + e(22.0), 150, 400)
    out["liver_attenuation"] = np.clip(0.52 + 0.012 * lf + e(0.05), 0.4, 1.1)
    out["liver_sound_speed"] = np.clip(1565 - 2.4 * lf + e(10.0), 1450, 1600)
    kpa = np.clip(np.exp(1.55 + 0.012 * lf + 0.15 * h + 0.25 * diab + 0.04 * a10 + e(0.25)), 2, 40)
    out.update(liver_stiffness_kpa=kpa, liver_swv=np.sqrt(kpa / 3))
    # anthropometrics
    waist = np.clip(np.where(male, 94.0, 84.0) + 2.1 * (bmi - 26) + 2.0 * a10 + 1.2 * h + e(5.0), 55, 170)
    hip = np.clip(np.where(male, 101.0, 105.0) + 1.8 * (bmi - 26) + e(5.0), 75, 170)
    out.update(anthro_waist_cm=waist, anthro_hip_cm=hip, anthro_whr=waist / hip, anthro_whtr=waist / (hm * 100))
    out["anthro_neck_cm"] = np.clip(np.where(male, 39.0, 33.5) + 0.45 * (bmi - 26) + e(1.5), 27, 55)
    out["anthro_bsa"] = np.sqrt(hm * 100 * wt / 3600)
    cols = [c for block in PHENOTYPE_BLOCKS.values() for c in block]
    return pd.DataFrame({c: np.round(out[c], 4) for c in cols}, index=b.index)


def _solve_intercept(z: np.ndarray, rate: float) -> float:
    lo, hi = -30.0, 30.0
    for _ in range(80):  # bisection: mean(sigmoid(a + z)) is increasing in a
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(mid + z)))) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def missingness_rates(missingness: dict[str, float] | None = None) -> dict[str, float]:
    """Defaults merged with ``missingness``; raises :class:`ConfigError` on an unknown key or a bad rate."""
    rates = dict(DEFAULT_MISSINGNESS) | {b: 0.0 for b in PHENOTYPE_BLOCKS}
    for key, rate in (missingness or {}).items():
        if key not in rates:
            raise ConfigError(f"missingness: unknown column {key!r}; use one of {', '.join(rates)}")
        if not 0.0 <= float(rate) <= 1.0:
            raise ConfigError(f"missingness[{key!r}] = {rate}: a rate must lie in [0, 1]")
        rates[key] = float(rate)
    return rates


def sample_patients(n: int, rng: np.random.Generator, missingness: dict[str, float] | None = None) -> pd.DataFrame:
    """Draw ``n`` synthetic patients (one row each; columns described in the module docstring).

    Args:
        n: number of patients.
        rng: the only source of randomness; the same seed gives the same table.
        missingness: per-column (or per-phenotype-block) missing rates overriding
            :data:`DEFAULT_MISSINGNESS`; ``{}`` or ``None`` keeps the defaults.
    """
    if n < 0:
        raise ConfigError(f"sample_patients: n must be >= 0, got {n}")
    rates = missingness_rates(missingness)
    b = _base(n, rng)
    table = pd.concat([b, _phenotypes(b, rng)], axis=1)
    for col in MASKABLE + ("bmi",):
        table[f"true_{col}"] = b[col]
    if n == 0:
        return table
    z_age = (b["age"].to_numpy() - 60) / 17
    z_lat = b["latent_health"].to_numpy()
    for group in MISSING_GROUPS:
        u = rng.random(n)
        for col in group:
            if rates[col] <= 0:
                continue
            wa, wl = MISSING_DRIVERS[col]
            z = wa * z_age + wl * z_lat
            p = 1 / (1 + np.exp(-(_solve_intercept(z, rates[col]) + z)))
            table.loc[u < p, col] = np.nan
    table.loc[table["height"].isna() | table["weight"].isna(), "bmi"] = np.nan
    for block, cols in PHENOTYPE_BLOCKS.items():
        drop = rng.random(n) < rates[block]
        table.loc[drop, cols] = np.nan
    return table
