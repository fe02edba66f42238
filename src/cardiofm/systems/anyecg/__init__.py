"""AnyECG-CCTA (multi-task fine-tuning with a full clinical evaluation) as a system.

Run steps: patient-grouped cross-validation of the supervised method (``cardiofm.engine.cv``), then the clinical
evaluation (discrimination, calibration, thresholds, decision curves, survival, subgroups, average beats and
attributions) with its HTML report (:mod:`cardiofm.systems.shared.evaluation`).
"""

from cardiofm.systems.base import System, lazy, register_system
from cardiofm.systems.shared.config import EvaluateConfig

SYSTEM = register_system(System(
    name="anyecg",
    summary="supervised multi-label fine-tuning, K-fold ensemble and the full clinical evaluation",
    verb="train",
    run=lazy("cardiofm.engine.cv:train"),
    analyse=lazy("cardiofm.systems.shared.evaluation:evaluate_run"),
    recipes=("anyecg",),
    sections={"evaluate": EvaluateConfig},
    demo=lazy("cardiofm.systems.anyecg.demo:demo_step"),
    paper="Xiao, Zhao et al.: Fine-tuning an ECG Foundation Model to Predict Coronary CT Angiography Outcomes",
))
