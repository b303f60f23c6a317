"""Seed 001's route, ``/api/v1/diagnosis/requests/``: a thin alias over patient files and analyses.

A multipart POST with ``patient``, ``kind`` and the kind's files under its input names stores each
file as a patient file (checked like any upload) and submits the analysis; GET shows its status,
result and artifact URLs. Everything goes through the files and jobs services and access paths:
nothing here stores or reads anything on its own.
"""
