"""Model engines hosted by the inference server, one sub-package per analysis kind.

Each engine implements ``inference.engines.base.Engine``: it loads its artifacts once (per
worker process) from a model directory and answers plain Python dicts. Engines never import
Flask or Django.
"""
