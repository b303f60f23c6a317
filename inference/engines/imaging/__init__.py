"""The imaging engine: CT volume loading and validation, structure measurements, adrenal-mass
classification and MONAI-bundle inference.

Modules here read files and run models; they never import Flask or Django.
"""

from inference.engines.imaging.engine import ImagingEngine

__all__ = ["ImagingEngine"]
