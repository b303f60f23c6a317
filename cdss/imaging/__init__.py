"""CT analyses (``kind: "ct"``): a patient's CT volume (NIfTI or a zipped DICOM series), with an
optional segmentation, analysed by the inference server's imaging engine: body composition by HU
rules, liver and liver lesions by converted U-Nets, measurements and the adrenal classifier on an
uploaded segmentation. The figures, the system's segmentation and the 3D mesh become artifacts.
Model logic lives in the inference server, never here.
"""
