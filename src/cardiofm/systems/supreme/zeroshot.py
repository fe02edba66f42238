"""Zero-shot classification with a SuPreME run: score labels it never trained on from their descriptions.

Each label is a lexicon code (``AFIB``: its clinical description is the query), a PTB-XL aggregated class
(``MI``: its description in :data:`~cardiofm.data.sources.ptbxl.CLASS_DESCRIPTIONS`) or free text (``"atrial
fibrillation with rapid ventricular response"``: the text itself is the query). The queries are embedded
by the run's frozen text encoder and scored by every fold model's fusion head; the table holds the
mean probability per record and label.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from cardiofm.engine.cv import ensemble
from cardiofm.engine.inference import check_writable_outputs, external_store, write_table
from cardiofm.engine.rundir import RunDir
from cardiofm.errors import ConfigError


def query_for(label: str) -> str:
    """The query text of a label: a lexicon code's clinical description, else the description of a PTB-XL
    aggregated class (``MI``, ``STTC``, ``CD``, ``HYP``, ``ISCA``, ...), else the label's own words."""
    from cardiofm.data.sources.ptbxl import CLASS_DESCRIPTIONS
    from cardiofm.text import default_lexicon

    lexicon = default_lexicon()
    code = label.strip()
    if code in lexicon:
        return lexicon.get(code).description
    return CLASS_DESCRIPTIONS.get(code, label)


@torch.inference_mode()
def zero_shot_scores(modules: Sequence[torch.nn.Module], x: np.ndarray, queries: np.ndarray,
                     batch_size: int = 128) -> np.ndarray:
    """Mean sigmoid of ``zero_shot`` over the fold models, ``(len(x), len(queries))``."""
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    out = []
    for a in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[a:a + batch_size], dtype=np.float32))
        out.append(np.mean([torch.sigmoid(m.zero_shot(xb, q)).numpy() for m in modules], axis=0))
    return np.concatenate(out) if out else np.zeros((0, len(queries)), np.float32)


def zero_shot(run_dir: str | Path, labels: Sequence[str], source: str, root: str | Path, out: str | Path,
              options: dict[str, Any] | None = None, *, workers: int = 2) -> pd.DataFrame:
    """Score ``labels`` on every readable record of ``root``; writes ``record_id, patient_id, p_<label>...``."""
    from cardiofm.text.encoders import create_text_encoder

    labels = [str(lab) for lab in labels if str(lab).strip()]
    if not labels:
        raise ConfigError("zero-shot needs at least one --label (a lexicon code such as AFIB, or a description)")
    run = RunDir.open(run_dir)
    check_writable_outputs(run, out)
    models = ensemble(run.path)
    if not all(hasattr(m, "zero_shot") for m in models):
        raise ConfigError(f"{run.path} was not trained with a text-query method (method.name: supreme); "
                          "zero-shot needs one")
    cfg = models[0].config
    encoder = create_text_encoder(cfg.text_encoder)
    queries = encoder.encode([query_for(lab) for lab in labels])
    if queries.shape[1] != cfg.text_dim:
        raise ConfigError(f"text encoder {cfg.text_encoder!r} gives {queries.shape[1]}-d embeddings, the run was "
                          f"trained with {cfg.text_dim}-d queries")
    store, _ = external_store(run, source, root, options, workers=workers)
    x = store.batch(np.arange(len(store)))
    leads = run.config().data.leads
    if leads:
        x = x[:, store.lead_index(leads)]
    p = zero_shot_scores(models, x, queries)
    return write_table(store, {f"p_{lab}": p[:, j] for j, lab in enumerate(labels)}, out)
