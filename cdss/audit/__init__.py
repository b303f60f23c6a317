"""The append-only audit trail of access to patient data (and logins): who, what, which patient,
when, from where, with what outcome. Events are written by services in the same transaction as the
change they record; nothing updates or deletes them."""
