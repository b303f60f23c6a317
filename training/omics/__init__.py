"""Training of the shipped multi-omics models: ROSMAP (AD vs control) and TCGA-PAAD (survival risk).

``python -m training.omics`` reads the public data sets under ``CDSS_DATASETS_DIR`` (default
``<repo>/../shared/datasets``), tunes hyper-parameters by cross-validation on the training split
only, evaluates once on the published test split, and writes ``models/omics/<version>/``
(plain JSON artifacts, model card, evaluation report, metrics). Nothing here is imported by the
inference server; the artifact format is the contract between the two (see ``artifacts.py``).
"""
