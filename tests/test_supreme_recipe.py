"""The SuPreME recipe through the training engine: label descriptions become the fusion queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiofm.config import load_config
from cardiofm.engine.cv import PREDICTIONS, train
from cardiofm.engine.fit import load_fold_module
from cardiofm.systems.supreme.module import SupremeConfig, SupremeModule
from cardiofm.text import default_lexicon
from cardiofm.text.encoders import create_text_encoder

from conftest import recipe_overrides, synthetic_run_data

RECIPE = Path(__file__).parents[1] / "configs" / "supreme.yaml"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return synthetic_run_data(tmp_path_factory, "supreme", 120, 7)


def test_prepare_values_embeds_lexicon_descriptions_in_label_order():
    lex = default_lexicon()
    values = SupremeConfig.prepare_values({"text_encoder": "hashing"}, ["AFIB", "XYZ"], ["atrial fib", "made up"])
    enc = create_text_encoder("hashing")
    want = enc.encode([lex.get("AFIB").description, "made up"])  # unknown code: the label's own description
    assert np.allclose(np.asarray(values["query_embeddings"]), want, atol=1e-6) and values["text_dim"] == want.shape[1]
    given = {"query_embeddings": [[0.0, 1.0]], "text_dim": 2}
    assert SupremeConfig.prepare_values(given, ["AFIB"], ["x"]) is given  # explicit queries are kept


@pytest.mark.parametrize("fusion", ["cfn", "linear"])
def test_supreme_recipe_trains_and_reloads_with_its_queries(synth: dict[str, str], tmp_path: Path, fusion: str):
    cfg = load_config(RECIPE, None, recipe_overrides(synth, tmp_path / fusion, "model.name=vit_micro",
                                                     "trainer.max_epochs=2", "method.text_encoder=hashing",
                                                     f"method.fusion={fusion}", "data.batch_size=32"))
    run = train(cfg)
    pred = np.load(run.path / PREDICTIONS)
    n_labels = len(pred["codes"])
    assert pred["test_p"].shape == (len(pred["test_rows"]), n_labels)
    assert np.isfinite(pred["test_p"]).all() and ((pred["test_p"] >= 0) & (pred["test_p"] <= 1)).all()
    module = load_fold_module(run.path / "fold1")
    assert isinstance(module, SupremeModule) and module.query_embeddings.shape[0] == n_labels
    x = np.zeros((2, 12, 1000), np.float32)
    import torch

    with torch.no_grad():
        same = module.zero_shot(torch.from_numpy(x), module.query_embeddings)
        assert torch.allclose(same, module(torch.from_numpy(x)), atol=1e-5)


def test_zero_shot_scores_new_labels_from_their_descriptions(synth: dict[str, str], tmp_path: Path):
    from cardiofm.errors import ConfigError
    from cardiofm.systems.supreme.zeroshot import query_for, zero_shot

    cfg = load_config(RECIPE, None, recipe_overrides(synth, tmp_path / "run", "model.name=vit_micro",
                                                     "trainer.max_epochs=1", "method.text_encoder=hashing",
                                                     "data.batch_size=32"))
    run = train(cfg)
    labels = ["AFIB", "ventricular pre-excitation with a delta wave"]
    table = zero_shot(run.path, labels, "synthetic", synth["root"], tmp_path / "zs.csv", workers=1)
    assert list(table.columns) == ["record_id", "patient_id", "p_AFIB", f"p_{labels[1]}"]
    assert len(table) == 120 and table.iloc[:, 2:].apply(lambda c: c.between(0, 1)).all().all()
    assert (tmp_path / "zs.csv").exists()
    assert query_for("AFIB") == default_lexicon().get("AFIB").description and query_for("odd text") == "odd text"
    with pytest.raises(ConfigError, match="--label"):
        zero_shot(run.path, [" "], "synthetic", synth["root"], tmp_path / "x.csv")


def test_every_ptbxl_class_has_a_description_query(ptbxl_root: Path):
    from cardiofm.data.sources.ptbxl import CLASS_DESCRIPTIONS, read_statements, task_vocabulary
    from cardiofm.systems.supreme.zeroshot import query_for

    lex = default_lexicon()
    statements = read_statements(ptbxl_root / "scp_statements.csv")
    for task in ("superdiagnostic", "subdiagnostic", "form", "rhythm"):
        codes, names, _ = task_vocabulary(statements, task)
        for code, name in zip(codes, names, strict=True):
            q = query_for(code)
            assert code in lex or code in CLASS_DESCRIPTIONS, (task, code)
            assert q != code and len(q) > len(name) and ":" in q  # "<Name>: <definition>", as the lexicon
    assert query_for("MI") == CLASS_DESCRIPTIONS["MI"]
