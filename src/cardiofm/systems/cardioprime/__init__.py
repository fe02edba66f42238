"""CardioPRIME (ODE-constrained VAE aligned to clinical phenotypes) as a system.

Run steps: fit the VAE (optionally with one clinical modality), then the held-out analysis (reconstructions,
latent-feature correlations, disease clustering; :mod:`.run`); ``compare_runs`` sets an integrated run
against its ECG-only baseline. Config section: ``evaluate`` (:mod:`.config`).
"""

from cardiofm.systems.base import System, register_system
from cardiofm.systems.cardioprime.config import CardioPrimeEvaluate

PAPER = ("Levine, Rossman et al.: CardioPRIME: Cardiovascular Physiological Representation Integration with "
         "Multimodal Embeddings")
SYSTEM = register_system(System.of(
    __name__, "cardioprime", "pretrain", "McSharry-ODE-constrained VAE aligned to a clinical modality, vs its baseline",
    run="run:run_cardioprime", recipes=("cardioprime",), sections={"evaluate": CardioPrimeEvaluate},
    methods={"cardioprime": "cardiofm.systems.cardioprime.module"}, paper=PAPER))
