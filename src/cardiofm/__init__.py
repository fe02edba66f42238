"""cardiofm: clinically grounded ECG foundation models.

Packages, in layer order (lowest first; a module imports only from its own package or a lower one, imports
inside functions included; ``tests/test_layers.py`` enforces it):

    base modules (errors, registry, fileio, paths, pool)
    < signal    record type, lead names, pure transforms (Preprocess)
    < physio    McSharry ODE, lead algebra, delineation
    < clinical  SCORE2, code vocabularies, retrieval similarity
    < data      sources -> cohort -> label steps -> store -> loaders
    < text      lexicon, entity extraction, text encoders, summaries
    < synth     the synthetic cohort with known truth
    < models    encoders and heads behind create_model
    < methods   the method registry and shared objectives (supervised, multitask, diffusion)
    < evaluate  metrics over arrays
    < explain   average beats, attributions
    < report    plots and HTML
    < config    typed recipes
    < engine    run folders, resumable fit, cross-validation, fold ensembles, prediction; no paper's name
    < systems   one package per published system, registered in cardiofm.systems
    < demo, cli the face: nothing imports them.
"""

__version__ = "0.1.0"
