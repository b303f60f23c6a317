"""FHIR R4 (read-only) at ``/fhir/r4/``."""
