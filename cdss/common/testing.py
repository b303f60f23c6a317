"""Test bases inherited by every patient-scoped route's tests.

A route whose view derives from ``cdss.patients.apis.PatientScopedApi`` must have a test class that
inherits ``PatientScopedRouteContract``; ``cdss/patients/tests/test_access.py`` fails otherwise. The
contract checks that clinician B gets exactly the same 404 for clinician A's object as for a missing
one, for every method of the route, and that A (the owner) is served.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.urls import reverse

from cdss.accounts.models import User
from cdss.patients.models import Patient
from cdss.patients.tests.factories import PatientFactory

MISSING_ID = 987_654_321


class PatientScopedRouteContract:
    """Subclass, set ``route_name`` and ``methods``; override ``url_kwargs`` for child objects."""

    route_name: ClassVar[str]
    # method -> request body sent by both clients (None for no body)
    methods: ClassVar[dict[str, dict[str, Any] | None]] = {"get": None}
    owner_success_status: ClassVar[int] = 200

    def url_kwargs(self, patient: Patient, owner: User) -> dict[str, Any]:
        """URL kwargs of an object that belongs to ``patient`` (override for child routes)."""
        return {"patient_id": patient.pk}

    def missing_url_kwargs(self, patient: Patient, owner: User) -> dict[str, Any]:
        kwargs = self.url_kwargs(patient, owner)
        return {k: MISSING_ID for k in kwargs}

    def _call(self, client: Any, method: str, url: str) -> Any:
        body = self.methods[method]
        return (
            getattr(client, method)(url, data=body, format="json")
            if body is not None
            else (getattr(client, method)(url))
        )

    @pytest.mark.django_db
    def test_other_clinician_gets_same_404_as_missing(
        self, make_client: Any, clinician_a: User, clinician_b: User
    ) -> None:
        patient = PatientFactory(care_team=[clinician_a])
        own_url = reverse(self.route_name, kwargs=self.url_kwargs(patient, clinician_a))
        missing_url = reverse(self.route_name, kwargs=self.missing_url_kwargs(patient, clinician_a))
        other = make_client(clinician_b)
        for method in self.methods:
            theirs = self._call(other, method, own_url)
            missing = self._call(other, method, missing_url)
            assert theirs.status_code == 404, (method, theirs.status_code)
            assert missing.status_code == 404, (method, missing.status_code)
            assert theirs.json() == missing.json()
            assert theirs.headers.get("Content-Type") == missing.headers.get("Content-Type")

    @pytest.mark.django_db
    def test_owner_is_served(self, make_client: Any, clinician_a: User) -> None:
        patient = PatientFactory(care_team=[clinician_a])
        url = reverse(self.route_name, kwargs=self.url_kwargs(patient, clinician_a))
        response = make_client(clinician_a).get(url)
        assert response.status_code == self.owner_success_status, response.content

    @pytest.mark.django_db
    def test_anonymous_is_refused(self, make_client: Any, clinician_a: User) -> None:
        patient = PatientFactory(care_team=[clinician_a])
        url = reverse(self.route_name, kwargs=self.url_kwargs(patient, clinician_a))
        assert make_client(None).get(url).status_code == 401
