"""Reproducible training of the adrenal-mass classifier on AdrenalMNIST3D, and the conversion of the
liver and liver-lesion U-Nets.

Run as ``python -m training.imaging`` (adrenal) and ``python -m training.imaging.convert_liver``
(liver; ``make convert-liver``: pyliverlesionseg 0.3's Keras weights to PyTorch, with the Dice
measured on the example CT, written to ``models/liver/<version>/``).

Reads the shared dataset (never copies it), trains small 3D CNNs at 28^3 and 64^3 on CPU, evaluates
once on the official test split, and writes ``models/imaging/<version>/`` with weights, metrics,
model card and evaluation report. The network itself lives in ``inference.engines.imaging.network``
so the engine loads exactly what is trained here; nothing here is imported by the inference server.
"""
