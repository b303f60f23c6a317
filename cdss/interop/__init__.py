"""Interoperability: what an EHR calls. ``fhir/`` serves stored results as read-only FHIR R4
resources at ``/fhir/r4/``; ``cds_hooks/`` answers CDS Hooks 2.0 ``patient-view`` calls at
``/cds-services`` with cards built from stored results. Both read patient data only through the
access selectors, audit every read, and never start an analysis."""
