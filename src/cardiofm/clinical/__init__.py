"""Clinical risk scores computed from routinely recorded metadata (used e.g. by CLEF's negative weighting)."""

from __future__ import annotations

from cardiofm.clinical.score2 import INPUT_NAMES, REGIONS, Score2Result, score2

__all__ = ["INPUT_NAMES", "REGIONS", "Score2Result", "score2"]
