"""Synthetic cohort: patients, conditions, waveforms, reports, outcomes and recording noise."""
