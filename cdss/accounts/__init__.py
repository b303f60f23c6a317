"""Users and roles (clinician, ml_engineer, admin), JWT authentication, login throttling and the
user-management commands. Patient access rules live in ``cdss.patients.selectors``, not here."""
