"""SE-Diff (text-conditioned latent diffusion with a physiological simulator prior) as a system.

Run steps: conditions (text, retrieved reports, classes) and per-class simulator parameters, the VAE stage, the
diffusion stage, a test-set generation analysis and report (:mod:`.run`); ``cardiofm generate`` makes ECGs from
clinical text (:mod:`.generate`). Config section: ``generation`` (:mod:`.config`).
"""

from cardiofm.systems.base import System, register_system
from cardiofm.systems.sediff.cli import generate
from cardiofm.systems.sediff.config import GenerationConfig

PAPER = "Simulator and Experience Enhanced Diffusion Model for Comprehensive ECG Generation (arXiv 2511.09895)"
SYSTEM = register_system(System.of(
    __name__, "sediff", "pretrain", "text-to-ECG latent diffusion with simulator losses and retrieved reports",
    run="run:run_sediff", recipes=("sediff",), sections={"generation": GenerationConfig},
    methods={"sediff": "cardiofm.systems.sediff.module"}, commands=(generate,), paper=PAPER))
