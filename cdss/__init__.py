"""The CDSS domain: one Django app per concern (accounts, patients, audit, analyses, ...).

Apps never import the ML frameworks; they reach the inference server through ``cdss.ml``.
"""
