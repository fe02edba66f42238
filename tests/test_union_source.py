"""The union source (several sources as one cohort) and the report-derived entity tasks (an explicit label step)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiofm.config import DataConfig
from cardiofm.data.labellers import apply_labellers
from cardiofm.data.sources import open_cohort
from cardiofm.errors import ConfigError, SourceError
from cardiofm.signal.transforms import Preprocess


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cardiofm.synth.cohort import generate_cohort

    root = tmp_path_factory.mktemp("union") / "synthetic"
    generate_cohort(30, root, seed=3, fs=100.0, workers=1, progress=False)
    return root


def _parts(ptbxl_root: Path, synth_root: Path) -> list[dict]:
    return [{"source": "ptbxl", "root": str(ptbxl_root)}, {"source": "synthetic", "root": str(synth_root)}]


def test_union_stacks_parts_with_prefixed_ids_and_readable_paths(ptbxl_root: Path, synth_root: Path):
    a, b = open_cohort("ptbxl", ptbxl_root), open_cohort("synthetic", synth_root)
    u = open_cohort("union", None, parts=_parts(ptbxl_root, synth_root))
    assert len(u) == len(a) + len(b) and u.source == "union"
    assert u.index["part"].tolist() == ["ptbxl"] * len(a) + ["synthetic"] * len(b)
    assert u.index["record_id"].iloc[0] == f"ptbxl:{a.index['record_id'].iloc[0]}"
    assert u.index["patient_id"].iloc[-1] == f"synthetic:{b.index['patient_id'].iloc[-1]}"
    assert u.index["split"].tolist() == a.index["split"].tolist() + b.index["split"].tolist()
    for i, (c, j) in ((0, (a, 0)), (len(a), (b, 0))):  # first row of each part reads the same signal
        assert np.array_equal(u.load(i).signal, c.load(j).signal)
    # only tasks every part has survive, over the union of codes; the part lacking a code has zeros there
    assert "superdiagnostic" in u.tasks and "rhythm" not in u.tasks and "conditions" not in u.tasks
    sup = u.labels("superdiagnostic")
    assert set(sup.codes) == set(a.labels("superdiagnostic").codes) | set(b.labels("superdiagnostic").codes)
    col = sup.codes.index("NORM")
    assert sup.matrix[: len(a), col].tolist() == a.labels("superdiagnostic").matrix[:, a.labels(
        "superdiagnostic").codes.index("NORM")].tolist()
    # entity tasks come from the joined reports: a code seen in both parts' reports counts in both
    assert "entities" not in u.tasks  # opening runs no NLP
    ent = apply_labellers(u, {"entities": {}}).labels("entities")
    assert ent.matrix[: len(a)].any() and ent.matrix[len(a):].any()


def test_entity_tasks_come_from_an_explicit_label_step(ptbxl_root: Path):
    assert "entities" not in open_cohort("ptbxl", ptbxl_root).tasks
    c = apply_labellers(open_cohort("ptbxl", ptbxl_root), {"entities": {"min_count": 1}})
    ent, raw = c.labels("entities"), c.labels("entities_raw")
    assert ent.matrix.shape == (len(c), len(ent.codes)) and all(code.startswith("raw:") for code in raw.codes)
    assert len(raw.codes) >= len(ent.codes)  # wordings are at least as many as the entities they name
    with pytest.raises(ConfigError, match="min_cnt"):
        apply_labellers(open_cohort("ptbxl", ptbxl_root), {"entities": {"min_cnt": 2}})
    with pytest.raises(ConfigError, match="unknown labeller 'nlp'"):
        apply_labellers(open_cohort("ptbxl", ptbxl_root), {"nlp": {}})


@pytest.mark.parametrize(("parts", "match"), [
    (None, "non-empty list"),
    ([{"source": "ptbxl"}], "'source' and 'root'"),
    ([{"source": "ptbxl", "root": "x", "colour": 1}], "unknown key"),
    ([{"source": "synthetic", "root": "S"}, {"source": "synthetic", "root": "S"}], "distinct 'name'"),
])
def test_union_rejects_bad_parts(parts, match, synth_root: Path):
    if isinstance(parts, list):
        parts = [{**p, "root": str(synth_root)} if p.get("root") == "S" else p for p in parts]
    with pytest.raises(ConfigError, match=match):
        open_cohort("union", None, parts=parts)


def test_union_names_the_part_that_fails(tmp_path: Path, synth_root: Path):
    with pytest.raises(SourceError, match="part 'ptbxl'"):
        open_cohort("union", None, parts=[{"source": "ptbxl", "root": str(tmp_path)},
                                          {"source": "synthetic", "root": str(synth_root)}])
    with pytest.raises(SourceError, match="needs a root"):
        open_cohort("ptbxl", None)


def test_engine_generates_a_synthetic_part_without_root(tmp_path: Path, ptbxl_root: Path):
    from cardiofm.engine.data import open_data_cohort

    data = DataConfig(source="union", options={"parts": [{"source": "ptbxl", "root": str(ptbxl_root)},
                                                         {"source": "synthetic", "name": "gen"}]},
                      synth={"n": 12, "seed": 1, "fs": 100.0}, build_workers=1)
    u = open_data_cohort(data, tmp_path)
    assert (u.index["part"] == "gen").sum() == 12 and (tmp_path / "data" / "synthetic_part1" / "cohort.json").exists()


def test_store_relabels_when_the_data_options_change_and_keeps_its_signals(tmp_path: Path, ptbxl_root: Path):
    from cardiofm.engine.data import prepare_store

    data = DataConfig(source="ptbxl", root=str(ptbxl_root), store=str(tmp_path / "store"), task="superdiagnostic",
                      preprocess=Preprocess(fs=100.0, length=1000), build_workers=1)
    data.labellers = {"entities": {}}
    first = prepare_store(data, tmp_path)
    assert "entities" in first.cohort.tasks
    chunks = {p: p.stat().st_mtime_ns for p in (tmp_path / "store" / "chunks").iterdir()}
    data.labellers = {}
    second = prepare_store(data, tmp_path)
    assert "entities" not in second.cohort.tasks and "superdiagnostic" in second.cohort.tasks
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "store" / "chunks").iterdir()} == chunks  # not rebuilt
    np.testing.assert_array_equal(first.batch(np.arange(3)), second.batch(np.arange(3)))
    data.labellers = {"entities": {}}
    assert "entities" in prepare_store(data, tmp_path).cohort.tasks
