"""Pathogen sequence analysis in the web backend: the seed-compatible ``/ml/v1/`` API (status,
model-info, predict, history, retrain) and ``InferenceLog``, one row per predict call whatever its
outcome. The models themselves run in the inference server, reached through ``cdss.ml.client``."""
