"""CLEF (risk-guided contrastive pretraining) and its SSL baselines (SimCLR, BYOL, MoCo) as a system.

Run steps: two-view pretraining over one or more sources weighted by SCORE2 risk (:mod:`.pretrain`), the encoder
saved as safetensors, then the probing protocol (linear probes at label fractions, optional fine-tuning;
:mod:`.probe`). Config sections: ``pretrain`` and ``probe`` (:mod:`.config`).
"""

from cardiofm.systems.base import System, register_system
from cardiofm.systems.clef.config import PretrainConfig, ProbeConfig

PAPER = "Shu, Charlton et al.: CLEF: Clinically-Guided Contrastive Learning for Electrocardiogram Foundation Models"
SYSTEM = register_system(System.of(
    __name__, "clef", "pretrain", "risk-guided contrastive pretraining (and SimCLR/BYOL/MoCo), then linear probes",
    run="pretrain:pretrain_contrastive", recipes=("clef",), sections={"pretrain": PretrainConfig, "probe": ProbeConfig},
    methods={"contrastive": "cardiofm.systems.clef.module"}, paper=PAPER))
