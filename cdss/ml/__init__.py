"""The one client of the ML inference server.

Django reaches the models only through ``cdss.ml.client``: one pooled HTTP client with explicit
timeouts, whose transport failures become typed errors (unavailable -> 503, timeout -> 504, bad
response -> 502) that the common exception handler renders. Nothing here imports an ML framework.
``catalog`` (with ``apis``, ``urls``) lists the shipped model versions and serves their cards from
the repository's files, without calling the inference server.
"""
