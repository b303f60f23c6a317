"""A sequence batch stores the staged PDB structures its task3 predictions name as artifacts, so the
web viewer reads them through the access-checked artifact route; on the real sequence server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cdss.jobs.models import Analysis
from cdss.jobs.services import analysis_execute
from cdss.ml.client import InferenceClient, InferenceRejected
from cdss.patients.tests.factories import PatientFactory
from cdss.sequences import kinds as sequence_kinds
from cdss.sequences.kinds import structure_ids

pytestmark = pytest.mark.django_db

SPIKE_50 = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"


def _completed(client: Any, patient: Any, fasta: str) -> int:
    submitted = client.post(
        "/api/v1/analyses/",
        {"kind": "sequence_batch", "patient": patient.pk, "inputs": {"fasta": fasta}},
        format="json",
    )
    assert submitted.status_code == 202, submitted.content
    analysis_id = int(submitted.json()["id"])
    analysis_execute(analysis_id=analysis_id)  # what a worker does
    analysis = Analysis.objects.get(pk=analysis_id)
    assert analysis.status == "COMPLETED", (analysis.error_code, analysis.error_message)
    return analysis_id


def test_the_predicted_spikes_structure_is_an_artifact_only_its_clinician_reads(
    make_client, clinician_a, clinician_b, use_server, media_root
):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    analysis_id = _completed(client, patient, f">spike\n{SPIKE_50}\n>again\n{SPIKE_50}\n")

    result = client.get(f"/api/v1/analyses/{analysis_id}/result/").json()
    hit = result["results"][0]["task3_structure"]["uniprot_hits"][0]["preferred_3d"]
    listed = client.get(f"/api/v1/analyses/{analysis_id}/artifacts/").json()["results"]
    structures = [a for a in listed if a["name"].startswith("structure-")]
    # Two items name the same entry: it is stored once.
    assert [a["name"] for a in structures] == [f"structure-{hit['id']}.pdb"]
    assert structures[0]["content_type"] == "chemical/x-pdb"

    url = structures[0]["url"]
    download = client.get(url)
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode("ascii")
    assert any(line.startswith("ATOM  ") for line in text.splitlines()[:5000])

    other = make_client(clinician_b)
    theirs = other.get(url)
    missing = other.get(
        f"/api/v1/analyses/{analysis_id + 10_000}/artifacts/{structures[0]['name']}"
    )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_a_batch_without_a_staged_structure_stores_none(
    make_client, clinician_a, use_server, media_root
):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    # Random-looking protein: no task3 label, so no structure.
    analysis_id = _completed(client, patient, ">odd\nGGGGSGGGGSGGGGSGGGGSWWWWPPPP\n")
    listed = client.get(f"/api/v1/analyses/{analysis_id}/artifacts/").json()["results"]
    assert not [a for a in listed if a["name"].startswith("structure-")]


def _hit(pdb_id: str | None, *, staged: bool = True, source: str = "pdb") -> dict[str, Any]:
    return {
        "task3_structure": {
            "uniprot_hits": [
                {
                    "preferred_3d": {
                        "source": source,
                        "id": pdb_id,
                        "local_file": f"{pdb_id}.pdb" if staged and pdb_id else None,
                    }
                }
            ]
        }
    }


def test_structure_ids_keep_staged_pdb_entries_once_in_order() -> None:
    results = [
        _hit("6vxx"),
        _hit("2YP7"),
        _hit("6VXX"),
        _hit("7KQH", staged=False),
        _hit("P0DTC2", source="alphafold"),
        _hit("../x"),
        _hit(None),
        {"ok": False, "error": "bad"},
        {"task3_structure": None},
    ]
    assert structure_ids(results) == ["6VXX", "2YP7"]


def test_a_structure_the_server_cannot_give_is_left_out_not_a_failure(
    monkeypatch, make_client, clinician_a, media_root
):
    """The predictions come from the scripted server; the structure request is refused (404)."""
    prediction = {
        "ok": True,
        "index": 0,
        "model_name": "seq",
        **_hit("6VXX"),
    }

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/predict":
            return httpx.Response(200, json={"ok": True, "results": [prediction]})
        return httpx.Response(404, json={"error": "structure '6VXX': no staged structure"})

    scripted = InferenceClient("http://inference.test")
    scripted._http = httpx.Client(
        base_url="http://inference.test", transport=httpx.MockTransport(handle)
    )
    monkeypatch.setattr(sequence_kinds, "get_client", lambda: scripted)
    with pytest.raises(InferenceRejected):
        scripted.structure("6VXX", max_bytes=1000)

    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    analysis_id = _completed(client, patient, f">spike\n{SPIKE_50}\n")
    listed = client.get(f"/api/v1/analyses/{analysis_id}/artifacts/").json()["results"]
    assert not [a for a in listed if a["name"].startswith("structure-")]
