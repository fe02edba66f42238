"""``cardiofm data synth``: a synthetic cohort on disk (WFDB records + ``index.csv`` + ``cohort.json``).

The order of random draws is fixed: patients, conditions, outcomes, reports from one generator
seeded by ``seed``; each record's waveform and noise from its own generator seeded by
``(seed, record number)``, so the result does not depend on the number of workers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiofm import __version__
from cardiofm.data.splits import grouped_multilabel_kfold
from cardiofm.errors import ConfigError
from cardiofm.physio.leads import simulate_12lead
from cardiofm.synth.conditions import sample_cohort_conditions, vocabulary
from cardiofm.synth.noise import NoiseConfig, RecordingNoise
from cardiofm.synth.outcomes import sample_outcomes
from cardiofm.synth.patients import sample_patients
from cardiofm.synth.reports import write_reports
from cardiofm.synth.storage import write_consistent
from cardiofm.synth.waveforms import fibrillatory_waves, plan_waveform

_NOISE: dict[float, RecordingNoise] = {}


def render_record(conditions: list[str], fs: float, duration_s: float, rng: np.random.Generator, *,
                  age: float = 60.0, sex: str = "F", record_id: str = "synthetic",
                  noise: RecordingNoise | None = None) -> tuple[Any, dict[str, Any]]:
    """One synthetic 12-lead record for ``conditions`` and its ground truth (noise-free if ``noise`` is None)."""
    plan = plan_waveform(conditions, rng, duration_s=duration_s, age=age, sex=sex)
    n = int(round(duration_s * fs))
    extra = fibrillatory_waves(n, fs, plan.af_amplitude, rng) if plan.af_amplitude > 0 else None
    rec = simulate_12lead(duration_s, fs, plan.hr_mean, plan.hr_std, params=plan.dipole,
                          rotation_deg=plan.rotation_deg, rng=rng, rr=plan.rr, gain=plan.gain,
                          record_id=record_id, extra_dipole=extra, beat_params=plan.ectopic or None)
    iv = rec.metadata["intervals"]
    rr = np.asarray(rec.metadata["rr"])
    truth: dict[str, Any] = {
        "true_hr": round(60.0 / float(rr.mean()), 2) if len(rr) else plan.hr_mean,
        "true_rr_std_ms": round(float(rr.std() * 1000), 2) if len(rr) else np.nan,
        "true_pr_ms": np.nan if "AFIB" in conditions else round(iv["pr_ms"], 1),
        "true_qrs_ms": round(iv["qrs_ms"], 1), "true_qt_ms": round(iv["qt_ms"], 1),
        "true_qtc_ms": round(iv["qt_ms"] / np.sqrt(60.0 / plan.hr_mean), 1),
        "true_rotation_deg": ";".join(f"{v:.1f}" for v in plan.rotation_deg), "true_gain": round(plan.gain, 3),
        "true_r_peaks": ";".join(str(int(p)) for p in rec.metadata["r_peaks"]),
    }
    truth.update(plan.truth)
    rec.metadata["plan"] = plan
    if noise is not None:
        noisy, info = noise(rec.signal, rng)
        rec = rec.with_signal(noisy)
        truth.update(info)
    return rec, truth


def _render_chunk(args: tuple[Path, list[dict[str, Any]], float, float, int, dict[str, Any]]) -> list[dict[str, Any]]:
    out, rows, fs, duration_s, seed, noise_cfg = args
    noise = _NOISE.get(fs)
    if noise is None:
        noise = _NOISE[fs] = RecordingNoise(fs, NoiseConfig(**noise_cfg) if noise_cfg else None)
    results = []
    for row in rows:
        rng = np.random.default_rng((seed, int(row["number"])))
        rec, truth = render_record(row["conditions"], fs, duration_s, rng, age=row["age"], sex=row["sex"],
                                   record_id=row["record_id"], noise=noise)
        plan = rec.metadata.pop("plan")
        rr = rec.metadata.get("rr", [])
        rec.metadata = {"age": row["age"], "sex": row["sex"], "conditions": ";".join(row["conditions"])}
        write_consistent(rec, out / "records", row["record_id"])
        (out / "records" / f"{row['record_id']}.json").write_text(json.dumps(
            {"record_id": row["record_id"], "conditions": row["conditions"], "truth": truth,
             "rr_s": [round(float(v), 5) for v in rr], "parameters": plan_to_dict(plan)}, default=_json_default))
        results.append({"record_id": row["record_id"], **truth})
    return results


def plan_to_dict(plan: Any) -> dict[str, Any]:
    """The waveform parameters of a record (dipole waves, extra terms, rhythm), JSON-ready."""
    dp = plan.dipole
    return {"dipole": {"axes": ["X", "Y", "Z"], "waves": ["P", "Q", "R", "S", "Tp", "Tm"],
                       "a_mv": dp.a.round(5).tolist(), "theta_rad_at_60bpm": dp.theta.round(5).tolist(),
                       "b_rad_at_60bpm": dp.b.round(5).tolist(), "rate_exponent": dp.rate_exponent.tolist(),
                       "extra": [{"label": t.label, "direction": t.direction.round(5).tolist(), "theta": t.theta,
                                  "b": t.b, "amplitude": t.amplitude, "group": t.group} for t in dp.extra]},
            "hr_mean": plan.hr_mean, "hr_std": plan.hr_std, "rotation_deg": list(plan.rotation_deg),
            "gain": plan.gain, "af_amplitude_mv": plan.af_amplitude, "ectopic_beats": sorted(plan.ectopic)}


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def generate_cohort(n: int, out: str | Path, *, seed: int = 0, fs: float = 100.0, duration_s: float = 10.0,
                    workers: int = 2, folds: int = 10, noise: dict[str, Any] | None = None,
                    missingness: dict[str, float] | None = None, progress: bool = True) -> pd.DataFrame:
    """Write ``n`` synthetic records (one per patient) under ``out``; returns the index table."""
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    if fs <= 0 or duration_s <= 0:
        raise ConfigError("fs and duration must be positive")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "cohort.json").exists():
        raise ConfigError(f"{out} exists, is not empty and is not a synthetic cohort; choose another --out")
    (out / "records").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    patients = sample_patients(n, rng, missingness)
    conditions = sample_cohort_conditions(patients["latent_health"], patients["age"], patients["sex"], rng)
    outcomes = sample_outcomes(patients, conditions, rng)
    reports = write_reports(conditions, rng)

    index = patients.copy()
    index.insert(0, "record_id", [f"{i + 1:06d}" for i in range(n)])
    index["path"] = "records/" + index["record_id"]
    index["fs"], index["n_samples"] = fs, int(round(fs * duration_s))
    index["conditions"] = [";".join(c) for c in conditions]
    index["report"] = [r.text for r in reports]
    index["report_language"] = [r.language for r in reports]
    index["report_entities"] = [";".join(f"{c}:{s}" for c, s in r.entities) for r in reports]
    index = pd.concat([index, outcomes.reset_index(drop=True)], axis=1)

    rows = [{"number": i, "record_id": index.at[i, "record_id"], "conditions": conditions[i],
             "age": float(index.at[i, "age"]), "sex": str(index.at[i, "sex"])} for i in range(n)]
    chunk = max(1, min(100, n // (4 * max(workers, 1)) or 1))
    jobs = [(out, rows[i:i + chunk], fs, duration_s, seed, noise or {}) for i in range(0, n, chunk)]
    truths: list[dict[str, Any]] = []
    for part in _progress(_map(jobs, workers), len(jobs), progress):
        truths.extend(part)
    index = index.merge(pd.DataFrame(truths), on="record_id", how="left")
    index["truth_file"] = "records/" + index["record_id"] + ".json"

    vocab = vocabulary()
    y = np.array([[c in conds for c in vocab] for conds in conditions], dtype=bool)
    if folds >= 2 and n >= folds:
        index["fold"] = grouped_multilabel_kfold(index["patient_id"], y, k=folds, seed=seed)
    index.to_csv(out / "index.csv", index=False)
    meta = {"generator": f"cardiofm {__version__} data synth", "seed": seed, "n": n, "fs": fs,
            "duration_s": duration_s, "seconds": round(time.perf_counter() - t0, 2), "vocabulary": vocab}
    (out / "cohort.json").write_text(json.dumps(meta, indent=1, default=str))
    return index


def _map(jobs: list[Any], workers: int) -> Any:
    if workers <= 1:
        yield from map(_render_chunk, jobs)
        return
    from cardiofm.pool import worker_pool

    with worker_pool(workers) as pool:
        yield from pool.map(_render_chunk, jobs)


def _progress(it: Any, total: int, enabled: bool) -> Any:
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc="synthesising", unit="chunk")
