"""Patient files: uploads of CT volumes, segmentations, omics tables and documents.

Each upload is checked against its role before it is stored (``validation``: standard library
only, never numpy or nibabel), stored once per content under MEDIA_ROOT (``storage``), and read
only through the patient access rule (``selectors`` for code such as an analysis's
``prepare()``, ``access`` for the audited API). Analyses refer to files by id; nothing here
knows about analyses.
"""
