"""The seed's /ml/v1 API against a real inference-server process."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cdss.audit.models import AccessEvent
from cdss.jobs.models import Analysis
from cdss.jobs.services import analysis_execute
from cdss.patients.tests.factories import PatientFactory
from cdss.sequences.models import InferenceLog

pytestmark = pytest.mark.django_db

PREDICT = reverse("ml-predict")
HISTORY = reverse("ml-history")
SPIKE_50 = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"

# The guide's single-protein example, verbatim apart from nothing.
GUIDE_SINGLE = {
    "doctor_name": "김의사",
    "patient_name": "홍환자",
    "sequence": SPIKE_50,
    "seq_type": "protein",
    "task3_threshold": 0.5,
    "organism_hint": "Influenza A virus",
}
GUIDE_BATCH = {
    "doctor_name": "김의사",
    "patient_name": "홍환자",
    "items": [
        {"id": "sample1", "sequence": SPIKE_50, "seq_type": "protein"},
        {"id": "sample2", "sequence": "ATGGCTGCAGATGGTGCAATGCCA", "seq_type": "dna", "frame": 0},
    ],
    "task3_threshold": 0.5,
}


def _assert_prediction_shape(body: dict) -> None:
    pred = body["prediction"]
    assert isinstance(pred["task1"]["is_pathogen"], bool)
    assert 0.0 <= pred["task1"]["probability"] <= 1.0
    assert isinstance(pred["task2"]["protein_type"], str)
    assert 0.0 <= pred["task2"]["probability"] <= 1.0
    for label, p in pred["task3"]["top_predictions"]:
        assert isinstance(label, str) and 0.0 <= p <= 1.0
    structure = body["task3_structure"]
    assert {"protein_name", "top1_probability", "uniprot_hits"} <= set(structure)
    for hit in structure["uniprot_hits"]:
        assert {"uniprot_id", "protein_name", "organism", "preferred_3d"} <= set(hit)


def test_status_and_model_info(make_client, clinician_a, use_server):
    client = make_client(clinician_a)
    status = client.get(reverse("ml-status")).json()
    assert status["ok"] is True and status["status"] == "alive" and status["model_version"]
    info = client.get(reverse("ml-model-info")).json()
    assert info["model_version"] == status["model_version"]
    assert "engines" in info and "sequence" in info["engines"]


def test_login_is_required(make_client, use_server):
    assert make_client(None).get(reverse("ml-status")).status_code == 401
    assert make_client(None).post(PREDICT, GUIDE_SINGLE, format="json").status_code == 401


def test_guide_single_example(make_client, clinician_a, use_server):
    response = make_client(clinician_a).post(PREDICT, GUIDE_SINGLE, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["model_version"]
    assert body["translation"]["protein_sequence"] == SPIKE_50
    info = body["translation"]["info"]
    assert (info["input_type"], info["length"]) == ("protein", 50)
    _assert_prediction_shape(body)
    log = InferenceLog.objects.get()
    assert (log.doctor_name, log.patient_name, log.outcome, log.kind) == (
        "김의사",
        "홍환자",
        "ok",
        "single",
    )
    assert log.model_version == body["model_version"] and log.input_hash and log.latency_ms > 0


def test_guide_batch_example_with_dna_item(make_client, clinician_a, use_server):
    response = make_client(clinician_a).post(PREDICT, GUIDE_BATCH, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["batch"] is True and body["model_version"]
    assert [r["index"] for r in body["results"]] == [0, 1]
    assert [r["id"] for r in body["results"]] == ["sample1", "sample2"]
    first, second = body["results"]
    assert first["ok"] is True
    _assert_prediction_shape(first)
    # The guide's 24 nt in frame 0 translate to the 8 residues MAADGAMP (8 is the shortest protein
    # the server takes): the item answers like any other.
    assert second["ok"] is True, second
    assert second["translation"]["protein_sequence"] == "MAADGAMP"
    assert second["translation"]["info"]["input_type"] == "dna"
    assert second["translation"]["info"]["length"] == 8
    assert InferenceLog.objects.get().item_count == 2


def test_history_filtered_by_korean_names(make_client, clinician_a, use_server):
    client = make_client(clinician_a)
    client.post(PREDICT, GUIDE_SINGLE, format="json")
    client.post(PREDICT, {**GUIDE_SINGLE, "patient_name": "다른환자"}, format="json")
    client.post(PREDICT, {**GUIDE_SINGLE, "doctor_name": "박의사"}, format="json")
    assert client.get(HISTORY).json()["count"] == 3
    assert client.get(HISTORY, {"doctor": "김의사"}).json()["count"] == 2
    body = client.get(HISTORY, {"doctor": "김의사", "patient": "홍환자"}).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert {"id", "doctor_name", "patient_name", "input_data", "output_data", "created_at"} <= set(
        row
    )
    assert row["input_data"]["sequence"] == SPIKE_50 and row["output_data"]["ok"] is True


def test_history_pages_past_one_hundred(make_client, clinician_a):
    InferenceLog.objects.bulk_create(
        InferenceLog(
            user=clinician_a,
            input_data={},
            kind="single",
            input_hash="x",
            latency_ms=1.0,
            outcome="ok",
            http_status=200,
        )
        for _ in range(130)
    )
    client = make_client(clinician_a)
    first = client.get(HISTORY).json()
    assert first["count"] == 130 and len(first["results"]) == 100 and first["next"]
    rest = client.get(HISTORY, {"offset": 100}).json()
    assert len(rest["results"]) == 30


def test_history_shows_nothing_of_other_clinicians(
    make_client, clinician_a, clinician_b, use_server
):
    patient = PatientFactory(care_team=[clinician_a])
    make_client(clinician_a).post(
        PREDICT, {**GUIDE_SINGLE, "patient_id": patient.pk}, format="json"
    )
    assert make_client(clinician_b).get(HISTORY).json()["count"] == 0


def test_patient_link_goes_through_access_selectors(
    make_client, clinician_a, clinician_b, use_server
):
    patient = PatientFactory(care_team=[clinician_a])
    body = {**GUIDE_SINGLE, "patient_id": patient.pk}
    refused = make_client(clinician_b).post(PREDICT, body, format="json")
    assert refused.status_code == 404
    refused_log = InferenceLog.objects.get()
    assert (refused_log.outcome, refused_log.patient_id) == ("patient_not_found", None)
    assert AccessEvent.objects.filter(patient_id=patient.pk, outcome="denied").count() == 1
    ok = make_client(clinician_a).post(PREDICT, body, format="json")
    assert ok.status_code == 200
    log = InferenceLog.objects.get(outcome="ok")
    assert log.patient_id == patient.pk
    event = AccessEvent.objects.get(action="sequence.predict", outcome="ok")
    assert event.object_id == str(log.pk)


@pytest.mark.parametrize(
    ("sequence", "needle"),
    [("", "sequence"), ("MKV1234!!QQQQ", "sequence"), ("MKV", "sequence")],
)
def test_bad_sequences_get_400_naming_the_problem(
    make_client, clinician_a, use_server, sequence, needle
):
    response = make_client(clinician_a).post(
        PREDICT, {"sequence": sequence, "seq_type": "protein"}, format="json"
    )
    assert response.status_code == 400
    assert needle in response.json()["error"].lower()


def test_bad_server_side_input_is_logged(make_client, clinician_a, use_server):
    response = make_client(clinician_a).post(
        PREDICT, {"sequence": "MKV1234!!QQQQ", "seq_type": "protein"}, format="json"
    )
    assert response.status_code == 400
    log = InferenceLog.objects.get()
    assert log.outcome == "invalid_input" and log.http_status == 400


def test_unknown_seq_type_and_bad_frame(make_client, clinician_a, use_server):
    client = make_client(clinician_a)
    bad_type = client.post(PREDICT, {"sequence": SPIKE_50, "seq_type": "lipid"}, format="json")
    assert bad_type.status_code == 400 and "seq_type" in bad_type.json()["error"]
    bad_frame = client.post(
        PREDICT, {"sequence": "ATG" * 20, "seq_type": "dna", "frame": 9}, format="json"
    )
    assert bad_frame.status_code == 400 and "frame" in bad_frame.json()["error"]


def test_multi_fasta_body_is_a_batch(make_client, clinician_a, use_server):
    fasta = f">spike\n{SPIKE_50[:25]}\n{SPIKE_50[25:]}\n>second\n{SPIKE_50[::-1]}\n"
    response = make_client(clinician_a).post(
        PREDICT + "?seq_type=protein", data=fasta, content_type="text/x-fasta"
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["spike", "second"]
    assert results[0]["translation"]["protein_sequence"] == SPIKE_50


def test_fasta_file_upload_is_a_batch(make_client, clinician_a, use_server):
    upload = SimpleUploadedFile("q.fasta", f">a\n{SPIKE_50}\n>b\n{SPIKE_50}\n".encode())
    response = make_client(clinician_a).post(
        PREDICT,
        {"file": upload, "seq_type": "protein", "doctor_name": "김의사"},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 2
    assert InferenceLog.objects.get().doctor_name == "김의사"


def test_malformed_fasta_is_400(make_client, clinician_a, use_server):
    response = make_client(clinician_a).post(PREDICT, data="MKVLA\n>x\n", content_type="text/plain")
    assert response.status_code == 400 and "fasta" in response.json()["error"]
    assert InferenceLog.objects.get().outcome == "invalid_input"


def test_server_stopped_gives_503_and_is_logged(make_client, clinician_a, stopped_server):
    response = make_client(clinician_a).post(PREDICT, GUIDE_SINGLE, format="json")
    assert response.status_code == 503 and response.json()["error"]
    log = InferenceLog.objects.get()
    assert (log.outcome, log.http_status) == ("inference_unavailable", 503)
    assert make_client(clinician_a).get(reverse("ml-status")).status_code == 503


def test_server_slow_gives_504_and_is_logged(make_client, clinician_a, slow_server):
    response = make_client(clinician_a).post(PREDICT, GUIDE_SINGLE, format="json")
    assert response.status_code == 504
    assert InferenceLog.objects.get().outcome == "inference_timeout"


def test_server_garbage_gives_502_and_is_logged(make_client, clinician_a, garbage_server):
    response = make_client(clinician_a).post(PREDICT, GUIDE_SINGLE, format="json")
    assert response.status_code == 502
    assert InferenceLog.objects.get().outcome == "inference_bad_response"


def test_each_predict_call_writes_exactly_one_log(make_client, clinician_a, use_server):
    client = make_client(clinician_a)
    client.post(PREDICT, GUIDE_SINGLE, format="json")
    client.post(PREDICT, GUIDE_BATCH, format="json")
    client.post(PREDICT, {"sequence": "", "seq_type": "protein"}, format="json")
    assert InferenceLog.objects.count() == 3


def test_retrain_is_for_model_managers_and_runs_as_an_analysis(
    make_client, clinician_a, ml_engineer, use_server
):
    body = {"training_data_path": "/nonexistent/training/set", "epochs": 1, "batch_size": 8}
    refused = make_client(clinician_a).post(reverse("ml-retrain"), body, format="json")
    assert refused.status_code == 403
    response = make_client(ml_engineer).post(reverse("ml-retrain"), body, format="json")
    assert response.status_code == 200
    queued = response.json()
    assert queued["ok"] is True and queued["status"] == "PENDING"
    assert response.headers["Location"] == queued["location"]
    analysis_execute(analysis_id=queued["analysis_id"])  # what a worker does
    analysis = Analysis.objects.get(pk=queued["analysis_id"])
    # The server refuses a path that does not exist before training anything: a clear reason.
    assert analysis.status == "FAILED" and analysis.error_code == "invalid_input"
    assert "training_data_path" in analysis.error_message


def test_large_batch_becomes_an_analysis_with_tsv_and_json(
    make_client, clinician_a, use_server, settings
):
    settings.CDSS_SYNC_BATCH_MAX = 2
    items = [{"id": f"q{i}", "sequence": SPIKE_50, "seq_type": "protein"} for i in range(3)]
    items.append({"id": "bad", "sequence": "NOT A SEQUENCE 123", "seq_type": "protein"})
    client = make_client(clinician_a)
    response = client.post(PREDICT, {"items": items, "doctor_name": "김의사"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert response.headers["Location"] == body["location"]
    analysis_execute(analysis_id=body["analysis_id"])  # what a worker does
    detail = client.get(body["location"]).json()
    assert detail["status"] == "COMPLETED"
    result = client.get(body["result_json"]).json()
    assert result["count"] == 4 and result["ok_count"] == 3 and result["failed_count"] == 1
    assert [r["id"] for r in result["results"]] == ["q0", "q1", "q2", "bad"]
    tsv = client.get(body["result_tsv"])
    assert tsv.headers["Content-Type"].startswith("text/tab-separated-values")
    rows = tsv.content.decode().strip().split("\n")
    assert rows[0].startswith("index\tid\tok") and len(rows) == 5
    log = InferenceLog.objects.get(kind="batch")
    assert log.item_count == 4 and log.outcome == "ok" and log.doctor_name == "김의사"


def test_large_batch_for_another_clinicians_patient_is_404_and_logged(
    make_client, clinician_a, clinician_b, settings
):
    settings.CDSS_SYNC_BATCH_MAX = 1
    patient = PatientFactory(care_team=[clinician_a])
    items = [{"id": f"q{i}", "sequence": SPIKE_50, "seq_type": "protein"} for i in range(2)]
    response = make_client(clinician_b).post(
        PREDICT, {"items": items, "patient_id": patient.pk}, format="json"
    )
    assert response.status_code == 404
    assert not Analysis.objects.exists()
    log = InferenceLog.objects.get()
    assert (log.outcome, log.http_status, log.item_count, log.patient_id) == (
        "patient_not_found",
        404,
        2,
        None,
    )
