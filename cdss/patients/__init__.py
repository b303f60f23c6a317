"""Patients and the one access path to them.

``selectors.patient_get_for_user`` / ``patient_list_for_user`` decide who sees which patient;
``access.patient_for_request`` wraps them with the audit record and the uniform 404. Everything
that hangs off a patient (analyses, files, reports, chats) is reached through these.
"""
