"""Encoder zoo: registry, create_model, safetensors save/load."""
