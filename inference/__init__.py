"""The CDSS ML inference server: a local-only Flask service that hosts the models.

It never imports Django. The web backend reaches it only through ``cdss.ml.client``.
Engines live in ``inference.engines`` (its ``ENGINES`` table lists them), HTTP routes in
``inference.api``, settings in ``inference.config``.
"""
