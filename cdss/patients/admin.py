"""Patients are not registered in the Django admin: every patient read must go through the
audited access path of the API."""
