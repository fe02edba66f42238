"""SE-Diff's typed config section ``generation``: conditioning and stage settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GenerationConfig:
    """SE-Diff's conditioning and stage settings (the networks' own settings live in ``method``)."""

    text_encoder: str = "minilm"              # sentence encoder of the text and the retrieved report
    k: int = 5                                # similar patients retrieved per record
    summariser: str = "template"              # "template" (offline) or "llm" (a user-supplied callable)
    min_class_records: int = 5                # a label needs this many training records for its own eta
    vae_epochs: int = 30                      # stage 1 (VAE + beat decoder); trainer.max_epochs is stage 2
    vae_patience: int = 5
    autoencoder: str | None = None            # reuse the VAE of another SE-Diff run folder (same data)
    eval_records: int = 200                   # test records generated for metrics.json (0: none)
    guidance: float | None = None             # sampling guidance for the evaluation (None: method.guidance)
