"""Training objectives: one module per method (loss + LightningModule + config)."""
