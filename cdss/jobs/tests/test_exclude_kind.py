"""GET /api/v1/analyses/?exclude_kind=: kinds left out of the list, validated, paging intact."""

from __future__ import annotations

import pytest

from cdss.jobs.kinds import kind_names
from cdss.jobs.tests.factories import AnalysisFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/analyses/"


def test_excluded_kinds_are_left_out_and_paging_counts_what_is_left(
    make_client, clinician_a, patient_a
):
    kept = [
        AnalysisFactory(patient=patient_a, requested_by=clinician_a, kind="test_hold")
        for _ in range(3)
    ]
    for kind in ("pipeline_check", "test_patient_hold"):
        AnalysisFactory(patient=patient_a, requested_by=clinician_a, kind=kind)
    client = make_client(clinician_a)
    query = {"patient": patient_a.pk, "exclude_kind": "pipeline_check, test_patient_hold"}
    first = client.get(LIST, {**query, "page_size": 2}).json()
    assert first["count"] == 3 and first["next"]
    second = client.get(LIST, {**query, "page_size": 2, "page": 2}).json()
    listed = [a["id"] for a in first["results"] + second["results"]]
    assert sorted(listed) == sorted(a.pk for a in kept)
    assert {a["kind"] for a in first["results"] + second["results"]} == {"test_hold"}
    # Without the filter every kind is there.
    assert client.get(LIST, {"patient": patient_a.pk}).json()["count"] == 5


@pytest.mark.parametrize("value", ["nope", "test_hold,nope", "test_hold,,pipeline_check"])
def test_unknown_or_empty_kind_is_a_400_naming_the_parameter(make_client, clinician_a, value):
    response = make_client(clinician_a).get(LIST, {"exclude_kind": value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert "exclude_kind" in body["error"] and "exclude_kind" in body["detail"]


def test_the_400_lists_the_known_kinds(make_client, clinician_a):
    body = make_client(clinician_a).get(LIST, {"exclude_kind": "nope"}).json()
    assert "'nope'" in body["error"]
    assert all(name in body["error"] for name in kind_names())
