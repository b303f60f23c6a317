"""CDS Hooks 2.0 at ``/cds-services``."""
