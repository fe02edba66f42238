"""SuPreME (entity-supervised multimodal pretraining with zero-shot text queries) as a system.

Run steps: the label step ``entities`` over the cohort's reports (``data.labellers``), cross-validated training of
the fusion model against the entities' text embeddings, the clinical evaluation; ``cardiofm zeroshot`` scores
labels never trained on from their descriptions (:mod:`.zeroshot`).
"""

from cardiofm.systems.base import System, register_system
from cardiofm.systems.shared.config import EvaluateConfig
from cardiofm.systems.supreme.cli import zeroshot

PAPER = "Cai, Jiang et al.: SuPreME: A Supervised Pre-training Framework for Multimodal ECG Representation Learning"
SYSTEM = register_system(System.of(
    __name__, "supreme", "train", "entity-supervised pretraining on report texts; zero-shot classification from text",
    run="cardiofm.engine.cv:train", analyse="cardiofm.systems.shared.evaluation:evaluate_run", recipes=("supreme",),
    sections={"evaluate": EvaluateConfig}, methods={"supreme": "cardiofm.systems.supreme.module"},
    commands=(zeroshot,), paper=PAPER))
