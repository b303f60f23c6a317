"""The one shape of an analysis kind: registration, typed inputs, prepare, the result checked at
completion, its queue and time limit, and RunLater (work that goes on elsewhere)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from cdss.jobs import services
from cdss.jobs.kinds import AnalysisKind, get_kind, register_kinds, unregister_kind
from cdss.jobs.models import Analysis, AnalysisEvent, AnalysisResult, ErrorCode, Status
from cdss.jobs.tests import kinds as test_kinds
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory

LIST = "/api/v1/analyses/"


@pytest.fixture
def sent(monkeypatch):
    """What the engine hands the broker: (analysis id, options) per message."""
    from config.celery import app

    messages: list[tuple[int, dict]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args, **options: messages.append((args[0], options))
    )
    return messages


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs a service and then what it left for after its commit (handing work to the broker)."""

    def call(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return call


# --- registering --------------------------------------------------------------------------------


def _kind(**changes) -> AnalysisKind:
    return replace(test_kinds.HOLD, **{"name": "test_throwaway", **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Bad Name"},
        {"queue": "nowhere"},  # not declared in CDSS_JOBS_KIND_QUEUES: no worker would consume it
        {"queue": "control"},  # the sweeper's
        {"max_attempts": 0},
        {"time_limit": 0},
        {"input": dict},
        {"result": serializers.CharField},
    ],
)
def test_a_kind_that_cannot_work_is_refused_when_it_registers(changes):
    with pytest.raises(ValueError):
        register_kinds(_kind(**changes))
    with pytest.raises(Exception, match="unknown analysis kind"):
        get_kind(changes.get("name", "test_throwaway"))


def test_the_same_kind_registers_twice_a_different_one_under_its_name_never():
    register_kinds(test_kinds.HOLD)  # what a second ready() does: nothing
    with pytest.raises(ValueError, match="already registered"):
        register_kinds(replace(test_kinds.HOLD, max_attempts=2))
    assert get_kind("test_hold") is test_kinds.HOLD


def test_every_registered_kind_has_the_whole_shape():
    from cdss.jobs.kinds import registered_kinds

    names = {k.name for k in registered_kinds()}
    assert {"pipeline_check", "sequence_batch", "sequence_retrain"} <= names
    for kind in registered_kinds():
        assert issubclass(kind.input, serializers.Serializer), kind.name
        assert issubclass(kind.result, serializers.Serializer), kind.name
        assert kind.queue_name.startswith("analyses"), kind.name
        assert kind.time_limit_seconds > 0, kind.name


def test_queue_and_time_limit_default_to_the_settings(settings):
    assert test_kinds.HOLD.queue_name == settings.CDSS_JOBS_QUEUE
    assert test_kinds.HOLD.time_limit_seconds == settings.CELERY_TASK_TIME_LIMIT
    assert test_kinds.POLL.queue_name == f"{settings.CDSS_JOBS_QUEUE}.imaging"


def test_the_worker_consumes_every_queue_a_kind_may_name(settings):
    from config.celery import app

    declared = {q.name for q in app.conf.task_queues}
    for name in settings.CDSS_JOBS_KIND_QUEUES:
        assert f"{settings.CDSS_JOBS_QUEUE}.{name}" in declared
    assert settings.CDSS_JOBS_QUEUE in declared


# --- inputs and prepare -------------------------------------------------------------------------


@pytest.mark.django_db
def test_runs_go_to_their_kinds_queue_with_its_time_limit(clinician_a, sent, committed, settings):
    submit = services.analysis_submit
    committed(submit, user=clinician_a, kind="test_poll", patient=None, inputs={})
    committed(submit, user=clinician_a, kind="pipeline_check", patient=None, inputs={})
    (_, poll_options), (_, check_options) = sent
    assert poll_options["queue"] == f"{settings.CDSS_JOBS_QUEUE}.imaging"
    assert poll_options["time_limit"] > settings.CELERY_TASK_TIME_LIMIT  # a backstop after ours
    assert check_options["queue"] == settings.CDSS_JOBS_QUEUE
    assert 60 < check_options["time_limit"] < settings.CELERY_TASK_TIME_LIMIT


@pytest.mark.django_db
@pytest.mark.parametrize(("inputs", "field"), [({"seconds": 99}, "seconds"), ({"typo": 1}, "typo")])
def test_bad_inputs_are_a_400_naming_the_field(make_client, clinician_a, inputs, field):
    response = make_client(clinician_a).post(
        LIST, {"kind": "test_hold", "inputs": inputs}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert f"inputs.{field}" in body["error"]
    assert set(body["detail"]["inputs"]) == {field}
    assert not Analysis.objects.exists()


@pytest.mark.django_db
def test_prepare_resolves_an_earlier_analysis_of_the_same_patient(
    make_client, clinician_a, patient_a
):
    earlier = AnalysisFactory(patient=patient_a, requested_by=clinician_a, kind="test_hold")
    services.analysis_execute(analysis_id=earlier.pk)
    response = make_client(clinician_a).post(
        LIST,
        {"kind": "test_follow_up", "patient": patient_a.pk, "inputs": {"earlier": earlier.pk}},
        format="json",
    )
    assert response.status_code == 202, response.content
    follow_up = Analysis.objects.get(pk=response.json()["id"])
    assert follow_up.inputs == {"earlier": earlier.pk, "earlier_kind": "test_hold"}
    services.analysis_execute(analysis_id=follow_up.pk)
    assert AnalysisResult.objects.get(analysis=follow_up).data["earlier_kind"] == "test_hold"


@pytest.mark.django_db
def test_a_reference_to_someone_elses_or_another_patients_analysis_is_a_missing_one(
    make_client, clinician_a, clinician_b, patient_a, patient_b
):
    theirs = AnalysisFactory(patient=patient_b, requested_by=clinician_b, status=Status.COMPLETED)
    other_patient = PatientFactory(care_team=[clinician_a])
    mine_elsewhere = AnalysisFactory(
        patient=other_patient, requested_by=clinician_a, status=Status.COMPLETED
    )
    client = make_client(clinician_a)
    answers = [
        client.post(
            LIST,
            {"kind": "test_follow_up", "patient": patient_a.pk, "inputs": {"earlier": ref}},
            format="json",
        )
        for ref in (theirs.pk, mine_elsewhere.pk, 987654)
    ]
    assert {a.status_code for a in answers} == {400}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json()["detail"] == {"inputs": {"earlier": ["Not found."]}}
    assert Analysis.objects.filter(kind="test_follow_up").count() == 0


def _patient_file(patient, owner, *, role: str = "omics_table", sha: str = "a" * 64):
    from cdss.files.models import PatientFile

    return PatientFile.objects.create(
        patient=patient,
        uploaded_by=owner,
        role=role,
        name="table.csv",
        size=10,
        sha256=sha,
        content_type="text/csv",
        format="csv",
        storage_path=f"files/{sha[:2]}/{sha}",
    )


@pytest.mark.django_db
def test_prepare_resolves_a_file_of_the_patient_and_refuses_any_other_alike(
    make_client, clinician_a, clinician_b, patient_a, patient_b
):
    mine = _patient_file(patient_a, clinician_a, sha="b" * 64)
    theirs = _patient_file(patient_b, clinician_b)
    other_patient = _patient_file(PatientFactory(care_team=[clinician_a]), clinician_a)
    wrong_role = _patient_file(patient_a, clinician_a, role="document")
    client = make_client(clinician_a)

    def submit(file_id: int):
        body = {"kind": "test_table", "patient": patient_a.pk, "inputs": {"table": file_id}}
        return client.post(LIST, body, format="json")

    accepted = submit(mine.pk)
    assert accepted.status_code == 202, accepted.content
    assert accepted.json()["inputs"] == {"table": mine.pk, "table_sha256": "b" * 64}
    refused = [submit(f) for f in (theirs.pk, other_patient.pk, wrong_role.pk, 987654)]
    assert {r.status_code for r in refused} == {400}
    assert all(r.json() == refused[0].json() for r in refused)
    assert refused[0].json()["detail"] == {"inputs": {"table": ["Not found."]}}
    assert Analysis.objects.filter(kind="test_table").count() == 1


# --- the result, checked at completion ----------------------------------------------------------


@pytest.mark.django_db
def test_a_result_of_the_wrong_shape_fails_the_analysis_and_says_why_in_the_log(
    clinician_a, caplog
):
    analysis = services.analysis_submit(
        user=clinician_a, kind="test_misshapen", patient=None, inputs={}
    )
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code, analysis.attempts) == (
        Status.FAILED,
        ErrorCode.INTERNAL_ERROR,
        1,
    )
    assert "declared shape" in analysis.error_message
    assert not AnalysisResult.objects.filter(analysis=analysis).exists()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HeldResult" in logged and "surprise" in logged


# --- RunLater: work that goes on elsewhere ------------------------------------------------------


def _make_due(analysis: Analysis) -> None:
    Analysis.objects.filter(pk=analysis.pk).update(next_attempt_at=timezone.now())


@pytest.mark.django_db
def test_run_later_keeps_processing_and_resumes_in_the_same_attempt(clinician_a, sent, committed):
    analysis = services.analysis_submit(user=clinician_a, kind="test_poll", patient=None, inputs={})
    committed(services.analysis_execute, analysis_id=analysis.pk)
    analysis.refresh_from_db()
    # Waiting: still PROCESSING to clients, no worker holds it, due again in 30 s.
    assert (analysis.status, analysis.attempts, analysis.lease_token) == (Status.PROCESSING, 1, "")
    assert analysis.state == {"polls": 1}
    assert analysis.next_attempt_at and analysis.lease_expires_at
    assert analysis.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert analysis.lease_expires_at > analysis.next_attempt_at
    assert [(i, o["countdown"]) for i, o in sent] == [(analysis.pk, 30)]
    services.analysis_execute(analysis_id=analysis.pk)  # an early (duplicate) delivery
    assert Analysis.objects.get(pk=analysis.pk).state == {"polls": 1}
    for _ in range(2):
        _make_due(analysis)
        services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.attempts) == (Status.COMPLETED, 1)
    assert AnalysisResult.objects.get(analysis=analysis).data["held"] == 3.0
    statuses = list(
        AnalysisEvent.objects.filter(analysis=analysis).values_list("status", flat=True)
    )
    assert statuses == [Status.PENDING, Status.PROCESSING, Status.COMPLETED]


@pytest.mark.django_db
def test_a_lost_wake_up_is_sent_again_by_the_sweeper_without_using_an_attempt(
    clinician_a, sent, committed
):
    analysis = services.analysis_submit(user=clinician_a, kind="test_poll", patient=None, inputs={})
    services.analysis_execute(analysis_id=analysis.pk)
    assert committed(services.analysis_sweep).resent_waiting == 0  # not overdue yet
    assert sent == []
    # Time passes, and the wake-up message never comes.
    past = timezone.now() - timedelta(seconds=1)
    Analysis.objects.filter(pk=analysis.pk).update(next_attempt_at=past, lease_expires_at=past)
    report = committed(services.analysis_sweep)
    assert (report.resent_waiting, report.requeued_orphans) == (1, 0)
    assert [i for i, _ in sent] == [analysis.pk]
    analysis.refresh_from_db()
    assert (analysis.status, analysis.attempts, analysis.error_code) == (Status.PROCESSING, 1, "")
    services.analysis_execute(analysis_id=analysis.pk)
    assert Analysis.objects.get(pk=analysis.pk).state == {"polls": 2}


@pytest.mark.django_db
def test_cancelling_a_waiting_analysis_ends_it(clinician_a, sent):
    analysis = services.analysis_submit(user=clinician_a, kind="test_poll", patient=None, inputs={})
    services.analysis_execute(analysis_id=analysis.pk)
    services.analysis_cancel(user=clinician_a, analysis=analysis)
    _make_due(analysis)
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert analysis.status == Status.CANCELLED and analysis.state == {"polls": 1}


@pytest.mark.django_db
def test_a_retry_starts_afresh(clinician_a, sent):
    analysis = services.analysis_submit(user=clinician_a, kind="test_poll", patient=None, inputs={})
    services.analysis_execute(analysis_id=analysis.pk)
    services.analysis_fail(analysis_id=analysis.pk, code=ErrorCode.INTERNAL_ERROR, message="x")
    analysis.refresh_from_db()
    services.analysis_retry(user=clinician_a, analysis=analysis)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.state) == (Status.PENDING, {})


@pytest.mark.django_db
def test_a_superseded_attempt_cannot_save_state(clinician_a):
    analysis = AnalysisFactory(requested_by=clinician_a, kind="test_poll")
    running = services.analysis_start(analysis_id=analysis.pk)
    assert running is not None
    services.analysis_cancel(user=clinician_a, analysis=running)
    with pytest.raises(services.AnalysisSuperseded):
        services.analysis_state_save(analysis=running, state={"job_id": "x"})
    assert Analysis.objects.get(pk=analysis.pk).state == {}


# --- the time limit, enforced by the engine whatever the pool ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_run_past_its_time_limit_fails_and_its_late_answer_is_discarded(clinician_a, monkeypatch):
    # The lease keeper (its own thread and connection) fails the analysis at the limit; the run,
    # released then, answers late.
    original = services._LeaseKeeper._time_out

    def time_out(keeper):
        original(keeper)
        test_kinds.OVERRUN_RELEASE.set()

    test_kinds.OVERRUN_RELEASE.clear()
    monkeypatch.setattr(services._LeaseKeeper, "_time_out", time_out)
    analysis = AnalysisFactory(requested_by=clinician_a, kind="test_overrun")
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code) == (Status.FAILED, ErrorCode.TIME_LIMIT)
    assert "time limit of 0.05 seconds" in analysis.error_message
    assert not AnalysisResult.objects.filter(analysis_id=analysis.pk).exists()


@pytest.fixture(autouse=True)
def _forget_throwaway_kinds():
    yield
    unregister_kind("test_throwaway")
