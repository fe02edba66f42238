"""CLEF's typed config sections: ``pretrain`` (what is pretrained on) and ``probe`` (the probing protocol)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PretrainConfig:
    """Self-supervised pretraining (CLEF and its SSL baselines): which records, which leads, which risk."""

    extra_data: list[dict[str, Any]] = field(default_factory=list)  # more sources (DataConfig mappings)
    splits: list[str] = field(default_factory=lambda: ["train"])    # store splits pretrained on
    val_splits: list[str] = field(default_factory=lambda: ["val"])  # held-out records for the val loss
    one_per_patient: bool = True              # first recording of each patient (no same-patient negatives)
    lead_sampling: str = "random"             # "random": one of data.leads per sample; "fixed": all data.leads
    risk_columns: dict[str, str] = field(default_factory=dict)       # SCORE2 input -> cohort column


@dataclass
class ProbeConfig:
    """The probing protocol run after pretraining: linear probe (and optionally fine-tuning)."""

    tasks: list[str] = field(default_factory=list)      # label tasks of the primary data (empty: no probe)
    regression: list[str] = field(default_factory=list)  # numeric cohort columns probed by ridge regression
    leads: list[str] = field(default_factory=lambda: ["I", "II"])
    # label fractions: not CLEF's (it uses the full training split) but the 1/10/100 % linear-probing protocol
    # of ECG SSL as reported by SuPreME (section 4); see cardiofm.systems.clef.probing
    fractions: list[float] = field(default_factory=lambda: [0.01, 0.1, 1.0])
    finetune: bool = False
    finetune_epochs: int = 5
    seed: int = 42
    bootstrap: int = 1000
