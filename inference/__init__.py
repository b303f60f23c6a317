"""The CDSS ML inference server: a local-only Flask service that hosts the models.

It never imports Django. The web backend reaches it only through ``cdss.ml.client``.
Engines (sequence, omics, imaging) live in ``inference.engines``; HTTP routes in ``inference.api``.
"""
