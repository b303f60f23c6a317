"""The omics engine: ROSMAP Alzheimer's classifier and TCGA-PAAD survival risk model.

It loads the artifacts written by ``training.omics`` from ``models/omics/<version>/`` and answers
plain dicts. It never imports Flask or Django; HTTP parsing lives in ``inference.api.omics``.
"""

from inference.engines.omics.engine import OmicsEngine

__all__ = ["OmicsEngine"]
