"""The pathogen-sequence engine: task1 pathogen-origin, task2 protein type, task3 specific protein
or strain, and an alignment-grade nearest-reference search with structure links.

``SequenceEngine`` (engine.py) is what the server loads; ``inputs`` validates and translates what
a caller sends, ``service`` turns a predict request into the seed-shaped answer (one sequence or a
batch), ``schema`` is that answer's JSON Schema. The model modules are shared with the
training code (``training.sequences``) so that features, search and calibration are computed the
same way when a model is evaluated and when it is served. Nothing here imports Flask or Django.
"""

from inference.engines.sequence.engine import SequenceEngine

__all__ = ["SequenceEngine"]
