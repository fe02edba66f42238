"""Physiology: McSharry's ECG model (NumPy and torch), 12-lead projection, delineation."""
