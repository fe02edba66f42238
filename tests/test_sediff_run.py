"""`cardiofm pretrain sediff` and `cardiofm generate` end to end on a small synthetic cohort."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cardiofm.config import load_config
from cardiofm.errors import ConfigError
from cardiofm.systems import run_system

from conftest import crash_at_epoch, synthetic_run_data

SMALL = ["generation.text_encoder=hashing", "generation.vae_epochs=2", "generation.eval_records=8",
         "trainer.max_epochs=2", "trainer.progress=false", "method.vae_width=8", "method.unet_base=16",
         "method.unet_mults=[1,2]", "method.token_dim=32", "method.diffusion_steps=100", "method.sample_steps=4",
         "data.batch_size=16", "data.build_workers=1"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return synthetic_run_data(tmp_path_factory, "sediff", 80, 3)


def _cfg(synth: dict[str, str], out: Path, *extra: str):
    return load_config("sediff", "synthetic", [f"out={out}", f"data.root={synth['root']}",
                                               f"data.store={synth['store']}", *SMALL, *extra])


@pytest.fixture(scope="module")
def trained(synth: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_system(_cfg(synth, tmp_path_factory.mktemp("sediff_run") / "run")).path


def test_run_writes_conditions_eta_stages_and_the_test_evaluation(trained: Path, synth: dict[str, str]):
    for name in ("conditions.npz", "conditions.csv", "eta.npz", "eta_fit.csv", "vae/done.json", "diffusion/done.json",
                 "generated_test.npz", "metrics.json", "report.html"):
        assert (trained / name).exists(), name
    m = json.loads((trained / "metrics.json").read_text())
    gen = m["generation"]
    assert gen["records"] == 8 and np.isfinite(gen["mae_mv"]["mean"])
    assert gen["mae_mv"]["lower"] <= gen["mae_mv"]["mean"] <= gen["mae_mv"]["upper"]
    assert gen["real_einthoven_mv"]["mean"] < 1e-5  # the real (filtered) leads obey Einthoven's law
    assert gen["generated_einthoven_mv"]["mean"] > 0
    assert list(trained.glob("plots/generated_*.png"))
    with np.load(trained / "eta.npz") as z:
        assert z["eta"].shape == (len(z["classes"]), 12, 25) and str(z["classes"][-1]) == "_other"
    import pandas as pd

    table = pd.read_csv(trained / "conditions.csv", dtype=str, keep_default_na=False)
    words = table["retrieved_report"].str.split().str.len()
    assert words.between(60, 120).all()
    from cardiofm.data.store import Store

    index = Store(synth["store"]).cohort.index  # no record retrieves its own patient
    pid = dict(zip(index["record_id"].astype(str), index["patient_id"].astype(str), strict=True))
    for rid, nbrs in zip(table["record_id"].astype(str), table["neighbours"], strict=True):
        assert nbrs and all(pid[n] != pid[rid] for n in str(nbrs).split(";"))
    again = run_system(_cfg(synth, trained))  # a rerun resumes: nothing is retrained
    for stage in ("vae", "diffusion"):
        assert json.loads((again.path / stage / "done.json").read_text())["resumed"] is False


def test_generate_writes_wfdb_records_plots_and_the_inputs(trained: Path, tmp_path: Path):
    from typer.testing import CliRunner

    from cardiofm.cli import app
    from cardiofm.data.io import read_wfdb

    out = tmp_path / "gen"
    res = CliRunner().invoke(app, ["generate", "sinus bradycardia, first degree AV block", "--run", str(trained),
                                   "--age", "70", "--sex", "F", "--n", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    info = json.loads((out / "generation.json").read_text())
    assert {"SBRAD", "1AVB"} <= set(info["query_codes"])
    assert 60 <= len(info["retrieved_report"].split()) <= 120 and len(info["neighbours"]) == 5
    for k in range(3):
        rec = read_wfdb(out / f"gen_{k}")
        assert rec.signal.shape == (12, 1000) and rec.fs == 100 and (out / f"gen_{k}.png").exists()
    first = read_wfdb(out / "gen_0").signal
    from cardiofm.systems.sediff.generate import generate

    generate(trained, "sinus bradycardia, first degree AV block", tmp_path / "again", n=3, age=70, sex="F",
             plot=False)
    assert np.allclose(read_wfdb(tmp_path / "again" / "gen_0").signal, first, atol=2e-3)  # seeded


def test_generate_rejects_bad_input(trained: Path, tmp_path: Path):
    from cardiofm.systems.sediff.generate import generate

    with pytest.raises(ConfigError, match="--sex"):
        generate(trained, "atrial fibrillation", tmp_path / "a", sex="X")
    with pytest.raises(ConfigError, match="--n"):
        generate(trained, "atrial fibrillation", tmp_path / "a", n=0)
    with pytest.raises(ConfigError, match="--age"):
        generate(trained, "atrial fibrillation", tmp_path / "a", age=-3)
    with pytest.raises(ConfigError, match="clinical text"):
        generate(trained, "  ", tmp_path / "a")
    with pytest.raises(ConfigError):
        generate(tmp_path / "no_run", "atrial fibrillation", tmp_path / "a")
    assert not (tmp_path / "a").exists()


def test_interrupted_diffusion_stage_resumes_and_ablations_reuse_the_autoencoder(
        trained: Path, synth: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import cardiofm.engine.fit as fit

    cfg = _cfg(synth, tmp_path / "nosim", f"generation.autoencoder={trained}", "method.w_euler=0",
               "method.w_inter=0", "method.w_spec=0", "trainer.max_epochs=3", "generation.eval_records=0")
    crash_at_epoch(monkeypatch, fit, epoch=1)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_system(cfg)
    monkeypatch.undo()
    run = run_system(cfg)
    done = json.loads((run.path / "diffusion" / "done.json").read_text())
    assert done["resumed"] is True and done["epochs"] == 3
    assert json.loads((run.path / "vae" / "done.json").read_text()) == json.loads(
        (trained / "vae" / "done.json").read_text())  # the VAE was copied, not retrained
    with pytest.raises(ConfigError, match="no finished VAE"):
        run_system(_cfg(synth, tmp_path / "bad", f"generation.autoencoder={tmp_path / 'nowhere'}"))
    with pytest.raises(ConfigError, match="augment"):
        run_system(_cfg(synth, tmp_path / "aug", "data.augment=anyecg"))
