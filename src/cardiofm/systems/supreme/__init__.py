"""SuPreME (entity-supervised multimodal pretraining with zero-shot text queries) as a system.

Run steps: the label step ``entities`` over the cohort's reports (``data.labellers``), cross-validated training of
the fusion model against the entities' text embeddings, the clinical evaluation; ``cardiofm zeroshot`` scores
labels never trained on from their descriptions (:mod:`.zeroshot`).
"""

from cardiofm.systems.base import System, lazy, register_system
from cardiofm.systems.shared.config import EvaluateConfig
from cardiofm.systems.supreme.cli import zeroshot

SYSTEM = register_system(System(
    name="supreme",
    summary="entity-supervised pretraining on report texts; zero-shot classification from label text",
    verb="train",
    run=lazy("cardiofm.engine.cv:train"),
    analyse=lazy("cardiofm.systems.shared.evaluation:evaluate_run"),
    recipes=("supreme",),
    sections={"evaluate": EvaluateConfig},
    methods={"supreme": "cardiofm.systems.supreme.module"},
    demo=lazy("cardiofm.systems.supreme.demo:demo_step"),
    commands=(zeroshot,),
    paper="Cai, Jiang et al.: SuPreME: A Supervised Pre-training Framework for Multimodal ECG Representation Learning",
))
