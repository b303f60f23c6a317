"""/api/v1/analyses/: create, list, detail, cancel, retry, result; access and audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cdss.audit.models import AccessEvent, Outcome
from cdss.common.testing import PatientScopedRouteContract
from cdss.jobs import services
from cdss.jobs.models import Analysis, AnalysisResult, ErrorCode, Status
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory

LIST = "/api/v1/analyses/"


def _analysis_of(patient, owner, **kwargs) -> Analysis:
    return AnalysisFactory(patient=patient, requested_by=owner, **kwargs)


class _AnalysisRoute(PatientScopedRouteContract):
    status_for_owner = Status.PENDING

    def url_kwargs(self, patient, owner):
        analysis = _analysis_of(patient, owner, status=self.status_for_owner)
        return {"analysis_id": analysis.pk}


class TestAnalysisDetailRoute(_AnalysisRoute):
    route_name = "analysis-detail"


class _PostRoute(_AnalysisRoute):
    methods = {"post": None}
    owner_post_status = 200

    @pytest.mark.django_db
    def test_owner_is_served(self, make_client, clinician_a):
        patient = PatientFactory(care_team=[clinician_a])
        url = reverse(self.route_name, kwargs=self.url_kwargs(patient, clinician_a))
        response = make_client(clinician_a).post(url)
        assert response.status_code == self.owner_post_status, response.content


class TestAnalysisCancelRoute(_PostRoute):
    route_name = "analysis-cancel"


class TestAnalysisRetryRoute(_PostRoute):
    route_name = "analysis-retry"
    status_for_owner = Status.FAILED
    owner_post_status = 202


class TestAnalysisResultRoute(_AnalysisRoute):
    route_name = "analysis-result"
    status_for_owner = Status.COMPLETED

    def url_kwargs(self, patient, owner):
        kwargs = super().url_kwargs(patient, owner)
        AnalysisResult.objects.create(analysis_id=kwargs["analysis_id"], data={"held": 1.0})
        return kwargs


pytestmark = pytest.mark.django_db


def test_create_is_202_with_id_and_location(make_client, clinician_a, patient_a):
    response = make_client(clinician_a).post(
        LIST,
        {"kind": "test_patient_hold", "patient": patient_a.pk, "inputs": {"seconds": 1}},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "PENDING" and body["patient"] == patient_a.pk
    assert response.headers["Location"] == f"{LIST}{body['id']}/"
    assert Analysis.objects.get(pk=body["id"]).requested_by == clinician_a


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "no_such_kind"}, "kind"),
        ({"patient": 1}, "kind"),
        ({"kind": "test_patient_hold"}, "patient"),
        ({"kind": "test_hold", "inputs": {"seconds": 99}}, "inputs"),
        ({"kind": "test_hold", "inputs": [1]}, "inputs"),
        ({"kind": "test_hold", "surprise": 1}, "surprise"),
        ({"kind": "pipeline_check", "inputs": {"extra": 1}}, "inputs"),
    ],
)
def test_create_names_the_bad_field(make_client, clinician_a, body, field):
    response = make_client(clinician_a).post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert field in payload["error"] and field in payload["detail"]
    assert Analysis.objects.count() == 0


def test_create_for_someone_elses_patient_is_refused_like_a_missing_one(
    make_client, clinician_a, patient_b
):
    client = make_client(clinician_a)
    theirs = client.post(
        LIST, {"kind": "test_patient_hold", "patient": patient_b.pk}, format="json"
    )
    missing = client.post(LIST, {"kind": "test_patient_hold", "patient": 987654}, format="json")
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json() == missing.json()
    assert Analysis.objects.count() == 0
    denied = AccessEvent.objects.get(action="analysis.create", outcome=Outcome.DENIED)
    assert denied.patient_id == patient_b.pk


def test_list_shows_only_visible_analyses_and_filters(
    make_client, clinician_a, clinician_b, admin_user, patient_a, patient_b
):
    mine = [_analysis_of(patient_a, clinician_a) for _ in range(2)]
    done = _analysis_of(patient_a, clinician_a, status=Status.COMPLETED, kind="test_hold")
    _analysis_of(patient_b, clinician_b)
    my_check = _analysis_of(None, clinician_a, kind="pipeline_check")
    _analysis_of(None, clinician_b, kind="pipeline_check")

    client = make_client(clinician_a)
    body = client.get(LIST).json()
    assert {a["id"] for a in body["results"]} == {*(a.pk for a in mine), done.pk, my_check.pk}
    assert "inputs" not in body["results"][0]
    assert [a["id"] for a in client.get(LIST, {"status": "COMPLETED"}).json()["results"]] == [
        done.pk
    ]
    assert client.get(LIST, {"kind": "pipeline_check"}).json()["count"] == 1
    assert client.get(LIST, {"patient": patient_a.pk}).json()["count"] == 3
    assert client.get(LIST, {"patient": patient_b.pk}).json()["count"] == 0
    assert client.get(LIST, {"page_size": 2}).json()["next"]
    bad = client.get(LIST, {"status": "DONE"})
    assert bad.status_code == 400 and "status" in bad.json()["detail"]
    assert make_client(admin_user).get(LIST).json()["count"] == 6
    listed = AccessEvent.objects.filter(action="analysis.list", user=clinician_a)
    assert listed.filter(object_id=str(done.pk), patient_id=patient_a.pk).exists()


def test_reading_an_analysis_writes_one_audit_event(make_client, clinician_a, patient_a):
    analysis = _analysis_of(patient_a, clinician_a)
    before = AccessEvent.objects.count()
    body = make_client(clinician_a).get(f"{LIST}{analysis.pk}/").json()
    assert body["inputs"] == {"seconds": 0.0} and body["error"] is None
    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id, event.patient_id) == (
        "analysis.read",
        "analysis",
        str(analysis.pk),
        patient_a.pk,
    )


def test_patientless_analysis_is_for_its_requester_and_admins(
    make_client, clinician_a, clinician_b, admin_user
):
    analysis = _analysis_of(None, clinician_a, kind="pipeline_check")
    url = f"{LIST}{analysis.pk}/"
    assert make_client(clinician_a).get(url).status_code == 200
    assert make_client(admin_user).get(url).status_code == 200
    theirs = make_client(clinician_b).get(url)
    missing = make_client(clinician_b).get(f"{LIST}987654/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    outcomes = set(AccessEvent.objects.filter(user=clinician_b).values_list("outcome", flat=True))
    assert outcomes == {Outcome.DENIED, Outcome.NOT_FOUND}


def test_cancel_and_retry_conflicts_are_409(make_client, clinician_a, patient_a):
    client = make_client(clinician_a)
    done = _analysis_of(patient_a, clinician_a, status=Status.COMPLETED)
    cancel = client.post(f"{LIST}{done.pk}/cancel/")
    assert cancel.status_code == 409 and "status" in cancel.json()["detail"]
    retry = client.post(f"{LIST}{done.pk}/retry/")
    assert retry.status_code == 409


def test_retry_of_failed_is_202_and_queued_again(make_client, clinician_a, patient_a):
    failed = _analysis_of(
        patient_a, clinician_a, status=Status.FAILED, error_code=ErrorCode.INTERNAL_ERROR
    )
    response = make_client(clinician_a).post(f"{LIST}{failed.pk}/retry/")
    assert response.status_code == 202
    assert response.headers["Location"] == f"{LIST}{failed.pk}/"
    assert response.json()["status"] == "PENDING" and response.json()["error"] is None


def test_failed_analysis_shows_its_reason(make_client, clinician_a, patient_a):
    analysis = _analysis_of(
        patient_a,
        clinician_a,
        status=Status.FAILED,
        error_code=ErrorCode.INFERENCE_UNAVAILABLE,
        error_message="The inference server was unavailable after 5 attempts.",
    )
    body = make_client(clinician_a).get(f"{LIST}{analysis.pk}/").json()
    assert body["error"] == {
        "code": "inference_unavailable",
        "message": "The inference server was unavailable after 5 attempts.",
    }


def test_result_downloads_as_json_and_tsv(make_client, clinician_a, patient_a):
    analysis = services.analysis_submit(
        user=clinician_a, kind="test_hold", patient=patient_a, inputs={"seconds": 0}
    )
    client = make_client(clinician_a)
    pending = client.get(f"{LIST}{analysis.pk}/result/")
    assert pending.status_code == 409 and pending.json()["error"]
    services.analysis_execute(analysis_id=analysis.pk)
    detail = client.get(f"{LIST}{analysis.pk}/").json()
    assert detail["result_url"] == f"{LIST}{analysis.pk}/result/"
    assert detail["model_name"] == "hold"

    as_json = client.get(f"{LIST}{analysis.pk}/result/")
    assert as_json.status_code == 200 and as_json["Content-Type"] == "application/json"
    assert as_json.json()["held"] == 0.0
    as_tsv = client.get(f"{LIST}{analysis.pk}/result/", {"format": "tsv"})
    assert as_tsv.status_code == 200
    assert as_tsv["Content-Type"].startswith("text/tab-separated-values")
    assert as_tsv.content == b"held\n0.0\n"
    assert "attachment" in as_tsv["Content-Disposition"]
    bad = client.get(f"{LIST}{analysis.pk}/result/", {"format": "xlsx"})
    assert bad.status_code == 400 and "format" in bad.json()["detail"]
    exports = AccessEvent.objects.filter(action="analysis.export", outcome=Outcome.OK)
    assert exports.count() == 2


def test_pipeline_check_end_to_end_in_process(make_client, admin_user):
    client = make_client(admin_user)
    created = client.post(LIST, {"kind": "pipeline_check", "inputs": {"note": "hi"}}, format="json")
    assert created.status_code == 202
    services.analysis_execute(analysis_id=created.json()["id"])
    result = client.get(f"{LIST}{created.json()['id']}/result/").json()
    assert result["ok"] is True and result["note"] == "hi"
    tsv = client.get(f"{LIST}{created.json()['id']}/result/", {"format": "tsv"})
    assert tsv.content.startswith(b"key\tvalue\n")


def test_anonymous_cannot_list_or_create(make_client):
    assert make_client(None).get(LIST).status_code == 401
    assert (
        make_client(None).post(LIST, {"kind": "pipeline_check"}, format="json").status_code == 401
    )
