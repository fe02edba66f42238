"""``cardiofm generate "TEXT" --run RUN --age --sex --n --out DIR``: 12-lead ECGs from free clinical text.

The text's findings are read by the rule extractor (lexicon codes such as SBRAD, 1AVB; ICD-10 codes written in
the text count too) and form the query's diagnoses view; the run's training patients most similar by Jaccard
are retrieved and summarised into the retrieved report, exactly as during training. Text, age/sex and report
are embedded with the run's text encoder and ``n`` ECGs are sampled (DDIM, classifier-free guidance). The
output folder gets one WFDB record per sample (``gen_<k>.hea/.dat``, mV), a clinical-layout plot of each
(``gen_<k>.png``) and ``generation.json`` (the inputs, the retrieved report, per-sample lead residuals and
intervals).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cardiofm.errors import ConfigError
from cardiofm.paths import check_output_dir

_ICD = re.compile(r"\b[A-TV-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?\b")
SEXES = {"F": 0.0, "M": 1.0, "FEMALE": 0.0, "MALE": 1.0}


def text_codes(text: str, label_codes: list[str]) -> list[str]:
    """Findings of ``text``: lexicon codes stated present, label codes and ICD-10 codes written out."""
    from cardiofm.text import extract_entities

    found = set(extract_entities(text).present_codes())
    words = set(re.findall(r"[A-Za-z0-9_.]+", text))
    found |= {c for c in label_codes if c in words}
    found |= set(_ICD.findall(text))
    return sorted(found)


def _sex(sex: str | None) -> float:
    if sex is None or str(sex).strip() == "":
        return math.nan
    key = str(sex).strip().upper()
    if key not in SEXES:
        raise ConfigError(f"--sex must be F or M (or leave it out), got {sex!r}")
    return SEXES[key]


def generate(run_dir: str | Path, text: str, out: str | Path, *, n: int = 4, age: float | None = None,
             sex: str | None = None, seed: int = 0, guidance: float | None = None, steps: int | None = None,
             plot: bool = True) -> dict[str, Any]:
    """Sample ``n`` ECGs for ``text`` (module docstring); returns the ``generation.json`` content."""
    from cardiofm.data.io import write_wfdb
    from cardiofm.engine.data import prepare_store, split_rows
    from cardiofm.engine.rundir import RunDir
    from cardiofm.evaluate.generation import lead_residuals
    from cardiofm.signal.record import ECGRecord
    from cardiofm.systems.sediff.conditions import label_codes, record_views, retrieve, summaries
    from cardiofm.systems.sediff.module import meta_features
    from cardiofm.systems.sediff.run import STAGE_DIRS, load_stage
    from cardiofm.text.encoders import create_text_encoder
    from cardiofm.text.summary import create_summariser

    if not str(text).strip():
        raise ConfigError("generate: give the clinical text to generate from, e.g. \"sinus bradycardia\"")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 256:
        raise ConfigError(f"generate: --n must be an integer in [1, 256], got {n!r}")
    if age is not None and not 0 <= float(age) <= 120:
        raise ConfigError(f"generate: --age must lie in [0, 120] years, got {age}")
    male = _sex(sex)
    check_output_dir(out)
    run = RunDir.open(run_dir)
    if not (run.path / STAGE_DIRS["diffusion"] / "done.json").exists():
        raise ConfigError(f"{run.path}: not a finished SE-Diff run (no diffusion stage); train it with "
                          "`cardiofm pretrain configs/sediff.yaml`")
    cfg = run.config()
    module = load_stage(run.path / STAGE_DIRS["diffusion"])
    store = prepare_store(cfg.data, run.path)
    index = store.cohort.index.reset_index(drop=True)
    labels = store.cohort.labels(cfg.data.task)
    found = label_codes(labels.matrix, labels.codes)
    codes = text_codes(text, list(labels.codes))
    train = split_rows(store)["train"]
    views = record_views(index, found)
    gen = cfg.section("generation")
    nbrs, sims = retrieve(views, train, index["patient_id"].astype(str).tolist(), gen.k,
                          query_views={"diagnoses": [frozenset(codes)]}, query_patients=["<query>"])
    report = summaries(index, nbrs, sims, found, create_summariser(gen.summariser), queries=[text])[0]
    encoder = create_text_encoder(gen.text_encoder)
    emb = torch.from_numpy(encoder.encode([text, report]).astype(np.float32))
    meta = meta_features(torch.tensor([math.nan if age is None else float(age)]), torch.tensor([male]))
    rep = {"text": emb[:1].expand(n, -1), "meta": meta.expand(n, -1), "retrieved": emb[1:].expand(n, -1)}
    sig = module.sample(rep["text"], rep["meta"], rep["retrieved"], seed=seed, guidance=guidance, steps=steps)
    signals = sig["signal"].numpy().astype(np.float32)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res = lead_residuals(signals, tuple(store.leads))
    info: dict[str, Any] = {"text": text, "age": age, "sex": sex, "n": n, "seed": seed,
                            "guidance": module.config.guidance if guidance is None else guidance,
                            "steps": steps or module.config.sample_steps, "run": str(run.path),
                            "query_codes": codes, "retrieved_report": report,
                            "neighbours": [str(index["record_id"].iloc[j]) for j in nbrs[0]],
                            "fs": store.fs, "leads": list(store.leads), "records": []}
    for k in range(n):
        rec = ECGRecord(signal=signals[k], fs=store.fs, leads=tuple(store.leads), record_id=f"gen_{k}",
                        metadata={"generated_from": text[:200], "age": age, "sex": sex, "seed": seed})
        write_wfdb(rec, out, name=f"gen_{k}")
        if plot:
            from cardiofm.report.plots import plot_ecg

            plot_ecg(rec, out / f"gen_{k}.png", title=f"SE-Diff: {text[:80]}")
        info["records"].append({"name": f"gen_{k}", "einthoven_mv": float(res["einthoven_mv"].iloc[k]),
                                "goldberger_mv": float(res["goldberger_mv"].iloc[k])})
    (out / "generation.json").write_text(json.dumps(info, indent=1))
    return info
