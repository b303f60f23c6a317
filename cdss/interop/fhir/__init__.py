"""FHIR R4 (read-only) at ``/fhir/r4/``: stored patients, completed analyses, their findings,
interpretations and PDF reports, the models that made them, and the audit trail, as FHIR resources
built with ``fhir.resources`` (R4B classes) and checked against the value sets it does not enforce
(``valuesets``). Reads go through the same access rule and audit trail as the REST API
(``access``); nothing here writes patient data or starts an analysis."""
