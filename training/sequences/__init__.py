"""Training of the pathogen-sequence models (task1 pathogen-origin, task2 protein type, task3
specific protein/strain, nearest references) from the shared sequence datasets.

``python -m training.sequences`` trains a version end to end and writes
``models/sequence/<version>/``;
``python -m training.sequences.retrain`` does the same at run time for the inference server.
Nothing here is imported by the inference server; the code both sides share lives in
``inference.engines.sequence``.
"""
