from __future__ import annotations

import json
import math

from cardiofm.demo import all_steps, run_demo


def test_demo_writes_a_complete_run_directory(tmp_path):
    metrics = run_demo(tmp_path / "run", workers=1, n_synthetic=120, seed=1)
    out = tmp_path / "run"
    for name in ("config.yaml", "metrics.json", "report.html"):
        assert (out / name).stat().st_size > 100, name
    assert json.loads((out / "metrics.json").read_text())["synthetic_records"] == 120
    assert metrics["store_records_ok"] == 120 and metrics["synthetic_max_lead_identity_residual_mv"] <= 1e-6
    assert (out / "conditions" / "NORM.png").exists()
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64") >= 3
    steps = [name for name, _ in all_steps()]
    assert list(metrics["step_seconds"]) == steps and len(steps) == 4 + 5  # data steps, then the five systems
    # the AnyECG-CCTA step trained three folds on the demo's store and wrote an evaluated run
    assert "internal macro AUROC" in metrics["anyecg"]["summary"]
    assert set(metrics["anyecg"]["folds"]) == {"fold1", "fold2", "fold3"}
    assert (out / "anyecg" / "report.html").stat().st_size > 10_000
    # the CLEF step pretrained a single-lead encoder and probed it on both leads and both targets
    assert metrics["clef"]["pretraining"]["epochs"] == 3
    assert set(metrics["clef"]["probe_100pct"]) == {f"{t} lead {lead}" for t in ("conditions", "stenosis")
                                                    for lead in ("I", "II")}
    probe = metrics["clef"]["probe_100pct"]
    assert all(0.5 < probe[f"conditions lead {lead}"] <= 1 for lead in ("I", "II"))
    # 12 test records may hold no severe stenosis: then the AUROC is undefined (NaN), never a made-up number
    assert all(0 <= probe[f"stenosis lead {lead}"] <= 1 or math.isnan(probe[f"stenosis lead {lead}"])
               for lead in ("I", "II"))
    assert (out / "clef" / "encoder" / "model.safetensors").exists() and (out / "clef" / "plots" / "probe.png").exists()
    # the SuPreME step trained on report entities with AF held out, then scored AF zero-shot
    sup = metrics["supreme"]
    assert sup["held_out"] == "AFIB" and not sup["held_out_in_training"] and sup["entities_trained"] >= 3
    assert sup["zero_shot_records"] > 0 and (out / "supreme" / "zeroshot.csv").exists()
    assert 0 <= sup["zero_shot_auroc"] <= 1 or (math.isnan(sup["zero_shot_auroc"]) and sup["zero_shot_positives"] == 0)
    # the CardioPRIME step ran the baseline and one integrated model per phenotype modality, and compared them
    cp = metrics["cardioprime"]["mean_ratio_integrated_over_baseline"]
    assert set(cp) == {"baseline", "dexa", "cgm", "retina", "liver", "anthro"}
    assert all(v is None or v >= 0 for m in ("dexa", "cgm", "retina", "liver", "anthro") for v in cp[m].values())
    assert (out / "cardioprime" / "compare" / "dexa" / "ratios.png").exists()
    # the SE-Diff step trained a small generator and generated ECGs from two clinical texts
    sd = metrics["sediff"]
    assert sd["test_records"] > 0 and sd["einthoven_mv_real"] < 1e-5 and sd["mae_mv"] > 0
    assert {"SBRAD", "1AVB"} <= set(sd["generated"]["brady_avb"]["query_codes"])
    assert (out / "sediff" / "generated" / "afib" / "gen_1.hea").exists()

