"""Reproducible training of the adrenal-mass classifier on AdrenalMNIST3D.

Run as ``python -m training.imaging``.

Reads the shared dataset (never copies it), trains small 3D CNNs at 28^3 and 64^3 on CPU, evaluates
once on the official test split, and writes ``models/imaging/<version>/`` with weights, metrics,
model card and evaluation report. The network itself lives in ``inference.engines.imaging.network``
so the engine loads exactly what is trained here; nothing here is imported by the inference server.
"""
