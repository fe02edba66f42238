"""Run steps several systems share (not a system itself): the clinical evaluation of a classifier run and its
explanations, used by the AnyECG-CCTA and SuPreME systems."""
