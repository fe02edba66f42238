"""AnyECG-CCTA (multi-task fine-tuning with a full clinical evaluation) as a system.

Run steps: patient-grouped cross-validation of the supervised method (``cardiofm.engine.cv``), then the clinical
evaluation (discrimination, calibration, thresholds, decision curves, survival, subgroups, average beats and
attributions) with its HTML report (:mod:`cardiofm.systems.shared.evaluation`).
"""

from cardiofm.systems.base import System, register_system
from cardiofm.systems.shared.config import EvaluateConfig

PAPER = "Xiao, Zhao et al.: Fine-tuning an ECG Foundation Model to Predict Coronary CT Angiography Outcomes"
SYSTEM = register_system(System.of(
    __name__, "anyecg", "train", "supervised multi-label fine-tuning, K-fold ensemble and the full clinical evaluation",
    run="cardiofm.engine.cv:train", analyse="cardiofm.systems.shared.evaluation:evaluate_run", recipes=("anyecg",),
    sections={"evaluate": EvaluateConfig}, methods={"supervised": "cardiofm.methods.supervised"}, paper=PAPER))
