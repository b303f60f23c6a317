"""Users and roles (clinician, ml_engineer, admin), JWT authentication (tokens that end at logout
and at any password change), password change, login throttling and the user-management commands.
Patient access rules live in ``cdss.patients.selectors``, not here."""
